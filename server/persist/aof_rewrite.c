/* aof_rewrite.c: the dataset written as commands, the base file of an AOF
 * rewrite when aof-use-rdb-preamble is no (aof.c writes the file). */
#include <stdio.h>
#include <string.h>

#include "server/ds/intset.h"
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "server/ds/zskiplist.h"
#include "server/persist/aof.h"
#include "server/persist/persist.h"
#include "server/persist/persist_internal.h"
#include "server/persist/rdb.h"
#include "server/persist/rdb_internal.h"
#include "server/types/t_hash.h"
#include "server/types/t_list.h"
#include "server/types/t_set.h"
#include "server/types/t_zset.h"

/* Items per command, as Redis (AOF_REWRITE_ITEMS_PER_CMD). */
#define AOF_REWRITE_ITEMS_PER_CMD 64

/* ------------------------------------------------------------------ */
/* Rewriting a dataset as commands (aof-use-rdb-preamble no)            */
/* ------------------------------------------------------------------ */
typedef struct emit_ctx {
  rio *r;
  int ok;
  robj *key;
  const char *cmd;
  int items; /* pending in the current command */
  int total; /* elements left */
  sds pending;
} emit_ctx;

static int rio_cat(rio *r, sds s) { return rio_write(r, s, sds_len(s)); }

static void emit_begin(emit_ctx *e, int n) {
  e->pending = sds_cat_printf(sds_empty(), "*%d\r\n", n + 2);
  e->pending =
      sds_cat_printf(e->pending, "$%zu\r\n%s\r\n", strlen(e->cmd), e->cmd);
  e->pending = persist_cat_bulk(e->pending, e->key);
}

static void emit_item(emit_ctx *e, const char *p, size_t len) {
  if (e->items == 0) {
    int n = e->total < AOF_REWRITE_ITEMS_PER_CMD ? e->total
                                                 : AOF_REWRITE_ITEMS_PER_CMD;
    emit_begin(e, n);
    e->items = n;
  }
  e->pending = sds_cat_printf(e->pending, "$%zu\r\n", len);
  e->pending = sds_cat_len(e->pending, p, len);
  e->pending = sds_cat_len(e->pending, "\r\n", 2);
  e->items--;
  e->total--;
  if (e->items == 0) {
    e->ok = e->ok && rio_cat(e->r, e->pending);
    sds_free(e->pending);
    e->pending = NULL;
  }
}

static void emit_ll(emit_ctx *e, long long v) {
  char buf[32];
  int n = ll2string(buf, sizeof(buf), v);
  emit_item(e, buf, (size_t)n);
}

static void emit_set_member(void *pd, const char *ele, size_t len) {
  emit_item(pd, ele, len);
}

static int emit_hash_pair(void *pd, const char *f, size_t flen, const char *v,
                          size_t vlen) {
  emit_ctx *e = pd;
  /* Each pair counts as one item of 2 arguments: emit as two items of a
   * command sized in arguments. */
  emit_item(e, f, flen);
  emit_item(e, v, vlen);
  return e->ok;
}

static void emit_score(emit_ctx *e, double score) {
  char buf[MAX_D2STRING_CHARS];
  int n = d2string(buf, sizeof(buf), score);
  emit_item(e, buf, (size_t)n);
}

static int rewrite_object(rio *r, robj *key, robj *o) {
  emit_ctx e = {r, 1, key, NULL, 0, 0, NULL};
  switch (o->type) {
    case OBJ_STRING: {
      sds s = sds_cat_len(sds_empty(), "*3\r\n$3\r\nSET\r\n", 13);
      s = persist_cat_bulk(s, key);
      s = persist_cat_bulk(s, o);
      int ok = rio_cat(r, s);
      sds_free(s);
      return ok;
    }
    case OBJ_LIST: {
      e.cmd = "RPUSH";
      e.total = (int)list_type_length(o);
      quicklist_iter it;
      quicklist_entry ent;
      quicklist_iter_init(&it, o->ptr, QUICKLIST_ITER_FORWARD);
      while (quicklist_next(&it, &ent)) {
        if (ent.sval) {
          emit_item(&e, (const char *)ent.sval, ent.slen);
        } else {
          emit_ll(&e, ent.lval);
        }
      }
      return e.ok;
    }
    case OBJ_SET:
      e.cmd = "SADD";
      e.total = (int)set_type_size(o);
      set_type_foreach(o, emit_set_member, &e);
      return e.ok;
    case OBJ_ZSET: {
      e.cmd = "ZADD";
      /* Arguments come in (score, member) pairs: count arguments. */
      zset_compact_opened();
      if (o->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = o->ptr;
        e.total = (int)lp_length(lp);
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
          unsigned char *sp = lp_next(lp, p);
          uint32_t len;
          unsigned char buf[LP_INTBUF_SIZE];
          unsigned char *s = lp_get_string(p, &len, buf);
          emit_score(&e, zset_lp_score(sp));
          emit_item(&e, (const char *)s, len);
          p = sp;
        }
      } else {
        zset *zs = o->ptr;
        e.total = (int)(zs->zsl->length * 2);
        for (zskiplist_node *n = zs->zsl->header->level[0].forward; n;
             n = n->level[0].forward) {
          emit_score(&e, n->score);
          emit_item(&e, n->ele, sds_len(n->ele));
        }
      }
      return e.ok;
    }
    case OBJ_HASH:
      e.cmd = "HSET";
      e.total = (int)hash_type_length(o) * 2;
      hash_type_foreach(o, emit_hash_pair, &e);
      return e.ok;
    case OBJ_STREAM:
      return aof_rewrite_stream(r, key, o); /* rdb_stream.c */
    default:
      return 0;
  }
}

/* aof_rewrite_rio writes the dataset as commands (the base file when
 * aof-use-rdb-preamble is no). */
int aof_rewrite_rio(rio *r) {
  for (int j = 0; j < server.dbnum; j++) {
    redis_db *db = &server.db[j];
    if (dict_size(db->dict) == 0) {
      continue;
    }
    char num[24];
    int n = ll2string(num, sizeof(num), j);
    sds sel = sds_cat_printf(sds_empty(), "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n",
                             n, num);
    int ok = rio_cat(r, sel);
    sds_free(sel);
    if (!ok) {
      return 0;
    }
    dict_iterator it;
    dict_init_safe_iterator(&it, db->dict);
    dict_entry *de;
    while (ok && (de = dict_next(&it)) != NULL) {
      sds k = dict_get_key(de);
      robj keyobj = {.type = OBJ_STRING,
                     .encoding = OBJ_ENCODING_RAW,
                     .refcount = 1,
                     .ptr = k};
      ok = rewrite_object(r, &keyobj, dict_get_val(de));
      dict_entry *ee = dict_find(db->expires, k);
      if (ok && ee) {
        sds s = sds_cat_len(sds_empty(), "*3\r\n$9\r\nPEXPIREAT\r\n", 19);
        s = persist_cat_bulk(s, &keyobj);
        char buf[32];
        int bl = ll2string(buf, sizeof(buf), dict_get_signed_integer_val(ee));
        s = sds_cat_printf(s, "$%d\r\n%s\r\n", bl, buf);
        ok = rio_cat(r, s);
        sds_free(s);
      }
    }
    dict_reset_iterator(&it);
    if (!ok) {
      return 0;
    }
  }
  return rio_flush(r);
}
