/* rdb_stream.c: streams in the RDB format and in an AOF rewrite.
 *
 * Written as Redis 7.0 writes them (RDB_TYPE_STREAM_LISTPACKS_2): the node
 * count, each node's 16-byte big-endian master ID and listpack as they
 * are, the length, the last, first and maximal deleted IDs, the entries
 * added, then every group (sorted by name) with its last ID, its read
 * counter, its PEL (raw ID, delivery time, delivery count) and its
 * consumers (name, seen time, the IDs of their PEL). Types 15 (Redis 5
 * and 6: no first ID, tombstone or counters) and 21 (Redis 7.2: consumers
 * also have an active time) load too.
 *
 * A file or a RESTORE payload is untrusted: every node is validated in
 * depth (stream_validate_listpack), nodes must come in ID order without
 * overlapping, the length must be the number of live entries, the last ID
 * must not be below any entry, and every pending entry must belong to
 * exactly one consumer. Redis checks less (some only with
 * sanitize-dump-payload); what it accepts and we refuse is data Redis
 * itself never writes. */
#include <string.h>

#include "server/base/zmalloc.h"
#include "server/persist/rdb.h"
#include "server/persist/rdb_internal.h"
#include "server/types/t_stream.h"

static const stream_id id_zero = {0, 0};

/* A stream ID as the 16 bytes of Redis's radix tree keys and PEL records:
 * ms then seq, each big-endian. */
static void encode_id(unsigned char buf[16], const stream_id *id) {
  for (int i = 0; i < 8; i++) {
    buf[i] = (unsigned char)(id->ms >> (56 - 8 * i));
    buf[8 + i] = (unsigned char)(id->seq >> (56 - 8 * i));
  }
}

