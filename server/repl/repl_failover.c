/* repl_failover.c: FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], a
 * coordinated swap of a master and one of its replicas, as Redis 7.0 does
 * it (replication.c: failoverCommand, updateFailoverStatus, abortFailover;
 * the replies and log lines are Redis's, the code is ours):
 *
 *   1. the master pauses its clients' writes (waiting-for-sync);
 *   2. once the target (or, without TO, any replica) acknowledged the
 *      whole stream, or TIMEOUT ran out with FORCE, the master becomes a
 *      replica of the target (failover-in-progress) and sends it
 *      PSYNC <replid> <offset> FAILOVER during the handshake;
 *   3. the target, seeing its own replication ID, promotes itself as
 *      REPLICAOF NO ONE would and answers +CONTINUE (repl_failover_take_over,
 *      called from PSYNC): the old master continues as its replica without
 *      a full resync, and its writes are resumed (they now get -READONLY).
 *
 * A TIMEOUT without FORCE, FAILOVER ABORT, or a target that refuses the
 * PSYNC (or cannot be written to) aborts: the server is a master again
 * (a new replication ID, the old one kept as the second, so that its
 * replicas continue) and the writes resume. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/networking.h"
#include "server/repl/repl.h"
#include "server/repl/repl_internal.h"

#define FAILOVER_NONE 0
#define FAILOVER_WAIT_FOR_SYNC 1
#define FAILOVER_IN_PROGRESS 2

static struct {
  int state;
  char *host; /* the target; NULL: the first replica to catch up */
  int port;
  long long end_ms; /* TIMEOUT's deadline, 0: none */
  int force;
  int psync_sent; /* the PSYNC ... FAILOVER went out to the target */
  /* A CLIENT PAUSE that was on when the failover started comes back
   * when it ends (the core has one pause, Redis one per purpose). */
  int saved_pause_type;
  long long saved_pause_end;
} fo;

const char *repl_failover_state_name(void) {
  switch (fo.state) {
    case FAILOVER_WAIT_FOR_SYNC:
      return "waiting-for-sync";
    case FAILOVER_IN_PROGRESS:
      return "failover-in-progress";
    default:
      return "no-failover";
  }
}

int repl_failover_active(void) { return fo.state != FAILOVER_NONE; }

int repl_failover_holds_pings(void) {
  /* As Redis: no PING while a failover with a deadline has writes paused,
   * so that the offset the replicas must reach stays put. */
  return fo.state != FAILOVER_NONE && fo.end_ms != 0 &&
         check_clients_pause_timeout();
}

static void clear_state(void) {
  zfree(fo.host);
  fo.host = NULL;
  fo.port = 0;
  fo.end_ms = 0;
  fo.force = 0;
  fo.psync_sent = 0;
  fo.state = FAILOVER_NONE;
  unpause_clients();
  if (fo.saved_pause_type != 0 && fo.saved_pause_end > mstime()) {
    pause_clients(fo.saved_pause_end, fo.saved_pause_type == 1);
  }
  fo.saved_pause_type = 0;
  fo.saved_pause_end = 0;
}

static void abort_failover(const char *why) {
  if (fo.state == FAILOVER_NONE) {
    return;
  }
  if (fo.host) {
    server_log(LL_NOTICE, "FAILOVER to %s:%d aborted: %s", fo.host, fo.port,
               why);
  } else {
    server_log(LL_NOTICE, "FAILOVER to any replica aborted: %s", why);
  }
  if (fo.state == FAILOVER_IN_PROGRESS) {
    repl_replica_failover_role(NULL, 0); /* a master again */
  }
  clear_state();
}

/* find_replica: the replica ROLE lists as host:port (its announced or peer
 * address, case-insensitive, and its listening port). */
static int find_replica(const char *host, int port, replica_view *out) {
  for (int i = 0; repl_master_replica_view(i, out); i++) {
    if (!strcasecmp(out->ip, host) && out->port == port) {
      return 1;
    }
  }
  return 0;
}

/* hand_over: this master becomes a replica of the target, which the
 * handshake's PSYNC ... FAILOVER then promotes. */
static void hand_over(void) {
  fo.state = FAILOVER_IN_PROGRESS;
  fo.psync_sent = 0;
  repl_replica_failover_role(fo.host, fo.port);
}

/* repl_failover_cron: once per cron run (server.hz, 10 a second by
 * default, as fast as Redis runs it during a failover). */
void repl_failover_cron(void) {
  if (fo.state == FAILOVER_NONE) {
    return;
  }
  /* CLIENT UNPAUSE must not end the failover's pause. */
  pause_clients(LLONG_MAX, 1);
  if (fo.state == FAILOVER_IN_PROGRESS) {
    if (!server.replica_mode) {
      clear_state(); /* promoted meanwhile (REPLICAOF NO ONE) */
    } else if (fo.psync_sent && server.repl_link_up) {
      clear_state(); /* the target accepted: we replicate it */
    }
    return;
  }
  if (server.replica_mode) {
    /* REPLICAOF meanwhile (Redis refuses it during a failover). */
    abort_failover("This server became a replica");
    return;
  }
  long long now = mstime();
  if (fo.end_ms && fo.end_ms <= now) {
    if (fo.force) {
      server_log(LL_NOTICE,
                 "FAILOVER to %s:%d time out exceeded, failing over.", fo.host,
                 fo.port);
      hand_over();
    } else {
      abort_failover("Replica never caught up before timeout");
    }
    return;
  }
  replica_view r;
  int found = 0;
  if (fo.host) {
    found = find_replica(fo.host, fo.port, &r);
  } else {
    for (int i = 0; repl_master_replica_view(i, &r); i++) {
      if (r.ack_offset == server.master_repl_offset) {
        fo.host = zstrdup(r.ip);
        fo.port = r.port;
        found = 1;
        break;
      }
    }
  }
  if (found && r.ack_offset == server.master_repl_offset) {
    server_log(LL_NOTICE, "Failover target %s:%d is synced, failing over.",
               fo.host, fo.port);
    hand_over();
  }
}

