/* rdb.h: the RDB format of Redis 7.0 (version 10): writing every value
 * type as Redis 7.0 writes it, reading versions 1 to 10 (the encodings of
 * older versions are converted on load), whole files with their aux
 * fields, opcodes and CRC64 trailer, and DUMP payloads. Everything read
 * is validated before it is used: files and payloads come from outside. */
#ifndef REDOUBT_PERSIST_RDB_H
#define REDOUBT_PERSIST_RDB_H

#include "server/core/server.h"
#include "server/persist/rio.h"

#define RDB_VERSION 10

/* Value types (the byte before a key). */
#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_ZSET 3
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_MODULE 6
#define RDB_TYPE_MODULE_2 7
#define RDB_TYPE_HASH_ZIPMAP 9
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_ZIPLIST 12
#define RDB_TYPE_HASH_ZIPLIST 13
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_STREAM_LISTPACKS 15
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_ZSET_LISTPACK 17
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define RDB_TYPE_STREAM_LISTPACKS_3 21 /* Redis 7.2 (read only) */

/* Opcodes. */
#define RDB_OPCODE_FUNCTION2 245
#define RDB_OPCODE_FUNCTION 246
#define RDB_OPCODE_MODULE_AUX 247
#define RDB_OPCODE_IDLE 248
#define RDB_OPCODE_FREQ 249
#define RDB_OPCODE_AUX 250
#define RDB_OPCODE_RESIZEDB 251
#define RDB_OPCODE_EXPIRETIME_MS 252
#define RDB_OPCODE_EXPIRETIME 253
#define RDB_OPCODE_SELECTDB 254
#define RDB_OPCODE_EOF 255

/* rdb_save_rio / rdb_load_rio flags. */
#define RDBFLAGS_NONE 0
#define RDBFLAGS_AOF_PREAMBLE (1 << 0) /* keys expired on load are kept */
#define RDBFLAGS_ALLOW_DUP (1 << 2)    /* a duplicate key replaces */
#define RDBFLAGS_CHECK_ONLY (1 << 4)   /* --check-rdb: count, keep nothing */

/* What a load saw (the start-up log, --check-rdb, DEBUG RELOAD). */
typedef struct rdb_load_info {
  int version;
  long long keys_loaded;
  long long keys_expired; /* skipped because already expired */
  long long keys_empty;   /* skipped because empty (as Redis 7.0 does) */
  long long keys_by_type[OBJ_STREAM + 1];
  long long keys_with_expiry;
  char redis_ver[32]; /* aux redis-ver, "" if absent */
  long long ctime;    /* aux ctime, -1 if absent */
  long long aof_base; /* aux aof-base */
  /* aux repl-id / repl-offset / repl-stream-db ("" / -1 when absent) */
  char repl_id[CONFIG_RUN_ID_SIZE + 1];
  long long repl_offset;
  long long repl_stream_db;
  int checksum_checked;
} rdb_load_info;

/* ---- whole files ------------------------------------------------------ */

/* rdb_save_rio writes the whole dataset (header, aux fields, every db, EOF,
 * checksum) to |r|. 1 on success, 0 on a write error (r->err_no). */
int rdb_save_rio(rio *r, int rdbflags);
/* The replication aux fields Redis writes into an RDB for a replica
 * (repl-stream-db, repl-id, repl-offset). */
typedef struct rdb_save_info {
  int repl_stream_db;
  const char *repl_id;
  long long repl_offset;
} rdb_save_info;
/* rdb_save_rio_info: rdb_save_rio with the replication aux fields. */
int rdb_save_rio_info(rio *r, int rdbflags, const rdb_save_info *rsi);
/* rdb_save_file writes the dataset to |path| atomically: a temporary file
 * in the same directory (temp-<pid>.rdb), fsync, rename over |path|, fsync
 * of the directory. On failure the previous |path| is untouched and |err|
 * says why. C_OK or C_ERR. */
int rdb_save_file(const char *path, char *err, size_t err_len);
/* rdb_set_save_info_provider: when set, files (SAVE, BGSAVE, shutdown)
 * carry the replication aux fields it fills (returns 0: none), so that a
 * restarted server can resume replication with a partial resync. */
void rdb_set_save_info_provider(int (*fn)(rdb_save_info *rsi));
/* rdb_load_rio reads a whole RDB stream into the databases (which must be
 * empty unless RDBFLAGS_ALLOW_DUP). C_OK, or C_ERR with |err| naming what
 * is wrong and the byte offset (what was loaded so far stays loaded: the
 * caller empties the databases). |name| names the stream in messages. */
int rdb_load_rio(rio *r, int rdbflags, const char *name, rdb_load_info *info,
                 char *err, size_t err_len);
