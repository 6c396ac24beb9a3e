/* dump_roundtrip_fuzz.c: property target for DUMP and RESTORE
 * (server/persist/rdb.c create_dump_payload, rdb_save_object,
 * rdb_load_object; the commands in server/persist/persist.c) on an
 * in-process server (server_init_for_tests): a value built with real
 * commands must come back from DUMP + RESTORE holding the same elements.
 *
 * Input format: a small program. Byte 0 picks the value's type (its low 3
 * bits % 5: string, list, set, zset, hash) and, in bits 3-4, the encoding
 * limits the run uses (0, 3: the defaults; 1: tiny limits, so few elements
 * cross every listpack/intset limit and lists get many nodes; 2: lists of
 * 1-element nodes, a 2-entry intset, 2-byte listpack values). Then, while
 * bytes remain (at most DR_MAX_OPS operations), one opcode byte (low 3
 * bits: the operation, the other bits its variant) and its operands:
 *   0 n bytes...      a short element: n % 24 bytes of input
 *   1 bytes...        an integer element from (variant % 8) + 1 bytes,
 *                     sign-extended (written in decimal)
 *   2 hi lo c         a long element of 60 + (hi lo) % 10000 bytes: a
 *                     pattern on c (variant odd: c repeated, compresses;
 *                     even: a period-251 ramp that LZF cannot shrink)
 *   3 hi lo [b0 b1]   (hi lo) % 1100 + 100 elements at once: integers from
 *                     the 16-bit base b0 b1 (variant odd) or "e<i>" strings
 *   4 8 bytes         zset score for what follows: a double (variant odd;
 *                     NaN becomes 0) or a 16-bit integer; each element
 *                     added moves the score on by 1
 *   5                 send the pending elements now (RPUSH/LPUSH, SADD,
 *                     ZADD, HSET; strings: all of them joined, SET when the
 *                     key is new, APPEND after that)
 *   6 n bytes...      remove an element (LREM/SREM/ZREM/HDEL of n % 8
 *                     input bytes, or of the last element added when n is
 *                     0); for strings SETRANGE at offset n of those bytes
 *   7                 lists: push on the other side from now on
 * Pending elements are also sent before 6 and 7 and at the end; elements
 * after the first DR_MAX_ELEMENTS are dropped.
 *
 * Oracle, besides ASan/UBSan and the server's assertions: if the key
 * exists, D = DUMP k; RESTORE k2 0 D must reply +OK, and k and k2 must
 * hold the same value: same TYPE and the same elements in order (strings:
 * GET; lists: LRANGE; zsets: ZRANGE WITHSCORES) or as sorted sets of
 * members/pairs (SMEMBERS, HGETALL); each reply's element count must
 * equal STRLEN/LLEN/SCARD/ZCARD/HLEN. The same holds one generation on:
 * DUMP k2 restored into k3. Any difference abort()s. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/zmalloc.h"
#include "server/core/server.h"
#include "tests/fuzz/inproc_client.h"

#define DR_MAX_OPS 64
#define DR_MAX_ELEMENT (10000 + 60)
#define DR_MAX_ELEMENTS 4000 /* per input; later elements are dropped */

/* The encoding limits a run may change, saved at start-up. */
typedef struct dr_limits {
  int list_max_listpack_size;
  size_t set_max_intset_entries;
  size_t hash_max_listpack_entries, hash_max_listpack_value;
  size_t zset_max_listpack_entries, zset_max_listpack_value;
} dr_limits;

static dr_limits dr_defaults;

static void dr_limits_get(dr_limits *l) {
  l->list_max_listpack_size = server.list_max_listpack_size;
  l->set_max_intset_entries = server.set_max_intset_entries;
  l->hash_max_listpack_entries = server.hash_max_listpack_entries;
  l->hash_max_listpack_value = server.hash_max_listpack_value;
  l->zset_max_listpack_entries = server.zset_max_listpack_entries;
  l->zset_max_listpack_value = server.zset_max_listpack_value;
}

