/* lzf_fuzz.c: libFuzzer target for the LZF codec (server/base/lzf.h), which
 * decompresses strings read from outside (RDB files, RESTORE payloads).
 *
 * The input is used twice:
 *   1. as a compressed stream, decompressed into a heap buffer of exactly
 *      the capacity named by its first two bytes (tight and roomy buffers
 *      both occur). A success must fit, and must come out the same with
 *      exactly its length as capacity.
 *   2. as data, compressed with the worst-case capacity (must succeed),
 *      decompressed back (must give the input exactly), and compressed
 *      again with one byte too few (must be refused). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/lzf.h"

/* Larger inputs only slow the fuzzer down. */
#define LZF_FUZZ_MAX_INPUT (64 * 1024)

/* malloc of at least one byte, aborting on failure: the fuzzer must not take
 * an allocation failure for a finding. */
static unsigned char *lzf_fuzz_alloc(size_t n) {
  unsigned char *p = malloc(n ? n : 1);
  if (p == NULL) {
    abort();
  }
  return p;
}

static void lzf_fuzz_decompress(const uint8_t *data, size_t size) {
  size_t cap = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
  /* Exactly sized copies: any access past either buffer is an ASan report. */
  unsigned char *in = lzf_fuzz_alloc(size);
  if (size > 0) {
    memcpy(in, data, size);
  }
  unsigned char *out = lzf_fuzz_alloc(cap);
  size_t n = lzf_decompress_buf(in, size, out, cap);
  if (n > cap) {
    abort();
  }
  if (n > 0) {
    unsigned char *again = lzf_fuzz_alloc(n);
    if (lzf_decompress_buf(in, size, again, n) != n ||
        memcmp(again, out, n) != 0) {
      abort();
    }
    free(again);
  }
  free(out);
  free(in);
}

static void lzf_fuzz_round_trip(const uint8_t *data, size_t size) {
  size_t bound = size + size / 32 + 1;
  unsigned char *compressed = lzf_fuzz_alloc(bound);
  size_t c = lzf_compress_buf(data, size, compressed, bound);
  if (size == 0) {
    if (c != 0) {
      abort();
    }
    free(compressed);
    return;
  }
  if (c == 0 || c > bound) {
    abort();
  }
  unsigned char *back = lzf_fuzz_alloc(size);
  if (lzf_decompress_buf(compressed, c, back, size) != size ||
      memcmp(back, data, size) != 0) {
    abort();
  }
  unsigned char *tight = lzf_fuzz_alloc(c - 1);
  if (lzf_compress_buf(data, size, tight, c - 1) != 0) {
    abort();
  }
  free(tight);
  free(back);
  free(compressed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > LZF_FUZZ_MAX_INPUT) {
    return 0;
  }
  lzf_fuzz_decompress(data, size);
  lzf_fuzz_round_trip(data, size);
  return 0;
}
