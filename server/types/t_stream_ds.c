/* t_stream_ds.c: the stream encoding (see t_stream.h): IDs, appending,
 * iterating, deleting, trimming, validating nodes read from outside, and
 * the radix-tree node count XINFO reports. The format and the behaviour
 * (which node an entry goes to, what trimming removes) follow Redis 7.0's
 * t_stream.c so that nodes are byte-identical; the code is ours. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/zmalloc.h"
#include "server/types/t_stream.h"

/* Nodes start with room for this many bytes (at most
 * stream-node-max-bytes), so appends do not realloc every time. */
#define STREAM_LISTPACK_MAX_PRE_ALLOCATE 4096
/* A node never grows past this, whatever stream-node-max-bytes says. */
#define STREAM_LISTPACK_MAX_SIZE ((size_t)1 << 30)

static const stream_id stream_id_zero = {0, 0};
static const stream_id stream_id_max = {UINT64_MAX, UINT64_MAX};

/* The kept radix-tree node count (Introspection, below). */
static void trie_add_key(struct stream_trie_state *t, const stream_id *key);
static void trie_forget(stream *s);

/* ------------------------------------------------------------------ */
/* IDs                                                                  */
/* ------------------------------------------------------------------ */
int stream_id_incr(stream_id *id) {
  if (id->seq == UINT64_MAX) {
    if (id->ms == UINT64_MAX) {
      id->ms = id->seq = 0;
      return C_ERR;
    }
    id->ms++;
    id->seq = 0;
    return C_OK;
  }
  id->seq++;
  return C_OK;
}

int stream_id_decr(stream_id *id) {
  if (id->seq == 0) {
    if (id->ms == 0) {
      id->ms = id->seq = UINT64_MAX;
      return C_ERR;
    }
    id->ms--;
    id->seq = UINT64_MAX;
    return C_OK;
  }
  id->seq--;
  return C_OK;
}

int stream_id_format(char *out_buf, const stream_id *id) {
  int n = ull2string(out_buf, STREAM_ID_STR_LEN, id->ms);
  out_buf[n++] = '-';
  n += ull2string(out_buf + n, (size_t)(STREAM_ID_STR_LEN - n), id->seq);
  return n;
}

sds stream_id_to_sds(const stream_id *id) {
  char buf[STREAM_ID_STR_LEN];
  int n = stream_id_format(buf, id);
  return sds_new_len(buf, (size_t)n);
}

robj *stream_id_to_object(const stream_id *id) {
  return create_object(OBJ_STRING, stream_id_to_sds(id));
}

void add_reply_stream_id(client *c, const stream_id *id) {
  char buf[STREAM_ID_STR_LEN];
  int n = stream_id_format(buf, id);
  add_reply_bulk_cbuffer(c, buf, (size_t)n);
}

/* id_string2ull: Redis's string2ull, which (unlike the one in util.c)
 * lets strtoull accept what string2ll refused: leading zeros, a '+',
 * leading blanks. Stream IDs are parsed with it. */
static int id_string2ull(const char *s, unsigned long long *value) {
  long long ll;
  if (string2ll(s, strlen(s), &ll)) {
    if (ll < 0) {
      return 0;
    }
    *value = (unsigned long long)ll;
    return 1;
  }
  errno = 0;
  char *endptr = NULL;
  *value = strtoull(s, &endptr, 10);
  if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *endptr == '\0')) {
    return 0;
  }
  return 1;
}

/* object_cstring copies o's bytes into buf as a C string (Redis parses
 * IDs with C string functions: bytes after a NUL are ignored). Returns 0
 * when they do not fit. */
static int object_cstring(robj *o, char *buf, size_t cap) {
  if (sds_encoded_object(o)) {
    size_t len = sds_len(o->ptr);
    if (len > cap - 1) {
      return 0;
    }
    memcpy(buf, o->ptr, len);
    buf[len] = '\0';
    return 1;
  }
  ll2string(buf, cap, (long)o->ptr);
  return 1;
}

static int parse_id_cstring(char *buf, stream_id *out_id, uint64_t missing_seq,
                            int strict, int *out_seq_given) {
  if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') {
    return C_ERR;
  }
  if (out_seq_given != NULL) {
    *out_seq_given = 1;
  }
  if (buf[0] == '-' && buf[1] == '\0') {
    *out_id = stream_id_zero;
    return C_OK;
  }
  if (buf[0] == '+' && buf[1] == '\0') {
    *out_id = stream_id_max;
    return C_OK;
  }
  unsigned long long ms, seq;
  char *dash = strchr(buf, '-');
  if (dash != NULL) {
    *dash = '\0';
  }
  if (!id_string2ull(buf, &ms)) {
    return C_ERR;
  }
  if (dash != NULL) {
    if (out_seq_given != NULL && dash[1] == '*' && dash[2] == '\0') {
      seq = 0;
      *out_seq_given = 0;
    } else if (!id_string2ull(dash + 1, &seq)) {
      return C_ERR;
    }
  } else {
    seq = missing_seq;
  }
  out_id->ms = ms;
  out_id->seq = seq;
  return C_OK;
}