static void dr_limits_set(const dr_limits *l) {
  server.list_max_listpack_size = l->list_max_listpack_size;
  server.set_max_intset_entries = l->set_max_intset_entries;
  server.hash_max_listpack_entries = l->hash_max_listpack_entries;
  server.hash_max_listpack_value = l->hash_max_listpack_value;
  server.zset_max_listpack_entries = l->zset_max_listpack_entries;
  server.zset_max_listpack_value = l->zset_max_listpack_value;
}

static void dr_init_once(void) {
  static int done;
  if (done) {
    return;
  }
  done = 1;
  fz_init_server_once();
  dr_limits_get(&dr_defaults);
}

/* ---- the program ----------------------------------------------------- */

typedef struct dr_input {
  const uint8_t *p;
  size_t len, pos;
} dr_input;

static unsigned dr_byte(dr_input *in) {
  return in->pos < in->len ? in->p[in->pos++] : 0;
}

enum { DR_STRING, DR_LIST, DR_SET, DR_ZSET, DR_HASH };

/* The elements waiting to be sent in one command. */
typedef struct dr_pending {
  int type;
  int left; /* lists: LPUSH instead of RPUSH */
  double score;
  int count, cap;
  int added; /* elements added in this run */
  char **argv;
  size_t *lens;
  sds last; /* the last element added (for op 6 with n == 0) */
} dr_pending;

static void dr_push_arg(dr_pending *pd, const char *s, size_t len) {
  if (pd->count == pd->cap) {
    pd->cap = pd->cap ? pd->cap * 2 : 64;
    pd->argv = zrealloc(pd->argv, sizeof(char *) * (size_t)pd->cap);
    pd->lens = zrealloc(pd->lens, sizeof(size_t) * (size_t)pd->cap);
  }
  char *copy = zmalloc(len + 1);
  memcpy(copy, s, len);
  copy[len] = '\0';
  pd->argv[pd->count] = copy;
  pd->lens[pd->count++] = len;
}

/* dr_add: one element; zsets get a score before it (ZADD score member),
 * hashes take elements alternately as fields and values. */
static void dr_add(dr_pending *pd, const char *s, size_t len) {
  if (pd->added == DR_MAX_ELEMENTS) {
    return; /* keeps every input fast */
  }
  pd->added++;
  if (pd->type == DR_ZSET) {
    char buf[64];
    int n;
    if (isinf(pd->score)) {
      n = snprintf(buf, sizeof(buf), "%s", pd->score > 0 ? "inf" : "-inf");
    } else {
      n = snprintf(buf, sizeof(buf), "%.17g", pd->score);
    }
    dr_push_arg(pd, buf, (size_t)n);
    pd->score += 1;
  }
  dr_push_arg(pd, s, len);
  if (pd->last) {
    sds_free(pd->last);
  }
  pd->last = sds_new_len(s, len);
}

static void dr_clear_args(dr_pending *pd) {
  for (int j = 0; j < pd->count; j++) {
    zfree(pd->argv[j]);
  }
  pd->count = 0;
}

/* dr_run: runs |name key args...| and drops the reply (its framing is
 * checked by fz_parse). */
static void dr_run(client *c, const char *name, const char *key, int argc,
                   char *const *args, const size_t *args_len) {
  int total = argc + 2;
  const char **argv = zmalloc(sizeof(char *) * (size_t)total);
  size_t *lens = zmalloc(sizeof(size_t) * (size_t)total);
  argv[0] = name;
  lens[0] = strlen(name);
  argv[1] = key;
  lens[1] = strlen(key);
  for (int j = 0; j < argc; j++) {
    argv[j + 2] = args[j];
    lens[j + 2] = args_len[j];
  }
  sds r = fz_call(c, total, argv, lens);
  fz_reply rep = fz_parse(r);
  fz_reply_free(&rep);
  sds_free(r);
  zfree(argv);
  zfree(lens);
}