static void decode_id(const unsigned char buf[16], stream_id *id) {
  id->ms = 0;
  id->seq = 0;
  for (int i = 0; i < 8; i++) {
    id->ms = (id->ms << 8) | buf[i];
    id->seq = (id->seq << 8) | buf[8 + i];
  }
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */
/* ------------------------------------------------------------------ */
static int save_id(rio *r, const stream_id *id) {
  return rdb_write_len(r, id->ms) && rdb_write_len(r, id->seq);
}

/* save_pel writes a PEL: its size, each raw ID, and with |nacks| the
 * delivery time and count. */
static int save_pel(rio *r, idtree *pel, int nacks) {
  if (!rdb_write_len(r, idtree_size(pel))) {
    return 0;
  }
  idtree_iter it;
  int ok = idtree_seek(&it, pel, IDTREE_FIRST, id_zero);
  while (ok) {
    unsigned char raw[16];
    stream_id id = idtree_iter_key(&it);
    encode_id(raw, &id);
    if (!rio_write(r, raw, sizeof(raw))) {
      return 0;
    }
    if (nacks) {
      stream_nack *nack = *idtree_iter_value(&it);
      if (!rdb_write_le64(r, (uint64_t)nack->delivery_time) ||
          !rdb_write_len(r, nack->delivery_count)) {
        return 0;
      }
    }
    ok = idtree_iter_next(&it);
  }
  return 1;
}

static int save_group(rio *r, stream_cg *cg) {
  if (!rdb_write_raw_string(r, cg->name, sds_len(cg->name)) ||
      !save_id(r, &cg->last_id) ||
      !rdb_write_len(r, (uint64_t)cg->entries_read) ||
      !save_pel(r, cg->pel, 1) || !rdb_write_len(r, cg->consumers.len)) {
    return 0;
  }
  for (size_t i = 0; i < cg->consumers.len; i++) {
    stream_consumer *consumer = cg->consumers.entries[i].value;
    if (!rdb_write_raw_string(r, consumer->name, sds_len(consumer->name)) ||
        !rdb_write_le64(r, (uint64_t)consumer->seen_time) ||
        !save_pel(r, consumer->pel, 0)) {
      return 0;
    }
  }
  return 1;
}

int rdb_save_stream(rio *r, robj *o) {
  stream *s = o->ptr;
  if (!rdb_write_len(r, idtree_size(s->index))) {
    return 0;
  }
  idtree_iter it;
  int ok = idtree_seek(&it, s->index, IDTREE_FIRST, id_zero);
  while (ok) {
    unsigned char key[16];
    stream_id master = idtree_iter_key(&it);
    unsigned char *lp = *idtree_iter_value(&it);
    encode_id(key, &master);
    if (!rdb_write_raw_string(r, key, sizeof(key)) ||
        !rdb_write_raw_string(r, lp, lp_bytes(lp))) {
      return 0;
    }
    ok = idtree_iter_next(&it);
  }
  size_t ngroups = s->groups ? s->groups->len : 0;
  if (!rdb_write_len(r, s->length) || !save_id(r, &s->last_id) ||
      !save_id(r, &s->first_id) || !save_id(r, &s->max_deleted_entry_id) ||
      !rdb_write_len(r, s->entries_added) || !rdb_write_len(r, ngroups)) {
    return 0;
  }
  for (size_t g = 0; g < ngroups; g++) {
    if (!save_group(r, s->groups->entries[g].value)) {
      return 0;
    }
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */
static int load_id(rdb_loader *l, stream_id *id) {
  return rdb_loader_len(l, &id->ms) && rdb_loader_len(l, &id->seq);
}

/* load_nodes reads the listpack nodes into s. *out_live gets the live
 * entries, *out_max the largest ID (tombstones included). */
static int load_nodes(rdb_loader *l, stream *s, uint64_t *out_live,
                      stream_id *out_max) {
  uint64_t nodes;
  if (!rdb_loader_len(l, &nodes)) {
    return 0;
  }
  uint64_t live_total = 0;
  stream_id prev_last = id_zero;
  int have_prev = 0;
  while (nodes--) {
    sds key = rdb_loader_string(l);
    if (key == NULL) {
      return 0;
    }
    if (sds_len(key) != 16) {
      sds_free(key);
      rdb_loader_fail(l,
                      "Stream node key entry is not the size of a stream ID");
      return 0;
    }
    stream_id master;
    decode_id((const unsigned char *)key, &master);
    sds_free(key);
    size_t size;
    unsigned char *lp = rdb_loader_blob(l, &size);
    if (lp == NULL) {
      return 0;
    }
    stream_id first, last;
    uint64_t live;
    if (!stream_validate_listpack(lp, size, &master, &first, &last, &live)) {
      zfree(lp);
      rdb_loader_fail(l, "Stream listpack integrity check failed.");
      return 0;
    }
    if (have_prev && stream_id_cmp(&master, &prev_last) <= 0) {
      zfree(lp);
      rdb_loader_fail(l, "Stream nodes out of order or overlapping");
      return 0;
    }
    if (!idtree_insert(s->index, master, lp)) {
      zfree(lp);
      rdb_loader_fail(l, "Listpack re-added with existing key");
      return 0;
    }
    live_total += live;
    prev_last = last;
    have_prev = 1;
  }
  *out_live = live_total;
  *out_max = prev_last;
  return 1;
}

/* load_group_pel reads a group's PEL (owners come with the consumers). */
static int load_group_pel(rdb_loader *l, stream_cg *cg) {
  uint64_t size;
  if (!rdb_loader_len(l, &size)) {
    return 0;
  }
  while (size--) {
    unsigned char raw[16];
    uint64_t when, count;
    if (!rdb_loader_bytes(l, raw, sizeof(raw)) || !rdb_loader_le64(l, &when) ||
        !rdb_loader_len(l, &count)) {
      return 0;
    }
    stream_id id;
    decode_id(raw, &id);
    stream_nack *nack = stream_create_nack(NULL);
    nack->delivery_time = (long long)when;
    nack->delivery_count = count;
    if (!idtree_insert(cg->pel, id, nack)) {
      zfree(nack);
      rdb_loader_fail(l,
                      "Duplicated global PEL entry loading stream consumer "
                      "group");
      return 0;
    }
  }
  return 1;
}

static int load_consumers(rdb_loader *l, stream_cg *cg, int type) {
  uint64_t count;
  if (!rdb_loader_len(l, &count)) {
    return 0;
  }
  while (count--) {
    sds name = rdb_loader_string(l);
    if (name == NULL) {
      return 0;
    }
    stream_consumer *consumer = stream_create_consumer(
        cg, name, NULL, 0, SCC_NO_NOTIFY | SCC_NO_DIRTIFY);
    sds_free(name);
    if (consumer == NULL) {
      rdb_loader_fail(l, "Duplicate stream consumer detected.");
      return 0;
    }
    uint64_t seen, active, pel_size;
    if (!rdb_loader_le64(l, &seen) ||
        (type == RDB_TYPE_STREAM_LISTPACKS_3 && !rdb_loader_le64(l, &active)) ||
        !rdb_loader_len(l, &pel_size)) {
      return 0;
    }
    consumer->seen_time = (long long)seen;
    while (pel_size--) {
      unsigned char raw[16];
      if (!rdb_loader_bytes(l, raw, sizeof(raw))) {
        return 0;
      }
      stream_id id;
      decode_id(raw, &id);
      void **slot = idtree_find(cg->pel, id);
      if (slot == NULL) {
        rdb_loader_fail(l, "Consumer entry not found in group global PEL");
        return 0;
      }
      stream_nack *nack = *slot;
      /* An entry owned twice would leave a dangling reference. */
      if (nack->consumer != NULL || !idtree_insert(consumer->pel, id, nack)) {
        rdb_loader_fail(l,
                        "Duplicated consumer PEL entry loading a stream "
                        "consumer group");
        return 0;
      }
      nack->consumer = consumer;
    }
  }
  return 1;
}

static int load_groups(rdb_loader *l, stream *s, int type) {
  uint64_t count;
  if (!rdb_loader_len(l, &count)) {
    return 0;
  }
  while (count--) {
    sds name = rdb_loader_string(l);
    if (name == NULL) {
      return 0;
    }
    stream_id last_id;
    uint64_t entries_read;
    int ok = load_id(l, &last_id);
    if (ok && type != RDB_TYPE_STREAM_LISTPACKS) {
      ok = rdb_loader_len(l, &entries_read);
    } else if (ok) {
      entries_read =
          (uint64_t)stream_estimate_distance_from_first_ever_entry(s, &last_id);
    }
    if (!ok) {
      sds_free(name);
      return 0;
    }
    stream_cg *cg = stream_create_cg(s, name, sds_len(name), &last_id,
                                     (long long)entries_read);
    sds_free(name);
    if (cg == NULL) {
      rdb_loader_fail(l, "Duplicated consumer group name");
      return 0;
    }
    if (!load_group_pel(l, cg) || !load_consumers(l, cg, type)) {
      return 0;
    }
    idtree_iter it;
    ok = idtree_seek(&it, cg->pel, IDTREE_FIRST, id_zero);
    while (ok) {
      if (((stream_nack *)*idtree_iter_value(&it))->consumer == NULL) {
        rdb_loader_fail(l, "Stream CG PEL entry without consumer");
        return 0;
      }
      ok = idtree_iter_next(&it);
    }
  }
  return 1;
}

robj *rdb_load_stream(rdb_loader *l, int type) {
  robj *o = stream_create_object();
  stream *s = o->ptr;
  uint64_t live;
  stream_id max_id;
  if (!load_nodes(l, s, &live, &max_id) || !rdb_loader_len(l, &s->length) ||
      !load_id(l, &s->last_id)) {
    goto fail;
  }
  if (s->length != live) {
    rdb_loader_fail(l, "Stream length inconsistent with its entries");
    goto fail;
  }
  if (idtree_size(s->index) && stream_id_cmp(&s->last_id, &max_id) < 0) {
    rdb_loader_fail(l, "Stream last ID smaller than its entries");
    goto fail;
  }
  if (type != RDB_TYPE_STREAM_LISTPACKS) {
    if (!load_id(l, &s->first_id) || !load_id(l, &s->max_deleted_entry_id) ||
        !rdb_loader_len(l, &s->entries_added)) {
      goto fail;
    }
  } else {
    /* Redis 5/6: the counters start from the length. */
    s->max_deleted_entry_id = id_zero;
    s->entries_added = s->length;
    stream_get_edge_id(s, 1, 1, &s->first_id);
  }
  if (!load_groups(l, s, type)) {
    goto fail;
  }
  return o;
fail:
  rdb_loader_fail(l, "Stream object loading failed.");
  decr_ref_count(o);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* AOF rewrite                                                          */
/* ------------------------------------------------------------------ */
static sds cat_bulk_buf(sds s, const void *p, size_t len) {
  s = sds_cat_printf(s, "$%zu\r\n", len);
  s = sds_cat_len(s, p, len);
  return sds_cat_len(s, "\r\n", 2);
}

static sds cat_bulk_str(sds s, const char *p) {
  return cat_bulk_buf(s, p, strlen(p));
}

static sds cat_bulk_ll(sds s, long long v) {
  char buf[32];
  int n = ll2string(buf, sizeof(buf), v);
  return cat_bulk_buf(s, buf, (size_t)n);
}

static sds cat_bulk_id(sds s, const stream_id *id) {
  char buf[STREAM_ID_STR_LEN];
  int n = stream_id_format(buf, id);
  return cat_bulk_buf(s, buf, (size_t)n);
}

static sds cat_bulk_key(sds s, robj *key) {
  robj *d = get_decoded_object(key);
  s = cat_bulk_buf(s, d->ptr, sds_len(d->ptr));
  decr_ref_count(d);
  return s;
}

/* flush_cmd writes the command built in *s (when it grew past a few KB
 * or |force|) and empties it. */
static int flush_cmd(rio *r, sds *s, int force) {
  if (!force && sds_len(*s) < 16 * 1024) {
    return 1;
  }
  int ok = rio_write(r, *s, sds_len(*s));
  sds_clear(*s);
  return ok;
}

static int rewrite_entries(rio *r, robj *key, stream *s, sds *out) {
  stream_iter si;
  stream_id id;
  int64_t numfields;
  stream_iter_start(&si, s, NULL, NULL, 0);
  int ok = 1;
  while (ok && stream_iter_get_id(&si, &id, &numfields)) {
    *out = sds_cat_printf(*out, "*%lld\r\n", (long long)(3 + numfields * 2));
    *out = cat_bulk_str(*out, "XADD");
    *out = cat_bulk_key(*out, key);
    *out = cat_bulk_id(*out, &id);
    while (numfields--) {
      unsigned char *field, *value;
      int64_t field_len, value_len;
      stream_iter_get_field(&si, &field, &value, &field_len, &value_len);
      *out = cat_bulk_buf(*out, field, (size_t)field_len);
      *out = cat_bulk_buf(*out, value, (size_t)value_len);
    }
    ok = flush_cmd(r, out, 0);
  }
  stream_iter_stop(&si);
  return ok;
}

static int rewrite_groups(rio *r, robj *key, stream *s, sds *out) {
  size_t ngroups = s->groups ? s->groups->len : 0;
  for (size_t g = 0; g < ngroups; g++) {
    stream_cg *cg = s->groups->entries[g].value;
    *out = sds_cat_len(*out, "*7\r\n", 4);
    *out = cat_bulk_str(*out, "XGROUP");
    *out = cat_bulk_str(*out, "CREATE");
    *out = cat_bulk_key(*out, key);
    *out = cat_bulk_buf(*out, cg->name, sds_len(cg->name));
    *out = cat_bulk_id(*out, &cg->last_id);
    *out = cat_bulk_str(*out, "ENTRIESREAD");
    *out = cat_bulk_ll(*out, cg->entries_read);
    for (size_t i = 0; i < cg->consumers.len; i++) {
      stream_consumer *consumer = cg->consumers.entries[i].value;
      if (idtree_size(consumer->pel) == 0) {
        *out = sds_cat_len(*out, "*5\r\n", 4);
        *out = cat_bulk_str(*out, "XGROUP");
        *out = cat_bulk_str(*out, "CREATECONSUMER");
        *out = cat_bulk_key(*out, key);
        *out = cat_bulk_buf(*out, cg->name, sds_len(cg->name));
        *out = cat_bulk_buf(*out, consumer->name, sds_len(consumer->name));
        continue;
      }
      idtree_iter it;
      int ok = idtree_seek(&it, consumer->pel, IDTREE_FIRST, id_zero);
      while (ok) {
        stream_id id = idtree_iter_key(&it);
        stream_nack *nack = *idtree_iter_value(&it);
        *out = sds_cat_len(*out, "*12\r\n", 5);
        *out = cat_bulk_str(*out, "XCLAIM");
        *out = cat_bulk_key(*out, key);
        *out = cat_bulk_buf(*out, cg->name, sds_len(cg->name));
        *out = cat_bulk_buf(*out, consumer->name, sds_len(consumer->name));
        *out = cat_bulk_str(*out, "0");
        *out = cat_bulk_id(*out, &id);
        *out = cat_bulk_str(*out, "TIME");
        *out = cat_bulk_ll(*out, nack->delivery_time);
        *out = cat_bulk_str(*out, "RETRYCOUNT");
        *out = cat_bulk_ll(*out, (long long)nack->delivery_count);
        *out = cat_bulk_str(*out, "JUSTID");
        *out = cat_bulk_str(*out, "FORCE");
        if (!flush_cmd(r, out, 0)) {
          return 0;
        }
        ok = idtree_iter_next(&it);
      }
    }
    if (!flush_cmd(r, out, 0)) {
      return 0;
    }
  }
  return 1;
}

int aof_rewrite_stream(rio *r, robj *key, robj *o) {
  stream *s = o->ptr;
  sds out = sds_empty();
  int ok;
  if (s->length) {
    ok = rewrite_entries(r, key, s, &out);
  } else {
    /* An empty stream: XADD MAXLEN 0 creates it empty. */
    stream_id one = {0, 1};
    out = sds_cat_len(out, "*7\r\n", 4);
    out = cat_bulk_str(out, "XADD");
    out = cat_bulk_key(out, key);
    out = cat_bulk_str(out, "MAXLEN");
    out = cat_bulk_str(out, "0");
    out = cat_bulk_id(out, &one);
    out = cat_bulk_str(out, "x");
    out = cat_bulk_str(out, "y");
    ok = 1;
  }
  if (ok) {
    /* The last ID and counters, which the XADDs alone do not restore. */
    out = sds_cat_len(out, "*7\r\n", 4);
    out = cat_bulk_str(out, "XSETID");
    out = cat_bulk_key(out, key);
    out = cat_bulk_id(out, &s->last_id);
    out = cat_bulk_str(out, "ENTRIESADDED");
    out = cat_bulk_ll(out, (long long)s->entries_added);
    out = cat_bulk_str(out, "MAXDELETEDID");
    out = cat_bulk_id(out, &s->max_deleted_entry_id);
    ok = rewrite_groups(r, key, s, &out) && flush_cmd(r, &out, 1);
  }
  sds_free(out);
  return ok;
}