static void reply_invalid_id(client *c) {
  if (c != NULL) {
    add_reply_error(c,
                    "Invalid stream ID specified as stream command argument");
  }
}

int stream_parse_id(client *c, robj *o, stream_id *out_id, uint64_t missing_seq,
                    int strict, int *out_seq_given) {
  char buf[128];
  if (!object_cstring(o, buf, sizeof(buf)) ||
      parse_id_cstring(buf, out_id, missing_seq, strict, out_seq_given) !=
          C_OK) {
    reply_invalid_id(c);
    return C_ERR;
  }
  return C_OK;
}

int stream_parse_interval_id(client *c, robj *o, stream_id *out_id,
                             int *out_exclude, uint64_t missing_seq) {
  char buf[129];
  if (!object_cstring(o, buf, sizeof(buf))) {
    reply_invalid_id(c);
    return C_ERR;
  }
  size_t len = sds_encoded_object(o) ? sds_len(o->ptr) : strlen(buf);
  int exclude = len > 1 && buf[0] == '(';
  *out_exclude = exclude;
  if (exclude) {
    /* The bound without its "(" must itself fit Redis's 127 bytes. */
    if (len - 1 > 127 ||
        parse_id_cstring(buf + 1, out_id, missing_seq, 1, NULL) != C_OK) {
      reply_invalid_id(c);
      return C_ERR;
    }
    return C_OK;
  }
  if (len > 127 ||
      parse_id_cstring(buf, out_id, missing_seq, 0, NULL) != C_OK) {
    reply_invalid_id(c);
    return C_ERR;
  }
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Listpack helpers                                                     */
/* ------------------------------------------------------------------ */

/* lp_int reads an integer element of a node (validated on load, written
 * by us otherwise). */
static int64_t lp_int(unsigned char *p) {
  uint32_t slen;
  long long v = 0;
  unsigned char *s = lp_get_value(p, &slen, &v);
  if (s != NULL && !string2ll((const char *)s, slen, &v)) {
    server_panic("stream: non-integer where the node format has one");
  }
  return v;
}

/* lp_int_checked: lp_int for untrusted nodes; 0 if not an integer. */
static int lp_int_checked(unsigned char *p, int64_t *out) {
  uint32_t slen;
  long long v = 0;
  unsigned char *s = lp_get_value(p, &slen, &v);
  if (s != NULL && !string2ll((const char *)s, slen, &v)) {
    return 0;
  }
  *out = v;
  return 1;
}

/* object_bytes: the bytes of a string object (INT rendered into buf). */
static const unsigned char *object_bytes(robj *o, char *buf, size_t *len) {
  if (sds_encoded_object(o)) {
    *len = sds_len(o->ptr);
    return (const unsigned char *)o->ptr;
  }
  *len = (size_t)ll2string(buf, LONG_STR_SIZE, (long)o->ptr);
  return (const unsigned char *)buf;
}

/* lp_edge_id: the first or last entry's ID of a node (tombstones
 * included). Returns 0 when the node has no entry. */
static int lp_edge_id(unsigned char *lp, int first, const stream_id *master,
                      stream_id *out_edge) {
  unsigned char *p;
  if (first) {
    p = lp_first(lp);   /* count */
    p = lp_next(lp, p); /* deleted */
    p = lp_next(lp, p); /* num fields */
    int64_t fields = lp_int(p);
    p = lp_next(lp, p);
    for (int64_t i = 0; i < fields; i++) {
      p = lp_next(lp, p);
    }
    p = lp_next(lp, p); /* past the master terminator */
    if (p == NULL) {
      return 0;
    }
  } else {
    p = lp_last(lp);
    int64_t lp_count = lp_int(p);
    if (lp_count == 0) {
      return 0;
    }
    while (lp_count--) {
      p = lp_prev(lp, p);
    }
  }
  p = lp_next(lp, p); /* past the flags */
  stream_id id = *master;
  id.ms += (uint64_t)lp_int(p);
  p = lp_next(lp, p);
  id.seq += (uint64_t)lp_int(p);
  *out_edge = id;
  return 1;
}

/* ------------------------------------------------------------------ */
/* Creating, freeing, copying                                           */
/* ------------------------------------------------------------------ */
stream *stream_new(void) {
  stream *s = zcalloc(sizeof(*s));
  s->index = idtree_create();
  return s;
}

static void free_node_listpack(void *lp) { lp_free(lp); }

void stream_free(stream *s) {
  zfree(s->trie);
  idtree_release(s->index, free_node_listpack);
  if (s->groups != NULL) {
    for (size_t i = 0; i < s->groups->len; i++) {
      stream_free_cg(s->groups->entries[i].value);
    }
    stream_map_clear(s->groups);
    zfree(s->groups);
  }
  zfree(s);
}

robj *stream_create_object(void) {
  robj *o = create_object(OBJ_STREAM, stream_new());
  o->encoding = OBJ_ENCODING_STREAM;
  return o;
}

robj *stream_dup(robj *o) {
  stream *s = o->ptr;
  robj *copy = stream_create_object();
  stream *ns = copy->ptr;
  idtree_iter it;
  int ok = idtree_seek(&it, s->index, IDTREE_FIRST, stream_id_zero);
  while (ok) {
    unsigned char *lp = *idtree_iter_value(&it);
    size_t bytes = lp_bytes(lp);
    unsigned char *nlp = zmalloc(bytes);
    memcpy(nlp, lp, bytes);
    idtree_insert(ns->index, idtree_iter_key(&it), nlp);
    ok = idtree_iter_next(&it);
  }
  ns->length = s->length;
  ns->first_id = s->first_id;
  ns->last_id = s->last_id;
  ns->max_deleted_entry_id = s->max_deleted_entry_id;
  ns->entries_added = s->entries_added;
  if (s->groups == NULL) {
    return copy;
  }
  for (size_t g = 0; g < s->groups->len; g++) {
    stream_cg *cg = s->groups->entries[g].value;
    stream_cg *ncg = stream_create_cg(ns, cg->name, sds_len(cg->name),
                                      &cg->last_id, cg->entries_read);
    ok = idtree_seek(&it, cg->pel, IDTREE_FIRST, stream_id_zero);
    while (ok) {
      stream_nack *nack = *idtree_iter_value(&it);
      stream_nack *nn = stream_create_nack(NULL);
      nn->delivery_time = nack->delivery_time;
      nn->delivery_count = nack->delivery_count;
      idtree_insert(ncg->pel, idtree_iter_key(&it), nn);
      ok = idtree_iter_next(&it);
    }
    for (size_t i = 0; i < cg->consumers.len; i++) {
      stream_consumer *consumer = cg->consumers.entries[i].value;
      stream_consumer *nc = stream_create_consumer(
          ncg, consumer->name, NULL, 0, SCC_NO_NOTIFY | SCC_NO_DIRTIFY);
      nc->seen_time = consumer->seen_time;
      ok = idtree_seek(&it, consumer->pel, IDTREE_FIRST, stream_id_zero);
      while (ok) {
        stream_id id = idtree_iter_key(&it);
        void **slot = idtree_find(ncg->pel, id);
        server_assert(slot != NULL);
        stream_nack *nn = *slot;
        nn->consumer = nc;
        idtree_insert(nc->pel, id, nn);
        ok = idtree_iter_next(&it);
      }
    }
  }
  return copy;
}

/* ------------------------------------------------------------------ */
/* Appending                                                            */
/* ------------------------------------------------------------------ */
static void next_auto_id(const stream_id *last, stream_id *out) {
  uint64_t ms = (uint64_t)mstime();
  if (ms > last->ms) {
    out->ms = ms;
    out->seq = 0;
  } else {
    *out = *last;
    stream_id_incr(out);
  }
}

int stream_append(stream *s, robj **argv, int64_t numfields,
                  stream_id *out_added_id, const stream_id *use_id,
                  int seq_given) {
  stream_id id;
  if (use_id != NULL) {
    if (seq_given) {
      id = *use_id;
    } else if (s->last_id.ms == use_id->ms) {
      if (s->last_id.seq == UINT64_MAX) {
        /* Redis leaves errno as it was here (never EDOM), so XADD replies
         * "Elements are too large to be stored": the same reply. */
        errno = ERANGE;
        return C_ERR;
      }
      id = s->last_id;
      id.seq++;
    } else {
      id = *use_id;
    }
  } else {
    next_auto_id(&s->last_id, &id);
  }
  if (stream_id_cmp(&id, &s->last_id) <= 0) {
    errno = EDOM;
    return C_ERR;
  }

  size_t totelelen = 0;
  for (int64_t i = 0; i < numfields * 2; i++) {
    totelelen += string_object_len(argv[i]);
  }
  if (totelelen > STREAM_LISTPACK_MAX_SIZE) {
    errno = ERANGE;
    return C_ERR;
  }

  idtree_iter it;
  unsigned char *lp = NULL;
  stream_id master_id;
  if (idtree_seek(&it, s->index, IDTREE_LAST, stream_id_zero)) {
    lp = *idtree_iter_value(&it);
    master_id = idtree_iter_key(&it);
  }

  /* Is the tail node full? */
  if (lp != NULL) {
    size_t node_max_bytes = server.stream_node_max_bytes;
    if (node_max_bytes == 0 || node_max_bytes > STREAM_LISTPACK_MAX_SIZE) {
      node_max_bytes = STREAM_LISTPACK_MAX_SIZE;
    }
    int new_node = 0;
    if (lp_bytes(lp) + totelelen >= node_max_bytes) {
      new_node = 1;
    } else if (server.stream_node_max_entries) {
      unsigned char *p = lp_first(lp);
      int64_t count = lp_int(p) + lp_int(lp_next(lp, p));
      if (count >= server.stream_node_max_entries) {
        new_node = 1;
      }
    }
    if (new_node) {
      *idtree_iter_value(&it) = lp_shrink_to_fit(lp);
      lp = NULL;
    }
  }

  char buf[LONG_STR_SIZE];
  size_t len;
  const unsigned char *bytes;
  int flags = STREAM_ITEM_FLAG_NONE;
  void **slot;
  if (lp == NULL) {
    master_id = id;
    size_t prealloc = STREAM_LISTPACK_MAX_PRE_ALLOCATE;
    if (server.stream_node_max_bytes > 0 &&
        server.stream_node_max_bytes < prealloc) {
      prealloc = server.stream_node_max_bytes;
    }
    lp = lp_new(prealloc);
    lp = lp_append_integer(lp, 1); /* one live entry: this one */
    lp = lp_append_integer(lp, 0); /* none deleted */
    lp = lp_append_integer(lp, numfields);
    for (int64_t i = 0; i < numfields; i++) {
      bytes = object_bytes(argv[i * 2], buf, &len);
      lp = lp_append(lp, bytes, (uint32_t)len);
    }
    lp = lp_append_integer(lp, 0); /* master entry terminator */
    server_assert(idtree_insert(s->index, id, lp));
    slot = idtree_find(s->index, id);
    if (s->trie != NULL) {
      trie_add_key(s->trie, &id);
    }
    flags |= STREAM_ITEM_FLAG_SAMEFIELDS;
  } else {
    slot = idtree_iter_value(&it);
    unsigned char *p = lp_first(lp);
    int64_t count = lp_int(p);
    lp = lp_replace_integer(lp, &p, count + 1);
    p = lp_next(lp, p); /* deleted */
    p = lp_next(lp, p); /* master num fields */
    int64_t master_fields = lp_int(p);
    p = lp_next(lp, p);
    if (numfields == master_fields) {
      int64_t i;
      for (i = 0; i < master_fields; i++) {
        bytes = object_bytes(argv[i * 2], buf, &len);
        unsigned char ebuf[LP_INTBUF_SIZE];
        uint32_t elen;
        unsigned char *e = lp_get_string(p, &elen, ebuf);
        if (len != elen || memcmp(e, bytes, len) != 0) {
          break;
        }
        p = lp_next(lp, p);
      }
      if (i == master_fields) {
        flags |= STREAM_ITEM_FLAG_SAMEFIELDS;
      }
    }
  }

  lp = lp_append_integer(lp, flags);
  lp = lp_append_integer(lp, (long long)(id.ms - master_id.ms));
  lp = lp_append_integer(lp, (long long)(id.seq - master_id.seq));
  if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) {
    lp = lp_append_integer(lp, numfields);
  }
  for (int64_t i = 0; i < numfields; i++) {
    if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) {
      bytes = object_bytes(argv[i * 2], buf, &len);
      lp = lp_append(lp, bytes, (uint32_t)len);
    }
    bytes = object_bytes(argv[i * 2 + 1], buf, &len);
    lp = lp_append(lp, bytes, (uint32_t)len);
  }
  int64_t lp_count = numfields + 3;
  if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) {
    lp_count += numfields + 1;
  }
  lp = lp_append_integer(lp, lp_count);
  *slot = lp;

  s->length++;
  s->entries_added++;
  s->last_id = id;
  if (s->length == 1) {
    s->first_id = id;
  }
  if (out_added_id != NULL) {
    *out_added_id = id;
  }
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Iterating                                                            */
/* ------------------------------------------------------------------ */
void stream_iter_start(stream_iter *si, stream *s, const stream_id *start,
                       const stream_id *end, int rev) {
  si->start = start ? *start : stream_id_zero;
  si->end = end ? *end : stream_id_max;
  si->s = s;
  si->lp = NULL;
  si->lp_ele = NULL;
  si->rev = rev;
  si->skip_tombstones = 1;
  si->node_pending = 1;
  /* The first node that may hold an entry in range. Going forward that
   * is the last node starting at or before |start| (or the first node);
   * going backward the last one starting at or before |end| (none: no
   * entry can be <= end). */
  if (!rev) {
    if (!stream_id_is_zero(&si->start) &&
        idtree_seek(&si->node, s->index, IDTREE_LE, si->start)) {
      return;
    }
    idtree_seek(&si->node, s->index, IDTREE_FIRST, stream_id_zero);
  } else if (end != NULL) {
    idtree_seek(&si->node, s->index, IDTREE_LE, si->end);
  } else {
    idtree_seek(&si->node, s->index, IDTREE_LAST, stream_id_zero);
  }
}

