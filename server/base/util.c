/* util.c: number <-> string conversions and glob matching with the exact
 * semantics of Redis 7.0 (they decide reply bytes). */
#include "server/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Glob matching                                                        */
/* ------------------------------------------------------------------ */

/* Deeper recursion than this (one level per '*') is refused: a pattern of
 * thousands of stars would otherwise exhaust the stack. */
#define STRING_MATCH_MAX_NESTING 1000

/* string_match_impl follows Redis's stringmatchlen. Pattern reads past
 * |plen| yield NUL, which is what Redis sees on its NUL-terminated sds
 * patterns, so the results agree without reading out of bounds.
 * |skip_longer| is set once the rest of a pattern after a '*' failed to
 * match at any position: earlier stars trying longer spans cannot succeed
 * either, which bounds "*a*a*a*...b" patterns to polynomial time. */
static int string_match_impl(const char *pat, int plen, const char *str,
                             int slen, int nocase, int *skip_longer,
                             int nesting) {
#define PAT(k) ((k) < plen ? pat[(k)] : '\0')
  if (nesting > STRING_MATCH_MAX_NESTING) {
    return 0;
  }
  while (plen > 0 && slen > 0) {
    switch (pat[0]) {
      case '*':
        while (plen > 1 && pat[1] == '*') {
          pat++;
          plen--;
        }
        if (plen == 1) {
          return 1;
        }
        while (slen > 0) {
          if (string_match_impl(pat + 1, plen - 1, str, slen, nocase,
                                skip_longer, nesting + 1)) {
            return 1;
          }
          if (*skip_longer) {
            return 0;
          }
          str++;
          slen--;
        }
        *skip_longer = 1;
        return 0;
      case '?':
        str++;
        slen--;
        break;
      case '[': {
        int negate, match;
        pat++;
        plen--;
        negate = PAT(0) == '^';
        if (negate) {
          pat++;
          plen--;
        }
        match = 0;
        for (;;) {
          if (PAT(0) == '\\' && plen >= 2) {
            pat++;
            plen--;
            if (pat[0] == str[0]) {
              match = 1;
            }
          } else if (PAT(0) == ']') {
            break;
          } else if (plen <= 0) {
            /* Unterminated class: step back so the common advance below
             * lands exactly at the end. */
            pat--;
            plen++;
            break;
          } else if (plen >= 3 && pat[1] == '-') {
            int start = pat[0];
            int end = pat[2];
            int c = str[0];
            if (start > end) {
              int t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = tolower(start);
              end = tolower(end);
              c = tolower(c);
            }
            pat += 2;
            plen -= 2;
            if (c >= start && c <= end) {
              match = 1;
            }
          } else {
            if (!nocase) {
              if (pat[0] == str[0]) {
                match = 1;
              }
            } else if (tolower((int)pat[0]) == tolower((int)str[0])) {
              match = 1;
            }
          }
          pat++;
          plen--;
        }
        if (negate) {
          match = !match;
        }
        if (!match) {
          return 0;
        }
        str++;
        slen--;
        break;
      }
      case '\\':
        if (plen >= 2) {
          pat++;
          plen--;
        }
        /* fall through */
      default:
        if (!nocase) {
          if (pat[0] != str[0]) {
            return 0;
          }
        } else if (tolower((int)pat[0]) != tolower((int)str[0])) {
          return 0;
        }
        str++;
        slen--;
        break;
    }
    pat++;
    plen--;
    if (slen == 0) {
      while (plen > 0 && pat[0] == '*') {
        pat++;
        plen--;
      }
      break;
    }
  }
#undef PAT
  return plen == 0 && slen == 0;
}

int string_match_len(const char *pattern, int patternlen, const char *string,
                     int stringlen, int nocase) {
  int skip_longer = 0;
  if (patternlen < 0 || stringlen < 0) {
    return 0;
  }
  return string_match_impl(pattern, patternlen, string, stringlen, nocase,
                           &skip_longer, 0);
}

int string_match(const char *pattern, const char *string, int nocase) {
  return string_match_len(pattern, (int)strlen(pattern), string,
                          (int)strlen(string), nocase);
}

/* ------------------------------------------------------------------ */
/* Integers                                                             */
/* ------------------------------------------------------------------ */

