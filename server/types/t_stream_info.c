/* t_stream_info.c: XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO
 * CONSUMERS and XINFO HELP, with Redis 7.0's reply shapes. */
#include <string.h>
#include <strings.h>

#include "server/types/t_stream.h"

static const stream_id id_zero = {0, 0};

/* reply_pel_full: the first |count| (0: all) pending entries of a PEL as
 * XINFO STREAM FULL shows them, with or without the owner's name. */
static void reply_pel_full(client *c, idtree *pel, long long count,
                           int with_owner) {
  long len = 0;
  void *len_ptr = add_reply_deferred_len(c);
  idtree_iter it;
  int ok = idtree_seek(&it, pel, IDTREE_FIRST, id_zero);
  while (ok && (!count || len < count)) {
    stream_nack *nack = *idtree_iter_value(&it);
    stream_id id = idtree_iter_key(&it);
    add_reply_array_len(c, with_owner ? 4 : 3);
    add_reply_stream_id(c, &id);
    if (with_owner) {
      server_assert(nack->consumer != NULL);
      add_reply_bulk_cbuffer(c, nack->consumer->name,
                             sds_len(nack->consumer->name));
    }
    add_reply_long_long(c, nack->delivery_time);
    add_reply_long_long(c, (long long)nack->delivery_count);
    len++;
    ok = idtree_iter_next(&it);
  }
  set_deferred_array_len(c, len_ptr, len);
}

static void reply_entries_read(client *c, stream_cg *cg) {
  if (cg->entries_read != SCG_INVALID_ENTRIES_READ) {
    add_reply_long_long(c, cg->entries_read);
  } else {
    add_reply_null(c);
  }
}

static void reply_groups_full(client *c, stream *s, long long count) {
  if (s->groups == NULL) {
    add_reply_array_len(c, 0);
    return;
  }
  add_reply_array_len(c, (long)s->groups->len);
  for (size_t g = 0; g < s->groups->len; g++) {
    stream_cg *cg = s->groups->entries[g].value;
    add_reply_map_len(c, 7);
    add_reply_bulk_cstring(c, "name");
    add_reply_bulk_cbuffer(c, cg->name, sds_len(cg->name));
    add_reply_bulk_cstring(c, "last-delivered-id");
    add_reply_stream_id(c, &cg->last_id);
    add_reply_bulk_cstring(c, "entries-read");
    reply_entries_read(c, cg);
    add_reply_bulk_cstring(c, "lag");
    stream_reply_with_cg_lag(c, s, cg);
    add_reply_bulk_cstring(c, "pel-count");
    add_reply_long_long(c, (long long)idtree_size(cg->pel));
    add_reply_bulk_cstring(c, "pending");
    reply_pel_full(c, cg->pel, count, 1);
    add_reply_bulk_cstring(c, "consumers");
    add_reply_array_len(c, (long)cg->consumers.len);
    for (size_t i = 0; i < cg->consumers.len; i++) {
      stream_consumer *consumer = cg->consumers.entries[i].value;
      add_reply_map_len(c, 4);
      add_reply_bulk_cstring(c, "name");
      add_reply_bulk_cbuffer(c, consumer->name, sds_len(consumer->name));
      add_reply_bulk_cstring(c, "seen-time");
      add_reply_long_long(c, consumer->seen_time);
      add_reply_bulk_cstring(c, "pel-count");
      add_reply_long_long(c, (long long)idtree_size(consumer->pel));
      add_reply_bulk_cstring(c, "pending");
      reply_pel_full(c, consumer->pel, count, 0);
    }
  }
}