static int iter_next_node(stream_iter *si) {
  if (si->node_pending) {
    si->node_pending = 0;
    return idtree_iter_valid(&si->node);
  }
  return si->rev ? idtree_iter_prev(&si->node) : idtree_iter_next(&si->node);
}

int stream_iter_get_id(stream_iter *si, stream_id *out_id,
                       int64_t *out_numfields) {
  for (;;) {
    if (si->lp == NULL || si->lp_ele == NULL) {
      if (!iter_next_node(si)) {
        return 0;
      }
      si->master_id = idtree_iter_key(&si->node);
      si->lp = *idtree_iter_value(&si->node);
      si->lp_ele = lp_first(si->lp);            /* count */
      si->lp_ele = lp_next(si->lp, si->lp_ele); /* deleted */
      si->lp_ele = lp_next(si->lp, si->lp_ele); /* num fields */
      si->master_fields_count = (uint64_t)lp_int(si->lp_ele);
      si->lp_ele = lp_next(si->lp, si->lp_ele); /* first field */
      si->master_fields_start = si->lp_ele;
      if (!si->rev) {
        for (uint64_t i = 0; i < si->master_fields_count; i++) {
          si->lp_ele = lp_next(si->lp, si->lp_ele);
        }
      } else {
        si->lp_ele = lp_last(si->lp);
      }
    } else if (si->rev) {
      /* Back over the entry emitted last, to the lp-count before it. */
      int64_t lp_count = lp_int(si->lp_ele);
      while (lp_count--) {
        si->lp_ele = lp_prev(si->lp, si->lp_ele);
      }
      si->lp_ele = lp_prev(si->lp, si->lp_ele);
    }

    for (;;) {
      if (!si->rev) {
        /* Past the previous lp-count (or the master terminator). */
        si->lp_ele = lp_next(si->lp, si->lp_ele);
        if (si->lp_ele == NULL) {
          break;
        }
      } else {
        int64_t lp_count = lp_int(si->lp_ele);
        if (lp_count == 0) { /* the master entry */
          si->lp = NULL;
          si->lp_ele = NULL;
          break;
        }
        while (lp_count--) {
          si->lp_ele = lp_prev(si->lp, si->lp_ele);
        }
      }
      si->lp_flags = si->lp_ele;
      int64_t flags = lp_int(si->lp_ele);
      si->lp_ele = lp_next(si->lp, si->lp_ele);
      stream_id id = si->master_id;
      int64_t numfields;
      id.ms += (uint64_t)lp_int(si->lp_ele);
      si->lp_ele = lp_next(si->lp, si->lp_ele);
      id.seq += (uint64_t)lp_int(si->lp_ele);
      si->lp_ele = lp_next(si->lp, si->lp_ele);
      if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
        numfields = (int64_t)si->master_fields_count;
      } else {
        numfields = lp_int(si->lp_ele);
        si->lp_ele = lp_next(si->lp, si->lp_ele);
      }
      int visible = !si->skip_tombstones || !(flags & STREAM_ITEM_FLAG_DELETED);
      if (!si->rev) {
        if (stream_id_cmp(&id, &si->start) >= 0 && visible) {
          if (stream_id_cmp(&id, &si->end) > 0) {
            return 0;
          }
          si->entry_flags = (int)flags;
          if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
            si->master_fields_ptr = si->master_fields_start;
          }
          *out_id = id;
          *out_numfields = numfields;
          return 1;
        }
      } else {
        if (stream_id_cmp(&id, &si->end) <= 0 && visible) {
          if (stream_id_cmp(&id, &si->start) < 0) {
            return 0;
          }
          si->entry_flags = (int)flags;
          if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
            si->master_fields_ptr = si->master_fields_start;
          }
          *out_id = id;
          *out_numfields = numfields;
          return 1;
        }
      }
      /* Not emitted: skip it forward, or back to the previous lp-count. */
      if (!si->rev) {
        int64_t skip =
            (flags & STREAM_ITEM_FLAG_SAMEFIELDS) ? numfields : numfields * 2;
        for (int64_t i = 0; i < skip; i++) {
          si->lp_ele = lp_next(si->lp, si->lp_ele);
        }
      } else {
        int64_t back = 4; /* flags, ms, seq, and the previous lp-count */
        if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) {
          back++;
        }
        while (back--) {
          si->lp_ele = lp_prev(si->lp, si->lp_ele);
        }
      }
    }
  }
}