static uint32_t util_digits10(uint64_t v) {
  uint32_t n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

int ull2string(char *dst, size_t dstlen, unsigned long long value) {
  static const char digits[201] =
      "0001020304050607080910111213141516171819"
      "2021222324252627282930313233343536373839"
      "4041424344454647484950515253545556575859"
      "6061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  uint32_t length = util_digits10(value);
  if (length >= dstlen) {
    if (dstlen > 0) {
      dst[0] = '\0';
    }
    return 0;
  }
  uint32_t next = length - 1;
  dst[length] = '\0';
  while (value >= 100) {
    int i = (int)(value % 100) * 2;
    value /= 100;
    dst[next] = digits[i + 1];
    dst[next - 1] = digits[i];
    next -= 2;
  }
  if (value < 10) {
    dst[next] = (char)('0' + (uint32_t)value);
  } else {
    int i = (int)value * 2;
    dst[next] = digits[i + 1];
    dst[next - 1] = digits[i];
  }
  return (int)length;
}

int ll2string(char *dst, size_t dstlen, long long svalue) {
  unsigned long long value;
  int negative = 0;
  if (svalue < 0) {
    /* Two's complement negation works for LLONG_MIN too. */
    value = 0ULL - (unsigned long long)svalue;
    negative = 1;
    if (dstlen < 2) {
      if (dstlen > 0) {
        dst[0] = '\0';
      }
      return 0;
    }
    dst[0] = '-';
    dst++;
    dstlen--;
  } else {
    value = (unsigned long long)svalue;
  }
  int length = ull2string(dst, dstlen, value);
  if (length == 0) {
    if (negative) {
      dst[-1] = '\0';
    }
    return 0;
  }
  return length + negative;
}

int string2ll(const char *s, size_t slen, long long *value) {
  const char *p = s;
  size_t plen = 0;
  int negative = 0;
  unsigned long long v;

  /* A longer string cannot be a valid long long ("-9223372036854775808" is
   * 20 characters). */
  if (slen == 0 || slen >= LONG_STR_SIZE) {
    return 0;
  }
  if (slen == 1 && p[0] == '0') {
    if (value != NULL) {
      *value = 0;
    }
    return 1;
  }
  if (p[0] == '-') {
    negative = 1;
    p++;
    plen++;
    if (plen == slen) {
      return 0;
    }
  }
  if (p[0] >= '1' && p[0] <= '9') {
    v = (unsigned long long)(p[0] - '0');
    p++;
    plen++;
  } else {
    return 0;
  }
  while (plen < slen && p[0] >= '0' && p[0] <= '9') {
    if (v > (ULLONG_MAX / 10)) {
      return 0;
    }
    v *= 10;
    if (v > (ULLONG_MAX - (unsigned long long)(p[0] - '0'))) {
      return 0;
    }
    v += (unsigned long long)(p[0] - '0');
    p++;
    plen++;
  }
  if (plen < slen) {
    return 0;
  }
  if (negative) {
    if (v > ((unsigned long long)(-(LLONG_MIN + 1)) + 1)) {
      return 0;
    }
    if (value != NULL) {
      *value = (long long)(0ULL - v);
    }
  } else {
    if (v > (unsigned long long)LLONG_MAX) {
      return 0;
    }
    if (value != NULL) {
      *value = (long long)v;
    }
  }
  return 1;
}

int string2l(const char *s, size_t slen, long *lval) {
  long long llval;
  if (!string2ll(s, slen, &llval)) {
    return 0;
  }
  if (llval < LONG_MIN || llval > LONG_MAX) {
    return 0;
  }
  *lval = (long)llval;
  return 1;
}

int string2ull(const char *s, unsigned long long *value) {
  long long ll;
  if (string2ll(s, strlen(s), &ll)) {
    if (ll < 0) {
      return 0;
    }
    *value = (unsigned long long)ll;
    return 1;
  }
  /* Values above LLONG_MAX: strtoull, but refuse signs and spaces that
   * strtoull would accept. */
  if (s[0] < '1' || s[0] > '9') {
    return 0;
  }
  errno = 0;
  char *endptr = NULL;
  *value = strtoull(s, &endptr, 10);
  if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *endptr == '\0')) {
    return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Floating point                                                       */
/* ------------------------------------------------------------------ */

/* Inputs longer than this cannot be a sensible double; it also bounds the
 * stack copy that gives strtod a NUL-terminated string. */
#define STRING2D_MAX_CHARS 5120

int string2d(const char *s, size_t slen, double *dp) {
  char buf[STRING2D_MAX_CHARS + 1];
  if (slen == 0 || slen > STRING2D_MAX_CHARS) {
    return 0;
  }
  memcpy(buf, s, slen);
  buf[slen] = '\0';
  if (isspace((unsigned char)buf[0])) {
    return 0;
  }
  errno = 0;
  char *eptr;
  double value = strtod(buf, &eptr);
  if ((size_t)(eptr - buf) != slen ||
      (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL ||
                           fpclassify(value) == FP_ZERO)) ||
      isnan(value)) {
    return 0;
  }
  if (dp != NULL) {
    *dp = value;
  }
  return 1;
}