static void xinfo_stream(client *c, stream *s) {
  int full = 1;
  long long count = 10;
  robj **optv = c->argv + 3;
  int optc = c->argc - 3;
  if (optc == 0) {
    full = 0;
  } else {
    if ((optc != 1 && optc != 3) || strcasecmp(optv[0]->ptr, "full")) {
      add_reply_subcommand_syntax_error(c);
      return;
    }
    if (optc == 3) {
      if (strcasecmp(optv[1]->ptr, "count")) {
        add_reply_subcommand_syntax_error(c);
        return;
      }
      if (get_long_long_from_object_or_reply(c, optv[2], &count, NULL) ==
          C_ERR) {
        return;
      }
      if (count < 0) {
        count = 10;
      }
    }
  }
  add_reply_map_len(c, full ? 9 : 10);
  add_reply_bulk_cstring(c, "length");
  add_reply_long_long(c, (long long)s->length);
  add_reply_bulk_cstring(c, "radix-tree-keys");
  add_reply_long_long(c, (long long)idtree_size(s->index));
  add_reply_bulk_cstring(c, "radix-tree-nodes");
  add_reply_long_long(c, stream_index_node_count(s));
  add_reply_bulk_cstring(c, "last-generated-id");
  add_reply_stream_id(c, &s->last_id);
  add_reply_bulk_cstring(c, "max-deleted-entry-id");
  add_reply_stream_id(c, &s->max_deleted_entry_id);
  add_reply_bulk_cstring(c, "entries-added");
  add_reply_long_long(c, (long long)s->entries_added);
  add_reply_bulk_cstring(c, "recorded-first-entry-id");
  add_reply_stream_id(c, &s->first_id);
  if (!full) {
    add_reply_bulk_cstring(c, "groups");
    add_reply_long_long(c, s->groups ? (long long)s->groups->len : 0);
    stream_id start = {0, 0}, end = {UINT64_MAX, UINT64_MAX};
    add_reply_bulk_cstring(c, "first-entry");
    if (!stream_reply_with_range(c, s, &start, &end, 1, 0, NULL, NULL,
                                 STREAM_RWR_RAWENTRIES, NULL)) {
      add_reply_null(c);
    }
    add_reply_bulk_cstring(c, "last-entry");
    if (!stream_reply_with_range(c, s, &start, &end, 1, 1, NULL, NULL,
                                 STREAM_RWR_RAWENTRIES, NULL)) {
      add_reply_null(c);
    }
    return;
  }
  add_reply_bulk_cstring(c, "entries");
  stream_reply_with_range(c, s, NULL, NULL, (size_t)count, 0, NULL, NULL, 0,
                          NULL);
  add_reply_bulk_cstring(c, "groups");
  reply_groups_full(c, s, count);
}

static void xinfo_consumers(client *c, stream *s, robj *key) {
  stream_cg *cg = stream_lookup_cg(s, c->argv[3]->ptr);
  if (cg == NULL) {
    add_reply_error_format(c,
                           "-NOGROUP No such consumer group '%s' for key "
                           "name '%s'",
                           (char *)c->argv[3]->ptr, (char *)key->ptr);
    return;
  }
  add_reply_array_len(c, (long)cg->consumers.len);
  long long now = mstime();
  for (size_t i = 0; i < cg->consumers.len; i++) {
    stream_consumer *consumer = cg->consumers.entries[i].value;
    long long idle = stream_ms_diff(now, consumer->seen_time);
    add_reply_map_len(c, 3);
    add_reply_bulk_cstring(c, "name");
    add_reply_bulk_cbuffer(c, consumer->name, sds_len(consumer->name));
    add_reply_bulk_cstring(c, "pending");
    add_reply_long_long(c, (long long)idtree_size(consumer->pel));
    add_reply_bulk_cstring(c, "idle");
    add_reply_long_long(c, idle < 0 ? 0 : idle);
  }
}

static void xinfo_groups(client *c, stream *s) {
  if (s->groups == NULL) {
    add_reply_array_len(c, 0);
    return;
  }
  add_reply_array_len(c, (long)s->groups->len);
  for (size_t g = 0; g < s->groups->len; g++) {
    stream_cg *cg = s->groups->entries[g].value;
    add_reply_map_len(c, 6);
    add_reply_bulk_cstring(c, "name");
    add_reply_bulk_cbuffer(c, cg->name, sds_len(cg->name));
    add_reply_bulk_cstring(c, "consumers");
    add_reply_long_long(c, (long long)cg->consumers.len);
    add_reply_bulk_cstring(c, "pending");
    add_reply_long_long(c, (long long)idtree_size(cg->pel));
    add_reply_bulk_cstring(c, "last-delivered-id");
    add_reply_stream_id(c, &cg->last_id);
    add_reply_bulk_cstring(c, "entries-read");
    reply_entries_read(c, cg);
    add_reply_bulk_cstring(c, "lag");
    stream_reply_with_cg_lag(c, s, cg);
  }
}

void xinfo_command(client *c) {
  if (!strcasecmp(c->argv[1]->ptr, "HELP")) {
    if (c->argc != 2) {
      add_reply_subcommand_syntax_error(c);
      return;
    }
    static const char *help[] = {"CONSUMERS <key> <groupname>",
                                 "    Show consumers of <groupname>.",
                                 "GROUPS <key>",
                                 "    Show the stream consumer groups.",
                                 "STREAM <key> [FULL [COUNT <count>]",
                                 "    Show information about the stream.",
                                 NULL};
    add_reply_help(c, help);
    return;
  }
  if (c->argc < 3) {
    add_reply_subcommand_syntax_error(c);
    return;
  }
  const char *opt = c->argv[1]->ptr;
  robj *key = c->argv[2];
  robj *o = lookup_key_read_or_reply(c, key, shared.nokeyerr);
  if (o == NULL || check_type(c, o, OBJ_STREAM)) {
    return;
  }
  stream *s = o->ptr;
  if (!strcasecmp(opt, "CONSUMERS") && c->argc == 4) {
    xinfo_consumers(c, s, key);
  } else if (!strcasecmp(opt, "GROUPS") && c->argc == 3) {
    xinfo_groups(c, s);
  } else if (!strcasecmp(opt, "STREAM")) {
    xinfo_stream(c, s);
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}
