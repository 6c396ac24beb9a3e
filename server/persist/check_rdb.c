/* check_rdb.c: `server --check-rdb FILE`, as Redis ships redis-check-rdb:
 * reads the whole file without keeping it, checks every value and the
 * CRC64 trailer, and prints either a summary of keys per type or the
 * first error with its byte offset and key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/persist/persist.h"
#include "server/persist/rdb.h"

int persist_check_rdb_main(int argc, char **argv) {
  if (argc != 1) {
    fprintf(stderr, "Usage: %s --check-rdb <rdb-file-name>\n",
            server.executable ? server.executable : "server");
    return 1;
  }
  const char *path = argv[0];
  rdb_load_info info;
  char err[600] = "";
  printf("[offset 0] Checking RDB file %s\n", path);
  int saved_checksum = server.rdb_checksum;
  server.rdb_checksum = 1;
  int rc = rdb_load_file(path, RDBFLAGS_CHECK_ONLY, &info, err, sizeof(err));
  server.rdb_checksum = saved_checksum;
  if (rc != C_OK) {
    if (err[0] == '\0') {
      snprintf(err, sizeof(err), "can't open %s: %s", path, strerror(errno));
    }
    printf("--- RDB ERROR DETECTED ---\n");
    printf("[additional info] %s\n", err);
    printf("[info] %lld keys read before the error\n", info.keys_loaded);
    return 1;
  }
  printf("[info] RDB version %d%s%s\n", info.version,
         info.redis_ver[0] ? ", written by version " : "", info.redis_ver);
  printf("[info] %lld keys read\n", info.keys_loaded);
  printf("[info] %lld expires\n", info.keys_with_expiry);
  static const char *names[] = {"string", "list", "set",   "zset",
                                "hash",   NULL,   "stream"};
  for (int t = 0; t <= OBJ_STREAM; t++) {
    if (names[t] != NULL) {
      printf("[info] %s keys: %lld\n", names[t], info.keys_by_type[t]);
    }
  }
  if (info.keys_empty) {
    printf("[info] %lld empty keys skipped\n", info.keys_empty);
  }
  printf(
      "[info] checksum %s\n",
      info.checksum_checked ? "OK" : "not stored (saved with rdbchecksum no)");
  printf("\\o/ RDB looks OK! \\o/\n");
  return 0;
}
