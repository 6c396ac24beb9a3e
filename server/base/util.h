/* util.h: number/string conversions and glob matching with Redis's exact
 * semantics (these decide reply texts, so they are shared by every
 * command). */
#ifndef REDOUBT_UTIL_H
#define REDOUBT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Buffer sizes big enough for any formatted number. */
#define LONG_STR_SIZE 21
#define MAX_LONG_DOUBLE_CHARS 5 * 1024
#define MAX_D2STRING_CHARS 128

/* string2ll parses a strict base-10 integer: no spaces, no '+', no leading
 * zeros (except "0"), fits in long long. Returns 1 on success, 0 otherwise. */
int string2ll(const char *s, size_t slen, long long *value);
int string2l(const char *s, size_t slen, long *value);
int string2ull(const char *s, unsigned long long *value);
/* string2d parses a double as Redis does (strtod, whole string, no spaces,
 * not NaN). Returns 1/0. */
int string2d(const char *s, size_t slen, double *dp);
int string2ld(const char *s, size_t slen, long double *dp);
/* ll2string writes the decimal form; returns the length or 0 if it did not
 * fit. */
int ll2string(char *dst, size_t dstlen, long long svalue);
int ull2string(char *dst, size_t dstlen, unsigned long long value);
/* d2string formats as Redis does for doubles: "inf", "-inf", "nan",
 * integers exactly representable without exponent as integers, else %.17g.
 * Returns the length. */
int d2string(char *buf, size_t len, double value);
/* fixed-point humanised forms used by INCRBYFLOAT (long double, %.17Lf with
 * trailing zeros removed, LD_STR_HUMAN) */
typedef enum { LD_STR_AUTO, LD_STR_HUMAN, LD_STR_HEX } ld2string_mode;
int ld2string(char *buf, size_t len, long double value, ld2string_mode mode);

/* string_match_len: glob-style match (* ? [abc] [^a] [a-z] \x) with Redis's
 * semantics; nocase for case-insensitive. Returns 1 on match. */
int string_match_len(const char *pattern, int patternlen, const char *string,
                     int stringlen, int nocase);
int string_match(const char *pattern, const char *string, int nocase);

/* memtoull parses "1gb", "10mb", "5k", "100" (units k kb m mb g gb, case
 * insensitive; k=1000 kb=1024). Sets *err to 1 on failure. */
unsigned long long memtoull(const char *p, int *err);

/* get_random_bytes fills p with cryptographically random bytes. */
void get_random_bytes(unsigned char *p, size_t len);
void get_random_hex_chars(char *p, size_t len);

/* Monotonic time helpers shared by modules. */
long long ustime(void);
long long mstime(void);

/* util_split_args splits one line into arguments the way Redis's
 * sdssplitargs does (inline commands, redis.conf, redis-cli): spaces
 * separate; "double quotes" take \n \r \t \b \a, \xHH and any other
 * escaped byte; 'single quotes' take \' only; a closing quote must be
 * followed by a space or the end. The line is read up to |len| or its first
 * NUL. On success returns 1 and sets *out_data (the decoded bytes),
 * *out_offsets (argc + 1 offsets: argument i is
 * out_data[off[i]..off[i+1])) and *out_argc; the caller frees both with
 * free(). Returns 0 on unbalanced quotes (or no memory). The one splitter:
 * RESP's inline requests and sds_split_args both use it. */
int util_split_args(const char *line, size_t len, char **out_data,
                    size_t **out_offsets, int *out_argc);

#endif
