/* inproc_client.h: helpers shared by the fuzz targets that drive an
 * in-process server (server_init_for_tests): start it once, run commands on
 * a client through process_command and take their reply bytes, parse those
 * replies (flat RESP2 only: status, error, integer, bulk, arrays of those),
 * and read a key's value back as one canonical byte string (fz_canon).
 * Every helper abort()s on a reply it does not expect, so a malformed or
 * surprising reply is a fuzzer finding.
 *
 * Included by restore_fuzz.c, dump_roundtrip_fuzz.c and rdb_load_fuzz.c
 * (tests/fuzz/BUILD hands every *.h to every target). The functions are
 * static inline so that a target using only some of them still builds with
 * -Wall -Werror. */
#ifndef REDOUBT_TESTS_FUZZ_INPROC_CLIENT_H
#define REDOUBT_TESTS_FUZZ_INPROC_CLIENT_H

#include <stdlib.h>
#include <string.h>

#include "server/app.h"
#include "server/base/zmalloc.h"
#include "server/core/server.h"

/* fz_init_server_once: server_init_for_tests on the first call, with the
 * log quietened; later calls do nothing. */
static inline void fz_init_server_once(void) {
  static int done;
  if (done) {
    return;
  }
  done = 1;
  server_init_for_tests();
  server_log_settings.verbosity = LL_WARNING + 1; /* quiet */
}

/* ---- running commands ------------------------------------------------ */

/* fz_take_reply: the client's buffered reply bytes as a new sds (the
 * buffer is emptied). */
static inline sds fz_take_reply(client *c) {
  sds out = sds_new_len(c->buf, c->bufpos);
  list_iter li;
  list_node *ln;
  list_rewind(c->reply, &li);
  while ((ln = list_next(&li)) != NULL) {
    client_reply_block *b = list_node_value(ln);
    out = sds_cat_len(out, b->buf, b->used);
  }
  list_empty(c->reply);
  c->reply_bytes = 0;
  c->bufpos = 0;
  return out;
}

/* fz_call runs argv[0..argc) (byte strings with lengths) as one command
 * and returns its reply bytes (the caller frees them). */
static inline sds fz_call(client *c, int argc, const char *const *argv,
                          const size_t *lens) {
  zfree(c->argv);
  c->argv = zmalloc(sizeof(robj *) * (size_t)argc);
  c->argv_len = argc;
  c->argc = 0;
  for (int j = 0; j < argc; j++) {
    c->argv[c->argc++] = create_string_object(argv[j], lens[j]);
    c->argv_len_sum += lens[j];
  }
  process_command(c);
  sds reply = fz_take_reply(c);
  reset_client(c);
  return reply;
}

/* fz_call2/fz_call3: commands of C-string arguments. */
static inline sds fz_call2(client *c, const char *a, const char *b) {
  const char *argv[2] = {a, b};
  size_t lens[2] = {strlen(a), strlen(b)};
  return fz_call(c, 2, argv, lens);
}

static inline sds fz_call3(client *c, const char *a, const char *b,
                           const char *d) {
  const char *argv[3] = {a, b, d};
  size_t lens[3] = {strlen(a), strlen(b), strlen(d)};
  return fz_call(c, 3, argv, lens);
}

/* fz_restore: RESTORE key 0 payload. */
static inline sds fz_restore(client *c, const char *key, sds payload) {
  const char *argv[4] = {"RESTORE", key, "0", payload};
  size_t lens[4] = {7, strlen(key), 1, sds_len(payload)};
  return fz_call(c, 4, argv, lens);
}

/* ---- reading replies ------------------------------------------------- */

/* A parsed reply: a status, error or integer line (kind '+', '-', ':'),
 * a bulk string ('$'; null: 'N'), or an array of those ('*'). */
typedef struct fz_reply {
  char kind;
  sds *items;
  size_t count, cap;
} fz_reply;

static inline size_t fz_line_end(const sds r, size_t pos) {
  const char *nl = memchr(r + pos, '\n', sds_len(r) - pos);
  if (nl == NULL || nl == r + pos || nl[-1] != '\r') {
    abort(); /* malformed reply */
  }
  return (size_t)(nl - r) + 1;
}