/* rdb_load_file opens |path| and calls rdb_load_rio. C_OK, C_ERR; errno
 * ENOENT (and err "") when the file does not exist. */
int rdb_load_file(const char *path, int rdbflags, rdb_load_info *info,
                  char *err, size_t err_len);

/* rdb_set_loading_progress: |fn| runs every 2 MB read by rdb_load_rio and
 * of an AOF load (clients get -LOADING meanwhile);
 * NULL stops it. */
void rdb_set_loading_progress(void (*fn)(void));
void rdb_loading_progress_tick(size_t offset);

/* ---- function libraries (RDB_OPCODE_FUNCTION2) ----------------------- */

/* rdb_functions_ops: the owner of the function libraries (server/scripting)
 * tells persistence how to save and load them. Until it registers, a file
 * holding functions is refused. */
typedef struct rdb_functions_ops {
  /* for_each calls |fn| with the code of every library ("#!lua name=...");
   * it stops and returns 0 as soon as |fn| returns 0, else returns 1. */
  int (*for_each)(int (*fn)(void *ctx, const char *code, size_t len),
                  void *ctx);
  /* load creates a library from |code| (a library of the same name is
   * replaced when |replace|). 1, or 0 with |err| set. */
  int (*load)(const char *code, size_t len, int replace, char *err,
              size_t err_len);
  /* clear deletes every library: a load replacing the dataset (start-up,
   * DEBUG RELOAD, a replica's full sync) starts from none, as Redis. */
  void (*clear)(void);
  /* stash sets every library aside and leaves none in place (a replica's
   * swapdb load); restore puts them back, dropping what is in place (the
   * load failed); discard frees them (it succeeded). */
  void *(*stash)(void);
  void (*restore)(void *stash);
  void (*discard)(void *stash);
} rdb_functions_ops;
void rdb_set_functions_ops(const rdb_functions_ops *ops);
/* rdb_functions: the registered operations, or NULL. */
const rdb_functions_ops *rdb_functions(void);
/* rdb_save_function writes one library: RDB_OPCODE_FUNCTION2 then |code|
 * as an RDB string. 1 on success. */
int rdb_save_function(rio *r, const char *code, size_t len);
/* rdb_save_functions writes every library. 1 on success. */
int rdb_save_functions(rio *r);
/* rdb_save_functions_as_commands writes every library as the FUNCTION LOAD
 * command that creates it (an AOF base file in command form, as Redis
 * writes it before the data). 1 on success. */
int rdb_save_functions_as_commands(rio *r);
/* rdb_load_function_code reads a library's code after its opcode |type|
 * (RDB_OPCODE_FUNCTION2, or the RDB_OPCODE_FUNCTION of Redis 7.0's release
 * candidates, converted to the "#!engine name=lib\n" form). Returns the
 * code, or NULL with |err| set. */
sds rdb_load_function_code(rio *r, int type, char *err, size_t err_len);
/* rdb_dump_footer appends the DUMP payload footer to |payload|: the RDB
 * version (2 bytes) and the CRC64 of everything (8 bytes), little-endian. */
sds rdb_dump_footer(sds payload);

/* ---- single values (DUMP / RESTORE, AOF preamble, replication) -------- */

/* rdb_save_object_type writes the type byte Redis 7.0 uses for |o|;
 * rdb_save_object its body. 1 on success. */
int rdb_save_object_type(rio *r, robj *o);
int rdb_save_object(rio *r, robj *o);
/* rdb_load_object reads a value of RDB type |type| (any version 1..10
 * encoding). Returns the object, or NULL with |err| set. An empty value
 * (an empty listpack, a zero-length set) returns NULL with *empty = 1. */
robj *rdb_load_object(rio *r, int type, int *empty, char *err, size_t err_len);
/* rdb_is_object_type: 1 if |type| is a value type this server can load. */
int rdb_is_object_type(int type);

/* create_dump_payload: the DUMP serialization of |o| (type, body, RDB
 * version as 2 bytes, CRC64 as 8 bytes, little-endian). */
sds create_dump_payload(robj *o);
/* verify_dump_payload: C_OK if the footer's version is <= ours and its
 * CRC64 matches (Redis's check; the CRC is not checked while
 * rdb_skip_checksum_validation() is on). */
int verify_dump_payload(const unsigned char *p, size_t len);
/* rdb_set_skip_checksum_validation (DEBUG SET-SKIP-CHECKSUM-VALIDATION):
 * when |skip| is non-zero, DUMP payloads and RDB files load without their
 * CRC64 being checked (--check-rdb still checks), as in Redis. */
void rdb_set_skip_checksum_validation(int skip);
int rdb_skip_checksum_validation(void);

#endif
