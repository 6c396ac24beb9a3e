/* defs.h: the core's basic definitions: the Redis version we are compatible
 * with, limits and defaults. Reference semantics: Redis 7.0; reply and error
 * texts must match it byte for byte. */
#ifndef REDOUBT_CORE_DEFS_H
#define REDOUBT_CORE_DEFS_H

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "server/base/log.h"
#include "server/base/util.h"
#include "server/ds/dict.h"
#include "server/ds/list.h"
#include "server/ds/sds.h"
#include "server/event/ae.h"
#include "server/event/conn.h"

struct client; /* defined in client.h; object.h and db.h take pointers */

/* appendfsync values (server.aof_fsync), as the config enum stores them. */
#define AOF_FSYNC_NO 0
#define AOF_FSYNC_ALWAYS 1
#define AOF_FSYNC_EVERYSEC 2
#define REDOUBT_VERSION "7.0.15" /* the Redis version we are compatible with */
#define REDOUBT_OWN_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Limits and defaults                                                  */
/* ------------------------------------------------------------------ */
#define CONFIG_DEFAULT_HZ 10
#define CONFIG_MAX_HZ 500
#define CONFIG_DEFAULT_SERVER_PORT 6379
#define CONFIG_DEFAULT_TCP_BACKLOG 511
#define CONFIG_DEFAULT_MAX_CLIENTS 10000
#define CONFIG_DEFAULT_DBNUM 16
#define CONFIG_BINDADDR_MAX 16
#define CONFIG_MIN_RESERVED_FDS 32
#define CONFIG_RUN_ID_SIZE 40

#define PROTO_IOBUF_LEN (1024 * 16) /* read size per read() call */
#define PROTO_REPLY_CHUNK_BYTES (16 * 1024)
#define PROTO_INLINE_MAX_SIZE (1024 * 64) /* max inline request line */
#define PROTO_MBULK_BIG_ARG (1024 * 32)
#define PROTO_MAX_MULTIBULK_LEN (1024 * 1024) /* max argc per request */
#define PROTO_DEFAULT_MAX_BULK_LEN (512LL * 1024 * 1024)
#define PROTO_DEFAULT_QUERYBUF_LIMIT (1024LL * 1024 * 1024)
#define PROTO_REPLY_MIN_BYTES (1024)
#define NET_MAX_WRITES_PER_EVENT (1024 * 64)
#define MAX_ACCEPTS_PER_CALL 1000 /* per-wakeup accept budget */
#define MAX_KEYS_BUFFER 256

#endif