int repl_failover_psync_begin(int continuing) {
  if (fo.state != FAILOVER_IN_PROGRESS) {
    return 0;
  }
  if (!fo.psync_sent) {
    fo.psync_sent = 1;
    return 1;
  }
  /* A second handshake: the first PSYNC did not bring the link up. After a
   * +FULLRESYNC (the history was dropped) Redis ends the failover there and
   * goes on as a replica; any other answer (an error, none) aborts it. */
  if (!continuing) {
    clear_state();
    return 0;
  }
  abort_failover("Failover target rejected psync request");
  return -1;
}

int repl_failover_psync_outcome(int accepted) {
  if (fo.state != FAILOVER_IN_PROGRESS || !fo.psync_sent) {
    return 0;
  }
  if (accepted) {
    clear_state(); /* the target took over (or resyncs us in full) */
    return 0;
  }
  abort_failover("Failover target rejected psync request");
  return 1;
}

void repl_failover_write_error(void) {
  abort_failover("Write error to failover target");
}

int repl_failover_take_over(client *c) {
  server_log(LL_WARNING, "Failover request received for replid %s.",
             (const char *)c->argv[1]->ptr);
  if (!server.replica_mode) {
    add_reply_error(c, "PSYNC FAILOVER can't be sent to a master.");
    return C_ERR;
  }
  if (strcasecmp(c->argv[1]->ptr, repl_master_id()) != 0) {
    add_reply_error(c, "PSYNC FAILOVER replid must match my replid.");
    return C_ERR;
  }
  repl_replica_failover_role(NULL, 0);
  sds info = cat_client_info_string(sds_empty(), c);
  server_log(LL_NOTICE, "MASTER MODE enabled (failover request from '%s')",
             info);
  sds_free(info);
  return C_OK;
}

/* FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: the arguments are
 * checked in Redis's order, with its replies. */
void repl_failover_command(client *c) {
  if (c->argc == 2 && !strcasecmp(c->argv[1]->ptr, "abort")) {
    if (fo.state == FAILOVER_NONE) {
      add_reply_error(c, "No failover in progress.");
      return;
    }
    abort_failover("Failover manually aborted");
    add_reply(c, shared.ok);
    return;
  }
  long timeout_ms = 0;
  long port = 0;
  int force = 0;
  const char *host = NULL;
  for (int j = 1; j < c->argc; j++) {
    const char *opt = c->argv[j]->ptr;
    if (!strcasecmp(opt, "timeout") && j + 1 < c->argc && timeout_ms == 0) {
      if (get_long_from_object_or_reply(c, c->argv[j + 1], &timeout_ms, NULL) !=
          C_OK) {
        return;
      }
      if (timeout_ms <= 0) {
        add_reply_error(c, "FAILOVER timeout must be greater than 0");
        return;
      }
      j++;
    } else if (!strcasecmp(opt, "to") && j + 2 < c->argc && host == NULL) {
      if (get_long_from_object_or_reply(c, c->argv[j + 2], &port, NULL) !=
          C_OK) {
        return;
      }
      host = c->argv[j + 1]->ptr;
      j += 2;
    } else if (!strcasecmp(opt, "force") && !force) {
      force = 1;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  if (fo.state != FAILOVER_NONE) {
    add_reply_error(c, "FAILOVER already in progress.");
    return;
  }
  if (server.replica_mode) {
    add_reply_error(c, "FAILOVER is not valid when server is a replica.");
    return;
  }
  replica_view r;
  if (!repl_master_replica_view(0, &r)) {
    add_reply_error(c, "FAILOVER requires connected replicas.");
    return;
  }
  if (force && (timeout_ms == 0 || host == NULL)) {
    add_reply_error(c,
                    "FAILOVER with force option requires both a timeout "
                    "and target HOST and IP.");
    return;
  }
  if (host) {
    if (!find_replica(host, (int)port, &r)) {
      add_reply_error(c, "FAILOVER target HOST and PORT is not a replica.");
      return;
    }
    if (!r.online) {
      add_reply_error(c, "FAILOVER target replica is not online.");
      return;
    }
    fo.host = zstrdup(host);
    fo.port = (int)port;
    server_log(LL_NOTICE, "FAILOVER requested to %s:%ld.", host, port);
  } else {
    server_log(LL_NOTICE, "FAILOVER requested to any replica.");
  }
  fo.end_ms = timeout_ms ? mstime() + timeout_ms : 0;
  fo.force = force;
  fo.psync_sent = 0;
  fo.state = FAILOVER_WAIT_FOR_SYNC;
  fo.saved_pause_type = server.client_pause_type;
  fo.saved_pause_end = server.clients_pause_end_time;
  pause_clients(LLONG_MAX, 1);
  add_reply(c, shared.ok);
}
