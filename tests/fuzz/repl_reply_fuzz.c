/* repl_reply_fuzz.c: libFuzzer target for what a master sends a replica
 * before the RDB: the PSYNC reply line (repl_parse_psync_reply) and the
 * bulk header that frames the RDB (repl_parse_bulk_header), both in
 * server/repl/repl_replica.c. (The RDB itself is rdb_load_fuzz's, the
 * command stream resp_fuzz's.)
 *
 * Oracle, besides ASan/UBSan: a FULLRESYNC result has a 40-hex-digit ID
 * and an offset >= 0; a CONTINUE result has an ID of 0 or 40 characters;
 * a sized header has a size >= 0; an $EOF: header consumed exactly 45
 * bytes. The input is split at its first NUL: the line before it goes to
 * the PSYNC parser (NUL-terminated, as the replica reads it), the whole
 * input to the header parser (which takes a length). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/repl/repl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) {
    return 0;
  }
  char *line = malloc(size + 1);
  memcpy(line, data, size);
  line[size] = '\0';
  char replid[41];
  long long offset;
  int kind = repl_parse_psync_reply(line, replid, &offset);
  if (kind == REPL_PSYNC_FULL && (strlen(replid) != 40 || offset < 0)) {
    abort();
  }
  if (kind == REPL_PSYNC_CONTINUE && strlen(replid) != 0 &&
      strlen(replid) != 40) {
    abort();
  }
  if (kind != REPL_PSYNC_FULL && kind != REPL_PSYNC_CONTINUE &&
      kind != REPL_PSYNC_ERROR) {
    abort();
  }
  char mark[40];
  long long bulk = -1;
  int hk = repl_parse_bulk_header(line, size, mark, &bulk);
  if ((hk == 2 && bulk < 0) || (hk == 1 && size != 45) || hk < 0 || hk > 2) {
    abort();
  }
  free(line);
  return 0;
}