void stream_iter_get_field(stream_iter *si, unsigned char **out_field,
                           unsigned char **out_value, int64_t *out_field_len,
                           int64_t *out_value_len) {
  uint32_t len;
  if (si->entry_flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
    *out_field = lp_get_string(si->master_fields_ptr, &len, si->field_buf);
    si->master_fields_ptr = lp_next(si->lp, si->master_fields_ptr);
  } else {
    *out_field = lp_get_string(si->lp_ele, &len, si->field_buf);
    si->lp_ele = lp_next(si->lp, si->lp_ele);
  }
  *out_field_len = len;
  *out_value = lp_get_string(si->lp_ele, &len, si->value_buf);
  *out_value_len = len;
  si->lp_ele = lp_next(si->lp, si->lp_ele);
}

void stream_iter_remove_entry(stream_iter *si, const stream_id *current) {
  unsigned char *lp = si->lp;
  int64_t flags = lp_int(si->lp_flags) | STREAM_ITEM_FLAG_DELETED;
  lp = lp_replace_integer(lp, &si->lp_flags, flags);
  unsigned char *p = lp_first(lp);
  int64_t live = lp_int(p);
  if (live == 1) {
    /* Its last live entry: the whole node goes. */
    lp_free(lp);
    idtree_remove(si->s->index, idtree_iter_key(&si->node), NULL);
    trie_forget(si->s);
  } else {
    lp = lp_replace_integer(lp, &p, live - 1);
    p = lp_next(lp, p);
    int64_t deleted = lp_int(p);
    lp = lp_replace_integer(lp, &p, deleted + 1);
    *idtree_iter_value(&si->node) = lp;
  }
  si->s->length--;
  /* Start again after (or before) the removed entry. */
  stream_id start = si->rev ? si->start : *current;
  stream_id end = si->rev ? *current : si->end;
  stream_iter_start(si, si->s, &start, &end, si->rev);
}

