/* pubsub.c: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE families, PUBLISH,
 * SPUBLISH and PUBSUB introspection with Redis 7.0 replies. Server-wide
 * state is a file-static struct; per-client sets live in the client
 * (created lazily, released by networking.c). */
#include "server/cmds/pubsub.h"

#include "server/core/networking.h"

/* Per-kind description: the three subscription families share code. */
typedef struct pubsub_kind {
  const char *sub_name;   /* reply tag for subscribe */
  const char *unsub_name; /* reply tag for unsubscribe */
  const char *msg_name;   /* message tag */
} pubsub_kind;

static const pubsub_kind kind_channel = {"subscribe", "unsubscribe", "message"};
static const pubsub_kind kind_pattern = {"psubscribe", "punsubscribe",
                                         "pmessage"};
static const pubsub_kind kind_shard = {"ssubscribe", "sunsubscribe",
                                       "smessage"};

static struct {
  int initialized;
  dict *channels;       /* sds channel -> list of client* */
  dict *patterns;       /* sds pattern -> list of client* */
  dict *shard_channels; /* sds channel -> list of client* */
} pubsub;

static void pubsub_list_destructor(void *val) { list_release((list *)val); }

/* Server-wide: key is an sds, value a list of clients. */
static dict_type server_dict_type = {dict_sds_hash,
                                     NULL,
                                     NULL,
                                     dict_sds_key_compare,
                                     dict_sds_destructor,
                                     pubsub_list_destructor,
                                     NULL};
/* Per-client: a set of sds names (value unused). */
static dict_type client_dict_type = {
    dict_sds_hash,       NULL, NULL, dict_sds_key_compare,
    dict_sds_destructor, NULL, NULL};

static void pubsub_on_free(client *c);
static const client_module_hooks pubsub_hooks = {
    .on_free = pubsub_on_free,
};

static void pubsub_init(void) {
  if (pubsub.initialized) {
    return;
  }
  pubsub.initialized = 1;
  pubsub.channels = dict_create(&server_dict_type);
  pubsub.patterns = dict_create(&server_dict_type);
  pubsub.shard_channels = dict_create(&server_dict_type);
  client_register_hooks(&pubsub_hooks);
}

static dict **client_dict_slot(client *c, const pubsub_kind *k) {
  if (k == &kind_pattern) {
    return &c->pubsub_patterns;
  }
  if (k == &kind_shard) {
    return &c->pubsub_shard_channels;
  }
  return &c->pubsub_channels;
}

static dict *server_dict(const pubsub_kind *k) {
  if (k == &kind_pattern) {
    return pubsub.patterns;
  }
  if (k == &kind_shard) {
    return pubsub.shard_channels;
  }
  return pubsub.channels;
}

static long client_dict_count(dict *d) { return d ? (long)dict_size(d) : 0; }

/* The count in (un)subscribe replies: channels + patterns for the classic
 * families, shard channels for the sharded one (Redis 7.0). */
static long client_kind_count(client *c, const pubsub_kind *k) {
  if (k == &kind_shard) {
    return client_dict_count(c->pubsub_shard_channels);
  }
  return client_dict_count(c->pubsub_channels) +
         client_dict_count(c->pubsub_patterns);
}

static long client_total_count(client *c) {
  return client_dict_count(c->pubsub_channels) +
         client_dict_count(c->pubsub_patterns) +
         client_dict_count(c->pubsub_shard_channels);
}

static void update_pubsub_flag(client *c) {
  if (client_total_count(c) > 0) {
    c->flags |= CLIENT_PUBSUB;
  } else {
    c->flags &= ~CLIENT_PUBSUB;
  }
}

/* Subscription confirmations and messages reach the client even under
 * CLIENT REPLY OFF/SKIP, in RESP2 and RESP3 (Redis 7.0). */