int string2ld(const char *s, size_t slen, long double *dp) {
  char buf[MAX_LONG_DOUBLE_CHARS];
  if (slen == 0 || slen >= sizeof(buf)) {
    return 0;
  }
  memcpy(buf, s, slen);
  buf[slen] = '\0';
  if (isspace((unsigned char)buf[0])) {
    return 0;
  }
  errno = 0;
  char *eptr;
  long double value = strtold(buf, &eptr);
  if ((size_t)(eptr - buf) != slen ||
      (errno == ERANGE && (value == HUGE_VALL || value == -HUGE_VALL ||
                           fpclassify(value) == FP_ZERO)) ||
      isnan(value)) {
    return 0;
  }
  if (dp != NULL) {
    *dp = value;
  }
  return 1;
}

int d2string(char *buf, size_t len, double value) {
  int n;
  if (isnan(value)) {
    n = snprintf(buf, len, "nan");
  } else if (isinf(value)) {
    n = snprintf(buf, len, value < 0 ? "-inf" : "inf");
  } else if (value == 0) {
    n = snprintf(buf, len, (1.0 / value < 0) ? "-0" : "0");
  } else {
    /* Integers that fit the 52-bit mantissa print without exponent. */
    const double min = -4503599627370495.0;
    const double max = 4503599627370496.0;
    if (value > min && value < max && value == (double)((long long)value)) {
      n = ll2string(buf, len, (long long)value);
    } else {
      n = snprintf(buf, len, "%.17g", value);
    }
  }
  if (n < 0) {
    return 0;
  }
  if ((size_t)n >= len) {
    return len > 0 ? (int)len - 1 : 0;
  }
  return n;
}

int ld2string(char *buf, size_t len, long double value, ld2string_mode mode) {
  size_t l = 0;
  if (isinf(value)) {
    if (len < 5) {
      return 0;
    }
    if (value > 0) {
      memcpy(buf, "inf", 3);
      l = 3;
    } else {
      memcpy(buf, "-inf", 4);
      l = 4;
    }
  } else {
    int n;
    switch (mode) {
      case LD_STR_AUTO:
        n = snprintf(buf, len, "%.17Lg", value);
        if (n < 0 || (size_t)n + 1 > len) {
          return 0;
        }
        l = (size_t)n;
        break;
      case LD_STR_HEX:
        n = snprintf(buf, len, "%La", value);
        if (n < 0 || (size_t)n + 1 > len) {
          return 0;
        }
        l = (size_t)n;
        break;
      case LD_STR_HUMAN:
        /* 17 digits of a long double round most short decimals back to
         * what the user typed; then drop trailing zeros. */
        n = snprintf(buf, len, "%.17Lf", value);
        if (n < 0 || (size_t)n + 1 > len) {
          return 0;
        }
        l = (size_t)n;
        if (memchr(buf, '.', l) != NULL) {
          char *p = buf + l - 1;
          while (*p == '0') {
            p--;
            l--;
          }
          if (*p == '.') {
            l--;
          }
        }
        if (l == 2 && buf[0] == '-' && buf[1] == '0') {
          buf[0] = '0';
          l = 1;
        }
        break;
      default:
        return 0;
    }
  }
  buf[l] = '\0';
  return (int)l;
}

/* ------------------------------------------------------------------ */
/* Memory units                                                         */
/* ------------------------------------------------------------------ */

unsigned long long memtoull(const char *p, int *err) {
  const char *u;
  char buf[128];
  unsigned long long mul;
  unsigned long long val;
  size_t digits;

  if (err != NULL) {
    *err = 0;
  }
  u = p;
  if (*u == '-') {
    goto fail;
  }
  while (*u != '\0' && isdigit((unsigned char)*u)) {
    u++;
  }
  if (*u == '\0' || !strcasecmp(u, "b")) {
    mul = 1;
  } else if (!strcasecmp(u, "k")) {
    mul = 1000;
  } else if (!strcasecmp(u, "kb")) {
    mul = 1024;
  } else if (!strcasecmp(u, "m")) {
    mul = 1000 * 1000;
  } else if (!strcasecmp(u, "mb")) {
    mul = 1024 * 1024;
  } else if (!strcasecmp(u, "g")) {
    mul = 1000ULL * 1000 * 1000;
  } else if (!strcasecmp(u, "gb")) {
    mul = 1024ULL * 1024 * 1024;
  } else {
    goto fail;
  }
  digits = (size_t)(u - p);
  if (digits >= sizeof(buf)) {
    goto fail;
  }
  memcpy(buf, p, digits);
  buf[digits] = '\0';
  char *endptr;
  errno = 0;
  val = strtoull(buf, &endptr, 10);
  if ((val == 0 && errno == EINVAL) || *endptr != '\0') {
    goto fail;
  }
  if (errno == ERANGE || val > ULLONG_MAX / mul) {
    goto fail;
  }
  return val * mul;
fail:
  if (err != NULL) {
    *err = 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Randomness and time                                                  */
/* ------------------------------------------------------------------ */

void get_random_bytes(unsigned char *p, size_t len) {
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      /* getrandom cannot fail on Linux >= 3.17 except EINTR; fall back
       * to /dev/urandom for odd sandboxes. */
      int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        abort();
      }
      while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r <= 0) {
          if (r < 0 && errno == EINTR) {
            continue;
          }
          abort();
        }
        p += r;
        len -= (size_t)r;
      }
      close(fd);
      return;
    }
    p += n;
    len -= (size_t)n;
  }
}

