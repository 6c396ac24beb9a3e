/* repl_transfer_fuzz.c: libFuzzer target for the framing of the RDB a
 * master sends a replica: the bulk header (repl_parse_bulk_header) and, for
 * an "$EOF:<mark>" transfer, the end-mark tracking over the chunks the
 * replica reads (repl_track_eof_mark, server/repl/repl_replica.c).
 *
 * Input: a header line up to the first '\n', then the body; the byte after
 * the header gives the chunking (each chunk is 1 + (a running byte value %
 * 97) bytes long), as reads from a socket would cut the stream.
 *
 * Oracle: after every chunk, the tracked 40 bytes equal the last 40 bytes
 * of everything read so far (when at least 40 came), so "the transfer is
 * complete" is decided exactly where the body first ends with the mark; a
 * sized transfer never has a negative size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/repl/repl.h"

#define MARK 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) {
    return 0;
  }
  const uint8_t *nl = memchr(data, '\n', size);
  if (nl == NULL) {
    return 0;
  }
  size_t hlen = (size_t)(nl - data);
  if (hlen > 0 && data[hlen - 1] == '\r') {
    hlen--;
  }
  char mark[MARK];
  long long bulk = -1;
  int kind = repl_parse_bulk_header((const char *)data, hlen, mark, &bulk);
  if (kind == 2 && bulk < 0) {
    abort();
  }
  if (kind != 1) {
    return 0;
  }
  const uint8_t *body = nl + 1;
  size_t blen = size - (size_t)(body - data);
  if (blen == 0) {
    return 0;
  }
  const uint8_t step0 = body[0];
  uint8_t step = step0;
  body++;
  blen--;
  char last[MARK];
  memset(last, 0, sizeof(last));
  size_t read = 0;
  int complete_at_oracle = -1, complete_at = -1;
  while (read < blen) {
    step = (uint8_t)(step * 31 + 7);
    size_t n = 1 + step % 97;
    if (n > blen - read) {
      n = blen - read;
    }
    repl_track_eof_mark(last, (const char *)body + read, n);
    read += n;
    if (read >= MARK && memcmp(last, body + read - MARK, MARK) != 0) {
      abort(); /* the tracked tail is not the real tail */
    }
    int done = read >= MARK && memcmp(last, mark, MARK) == 0;
    if (done && complete_at < 0) {
      complete_at = (int)read;
    }
  }
  /* The first chunk boundary where the body read so far ends with the
   * mark, computed from the whole body. */
  step = step0;
  read = 0;
  while (read < blen) {
    step = (uint8_t)(step * 31 + 7);
    size_t n = 1 + step % 97;
    if (n > blen - read) {
      n = blen - read;
    }
    read += n;
    if (read >= MARK && memcmp(body + read - MARK, mark, MARK) == 0) {
      complete_at_oracle = (int)read;
      break;
    }
  }
  if (complete_at != complete_at_oracle) {
    abort();
  }
  return 0;
}