static void reply_sub_event(client *c, const char *tag, const char *name,
                            size_t len, long count) {
  uint64_t saved = reply_push_begin(c);
  add_reply_push_len(c, 3);
  add_reply_bulk_cstring(c, tag);
  if (name) {
    add_reply_bulk_cbuffer(c, name, len);
  } else {
    add_reply_null(c);
  }
  add_reply_long_long(c, count);
  reply_push_end(c, saved);
}

/* Returns 1 if c newly subscribed. */
static int pubsub_subscribe(client *c, const pubsub_kind *k, robj *name) {
  pubsub_init();
  dict **slot = client_dict_slot(c, k);
  if (*slot == NULL) {
    *slot = dict_create(&client_dict_type);
  }
  sds s = sds_new_len(name->ptr, sds_len(name->ptr));
  int added = 0;
  if (dict_add(*slot, s, NULL) == DICT_OK) {
    added = 1;
    dict *sd = server_dict(k);
    list *clients = dict_fetch_value(sd, s);
    if (clients == NULL) {
      clients = list_create();
      dict_add(sd, sds_dup(s), clients);
    }
    list_add_node_tail(clients, c);
  } else {
    sds_free(s);
  }
  update_pubsub_flag(c);
  reply_sub_event(c, k->sub_name, name->ptr, sds_len(name->ptr),
                  client_kind_count(c, k));
  return added;
}

/* Removes |name| (an sds) from c's subscriptions of kind k. */
static int pubsub_unsubscribe(client *c, const pubsub_kind *k, sds name,
                              int notify) {
  dict *cd = *client_dict_slot(c, k);
  int removed = 0;
  /* Keep a copy: |name| may be the key about to be freed. */
  sds copy = sds_dup(name);
  if (cd && pubsub.initialized && dict_delete(cd, copy) == DICT_OK) {
    removed = 1;
    dict *sd = server_dict(k);
    list *clients = dict_fetch_value(sd, copy);
    if (clients) {
      list_node *ln = list_search_key(clients, c);
      if (ln) {
        list_del_node(clients, ln);
      }
      if (list_length(clients) == 0) {
        dict_delete(sd, copy);
      }
    }
  }
  update_pubsub_flag(c);
  if (notify) {
    reply_sub_event(c, k->unsub_name, copy, sds_len(copy),
                    client_kind_count(c, k));
  }
  sds_free(copy);
  return removed;
}

static void pubsub_unsubscribe_kind_all(client *c, const pubsub_kind *k,
                                        int notify) {
  dict *cd = *client_dict_slot(c, k);
  int count = 0;
  if (cd) {
    /* Budget: every pass removes one entry, so size bounds the loop. */
    unsigned long budget = dict_size(cd) + 1;
    while (dict_size(cd) > 0 && budget-- > 0) {
      dict_iterator *it = dict_get_safe_iterator(cd);
      dict_entry *de = dict_next(it);
      sds name = de ? sds_dup(dict_get_key(de)) : NULL;
      dict_release_iterator(it);
      if (name == NULL) {
        break;
      }
      pubsub_unsubscribe(c, k, name, notify);
      sds_free(name);
      count++;
    }
  }
  if (notify && count == 0) {
    reply_sub_event(c, k->unsub_name, NULL, 0, client_kind_count(c, k));
  }
}

void pubsub_unsubscribe_all(client *c, int notify) {
  pubsub_unsubscribe_kind_all(c, &kind_channel, notify);
  pubsub_unsubscribe_kind_all(c, &kind_pattern, notify);
  pubsub_unsubscribe_kind_all(c, &kind_shard, notify);
}

static void pubsub_on_free(client *c) {
  if (c->pubsub_channels || c->pubsub_patterns || c->pubsub_shard_channels) {
    pubsub_unsubscribe_all(c, 0);
  }
}

long pubsub_total_channels(void) {
  return pubsub.initialized ? (long)dict_size(pubsub.channels) : 0;
}
long pubsub_total_patterns(void) {
  return pubsub.initialized ? (long)dict_size(pubsub.patterns) : 0;
}
long pubsub_total_shard_channels(void) {
  return pubsub.initialized ? (long)dict_size(pubsub.shard_channels) : 0;
}