void stream_iter_stop(stream_iter *si) { (void)si; }

int stream_entry_exists(stream *s, const stream_id *id) {
  stream_iter si;
  stream_iter_start(&si, s, id, id, 0);
  stream_id found;
  int64_t numfields;
  int exists = stream_iter_get_id(&si, &found, &numfields);
  stream_iter_stop(&si);
  return exists;
}

int stream_delete_item(stream *s, const stream_id *id) {
  stream_iter si;
  stream_iter_start(&si, s, id, id, 0);
  stream_id found;
  int64_t numfields;
  int deleted = 0;
  if (stream_iter_get_id(&si, &found, &numfields)) {
    stream_iter_remove_entry(&si, &found);
    deleted = 1;
  }
  stream_iter_stop(&si);
  return deleted;
}

void stream_get_edge_id(stream *s, int first, int skip_tombstones,
                        stream_id *out_edge_id) {
  stream_iter si;
  int64_t numfields;
  stream_iter_start(&si, s, NULL, NULL, !first);
  si.skip_tombstones = skip_tombstones;
  if (!stream_iter_get_id(&si, out_edge_id, &numfields)) {
    *out_edge_id = first ? stream_id_max : stream_id_zero;
  }
  stream_iter_stop(&si);
}

void stream_last_valid_id(stream *s, stream_id *out_maxid) {
  stream_iter si;
  int64_t numfields;
  stream_iter_start(&si, s, NULL, NULL, 1);
  if (!stream_iter_get_id(&si, out_maxid, &numfields) && s->length) {
    server_panic("Corrupt stream, length is %llu, but no max id",
                 (unsigned long long)s->length);
  }
  stream_iter_stop(&si);
}

