/* aof.h: the append-only file (aof.c): the manifest of Redis 7's
 * multi-part layout, feeding and flushing commands, and turning the AOF on
 * and off. The manifest parser reads outside bytes and has a fuzz target. */
#ifndef REDOUBT_PERSIST_AOF_H
#define REDOUBT_PERSIST_AOF_H

#include <stddef.h>

#include "server/core/server.h"

#define AOF_FILE_BASE 'b'
#define AOF_FILE_INCR 'i'
#define AOF_FILE_HISTORY 'h'

typedef struct aof_file {
  sds name; /* a plain file name inside appenddirname */
  long long seq;
  char type; /* AOF_FILE_BASE / _INCR / _HISTORY */
} aof_file;

typedef struct aof_manifest {
  aof_file *files; /* in file order */
  int count, cap;
  long long base_seq, incr_seq; /* the highest of each kind */
} aof_manifest;

/* aof_manifest_parse parses a manifest's text ("file <name> seq <n> type
 * <b|i|h>" lines; # comments). NULL with |err| (naming |source| and the
 * line) when it is malformed. */
aof_manifest *aof_manifest_parse(const char *text, size_t len,
                                 const char *source, char *err, size_t err_len);
/* aof_manifest_load_file reads and parses |path|; NULL with err "" when it
 * does not exist. */
aof_manifest *aof_manifest_load_file(const char *path, char *err,
                                     size_t err_len);
void aof_manifest_free(aof_manifest *m);
/* aof_manifest_format: the manifest's text as the server writes it (base,
 * then history, then incremental files; names quoted when needed). */
sds aof_manifest_format(const aof_manifest *m);
const aof_file *aof_manifest_base(const aof_manifest *m);
/* Building and inspecting manifests (aof.c's rewrites and start-up). */
aof_manifest *aof_manifest_new(void);
void aof_manifest_add(aof_manifest *m, const char *name, long long seq,
                      char type);
aof_manifest *aof_manifest_dup(const aof_manifest *m);
int aof_manifest_incr_count(const aof_manifest *m);
const aof_file *aof_manifest_last_incr(const aof_manifest *m);

/* The propagation target (server_state.h). */
void aof_feed(int dbid, robj **argv, int argc);
/* aof_flush writes pending commands (and fsyncs per appendfsync, or
 * always when |force_fsync|). The server calls it before replies go out. */
void aof_flush(int force_fsync);
/* aof_apply_appendonly: CONFIG SET appendonly (a rewrite starts the AOF,
 * as Redis does). */
int aof_apply_appendonly(const char **err);

#define AOF_CHECK_OK 0
#define AOF_CHECK_TRUNCATED 1
#define AOF_CHECK_BAD 2
int aof_check_file(const char *path, size_t *ok_up_to, long long *commands,
                   char *err, size_t err_len);

/* persist_check_aof_main: `server --check-aof [--fix] FILE|MANIFEST`. */
int persist_check_aof_main(int argc, char **argv);

#endif