void get_random_hex_chars(char *p, size_t len) {
  static const char charset[] = "0123456789abcdef";
  get_random_bytes((unsigned char *)p, len);
  for (size_t j = 0; j < len; j++) {
    p[j] = charset[p[j] & 0x0F];
  }
}

long long ustime(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return ((long long)tv.tv_sec) * 1000000 + tv.tv_usec;
}

long long mstime(void) { return ustime() / 1000; }

/* ---- argument splitting (util_split_args) ---- */

static int split_is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

static int split_hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Reads line[i] as a C string would: NUL past the end. */
static char split_at(const char *line, size_t len, size_t i) {
  return i < len ? line[i] : '\0';
}

int util_split_args(const char *line, size_t len, char **out_data,
                    size_t **out_offsets, int *out_argc) {
  /* Decoded output never exceeds the input; arguments never exceed
   * len / 1 + 1. */
  char *data = malloc(len + 1);
  size_t *offs = malloc(sizeof(size_t) * (len / 2 + 2));
  size_t out = 0, i = 0;
  int argc = 0;

  if (data == NULL || offs == NULL) {
    free(data);
    free(offs);
    return 0;
  }
  const void *nul = memchr(line, '\0', len);
  if (nul != NULL) {
    len = (size_t)((const char *)nul - line);
  }
  offs[0] = 0;
  for (;;) {
    while (i < len && split_is_space(line[i])) {
      i++;
    }
    if (i >= len) {
      break;
    }
    int in_dq = 0, in_sq = 0, done = 0;
    while (!done) {
      char c = split_at(line, len, i);
      if (in_dq) {
        if (c == '\\' && split_at(line, len, i + 1) == 'x' &&
            split_hex_value(split_at(line, len, i + 2)) >= 0 &&
            split_hex_value(split_at(line, len, i + 3)) >= 0) {
          data[out++] = (char)(split_hex_value(line[i + 2]) * 16 +
                               split_hex_value(line[i + 3]));
          i += 3;
        } else if (c == '\\' && split_at(line, len, i + 1) != '\0') {
          i++;
          switch (line[i]) {
            case 'n':
              data[out++] = '\n';
              break;
            case 'r':
              data[out++] = '\r';
              break;
            case 't':
              data[out++] = '\t';
              break;
            case 'b':
              data[out++] = '\b';
              break;
            case 'a':
              data[out++] = '\a';
              break;
            default:
              data[out++] = line[i];
              break;
          }
        } else if (c == '"') {
          /* A closing quote must be followed by a space or the end. */
          char next = split_at(line, len, i + 1);
          if (next != '\0' && !split_is_space(next)) {
            goto err;
          }
          done = 1;
        } else if (c == '\0') {
          goto err; /* unterminated quotes */
        } else {
          data[out++] = c;
        }
      } else if (in_sq) {
        if (c == '\\' && split_at(line, len, i + 1) == '\'') {
          i++;
          data[out++] = '\'';
        } else if (c == '\'') {
          char next = split_at(line, len, i + 1);
          if (next != '\0' && !split_is_space(next)) {
            goto err;
          }
          done = 1;
        } else if (c == '\0') {
          goto err;
        } else {
          data[out++] = c;
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = 1;
            break;
          case '"':
            in_dq = 1;
            break;
          case '\'':
            in_sq = 1;
            break;
          default:
            data[out++] = c;
            break;
        }
      }
      if (i < len) {
        i++;
      }
    }
    argc++;
    offs[argc] = out;
  }
  *out_data = data;
  *out_offsets = offs;
  *out_argc = argc;
  return 1;

err:
  free(data);
  free(offs);
  return 0;
}