/* ------------------------------------------------------------------ */
/* Trimming                                                             */
/* ------------------------------------------------------------------ */
int64_t stream_trim(stream *s, const stream_trim_args *args) {
  if (args->strategy == TRIM_STRATEGY_NONE) {
    return 0;
  }
  int64_t deleted = 0;
  idtree_iter it;
  while (idtree_seek(&it, s->index, IDTREE_FIRST, stream_id_zero)) {
    if (args->strategy == TRIM_STRATEGY_MAXLEN &&
        s->length <= (uint64_t)args->maxlen) {
      break;
    }
    unsigned char *lp = *idtree_iter_value(&it);
    stream_id master_id = idtree_iter_key(&it);
    unsigned char *p = lp_first(lp);
    int64_t entries = lp_int(p);
    if (args->limit && deleted + entries > args->limit) {
      break;
    }
    int remove_node;
    if (args->strategy == TRIM_STRATEGY_MAXLEN) {
      remove_node = s->length - (uint64_t)entries >= (uint64_t)args->maxlen;
    } else {
      stream_id last_id = master_id;
      lp_edge_id(lp, 0, &master_id, &last_id);
      remove_node = stream_id_cmp(&last_id, &args->minid) < 0;
    }
    if (remove_node) {
      lp_free(lp);
      idtree_remove(s->index, master_id, NULL);
      trie_forget(s);
      s->length -= (uint64_t)entries;
      deleted += entries;
      continue;
    }
    if (args->approx) {
      break;
    }
    /* Flag entries deleted inside this node. */
    int64_t deleted_from_lp = 0;
    p = lp_next(lp, p); /* deleted */
    p = lp_next(lp, p); /* master num fields */
    int64_t master_fields = lp_int(p);
    p = lp_next(lp, p);
    for (int64_t j = 0; j < master_fields; j++) {
      p = lp_next(lp, p);
    }
    p = lp_next(lp, p); /* past the master terminator */
    while (p != NULL) {
      unsigned char *flags_at = p;
      int64_t flags = lp_int(p);
      p = lp_next(lp, p);
      int64_t ms_delta = lp_int(p);
      p = lp_next(lp, p);
      int64_t seq_delta = lp_int(p);
      p = lp_next(lp, p);
      int stop;
      if (args->strategy == TRIM_STRATEGY_MAXLEN) {
        stop = s->length <= (uint64_t)args->maxlen;
      } else {
        stream_id cur = {master_id.ms + (uint64_t)ms_delta,
                         master_id.seq + (uint64_t)seq_delta};
        stop = stream_id_cmp(&cur, &args->minid) >= 0;
      }
      if (stop) {
        break;
      }
      int64_t to_skip;
      if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
        to_skip = master_fields;
      } else {
        to_skip = lp_int(p) * 2;
        p = lp_next(lp, p);
      }
      while (to_skip--) {
        p = lp_next(lp, p);
      }
      p = lp_next(lp, p); /* past the lp-count */
      if (!(flags & STREAM_ITEM_FLAG_DELETED)) {
        ptrdiff_t delta = p ? p - lp : -1;
        lp =
            lp_replace_integer(lp, &flags_at, flags | STREAM_ITEM_FLAG_DELETED);
        deleted_from_lp++;
        s->length--;
        p = delta >= 0 ? lp + delta : NULL;
      }
    }
    deleted += deleted_from_lp;
    p = lp_first(lp);
    lp = lp_replace_integer(lp, &p, entries - deleted_from_lp);
    p = lp_next(lp, p);
    int64_t marked = lp_int(p);
    lp = lp_replace_integer(lp, &p, marked + deleted_from_lp);
    *idtree_iter_value(&it) = lp;
    break;
  }
  if (s->length == 0) {
    s->first_id = stream_id_zero;
  } else if (deleted) {
    stream_get_edge_id(s, 1, 1, &s->first_id);
  }
  return deleted;
}

