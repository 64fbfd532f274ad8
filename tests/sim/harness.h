/* Helpers for the sim_* tests: start tvkit-sim as a child process on port 0 (the ready line is
 * read with a deadline), connect to it with the net client role, and read its packets with the
 * wire reader. Every wait has a deadline. */
#ifndef TVK_TEST_SIM_HARNESS_H
#define TVK_TEST_SIM_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tvkit/net.h"
#include "tvkit/wire.h"

typedef struct hs_sim {
    pid_t pid;
    int port;
    char url[512];
} hs_sim;

/* Starts the sim (path from $TVK_SIM_BIN) with "--port 0" plus args (NULL-terminated). 0 or -1. */
int hs_start(hs_sim *s, const char *const *args);
/* The same with the sim's stderr written to the file err_path (its diagnostics). */
int hs_start_err(hs_sim *s, const char *const *args, const char *err_path);
/* SIGTERM, then waits (deadline 5 s, then SIGKILL). Returns the exit status, or -1. */
int hs_stop(hs_sim *s);
/* Waits up to ms for the sim to exit by itself: its exit status, or -2 on timeout. */
int hs_wait_exit(hs_sim *s, int ms);
/* Runs the sim binary with args and no network, capturing stdout into out (NUL-terminated);
 * returns the exit status. */
int hs_run(const char *const *args, char *out, size_t cap);

typedef struct hs_client {
    tvk_ws *ws;
    tvk_reader *rd;
    char *msg; /* copy of the current WebSocket message */
    size_t msglen;
    int in_msg;                                    /* the reader holds an unfinished message */
    int echo;                                      /* echo heartbeats automatically (default 1) */
    uint64_t messages, packets, heartbeats, bytes; /* bytes: message text received */
    int last_err;                                  /* last reader error */
    tvk_buf out;
} hs_client;

/* Connects with the default headers (Origin included) unless headers given. 0 or the error. */
int hs_connect(hs_client *c, const char *url, const tvk_header *headers, size_t nheaders,
               int compress, size_t max_message);
void hs_close(hs_client *c);
/* Sends one client message {"m":method,"p":params_json}. */
int hs_send(hs_client *c, const char *method, const char *params_json);
int hs_send_raw(hs_client *c, const char *text);

/* Next packet (across WebSocket messages) within timeout_ms: 1 = *m filled, 0 = timeout,
 * < 0 = connection error (the ws error code) or a reader error (code in last_err, the
 * packet is skipped and reading goes on at the next call). The message stays valid until the
 * next call. With echo on, heartbeats are echoed and still returned. */
int hs_next(hs_client *c, tvk_msg *m, int timeout_ms);
/* The next packet of the current WebSocket message only: 1, 0 when it is exhausted, < 0 on a
 * reader error. */
int hs_next_in_msg(hs_client *c, tvk_msg *m);
/* Skips packets until one with method name (or "heartbeat"/"hello") arrives: 1, 0 on timeout,
 * < 0 on error. */
int hs_wait(hs_client *c, const char *name, tvk_msg *m, int timeout_ms);
/* 1 when the packet's method is name. */
int hs_is(const tvk_msg *m, const char *name);
/* String param i into buf ("" when absent). */
const char *hs_pstr(const tvk_msg *m, int i, char *buf, size_t cap);

/* Temporary file path under $TMPDIR (caller unlinks). */
void hs_tmpname(char *out, size_t cap, const char *tag);

#endif
