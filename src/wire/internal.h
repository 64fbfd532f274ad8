/* Wire-layer internals shared between its files (not installed). */
#ifndef TVK_WIRE_INTERNAL_H
#define TVK_WIRE_INTERNAL_H

#include <stddef.h>

#include "tvkit/wire.h"

/* json.c: a token store that grows to the largest packet seen and is then reused. */
tvk_json *tvk_json_new(void);
void tvk_json_free(tvk_json *j);
/* Tokenizes and validates [s, s+n) as one strict JSON value. 0, TVK_EJSON (*err_at = byte
 * offset of the problem) or TVK_ENOMEM. */
int tvk_json_parse(tvk_json *j, const char *s, size_t n, size_t *err_at, const char **why);

struct tvk_reader {
    size_t max_message;
    const char *msg; /* the fed message; not owned */
    size_t len;
    size_t pos; /* next unread byte */
    int active; /* 0 once the message is exhausted or dropped after an error */
    tvk_json *json;
    tvk_reader_stats st;
    char err[256];
};

/* reader.c: records a detail message for the handle. */
void tvk_reader_set_err(tvk_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
