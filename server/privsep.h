/* privsep.h: privilege separation of the server process (server-user, README
 * "Privilege separation") and the relay of its children's log lines.
 *
 * Start-up sequence (server.c):
 *
 *   privsep_start(loop, err, len);  // before tls_start: the log relay; when
 *                                   // root and server-user names an account,
 *                                   // the privileged spawner (it takes the
 *                                   // key passphrases) and an empty
 *                                   // capability bounding set
 *   ... bind listeners, write the pidfile ...
 *   privsep_drop(err, len);         // before any data is loaded: setgroups,
 *                                   // setresgid, setresuid to server-user
 *
 * Not root, or server-user "": nothing changes (only the log relay).
 * server-user names an account that does not exist: an error, except for
 * the default "redoubt", which only warns that main stays root. */
#ifndef REDOUBT_PRIVSEP_H
#define REDOUBT_PRIVSEP_H

#include <stddef.h>

#include "server/event/ae.h"

/* The default server-user (config.c): used when that account exists. */
#define PRIVSEP_DEFAULT_USER "redoubt"

/* privsep_start: see above. Returns 1, or 0 with |err| (the server must
 * not start). */
int privsep_start(ae_loop *loop, char *err, size_t err_len);

/* privsep_drop: see above. Returns 1, or 0 with |err| (the server must not
 * start: main would stay root). */
int privsep_drop(char *err, size_t err_len);

/* privsep_active returns 1 once main has dropped its privileges. */
int privsep_active(void);

#endif
