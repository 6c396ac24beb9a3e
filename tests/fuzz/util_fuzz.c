/* util_fuzz.c: libFuzzer target for the parsers of client-supplied text in
 * server/util.c and server/sds.c: the glob matcher (KEYS/SCAN MATCH
 * patterns), the number parsers (every integer/float argument) and
 * sds_split_args (inline commands, config lines).
 *
 * Input: byte 0 selects nothing in particular; the rest is split at the
 * first NUL into a pattern and a subject. Besides crashes and sanitizer
 * findings, the target checks properties replies rely on: a parsed integer
 * prints back to the same bytes, and a double printed by d2string parses
 * back to the same value. A time budget per input catches a glob pattern
 * that escapes the nested-star guard. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/base/util.h"
#include "server/ds/sds.h"

/* Any single match taking longer than this means a pathological pattern
 * got through the guard. 1 s because a 2.4 KB many-star pattern takes ~4 ms
 * at -O2 (Redis: about the same) but ~250 ms with ASan+UBSan+coverage on a
 * shared machine. Not a corpus seed:
 * mutating it would slow the fuzzer ~50x. */
#define UTIL_FUZZ_MATCH_BUDGET_NS (1000LL * 1000 * 1000)
#define UTIL_FUZZ_BUDGET_MAX_PATTERN 1024
/* Inputs beyond this only slow the fuzzer down. */
#define UTIL_FUZZ_MAX_INPUT 4096

static long long util_fuzz_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void util_fuzz_check_integer(const char *s, size_t len) {
  long long v;
  if (!string2ll(s, len, &v)) {
    return;
  }
  char buf[LONG_STR_SIZE];
  int n = ll2string(buf, sizeof(buf), v);
  if ((size_t)n != len || memcmp(buf, s, len) != 0) {
    fprintf(stderr, "string2ll/ll2string round trip differs\n");
    abort();
  }
}

static void util_fuzz_check_double(const char *s, size_t len) {
  double d;
  if (!string2d(s, len, &d)) {
    return;
  }
  char buf[MAX_D2STRING_CHARS];
  int n = d2string(buf, sizeof(buf), d);
  double back;
  if (isinf(d)) {
    return; /* "inf" is accepted by strtod too, but skip the sign games */
  }
  if (!string2d(buf, (size_t)n, &back) || back != d) {
    fprintf(stderr, "d2string output '%s' does not parse back\n", buf);
    abort();
  }
  long double ld;
  if (string2ld(s, len, &ld)) {
    char lbuf[MAX_LONG_DOUBLE_CHARS];
    (void)ld2string(lbuf, sizeof(lbuf), ld, LD_STR_HUMAN);
    (void)ld2string(lbuf, sizeof(lbuf), ld, LD_STR_AUTO);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > UTIL_FUZZ_MAX_INPUT) {
    return 0;
  }
  const char *p = (const char *)data;
  const char *nul = memchr(p, '\0', size);
  size_t plen = nul ? (size_t)(nul - p) : size;
  const char *subject = nul ? nul + 1 : p;
  size_t slen = nul ? size - plen - 1 : size;

  long long start = util_fuzz_now_ns();
  (void)string_match_len(p, (int)plen, subject, (int)slen, 0);
  (void)string_match_len(p, (int)plen, subject, (int)slen, 1);
  /* Checked for patterns up to 1 KB only: longer many-star patterns cost
   * what they cost in Redis (~20 ms for 4 KB at -O2), which fuzzing
   * instrumentation multiplies ~50x past any fixed budget. */
  if (plen <= UTIL_FUZZ_BUDGET_MAX_PATTERN &&
      util_fuzz_now_ns() - start > UTIL_FUZZ_MATCH_BUDGET_NS) {
    fprintf(stderr, "glob match exceeded its time budget\n");
    abort();
  }

  util_fuzz_check_integer(p, size);
  util_fuzz_check_double(p, size);

  /* sds_split_args takes a C string: stop at the first NUL like callers. */
  sds line = sds_new_len(p, plen);
  int argc = 0;
  sds *argv = sds_split_args(line, &argc);
  if (argv != NULL) {
    sds joined = sds_join(argv, argc, " ");
    sds_free(joined);
    sds_free_split(argv, argc);
  }
  sds repr = sds_cat_repr(sds_empty(), p, size);
  sds_free(repr);
  sds_free(line);
  return 0;
}