/* dr_flush sends the pending elements as one command. */
static void dr_flush(client *c, dr_pending *pd) {
  if (pd->count == 0) {
    return;
  }
  switch (pd->type) {
    case DR_STRING: {
      sds joined = sds_empty();
      for (int j = 0; j < pd->count; j++) {
        joined = sds_cat_len(joined, pd->argv[j], pd->lens[j]);
      }
      sds e = fz_call2(c, "EXISTS", "k");
      const char *cmd = fz_reply_is(e, ":0\r\n") ? "SET" : "APPEND";
      sds_free(e);
      char *arg = joined;
      size_t arg_len = sds_len(joined);
      dr_run(c, cmd, "k", 1, &arg, &arg_len);
      sds_free(joined);
      break;
    }
    case DR_LIST:
      dr_run(c, pd->left ? "LPUSH" : "RPUSH", "k", pd->count, pd->argv,
             pd->lens);
      break;
    case DR_SET:
      dr_run(c, "SADD", "k", pd->count, pd->argv, pd->lens);
      break;
    case DR_ZSET:
      dr_run(c, "ZADD", "k", pd->count, pd->argv, pd->lens);
      break;
    case DR_HASH:
      if (pd->count % 2) {
        dr_push_arg(pd, "", 0);
      }
      dr_run(c, "HSET", "k", pd->count, pd->argv, pd->lens);
      break;
  }
  dr_clear_args(pd);
}

/* dr_remove: op 6. */
static void dr_remove(client *c, dr_pending *pd, dr_input *in) {
  unsigned n = dr_byte(in) % 8;
  char buf[8];
  size_t len = 0;
  const char *s = buf;
  if (n == 0 && pd->last) {
    s = pd->last;
    len = sds_len(pd->last);
  } else {
    for (; len < n; len++) {
      buf[len] = (char)dr_byte(in);
    }
  }
  char *args[2];
  size_t lens[2];
  char off[16];
  switch (pd->type) {
    case DR_STRING:
      snprintf(off, sizeof(off), "%u", n);
      args[0] = off;
      lens[0] = strlen(off);
      args[1] = (char *)s;
      lens[1] = len;
      dr_run(c, "SETRANGE", "k", 2, args, lens);
      break;
    case DR_LIST:
      args[0] = "0";
      lens[0] = 1;
      args[1] = (char *)s;
      lens[1] = len;
      dr_run(c, "LREM", "k", 2, args, lens);
      break;
    default:
      args[0] = (char *)s;
      lens[0] = len;
      dr_run(c,
             pd->type == DR_SET    ? "SREM"
             : pd->type == DR_ZSET ? "ZREM"
                                   : "HDEL",
             "k", 1, args, lens);
      break;
  }
}

static void dr_apply_profile(unsigned profile) {
  dr_limits l = dr_defaults;
  if (profile == 1) {
    l.list_max_listpack_size = 4;
    l.set_max_intset_entries = 4;
    l.hash_max_listpack_entries = 4;
    l.hash_max_listpack_value = 8;
    l.zset_max_listpack_entries = 4;
    l.zset_max_listpack_value = 8;
  } else if (profile == 2) {
    l.list_max_listpack_size = 1;
    l.set_max_intset_entries = 2;
    l.hash_max_listpack_value = 2;
    l.zset_max_listpack_value = 2;
  }
  dr_limits_set(&l);
}

/* dr_check_copy: RESTORE |from|'s DUMP into |to|; both must hold the
 * same value. */