/* ------------------------------------------------------------------ */
/* Publishing                                                           */
/* ------------------------------------------------------------------ */
static void deliver(client *c, const char *tag, robj *pattern, robj *channel,
                    robj *message) {
  uint64_t saved = reply_push_begin(c);
  add_reply_push_len(c, pattern ? 4 : 3);
  add_reply_bulk_cstring(c, tag);
  if (pattern) {
    add_reply_bulk(c, pattern);
  }
  add_reply_bulk(c, channel);
  add_reply_bulk(c, message);
  reply_push_end(c, saved);
}

static robj *channel_sds_object(robj *o) {
  if (sds_encoded_object(o)) {
    incr_ref_count(o);
    return o;
  }
  return get_decoded_object(o);
}

int pubsub_publish_message(robj *channel, robj *message, int sharded) {
  if (!pubsub.initialized) {
    return 0;
  }
  int receivers = 0;
  robj *ch = channel_sds_object(channel);
  const pubsub_kind *k = sharded ? &kind_shard : &kind_channel;
  list *clients = dict_fetch_value(server_dict(k), ch->ptr);
  if (clients) {
    list_iter li;
    list_node *ln;
    list_rewind(clients, &li);
    while ((ln = list_next(&li)) != NULL) {
      deliver(list_node_value(ln), k->msg_name, NULL, ch, message);
      receivers++;
    }
  }
  if (!sharded && dict_size(pubsub.patterns) > 0) {
    dict_iterator *it = dict_get_iterator(pubsub.patterns);
    dict_entry *de;
    while ((de = dict_next(it)) != NULL) {
      sds pat = dict_get_key(de);
      if (!string_match_len(pat, (int)sds_len(pat), ch->ptr,
                            (int)sds_len(ch->ptr), 0)) {
        continue;
      }
      robj *pobj = create_string_object(pat, sds_len(pat));
      list_iter li;
      list_node *ln;
      list_rewind((list *)dict_get_val(de), &li);
      while ((ln = list_next(&li)) != NULL) {
        deliver(list_node_value(ln), "pmessage", pobj, ch, message);
        receivers++;
      }
      decr_ref_count(pobj);
    }
    dict_release_iterator(it);
  }
  decr_ref_count(ch);
  return receivers;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */
static void subscribe_generic(client *c, const pubsub_kind *k) {
  for (int j = 1; j < c->argc; j++) {
    robj *o = channel_sds_object(c->argv[j]);
    pubsub_subscribe(c, k, o);
    decr_ref_count(o);
  }
}

static void unsubscribe_generic(client *c, const pubsub_kind *k) {
  if (c->argc == 1) {
    pubsub_unsubscribe_kind_all(c, k, 1);
    return;
  }
  for (int j = 1; j < c->argc; j++) {
    robj *o = channel_sds_object(c->argv[j]);
    pubsub_unsubscribe(c, k, o->ptr, 1);
    decr_ref_count(o);
  }
}

static void subscribe_command(client *c) {
  subscribe_generic(c, &kind_channel);
}
static void psubscribe_command(client *c) {
  subscribe_generic(c, &kind_pattern);
}
static void ssubscribe_command(client *c) { subscribe_generic(c, &kind_shard); }
static void unsubscribe_command(client *c) {
  unsubscribe_generic(c, &kind_channel);
}
static void punsubscribe_command(client *c) {
  unsubscribe_generic(c, &kind_pattern);
}
static void sunsubscribe_command(client *c) {
  unsubscribe_generic(c, &kind_shard);
}

static void publish_command(client *c) {
  add_reply_long_long(c, pubsub_publish_message(c->argv[1], c->argv[2], 0));
}
static void spublish_command(client *c) {
  add_reply_long_long(c, pubsub_publish_message(c->argv[1], c->argv[2], 1));
}

int pubsub_reject_in_context(client *c) {
  if (!(c->flags & CLIENT_PUBSUB) || c->resp != 2 || c->cmd == NULL) {
    return 0;
  }
  redis_command_proc *p = c->cmd->proc;
  if (p == subscribe_command || p == psubscribe_command ||
      p == ssubscribe_command || p == unsubscribe_command ||
      p == punsubscribe_command || p == sunsubscribe_command) {
    return 0;
  }
  const char *n = c->cmd->fullname;
  if (!strcasecmp(n, "ping") || !strcasecmp(n, "quit") ||
      !strcasecmp(n, "reset")) {
    return 0;
  }
  c->cmd->rejected_calls++;
  add_reply_error_format(c,
                         "Can't execute '%s': only (P|S)SUBSCRIBE / "
                         "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
                         "in this context",
                         n);
  return 1;
}

/* PUBSUB CHANNELS / SHARDCHANNELS [pattern] */
static void pubsub_channels_reply(client *c, dict *d) {
  robj *pat = c->argc > 2 ? channel_sds_object(c->argv[2]) : NULL;
  void *node = add_reply_deferred_len(c);
  long n = 0;
  if (d) {
    dict_iterator *it = dict_get_iterator(d);
    dict_entry *de;
    while ((de = dict_next(it)) != NULL) {
      sds ch = dict_get_key(de);
      if (pat && !string_match_len(pat->ptr, (int)sds_len(pat->ptr), ch,
                                   (int)sds_len(ch), 0)) {
        continue;
      }
      add_reply_bulk_cbuffer(c, ch, sds_len(ch));
      n++;
    }
    dict_release_iterator(it);
  }
  set_deferred_array_len(c, node, n);
  if (pat) {
    decr_ref_count(pat);
  }
}

static void pubsub_numsub_reply(client *c, dict *d) {
  /* Redis 7.0 replies a flat array here even in RESP3. */
  add_reply_array_len(c, (long)(c->argc - 2) * 2);
  for (int j = 2; j < c->argc; j++) {
    robj *o = channel_sds_object(c->argv[j]);
    list *l = d ? dict_fetch_value(d, o->ptr) : NULL;
    add_reply_bulk(c, o);
    add_reply_long_long(c, l ? (long long)list_length(l) : 0);
    decr_ref_count(o);
  }
}

static void pubsub_channels_command(client *c) {
  pubsub_channels_reply(c, pubsub.channels);
}
static void pubsub_shardchannels_command(client *c) {
  pubsub_channels_reply(c, pubsub.shard_channels);
}
static void pubsub_numsub_command(client *c) {
  pubsub_numsub_reply(c, pubsub.channels);
}
static void pubsub_shardnumsub_command(client *c) {
  pubsub_numsub_reply(c, pubsub.shard_channels);
}
static void pubsub_numpat_command(client *c) {
  add_reply_long_long(c, pubsub_total_patterns());
}

static void pubsub_help_command(client *c) {
  static const char *help[] = {
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      NULL};
  add_reply_help(c, help);
}

#define PS_FLAGS (CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define PS_ACL (ACL_CATEGORY_PUBSUB | ACL_CATEGORY_SLOW)

static redis_command pubsub_subcommands[] = {
    {.declared_name = "channels",
     .summary = "List active channels",
     .since = "2.8.0",
     .group = "pubsub",
     .proc = pubsub_channels_command,
     .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE,
     .acl_categories = PS_ACL},
    {.declared_name = "help",
     .summary = "Show helpful text about the different subcommands",
     .since = "6.2.0",
     .group = "pubsub",
     .proc = pubsub_help_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SLOW},
    {.declared_name = "numpat",
     .summary = "Get the count of unique patterns pattern subscriptions",
     .since = "2.8.0",
     .group = "pubsub",
     .proc = pubsub_numpat_command,
     .arity = 2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE,
     .acl_categories = PS_ACL},
    {.declared_name = "numsub",
     .summary = "Get the count of subscribers for channels",
     .since = "2.8.0",
     .group = "pubsub",
     .proc = pubsub_numsub_command,
     .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE,
     .acl_categories = PS_ACL},
    {.declared_name = "shardchannels",
     .summary = "List active shard channels",
     .since = "7.0.0",
     .group = "pubsub",
     .proc = pubsub_shardchannels_command,
     .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE,
     .acl_categories = PS_ACL},
    {.declared_name = "shardnumsub",
     .summary = "Get the count of subscribers for shard channels",
     .since = "7.0.0",
     .group = "pubsub",
     .proc = pubsub_shardnumsub_command,
     .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE,
     .acl_categories = PS_ACL},
    {0}};

redis_command pubsub_commands[] = {
    {.declared_name = "subscribe",
     .summary = "Listen for messages published to the given channels",
     .since = "2.0.0",
     .group = "pubsub",
     .proc = subscribe_command,
     .arity = -2,
     .flags = PS_FLAGS,
     .acl_categories = PS_ACL},
    {.declared_name = "unsubscribe",
     .summary = "Stop listening for messages posted to the given channels",
     .since = "2.0.0",
     .group = "pubsub",
     .proc = unsubscribe_command,
     .arity = -1,
     .flags = PS_FLAGS,
     .acl_categories = PS_ACL},
    {.declared_name = "psubscribe",
     .summary = "Listen for messages published to channels matching the given "
                "patterns",
     .since = "2.0.0",
     .group = "pubsub",
     .proc = psubscribe_command,
     .arity = -2,
     .flags = PS_FLAGS,
     .acl_categories = PS_ACL},
    {.declared_name = "punsubscribe",
     .summary = "Stop listening for messages posted to channels matching the "
                "given patterns",
     .since = "2.0.0",
     .group = "pubsub",
     .proc = punsubscribe_command,
     .arity = -1,
     .flags = PS_FLAGS,
     .acl_categories = PS_ACL},
    {.declared_name = "ssubscribe",
     .summary = "Listen for messages published to the given shard channels",
     .since = "7.0.0",
     .group = "pubsub",
     .proc = ssubscribe_command,
     .arity = -2,
     .flags = PS_FLAGS,
     .acl_categories = PS_ACL,
     .firstkey = 1,
     .lastkey = -1,
     .keystep = 1},
    {.declared_name = "sunsubscribe",
     .summary = "Stop listening for messages posted to the given shard "
                "channels",
     .since = "7.0.0",
     .group = "pubsub",
     .proc = sunsubscribe_command,
     .arity = -1,
     .flags = PS_FLAGS,
     .acl_categories = PS_ACL,
     .firstkey = 1,
     .lastkey = -1,
     .keystep = 1},
    {.declared_name = "publish",
     .summary = "Post a message to a channel",
     .since = "2.0.0",
     .group = "pubsub",
     .proc = publish_command,
     .arity = 3,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl_categories = ACL_CATEGORY_PUBSUB | ACL_CATEGORY_FAST},
    {.declared_name = "spublish",
     .summary = "Post a message to a shard channel",
     .since = "7.0.0",
     .group = "pubsub",
     .proc = spublish_command,
     .arity = 3,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl_categories = ACL_CATEGORY_PUBSUB | ACL_CATEGORY_FAST,
     .firstkey = 1,
     .lastkey = 1,
     .keystep = 1},
    {.declared_name = "pubsub",
     .summary = "A container for Pub/Sub commands",
     .since = "2.8.0",
     .group = "pubsub",
     .arity = -2,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = pubsub_subcommands},
    {0}};

static const keyspace_hooks notify_keyspace_hooks = {
    .publish = pubsub_publish_message,
};

void pubsub_register(void) { keyspace_register_hooks(&notify_keyspace_hooks); }