/* ------------------------------------------------------------------ */
/* Validation of nodes from outside                                     */
/* ------------------------------------------------------------------ */

/* skip_elements moves p past n elements; 0 if the listpack ends first
 * (p may then be NULL only if exactly n elements were left). */
static int skip_elements(unsigned char *lp, unsigned char **p, uint64_t n) {
  while (n--) {
    if (*p == NULL) {
      return 0;
    }
    *p = lp_next(lp, *p);
  }
  return 1;
}

int stream_validate_listpack(unsigned char *lp, size_t size,
                             const stream_id *master, stream_id *out_first,
                             stream_id *out_last, uint64_t *out_live) {
  if (!lp_validate(lp, size)) {
    return 0;
  }
  uint64_t elements = lp_length(lp);
  unsigned char *p = lp_first(lp);
  int64_t live, deleted, master_fields, zero;
  if (p == NULL || !lp_int_checked(p, &live) || live < 0 ||
      (uint64_t)live > elements) {
    return 0;
  }
  p = lp_next(lp, p);
  if (p == NULL || !lp_int_checked(p, &deleted) || deleted < 0 ||
      (uint64_t)deleted > elements) {
    return 0;
  }
  p = lp_next(lp, p);
  if (p == NULL || !lp_int_checked(p, &master_fields) || master_fields < 0 ||
      (uint64_t)master_fields > elements) {
    return 0;
  }
  p = lp_next(lp, p);
  if (!skip_elements(lp, &p, (uint64_t)master_fields) || p == NULL ||
      !lp_int_checked(p, &zero) || zero != 0) {
    return 0;
  }
  p = lp_next(lp, p);
  uint64_t total = (uint64_t)live + (uint64_t)deleted;
  if (total == 0) {
    return 0; /* Redis never keeps a node without entries */
  }
  uint64_t seen_live = 0, seen_deleted = 0;
  stream_id prev = {0, 0};
  for (uint64_t e = 0; e < total; e++) {
    int64_t flags, ms_delta, seq_delta, fields = master_fields, lp_count;
    int64_t extra = 3;
    if (p == NULL || !lp_int_checked(p, &flags) ||
        (flags &
         ~(int64_t)(STREAM_ITEM_FLAG_DELETED | STREAM_ITEM_FLAG_SAMEFIELDS))) {
      return 0;
    }
    p = lp_next(lp, p);
    if (p == NULL || !lp_int_checked(p, &ms_delta)) {
      return 0;
    }
    p = lp_next(lp, p);
    if (p == NULL || !lp_int_checked(p, &seq_delta)) {
      return 0;
    }
    p = lp_next(lp, p);
    if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) {
      if (p == NULL || !lp_int_checked(p, &fields) || fields < 0 ||
          (uint64_t)fields > elements) {
        return 0;
      }
      p = lp_next(lp, p);
      if (!skip_elements(lp, &p, (uint64_t)fields)) { /* field names */
        return 0;
      }
      extra += fields + 1;
    }
    if (!skip_elements(lp, &p, (uint64_t)fields) || p == NULL ||
        !lp_int_checked(p, &lp_count) || lp_count != fields + extra) {
      return 0;
    }
    p = lp_next(lp, p);
    stream_id id = {master->ms + (uint64_t)ms_delta,
                    master->seq + (uint64_t)seq_delta};
    /* IDs grow through the node, from its master ID on. */
    if (e == 0 ? stream_id_cmp(&id, master) < 0
               : stream_id_cmp(&id, &prev) <= 0) {
      return 0;
    }
    if (e == 0) {
      *out_first = id;
    }
    prev = id;
    if (flags & STREAM_ITEM_FLAG_DELETED) {
      seen_deleted++;
    } else {
      seen_live++;
    }
  }
  if (p != NULL || seen_live != (uint64_t)live ||
      seen_deleted != (uint64_t)deleted) {
    return 0;
  }
  *out_last = prev;
  *out_live = seen_live;
  return 1;
}

