/* restore_fuzz.c: libFuzzer target for RESTORE payloads
 * (server/persist/rdb.c rdb_load_object and the RESTORE command in
 * server/persist/persist.c), run through process_command on an
 * in-process server (server_init_for_tests).
 *
 * Input format: a DUMP payload without its 10-byte footer: the RDB type
 * byte, then the value's body. The target appends the footer (RDB version
 * 10, little-endian, and the CRC64 of everything before it), so every
 * input gets past verify_dump_payload and reaches the loader.
 *
 * Oracle, besides ASan/UBSan and the server's assertions:
 * - RESTORE k1 replies +OK or an error; after an error k1 does not exist;
 * - after +OK: D1 = DUMP k1; RESTORE k2 D1 must reply +OK; D2 = DUMP k2
 *   must equal D1 byte for byte (a DUMP -> RESTORE -> DUMP round trip is a
 *   fixed point). Sets and hashes in "hashtable" encoding are the
 *   exception: their member order follows the dict's buckets and chains,
 *   which differ between two dicts filled in different orders, so there D2
 *   must only have D1's type byte and length;
 * - always: k1 and k2 hold the same value, compared element by element
 *   through real commands (TYPE, GET, LRANGE, SMEMBERS, ZRANGE WITHSCORES,
 *   HGETALL; unordered replies sorted), and each reply's element count
 *   equals STRLEN/LLEN/SCARD/ZCARD/HLEN: the restored structure walks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/app.h"
#include "server/base/crc64.h"
#include "server/base/zmalloc.h"
#include "server/core/server.h"

/* Larger payloads only slow the fuzzer down. */
#define RESTORE_FUZZ_MAX_INPUT (256 * 1024)
#define RESTORE_FUZZ_RDB_VERSION 10