/* fz_parse_item: one non-array reply at r[*pos] appended to out. */
static inline void fz_parse_item(const sds r, size_t *pos, fz_reply *out) {
  if (*pos >= sds_len(r)) {
    abort();
  }
  char kind = r[*pos];
  size_t end = fz_line_end(r, *pos);
  long long n = strtoll(r + *pos + 1, NULL, 10);
  sds item;
  if (kind == '$') {
    if (n == -1) {
      *pos = end;
      out->kind = out->kind == '*' ? '*' : 'N';
      return;
    }
    if (n < 0 || (size_t)n + 2 > sds_len(r) - end) {
      abort();
    }
    item = sds_new_len(r + end, (size_t)n);
    *pos = end + (size_t)n + 2;
  } else if (kind == '+' || kind == '-' || kind == ':') {
    item = sds_new_len(r + *pos + 1, end - *pos - 3);
    *pos = end;
  } else {
    abort(); /* nested aggregates are not expected here */
  }
  if (out->kind != '*') {
    out->kind = kind;
  }
  if (out->count == out->cap) {
    out->cap = out->cap ? out->cap * 2 : 8;
    out->items = zrealloc(out->items, sizeof(sds) * out->cap);
  }
  out->items[out->count++] = item;
}

/* fz_parse: the whole reply |r| (exactly one reply). */
static inline fz_reply fz_parse(const sds r) {
  fz_reply out = {0, NULL, 0, 0};
  size_t pos = 0;
  if (sds_len(r) > 0 && r[0] == '*') {
    size_t end = fz_line_end(r, 0);
    long long n = strtoll(r + 1, NULL, 10);
    if (n < 0) {
      abort();
    }
    out.kind = '*';
    pos = end;
    for (long long j = 0; j < n; j++) {
      fz_parse_item(r, &pos, &out);
    }
  } else {
    fz_parse_item(r, &pos, &out);
  }
  if (pos != sds_len(r)) {
    abort(); /* one command, one reply */
  }
  return out;
}

static inline void fz_reply_free(fz_reply *rep) {
  for (size_t j = 0; j < rep->count; j++) {
    sds_free(rep->items[j]);
  }
  zfree(rep->items);
}

/* fz_reply_is: the raw reply |r| is exactly |text| (e.g. "+OK\r\n"). */
static inline int fz_reply_is(const sds r, const char *text) {
  return sds_len(r) == strlen(text) && memcmp(r, text, sds_len(r)) == 0;
}

static inline int fz_sds_cmp(const void *a, const void *b) {
  const sds x = *(const sds *)a, y = *(const sds *)b;
  size_t lx = sds_len(x), ly = sds_len(y);
  int c = memcmp(x, y, lx < ly ? lx : ly);
  return c ? c : (lx > ly) - (lx < ly);
}

static inline int fz_pair_cmp(const void *a, const void *b) {
  int c = fz_sds_cmp(a, b);
  return c ? c : fz_sds_cmp((const sds *)a + 1, (const sds *)b + 1);
}

/* fz_call_single runs |cmd key| and returns its reply's one item (the
 * caller frees it); aborts unless the reply is one item of |kind|. */
static inline sds fz_call_single(client *c, const char *cmd, const char *key,
                                 char kind) {
  sds r = fz_call2(c, cmd, key);
  fz_reply rep = fz_parse(r);
  sds_free(r);
  if (rep.kind != kind || rep.count != 1) {
    abort();
  }
  sds item = rep.items[0];
  zfree(rep.items);
  return item;
}

/* fz_count: the integer reply of |cmd key|. */
static inline long long fz_count(client *c, const char *cmd, const char *key) {
  sds item = fz_call_single(c, cmd, key, ':');
  long long n = strtoll(item, NULL, 10);
  sds_free(item);
  return n;
}

/* fz_stream_canon: see fz_canon. XRANGE's reply is an array of one
 * 2-element array per entry: its header gives the count. */
