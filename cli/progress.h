/* A one-line progress bar on stderr for history downloads (only when stderr is a terminal and
 * not -q). Several series load at once; the bar shows their combined share. */
#ifndef TVK_CLI_PROGRESS_H
#define TVK_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "tvkit/tvkit.h"

typedef struct cli_progress {
    int enabled;
    size_t total;     /* series in the whole run */
    size_t done;      /* series finished */
    double *fraction; /* per series, 0..1 (NULL when disabled) */
    int64_t last_ms;  /* last redraw, to redraw at most 10 times a second */
    int shown;        /* a bar is on the screen */
} cli_progress;

typedef struct cli_progress_slot {
    cli_progress *p;
    size_t index;
} cli_progress_slot;

/* 0, or TVK_ENOMEM. enabled = 0 makes every call a no-op. */
int cli_progress_init(cli_progress *p, int enabled, size_t total);
void cli_progress_free(cli_progress *p);
/* The tvk_progress_fn: user is a cli_progress_slot. */
void cli_progress_cb(void *user, const tvk_progress *pr);
/* Series index finished (successfully or not). */
void cli_progress_done(cli_progress *p, size_t index);
/* Removes the bar from the screen (before writing anything else to the terminal). */
void cli_progress_clear(cli_progress *p);

#endif