/* ------------------------------------------------------------------ */
/* Introspection                                                        */
/* ------------------------------------------------------------------ */

/* key_lcp: how many leading bytes two IDs share, written big-endian as
 * the 16-byte keys of Redis's radix tree. */
static int key_lcp(const stream_id *a, const stream_id *b) {
  if (a->ms != b->ms) {
    return __builtin_clzll(a->ms ^ b->ms) / 8;
  }
  if (a->seq != b->seq) {
    return 8 + __builtin_clzll(a->seq ^ b->seq) / 8;
  }
  return 16;
}

/* A node of the compact trie of the keys, while it is built. */
typedef struct trie_frame {
  int depth;
  long long children;
  long long long_children; /* child edges longer than one byte */
} trie_frame;

/* The count is built by walking the keys in order with a stack of the
 * compact trie nodes on the path to the last key (its depth is at most 17:
 * the root, one node per byte, the leaf). Keys only ever come after the
 * last one (XADD), so the walk can be kept and resumed: each new node key
 * costs one step, and XINFO only unwinds a copy of the stack. Removing a
 * node key drops the state; the next XINFO walks all keys again. */
struct stream_trie_state {
  trie_frame stack[18];
  int top;
  long long nodes; /* of the nodes already closed, the root included */
  stream_id prev;
  int have_prev;
};

/* frame_nodes: the radix-tree nodes below a finished compact node other
 * than itself. Redis's tree keeps a branching node's children as one-byte
 * edges: a longer edge adds a compressed node before the child. A node
 * with a single child (only ever the root) compresses the whole edge. */
static long long frame_nodes(const trie_frame *f) {
  return f->children + (f->children >= 2 ? f->long_children : 0);
}

static void frame_add_child(trie_frame *f, int child_depth) {
  f->children++;
  if (child_depth - f->depth > 1) {
    f->long_children++;
  }
}

/* trie_unwind closes the nodes deeper than l (each becomes a child of the
 * node below it, created at depth l if there is none there). */
static void trie_unwind(struct stream_trie_state *t, int l) {
  while (t->stack[t->top].depth > l) {
    trie_frame done = t->stack[t->top--];
    t->nodes += frame_nodes(&done);
    if (t->stack[t->top].depth < l) {
      t->stack[++t->top] = (trie_frame){l, 0, 0};
    }
    frame_add_child(&t->stack[t->top], done.depth);
  }
}

/* trie_add_key adds a key greater than every key so far. */
static void trie_add_key(struct stream_trie_state *t, const stream_id *key) {
  if (t->have_prev) {
    trie_unwind(t, key_lcp(&t->prev, key));
  }
  t->stack[++t->top] = (trie_frame){16, 0, 0};
  t->prev = *key;
  t->have_prev = 1;
}

/* trie_forget drops the kept walk (a node key was removed). */
static void trie_forget(stream *s) {
  zfree(s->trie);
  s->trie = NULL;
}

long long stream_index_node_count(stream *s) {
  if (s->trie == NULL) {
    struct stream_trie_state *t = zcalloc(sizeof(*t));
    t->nodes = 1; /* the root */
    idtree_iter it;
    int ok = idtree_seek(&it, s->index, IDTREE_FIRST, stream_id_zero);
    while (ok) {
      stream_id key = idtree_iter_key(&it);
      trie_add_key(t, &key);
      ok = idtree_iter_next(&it);
    }
    s->trie = t;
  }
  struct stream_trie_state end = *s->trie;
  trie_unwind(&end, 0);
  return end.nodes + frame_nodes(&end.stack[0]);
}

size_t stream_compute_size(robj *o, size_t samples) {
  stream *s = o->ptr;
  size_t asize = sizeof(*o) + sizeof(*s) + idtree_memory(s->index);
  size_t nodes = idtree_size(s->index);
  size_t lpsize = 0, seen = 0;
  idtree_iter it;
  int ok = idtree_seek(&it, s->index, IDTREE_FIRST, stream_id_zero);
  while (ok && (samples == 0 || seen < samples)) {
    lpsize += zmalloc_size(*idtree_iter_value(&it));
    seen++;
    ok = idtree_iter_next(&it);
  }
  if (nodes <= seen) {
    asize += lpsize;
  } else {
    if (seen) {
      lpsize /= seen;
    }
    asize += lpsize * (nodes - 1);
    idtree_seek(&it, s->index, IDTREE_LAST, stream_id_zero);
    asize += zmalloc_size(*idtree_iter_value(&it));
  }
  if (s->groups != NULL) {
    for (size_t g = 0; g < s->groups->len; g++) {
      stream_cg *cg = s->groups->entries[g].value;
      asize += sizeof(*cg) + idtree_memory(cg->pel) +
               sizeof(stream_nack) * idtree_size(cg->pel);
      for (size_t i = 0; i < cg->consumers.len; i++) {
        stream_consumer *consumer = cg->consumers.entries[i].value;
        asize += sizeof(*consumer) + sds_len(consumer->name) +
                 idtree_memory(consumer->pel);
      }
    }
  }
  return asize;
}