static inline sds fz_stream_canon(client *c, const char *key) {
  long long n = fz_count(c, "XLEN", key);
  const char *range[4] = {"XRANGE", key, "-", "+"};
  size_t range_lens[4] = {6, strlen(key), 1, 1};
  sds r = fz_call(c, 4, range, range_lens);
  if (sds_len(r) < 4 || r[0] != '*' || strtoll(r + 1, NULL, 10) != n) {
    abort(); /* XLEN and the entries disagree */
  }
  sds_free(r);
  const char *full[6] = {"XINFO", "STREAM", key, "FULL", "COUNT", "0"};
  size_t full_lens[6] = {5, 6, strlen(key), 4, 5, 1};
  r = fz_call(c, 6, full, full_lens);
  if (sds_len(r) == 0 || r[0] != '*') {
    abort();
  }
  sds out = sds_cat_sds(sds_new("stream\n"), r);
  sds_free(r);
  return out;
}

/* fz_canon: the value of |key| as one canonical byte string: its type,
 * then every element (length-prefixed) in the type's order, unordered
 * types sorted. Aborts when the element count disagrees with the type's
 * length command. */
static inline sds fz_canon(client *c, const char *key) {
  sds t = fz_call_single(c, "TYPE", key, '+');
  sds r;
  const char *len_cmd;
  size_t per_element = 1; /* reply items per counted element */
  int sort = 0;           /* 1: items, 2: pairs */
  if (!strcmp(t, "string")) {
    r = fz_call2(c, "GET", key);
    len_cmd = NULL;
  } else if (!strcmp(t, "list")) {
    const char *argv[4] = {"LRANGE", key, "0", "-1"};
    size_t lens[4] = {6, strlen(key), 1, 2};
    r = fz_call(c, 4, argv, lens);
    len_cmd = "LLEN";
  } else if (!strcmp(t, "set")) {
    r = fz_call2(c, "SMEMBERS", key);
    len_cmd = "SCARD";
    sort = 1;
  } else if (!strcmp(t, "zset")) {
    const char *argv[5] = {"ZRANGE", key, "0", "-1", "WITHSCORES"};
    size_t lens[5] = {6, strlen(key), 1, 2, 10};
    r = fz_call(c, 5, argv, lens);
    len_cmd = "ZCARD";
    per_element = 2;
  } else if (!strcmp(t, "hash")) {
    r = fz_call2(c, "HGETALL", key);
    len_cmd = "HLEN";
    per_element = 2;
    sort = 2;
  } else if (!strcmp(t, "stream")) {
    /* Nested replies: the canonical form is XINFO STREAM FULL's bytes
     * (entries, groups, PELs and their clocks, which DUMP keeps), after
     * checking that XRANGE walks as many entries as XLEN says. */
    sds out = fz_stream_canon(c, key);
    sds_free(t);
    return out;
  } else {
    abort(); /* "none" or a type RESTORE cannot make */
  }
  fz_reply rep = fz_parse(r);
  sds_free(r);
  if (len_cmd == NULL) {
    if (rep.kind != '$' || rep.count != 1 ||
        fz_count(c, "STRLEN", key) != (long long)sds_len(rep.items[0])) {
      abort();
    }
  } else {
    long long n = fz_count(c, len_cmd, key);
    if (rep.kind != '*' || n <= 0 || rep.count != (size_t)n * per_element) {
      abort();
    }
  }
  if (sort == 1) {
    qsort(rep.items, rep.count, sizeof(sds), fz_sds_cmp);
  } else if (sort == 2) {
    qsort(rep.items, rep.count / 2, 2 * sizeof(sds), fz_pair_cmp);
  }
  sds out = sds_cat_printf(sds_empty(), "%s\n", t);
  for (size_t j = 0; j < rep.count; j++) {
    out = sds_cat_printf(out, "%zu:", sds_len(rep.items[j]));
    out = sds_cat_len(out, rep.items[j], sds_len(rep.items[j]));
  }
  fz_reply_free(&rep);
  sds_free(t);
  return out;
}

/* fz_dump: DUMP key's payload (the key must exist). */
static inline sds fz_dump(client *c, const char *key) {
  return fz_call_single(c, "DUMP", key, '$');
}

#endif /* REDOUBT_TESTS_FUZZ_INPROC_CLIENT_H */
