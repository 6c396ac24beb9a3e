/* listpack_fuzz.c: libFuzzer target for the validators of compact
 * encodings read from outside (RDB / RESTORE payloads): lp_validate and
 * intset_validate. Byte 0 picks the structure; the rest is the blob.
 * Whatever the validator accepts must then be safe to walk: every entry
 * forward and backward, decoded as string and integer, with the count
 * matching in both directions. Accepted intsets must be findable member by
 * member. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/ds/intset.h"
#include "server/ds/listpack.h"

/* Larger blobs only slow the fuzzer down. */
#define LISTPACK_FUZZ_MAX_INPUT (64 * 1024)

static void listpack_fuzz_walk(unsigned char *lp) {
  unsigned long forward = 0, backward = 0;
  unsigned char buf[LP_INTBUF_SIZE];
  for (unsigned char *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
    uint32_t len;
    long long v;
    unsigned char *s = lp_get_string(p, &len, buf);
    if (s == NULL) {
      abort();
    }
    (void)lp_get_integer(p, &v);
    forward++;
  }
  for (unsigned char *p = lp_last(lp); p != NULL; p = lp_prev(lp, p)) {
    backward++;
  }
  if (forward != backward || forward != lp_length(lp)) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > LISTPACK_FUZZ_MAX_INPUT) {
    return 0;
  }
  int which = data[0] & 1;
  size_t n = size - 1;
  /* A private, malloc'd copy: validators must not read past n bytes, and
   * lp_* functions expect a zmalloc-compatible block (zfree == free). */
  unsigned char *blob = malloc(n ? n : 1);
  if (blob == NULL) {
    return 0;
  }
  memcpy(blob, data + 1, n);
  if (which == 0) {
    if (lp_validate(blob, n)) {
      listpack_fuzz_walk(blob);
    }
  } else if (intset_validate(blob, n)) {
    const intset *is = (const intset *)(void *)blob;
    int64_t v;
    for (uint32_t i = 0; intset_get(is, i, &v); i++) {
      if (!intset_find(is, v)) {
        abort();
      }
    }
  }
  free(blob);
  return 0;
}