static void restore_fuzz_init_once(void) {
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
static sds fz_take_reply(client *c) {
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
static sds fz_call(client *c, int argc, const char *const *argv,
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
static sds fz_call2(client *c, const char *a, const char *b) {
  const char *argv[2] = {a, b};
  size_t lens[2] = {strlen(a), strlen(b)};
  return fz_call(c, 2, argv, lens);
}

static sds fz_call3(client *c, const char *a, const char *b, const char *d) {
  const char *argv[3] = {a, b, d};
  size_t lens[3] = {strlen(a), strlen(b), strlen(d)};
  return fz_call(c, 3, argv, lens);
}

/* fz_restore: RESTORE key 0 payload. */
static sds fz_restore(client *c, const char *key, sds payload) {
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

static size_t fz_line_end(const sds r, size_t pos) {
  const char *nl = memchr(r + pos, '\n', sds_len(r) - pos);
  if (nl == NULL || nl == r + pos || nl[-1] != '\r') {
    abort(); /* malformed reply */
  }
  return (size_t)(nl - r) + 1;
}

/* fz_parse_item: one non-array reply at r[*pos] appended to out. */
static void fz_parse_item(const sds r, size_t *pos, fz_reply *out) {
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
static fz_reply fz_parse(const sds r) {
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

static void fz_reply_free(fz_reply *rep) {
  for (size_t j = 0; j < rep->count; j++) {
    sds_free(rep->items[j]);
  }
  zfree(rep->items);
}

/* fz_is_status: the reply is exactly the status or integer |text|. */
static int fz_reply_is(const sds r, const char *text) {
  return sds_len(r) == strlen(text) && memcmp(r, text, sds_len(r)) == 0;
}

static int fz_sds_cmp(const void *a, const void *b) {
  const sds x = *(const sds *)a, y = *(const sds *)b;
  size_t lx = sds_len(x), ly = sds_len(y);
  int c = memcmp(x, y, lx < ly ? lx : ly);
  return c ? c : (lx > ly) - (lx < ly);
}

static int fz_pair_cmp(const void *a, const void *b) {
  int c = fz_sds_cmp(a, b);
  return c ? c : fz_sds_cmp((const sds *)a + 1, (const sds *)b + 1);
}

/* fz_count: the integer reply of |cmd key|. */
static long long fz_count(client *c, const char *cmd, const char *key) {
  sds r = fz_call2(c, cmd, key);
  fz_reply rep = fz_parse(r);
  if (rep.kind != ':' || rep.count != 1) {
    abort();
  }
  long long n = strtoll(rep.items[0], NULL, 10);
  fz_reply_free(&rep);
  sds_free(r);
  return n;
}

/* fz_canon: the value of |key| as one canonical byte string: its type,
 * then every element (length-prefixed) in the type's order, unordered
 * types sorted. Aborts when the element count disagrees with the type's
 * length command. */
static sds fz_canon(client *c, const char *key) {
  sds type_reply = fz_call2(c, "TYPE", key);
  fz_reply type = fz_parse(type_reply);
  sds_free(type_reply);
  if (type.kind != '+' || type.count != 1) {
    abort();
  }
  const char *t = type.items[0];
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
  fz_reply_free(&type);
  return out;
}

/* fz_dump: DUMP key's payload (the key must exist). */
static sds fz_dump(client *c, const char *key) {
  sds r = fz_call2(c, "DUMP", key);
  fz_reply rep = fz_parse(r);
  sds_free(r);
  if (rep.kind != '$' || rep.count != 1) {
    abort();
  }
  sds payload = rep.items[0];
  zfree(rep.items);
  return payload;
}

/* ---- the target ------------------------------------------------------ */

static sds restore_fuzz_payload(const uint8_t *data, size_t size) {
  sds p = sds_new_len(data, size);
  unsigned char footer[10];
  footer[0] = RESTORE_FUZZ_RDB_VERSION & 0xFF;
  footer[1] = (RESTORE_FUZZ_RDB_VERSION >> 8) & 0xFF;
  p = sds_cat_len(p, footer, 2);
  uint64_t crc = crc64(0, p, sds_len(p));
  for (int i = 0; i < 8; i++) {
    footer[i] = (unsigned char)(crc >> (8 * i));
  }
  return sds_cat_len(p, footer, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > RESTORE_FUZZ_MAX_INPUT) {
    return 0;
  }
  restore_fuzz_init_once();
  client *c = create_client(NULL);
  c->flags |= CLIENT_SCRIPT;

  sds payload = restore_fuzz_payload(data, size);
  sds r = fz_restore(c, "k1", payload);
  sds_free(payload);
  if (fz_reply_is(r, "+OK\r\n")) {
    sds d1 = fz_dump(c, "k1");
    sds enc = fz_call3(c, "OBJECT", "ENCODING", "k1");
    int unordered = fz_reply_is(enc, "$9\r\nhashtable\r\n");
    sds_free(enc);
    sds r2 = fz_restore(c, "k2", d1);
    if (!fz_reply_is(r2, "+OK\r\n")) {
      abort(); /* our own DUMP output is refused */
    }
    sds_free(r2);
    sds d2 = fz_dump(c, "k2");
    if (sds_len(d1) != sds_len(d2) || d1[0] != d2[0] ||
        (!unordered && memcmp(d1, d2, sds_len(d1)) != 0)) {
      abort(); /* DUMP -> RESTORE -> DUMP changed the payload */
    }
    sds v1 = fz_canon(c, "k1");
    sds v2 = fz_canon(c, "k2");
    if (sds_len(v1) != sds_len(v2) || memcmp(v1, v2, sds_len(v1)) != 0) {
      abort(); /* the restored copy holds another value */
    }
    sds_free(v1);
    sds_free(v2);
    sds_free(d1);
    sds_free(d2);
  } else {
    if (sds_len(r) == 0 || r[0] != '-') {
      abort();
    }
    sds e = fz_call2(c, "EXISTS", "k1");
    if (!fz_reply_is(e, ":0\r\n")) {
      abort(); /* a refused payload left a key behind */
    }
    sds_free(e);
  }
  sds_free(r);
  free_client(c);
  empty_data(-1, 0, NULL);
  server.dirty = 0;
  return 0;
}