static void dr_check_copy(client *c, const char *from, const char *to) {
  sds d = fz_dump(c, from);
  sds r = fz_restore(c, to, d);
  if (!fz_reply_is(r, "+OK\r\n")) {
    abort(); /* our own DUMP output is refused */
  }
  sds_free(r);
  sds_free(d);
  sds v1 = fz_canon(c, from);
  sds v2 = fz_canon(c, to);
  if (sds_len(v1) != sds_len(v2) || memcmp(v1, v2, sds_len(v1)) != 0) {
    abort(); /* DUMP + RESTORE changed the value */
  }
  sds_free(v1);
  sds_free(v2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dr_init_once();
  if (size == 0) {
    return 0;
  }
  dr_input in = {data, size, 1};
  dr_pending pd = {0};
  pd.type = (data[0] & 7) % 5;
  dr_apply_profile((data[0] >> 3) & 3);
  client *c = create_client(NULL);
  c->flags |= CLIENT_SCRIPT;
  char *elem = zmalloc(DR_MAX_ELEMENT);

  for (int ops = 0; ops < DR_MAX_OPS && in.pos < in.len; ops++) {
    unsigned op = dr_byte(&in);
    unsigned variant = op >> 3;
    switch (op & 7) {
      case 0: {
        size_t n = dr_byte(&in) % 24;
        for (size_t j = 0; j < n; j++) {
          elem[j] = (char)dr_byte(&in);
        }
        dr_add(&pd, elem, n);
        break;
      }
      case 1: {
        unsigned width = variant % 8 + 1;
        uint64_t v = 0;
        for (unsigned j = 0; j < width; j++) {
          v = (v << 8) | dr_byte(&in);
        }
        if (width < 8 && (v >> (8 * width - 1)) & 1) {
          v |= ~(uint64_t)0 << (8 * width); /* sign-extend */
        }
        int n = snprintf(elem, DR_MAX_ELEMENT, "%lld", (long long)v);
        dr_add(&pd, elem, (size_t)n);
        break;
      }
      case 2: {
        unsigned hi = dr_byte(&in), lo = dr_byte(&in);
        size_t n = 60 + ((hi << 8) | lo) % 10000;
        unsigned char ch = (unsigned char)dr_byte(&in);
        for (size_t j = 0; j < n; j++) {
          elem[j] = (char)((variant & 1) ? ch : ch + j % 251);
        }
        dr_add(&pd, elem, n);
        break;
      }
      case 3: {
        unsigned hi = dr_byte(&in), lo = dr_byte(&in);
        unsigned count = 100 + ((hi << 8) | lo) % 1100;
        long long base = 0;
        if (variant & 1) {
          base = (int16_t)((dr_byte(&in) << 8) | dr_byte(&in));
        }
        for (unsigned j = 0; j < count; j++) {
          int n = (variant & 1)
                      ? snprintf(elem, DR_MAX_ELEMENT, "%lld", base + j)
                      : snprintf(elem, DR_MAX_ELEMENT, "e%u", j);
          dr_add(&pd, elem, (size_t)n);
        }
        break;
      }
      case 4: {
        uint64_t bits = 0;
        for (int j = 0; j < 8; j++) {
          bits = (bits << 8) | dr_byte(&in);
        }
        if (variant & 1) {
          double d;
          memcpy(&d, &bits, sizeof(d));
          pd.score = isnan(d) ? 0 : d;
        } else {
          pd.score = (double)(int16_t)(bits & 0xFFFF);
        }
        break;
      }
      case 5:
        dr_flush(c, &pd);
        break;
      case 6:
        dr_flush(c, &pd);
        dr_remove(c, &pd, &in);
        break;
      case 7:
        dr_flush(c, &pd);
        pd.left = !pd.left;
        break;
    }
  }
  dr_flush(c, &pd);

  sds e = fz_call2(c, "EXISTS", "k");
  int exists = fz_reply_is(e, ":1\r\n");
  sds_free(e);
  if (exists) {
    dr_check_copy(c, "k", "k2");
    dr_check_copy(c, "k2", "k3");
  }

  zfree(elem);
  dr_clear_args(&pd);
  zfree(pd.argv);
  zfree(pd.lens);
  if (pd.last) {
    sds_free(pd.last);
  }
  free_client(c);
  empty_data(-1, 0, NULL);
  dr_limits_set(&dr_defaults);
  server.dirty = 0;
  return 0;
}
