/* legacy_fuzz.c: libFuzzer target for the readers of the encodings old RDB
 * files and RESTORE payloads carry (server/persist/legacy.c): the whole input
 * goes to ziplist_foreach and to zipmap_foreach. Whatever a reader accepts is
 * checked: every string it reports lies inside the blob (each byte is read,
 * so ASan sees any stray pointer), integers come with slen 0, the number of
 * calls equals the count returned, validating without a callback gives the
 * same count, and a callback that stops half way gets -2 after exactly that
 * many calls. A rejected blob must never reach the callback. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/persist/legacy.h"

/* Larger blobs only slow the fuzzer down. */
#define LEGACY_FUZZ_MAX_INPUT (64 * 1024)

typedef struct legacy_fuzz_state {
  const unsigned char *blob;
  size_t len;
  long calls;
  long stop_after; /* stop once calls reaches this; -1: never */
  unsigned sum;    /* keeps the byte reads from being optimized away */
} legacy_fuzz_state;

static int legacy_fuzz_entry(void *pd, const unsigned char *s, size_t slen,
                             long long ival) {
  legacy_fuzz_state *st = pd;
  if (s != NULL) {
    if (ival != 0 || s < st->blob || slen > st->len ||
        (size_t)(s - st->blob) > st->len - slen) {
      abort();
    }
    for (size_t i = 0; i < slen; i++) {
      st->sum += s[i];
    }
  } else if (slen != 0) {
    abort();
  }
  st->calls++;
  return st->stop_after >= 0 && st->calls >= st->stop_after;
}

typedef long legacy_fuzz_reader(const unsigned char *, size_t,
                                legacy_entry_fn *, void *);

static void legacy_fuzz_check(legacy_fuzz_reader *reader,
                              const unsigned char *blob, size_t len) {
  legacy_fuzz_state st = {blob, len, 0, -1, 0};
  long count = reader(blob, len, legacy_fuzz_entry, &st);
  if (count == LEGACY_INVALID) {
    if (st.calls != 0) {
      abort();
    }
    return;
  }
  if (count < 0 || st.calls != count) {
    abort();
  }
  if (reader(blob, len, NULL, NULL) != count) {
    abort();
  }
  if (count > 0) {
    legacy_fuzz_state half = {blob, len, 0, count / 2 + 1, 0};
    if (reader(blob, len, legacy_fuzz_entry, &half) != LEGACY_STOPPED ||
        half.calls != count / 2 + 1) {
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > LEGACY_FUZZ_MAX_INPUT) {
    return 0;
  }
  /* A private copy of exactly size bytes, so a read past it is an ASan
   * report even when libFuzzer's buffer is larger. */
  unsigned char *blob = malloc(size ? size : 1);
  if (blob == NULL) {
    return 0;
  }
  if (size > 0) {
    memcpy(blob, data, size);
  }
  legacy_fuzz_check(ziplist_foreach, blob, size);
  legacy_fuzz_check(zipmap_foreach, blob, size);
  free(blob);
  return 0;
}
