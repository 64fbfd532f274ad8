/* tvkit-sim server: one poll() loop serving many WebSocket connections from one shared market. */
#ifndef TVK_SIM_SERVER_H
#define TVK_SIM_SERVER_H

#include <stddef.h>

#include "opts.h"

typedef struct sim_server sim_server;

/* Binds and listens (nothing is served until sim_server_run). NULL with err filled on failure. */
sim_server *sim_server_new(const sim_opts *o, char *err, size_t errcap);
void sim_server_free(sim_server *s);
int sim_server_port(const sim_server *s);
/* The ready line's URL: "ws://127.0.0.1:PORT/socket.io/websocket" (wss with TLS). */
const char *sim_server_url(const sim_server *s);
/* Serves until sim_server_stop, a *stop flag set (e.g. by a signal handler), or the max
 * lifetime. 0, or -1 with a message on stderr. */
int sim_server_run(sim_server *s, volatile int *stop);

#endif
