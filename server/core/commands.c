/* commands.c: the command table (built from the module tables at start-up),
 * command lookup with subcommands, key extraction, and the COMMAND command
 * with Redis 7.0's reply shapes.
 *
 * The module tables declare name, arity, flags, categories and legacy key
 * positions. What they do not declare (tips, key specs, complexity, history,
 * argument trees) comes from command_meta_data.c, generated from the
 * reference server, so COMMAND INFO / DOCS / GETKEYSANDFLAGS match it. */
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/command_meta.h"
#include "server/core/server.h"

/* Longest command name we try to look up; longer names cannot exist. */
#define COMMAND_NAME_MAX 128
/* Bound on the arguments COMMAND INFO / DOCS accept in one call (each is a
 * dictionary lookup; the request size is already bounded by the parser). */
#define COMMAND_NAMES_MAX PROTO_MAX_MULTIBULK_LEN

static redis_command command_subcommands[];

static int command_next_id = 0;

/* ------------------------------------------------------------------ */
/* Metadata lookup                                                      */
/* ------------------------------------------------------------------ */
const command_meta *command_meta_lookup(const char *fullname) {
  size_t lo = 0, hi = command_meta_table_len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcasecmp(fullname, command_meta_table[mid].fullname);
    if (cmp == 0) {
      return &command_meta_table[mid];
    }
    if (cmp < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return NULL;
}

/* template_read_number reads "<digits>\n" (optionally negative) at *p.
 * Returns 1 and advances, 0 on malformed data. */
static int template_read_number(const char **p, const char *end,
                                long long *out) {
  const char *s = *p;
  const char *nl = memchr(s, '\n', (size_t)(end - s));
  if (!nl || !string2ll(s, (size_t)(nl - s), out)) {
    return 0;
  }
  *p = nl + 1;
  return 1;
}

/* command_meta_render replays |count| template values from *p (see
 * command_meta.h). The templates are our own static data; the checks keep
 * a bad regeneration from reading out of bounds. Returns 1 on success. */
static int command_meta_render(client *c, const char **p, const char *end,
                               long count, int depth) {
  if (depth > 16) {
    return 0;
  }
  for (long j = 0; j < count; j++) {
    if (*p >= end) {
      return 0;
    }
    char type = **p;
    (*p)++;
    long long n;
    if (!template_read_number(p, end, &n)) {
      return 0;
    }
    if (n < 0 && type != ':') {
      return 0;
    }
    switch (type) {
      case '$':
      case '+':
        if (n > end - *p) {
          return 0;
        }
        if (type == '$') {
          add_reply_bulk_cbuffer(c, *p, (size_t)n);
        } else {
          add_reply_status_length(c, *p, (size_t)n);
        }
        *p += n;
        break;
      case ':':
        add_reply_long_long(c, n);
        break;
      case '*':
        add_reply_array_len(c, (long)n);
        if (!command_meta_render(c, p, end, (long)n, depth + 1)) {
          return 0;
        }
        break;
      case '~':
        add_reply_set_len(c, (long)n);
        if (!command_meta_render(c, p, end, (long)n, depth + 1)) {
          return 0;
        }
        break;
      case '%':
        add_reply_map_len(c, (long)n);
        if (!command_meta_render(c, p, end, (long)n * 2, depth + 1)) {
          return 0;
        }
        break;
      default:
        return 0;
    }
  }
  return 1;
}

static void render_template(client *c, const char *tpl, long count) {
  const char *p = tpl;
  const char *end = tpl + strlen(tpl);
  server_assert(command_meta_render(c, &p, end, count, 0));
}

/* ------------------------------------------------------------------ */
/* Table construction                                                   */
/* ------------------------------------------------------------------ */
/* Redis derives some ACL categories from the flags. */
static void set_implicit_acl_categories(redis_command *cmd) {
  if (cmd->flags & CMD_WRITE) {
    cmd->acl_categories |= ACL_CATEGORY_WRITE;
  }
  if ((cmd->flags & CMD_READONLY) &&
      !(cmd->acl_categories & ACL_CATEGORY_SCRIPTING)) {
    cmd->acl_categories |= ACL_CATEGORY_READ;
  }
  if (cmd->flags & CMD_ADMIN) {
    cmd->acl_categories |= ACL_CATEGORY_ADMIN | ACL_CATEGORY_DANGEROUS;
  }
  if (cmd->flags & CMD_PUBSUB) {
    cmd->acl_categories |= ACL_CATEGORY_PUBSUB;
  }
  if (cmd->flags & CMD_FAST) {
    cmd->acl_categories |= ACL_CATEGORY_FAST;
  }
  if (cmd->flags & CMD_BLOCKING) {
    cmd->acl_categories |= ACL_CATEGORY_BLOCKING;
  }
  if (!(cmd->acl_categories & ACL_CATEGORY_FAST)) {
    cmd->acl_categories |= ACL_CATEGORY_SLOW;
  }
}

/* Redis 7.0 marks a command "movablekeys" when its keys cannot be found
 * from fixed positions: a getkeys proc, or a key spec that searches for a
 * keyword or reads a key count. */
static void set_movable_keys(redis_command *cmd) {
  if (cmd->getkeys_proc) {
    cmd->flags |= CMD_MOVABLE_KEYS;
    return;
  }
  const command_meta *meta = command_meta_lookup(cmd->fullname);
  if (!meta) {
    return;
  }
  for (int j = 0; j < meta->key_specs_num; j++) {
    const command_key_spec *spec = &meta->key_specs[j];
    if (spec->begin_search_type != KSPEC_BS_INDEX ||
        spec->find_keys_type != KSPEC_FK_RANGE) {
      cmd->flags |= CMD_MOVABLE_KEYS;
      return;
    }
  }
}

static void init_command_runtime(redis_command *cmd, redis_command *parent) {
  if (parent) {
    cmd->fullname = sds_cat_printf(sds_empty(), "%s|%s", parent->declared_name,
                                   cmd->declared_name);
  } else {
    cmd->fullname = sds_new(cmd->declared_name);
  }
  cmd->parent = parent;
  cmd->subcommands_dict = NULL;
  cmd->microseconds = cmd->calls = cmd->rejected_calls = cmd->failed_calls = 0;
  cmd->id = command_next_id++;
  set_implicit_acl_categories(cmd);
  set_movable_keys(cmd);
}

/* Subcommand dicts use the same case-insensitive sds keys as the top
 * level; the value is a pointer into the module's static table. */
static dict_type subcommands_dict_type = {
    dict_sds_case_hash,  NULL, NULL, dict_sds_key_case_compare,
    dict_sds_destructor, NULL, NULL};

static void add_command_to_table(redis_command *cmd) {
  init_command_runtime(cmd, NULL);
  if (cmd->subcommands) {
    cmd->subcommands_dict = dict_create(&subcommands_dict_type);
    for (redis_command *sub = cmd->subcommands; sub->declared_name; sub++) {
      init_command_runtime(sub, cmd);
      if (dict_add(cmd->subcommands_dict, sds_new(sub->declared_name), sub) !=
          DICT_OK) {
        server_panic("duplicate subcommand %s", sub->fullname);
      }
    }
  }
  if (dict_add(server.commands, sds_new(cmd->declared_name), cmd) != DICT_OK) {
    server_panic("duplicate command %s", cmd->declared_name);
  }
  if (server.orig_commands) {
    dict_add(server.orig_commands, sds_new(cmd->declared_name), cmd);
  }
}

void populate_command_table(redis_command *const *tables, size_t count) {
  /* server.c normally creates the dicts; unit tests may not. */
  static dict_type table_type = {
      dict_sds_case_hash,  NULL, NULL, dict_sds_key_case_compare,
      dict_sds_destructor, NULL, NULL};
  if (!server.commands) {
    server.commands = dict_create(&table_type);
  }
  for (size_t t = 0; t < count; t++) {
    for (redis_command *cmd = tables[t]; cmd->declared_name; cmd++) {
      add_command_to_table(cmd);
    }
  }
}

/* ------------------------------------------------------------------ */
/* Lookup                                                               */
/* ------------------------------------------------------------------ */
/* fetch_by_object looks |o| up in |d|; argv objects are normally raw
 * strings, but an integer-encoded one must not be read as an sds. */
static redis_command *fetch_by_object(dict *d, robj *o) {
  if (sds_encoded_object(o)) {
    if (sds_len(o->ptr) > COMMAND_NAME_MAX) {
      return NULL;
    }
    return dict_fetch_value(d, o->ptr);
  }
  char buf[LONG_STR_SIZE];
  ll2string(buf, sizeof(buf), (long)o->ptr);
  sds tmp = sds_new(buf);
  redis_command *cmd = dict_fetch_value(d, tmp);
  sds_free(tmp);
  return cmd;
}

static redis_command *lookup_command_in(dict *commands, robj **argv, int argc) {
  if (!commands || argc < 1) {
    return NULL;
  }
  redis_command *base = fetch_by_object(commands, argv[0]);
  if (!base || argc == 1 || !base->subcommands_dict) {
    /* A container's own entry may have no proc (CONFIG): the arity check
     * rejects it before it could be called. */
    return base;
  }
  return fetch_by_object(base->subcommands_dict, argv[1]);
}

redis_command *lookup_command(robj **argv, int argc) {
  return lookup_command_in(server.commands, argv, argc);
}

redis_command *lookup_command_or_original(robj **argv, int argc) {
  redis_command *cmd = lookup_command_in(server.commands, argv, argc);
  if (!cmd) {
    cmd = lookup_command_in(server.orig_commands, argv, argc);
  }
  return cmd;
}

/* lookup_command_by_name accepts "get" and "config|get" (as COMMAND INFO
 * does). */
static redis_command *lookup_command_by_name(const char *s, size_t len) {
  if (len > COMMAND_NAME_MAX * 2 + 1 || !server.commands) {
    return NULL;
  }
  const char *bar = memchr(s, '|', len);
  sds base_name = sds_new_len(s, bar ? (size_t)(bar - s) : len);
  redis_command *base = dict_fetch_value(server.commands, base_name);
  sds_free(base_name);
  if (!bar || !base) {
    return base;
  }
  const char *rest = bar + 1;
  size_t rest_len = len - (size_t)(rest - s);
  if (!base->subcommands_dict || memchr(rest, '|', rest_len)) {
    return NULL;
  }
  sds sub_name = sds_new_len(rest, rest_len);
  redis_command *sub = dict_fetch_value(base->subcommands_dict, sub_name);
  sds_free(sub_name);
  return sub;
}

redis_command *lookup_command_by_cstring(const char *s) {
  return lookup_command_by_name(s, strlen(s));
}

static redis_command *lookup_command_by_object(robj *o) {
  if (!sds_encoded_object(o)) {
    return NULL; /* no command is named by a number */
  }
  return lookup_command_by_name(o->ptr, sds_len(o->ptr));
}

int is_container_command(redis_command *cmd) {
  return cmd != NULL && cmd->subcommands_dict != NULL;
}

/* ------------------------------------------------------------------ */
/* Key extraction                                                       */
/* ------------------------------------------------------------------ */
static void get_keys_init_result(get_keys_result *result) {
  result->keys = result->keysbuf;
  result->size = MAX_KEYS_BUFFER;
  result->numkeys = 0;
}

key_reference *get_keys_prepare_result(get_keys_result *result, int numkeys) {
  if (result->keys == NULL) {
    get_keys_init_result(result);
  }
  if (numkeys <= result->size) {
    return result->keys;
  }
  int newsize = numkeys > result->size * 2 ? numkeys : result->size * 2;
  if (result->keys == result->keysbuf) {
    result->keys = zmalloc(sizeof(key_reference) * (size_t)newsize);
    memcpy(result->keys, result->keysbuf,
           sizeof(key_reference) * (size_t)result->numkeys);
  } else {
    result->keys =
        zrealloc(result->keys, sizeof(key_reference) * (size_t)newsize);
  }
  result->size = newsize;
  return result->keys;
}

void get_keys_free_result(get_keys_result *result) {
  if (result && result->keys && result->keys != result->keysbuf) {
    zfree(result->keys);
  }
  if (result) {
    result->keys = result->keysbuf;
    result->size = MAX_KEYS_BUFFER;
    result->numkeys = 0;
  }
}

/* Legacy (first, last, step) positions, as Redis 7.0's
 * getKeysUsingLegacyRangeSpec: out-of-range positions on a variadic command
 * mean "no keys" (the command reports the syntax error). */
static int get_keys_using_legacy_range(redis_command *cmd, int argc,
                                       get_keys_result *result) {
  int first = cmd->firstkey;
  int last = cmd->lastkey;
  int step = cmd->keystep;
  if (first <= 0 || step <= 0) {
    result->numkeys = 0;
    return 0;
  }
  if (last < 0) {
    last = argc + last;
  }
  int count = last - first + 1;
  if (count <= 0) {
    result->numkeys = 0;
    return 0;
  }
  key_reference *keys = get_keys_prepare_result(result, count);
  int n = 0;
  for (int j = first; j <= last; j += step) {
    if (j >= argc) {
      result->numkeys = 0;
      return 0;
    }
    keys[n].pos = j;
    keys[n].flags = 0;
    n++;
  }
  result->numkeys = n;
  return n;
}

int get_keys_from_command(redis_command *cmd, robj **argv, int argc,
                          get_keys_result *result) {
  get_keys_init_result(result);
  if (cmd->getkeys_proc) {
    return cmd->getkeys_proc(cmd, argv, argc, result);
  }
  return get_keys_using_legacy_range(cmd, argc, result);
}

static int arg_equals_ci(robj *o, const char *s) {
  return sds_encoded_object(o) && strcasecmp(o->ptr, s) == 0;
}

/* get_keys_using_key_specs follows the reference semantics of key specs
 * (Redis 7.0 getKeysUsingKeySpecs). Returns the key count, or -1 when a
 * spec cannot be applied (unknown spec, bad key count, incomplete). */
static int get_keys_using_key_specs(redis_command *cmd,
                                    const command_meta *meta, robj **argv,
                                    int argc, get_keys_result *result) {
  for (int j = 0; j < meta->key_specs_num; j++) {
    const command_key_spec *spec = &meta->key_specs[j];
    if (spec->flags & KSPEC_NOT_KEY) {
      continue;
    }
    int first = 0, last, step;
    if (spec->begin_search_type == KSPEC_BS_INDEX) {
      first = spec->bs_index;
    } else if (spec->begin_search_type == KSPEC_BS_KEYWORD) {
      int start = spec->bs_startfrom > 0 ? spec->bs_startfrom
                                         : argc + spec->bs_startfrom;
      int end = spec->bs_startfrom > 0 ? argc - 1 : 1;
      int dir = start <= end ? 1 : -1;
      /* Bounded: i moves one step towards end and stays in [1, argc). */
      for (int i = start; i >= 1 && i < argc; i += dir) {
        if (arg_equals_ci(argv[i], spec->bs_keyword)) {
          first = i + 1;
          break;
        }
        if (i == end) {
          break;
        }
      }
      if (!first) {
        continue;
      }
    } else {
      goto invalid;
    }

    if (spec->find_keys_type == KSPEC_FK_RANGE) {
      int lastkey = spec->fk_a, limit = spec->fk_c;
      step = spec->fk_b;
      if (lastkey >= 0) {
        last = first + lastkey;
      } else if (!limit) {
        last = argc + lastkey;
      } else {
        last = first + ((argc - first) / limit + lastkey);
      }
    } else if (spec->find_keys_type == KSPEC_FK_KEYNUM) {
      int idx = first + spec->fk_a;
      long long numkeys;
      step = spec->fk_c;
      if (idx >= argc || !sds_encoded_object(argv[idx]) ||
          !string2ll(argv[idx]->ptr, sds_len(argv[idx]->ptr), &numkeys) ||
          numkeys < 0 || numkeys > argc) {
        goto invalid;
      }
      first += spec->fk_b;
      last = first + (int)numkeys - 1;
    } else {
      goto invalid;
    }
    if (step <= 0) {
      goto invalid;
    }
    if (last >= argc || last < first || first >= argc) {
      goto invalid;
    }
    key_reference *keys =
        get_keys_prepare_result(result, result->numkeys + (last - first) + 1);
    for (int i = first; i <= last; i += step) {
      keys[result->numkeys].pos = i;
      keys[result->numkeys].flags = (int)spec->flags;
      result->numkeys++;
    }
    if (spec->flags & KSPEC_INCOMPLETE) {
      goto invalid;
    }
  }
  return result->numkeys;
invalid:
  (void)cmd;
  result->numkeys = 0;
  return -1;
}

/* Commands whose key flags depend on the arguments (key spec flag
 * VARIABLE_FLAGS). When the table gives no getkeys proc, these resolve the
 * flags the way Redis's procs do; the positions come from the key spec. */
static uint32_t variable_flags_set(robj **argv, int argc) {
  for (int i = 3; i < argc; i++) {
    if (arg_equals_ci(argv[i], "get")) {
      return KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE;
    }
  }
  return KSPEC_OW | KSPEC_UPDATE;
}

static uint32_t variable_flags_bitfield(robj **argv, int argc) {
  for (int i = 2; i < argc; i++) {
    int remargs = argc - i - 1;
    if (arg_equals_ci(argv[i], "get") && remargs >= 2) {
      i += 2;
    } else if ((arg_equals_ci(argv[i], "set") ||
                arg_equals_ci(argv[i], "incrby")) &&
               remargs >= 3) {
      return KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE;
    } else if (arg_equals_ci(argv[i], "overflow") && remargs >= 1) {
      i += 1;
    } else {
      return KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE; /* syntax error */
    }
  }
  return KSPEC_RO | KSPEC_ACCESS;
}

static void resolve_variable_flags(redis_command *cmd, robj **argv, int argc,
                                   get_keys_result *result) {
  uint32_t flags;
  if (strcasecmp(cmd->fullname, "set") == 0) {
    flags = variable_flags_set(argv, argc);
  } else if (strcasecmp(cmd->fullname, "bitfield") == 0) {
    flags = variable_flags_bitfield(argv, argc);
  } else {
    return;
  }
  for (int j = 0; j < result->numkeys; j++) {
    result->keys[j].flags = (int)flags;
  }
}

/* get_keys_with_specs: what COMMAND GETKEYS uses (Redis 7.0
 * getKeysFromCommandWithSpecs): key specs when they are reliable, then the
 * command's getkeys proc, then the declared positions. */
static int get_keys_with_specs(redis_command *cmd, robj **argv, int argc,
                               get_keys_result *result) {
  get_keys_init_result(result);
  const command_meta *meta = command_meta_lookup(cmd->fullname);
  if (meta) {
    int has_key = 0, variable = 0;
    for (int j = 0; j < meta->key_specs_num; j++) {
      if (!(meta->key_specs[j].flags & KSPEC_NOT_KEY)) {
        has_key = 1;
      }
      if (meta->key_specs[j].flags & KSPEC_VARIABLE_FLAGS) {
        variable = 1;
      }
    }
    if (has_key && !variable) {
      int ret = get_keys_using_key_specs(cmd, meta, argv, argc, result);
      if (ret >= 0) {
        return ret;
      }
    }
    if (cmd->getkeys_proc) {
      get_keys_free_result(result);
      return cmd->getkeys_proc(cmd, argv, argc, result);
    }
    if (has_key && variable) {
      if (get_keys_using_key_specs(cmd, meta, argv, argc, result) < 0) {
        return 0;
      }
      resolve_variable_flags(cmd, argv, argc, result);
      return result->numkeys;
    }
    return 0;
  }
  return get_keys_from_command(cmd, argv, argc, result);
}

int get_keys_from_command_with_specs(redis_command *cmd, robj **argv, int argc,
                                     get_keys_result *result) {
  return get_keys_with_specs(cmd, argv, argc, result);
}

static int command_has_keys(redis_command *cmd) {
  if (cmd->getkeys_proc) {
    return 1;
  }
  const command_meta *meta = command_meta_lookup(cmd->fullname);
  if (meta) {
    for (int j = 0; j < meta->key_specs_num; j++) {
      if (!(meta->key_specs[j].flags & KSPEC_NOT_KEY)) {
        return 1;
      }
    }
    return 0;
  }
  return cmd->firstkey > 0;
}

/* ------------------------------------------------------------------ */
/* COMMAND INFO / DOCS replies                                          */
/* ------------------------------------------------------------------ */
typedef struct name_flag {
  uint64_t flag;
  const char *name;
} name_flag;

/* Names and order of COMMAND INFO flags; may_replicate, sentinel and
 * protected are hidden as in Redis. */
static const name_flag command_flag_names[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_MODULE, "module"},
    {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_ASKING, "asking"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    {CMD_NO_MULTI, "no_multi"},
    {CMD_MOVABLE_KEYS, "movablekeys"},
    {CMD_ALLOW_BUSY, "allow_busy"},
    {0, NULL}};

/* ACL category names in bit order (ACL CAT prints them in this order). */
static const name_flag acl_category_names[] = {
    {ACL_CATEGORY_KEYSPACE, "keyspace"},
    {ACL_CATEGORY_READ, "read"},
    {ACL_CATEGORY_WRITE, "write"},
    {ACL_CATEGORY_SET, "set"},
    {ACL_CATEGORY_SORTEDSET, "sortedset"},
    {ACL_CATEGORY_LIST, "list"},
    {ACL_CATEGORY_HASH, "hash"},
    {ACL_CATEGORY_STRING, "string"},
    {ACL_CATEGORY_BITMAP, "bitmap"},
    {ACL_CATEGORY_HYPERLOGLOG, "hyperloglog"},
    {ACL_CATEGORY_GEO, "geo"},
    {ACL_CATEGORY_STREAM, "stream"},
    {ACL_CATEGORY_PUBSUB, "pubsub"},
    {ACL_CATEGORY_ADMIN, "admin"},
    {ACL_CATEGORY_FAST, "fast"},
    {ACL_CATEGORY_SLOW, "slow"},
    {ACL_CATEGORY_BLOCKING, "blocking"},
    {ACL_CATEGORY_DANGEROUS, "dangerous"},
    {ACL_CATEGORY_CONNECTION, "connection"},
    {ACL_CATEGORY_TRANSACTION, "transaction"},
    {ACL_CATEGORY_SCRIPTING, "scripting"},
    {0, NULL}};

static const name_flag key_spec_flag_names[] = {
    {KSPEC_RO, "RO"},
    {KSPEC_RW, "RW"},
    {KSPEC_OW, "OW"},
    {KSPEC_RM, "RM"},
    {KSPEC_ACCESS, "access"},
    {KSPEC_UPDATE, "update"},
    {KSPEC_INSERT, "insert"},
    {KSPEC_DELETE, "delete"},
    {KSPEC_NOT_KEY, "not_key"},
    {KSPEC_INCOMPLETE, "incomplete"},
    {KSPEC_VARIABLE_FLAGS, "variable_flags"},
    {0, NULL}};

static void add_reply_flag_set(client *c, uint64_t flags,
                               const name_flag *names, const char *prefix) {
  long count = 0;
  for (const name_flag *f = names; f->name; f++) {
    if (flags & f->flag) {
      count++;
    }
  }
  add_reply_set_len(c, count);
  for (const name_flag *f = names; f->name; f++) {
    if (flags & f->flag) {
      if (prefix) {
        sds s = sds_cat_printf(sds_empty(), "%s%s", prefix, f->name);
        add_reply_status_length(c, s, sds_len(s));
        sds_free(s);
      } else {
        add_reply_status(c, f->name);
      }
    }
  }
}

static void add_reply_map_key(client *c, const char *key) {
  add_reply_bulk_cstring(c, key);
}

static void add_reply_key_specs(client *c, const command_meta *meta) {
  if (!meta) {
    add_reply_set_len(c, 0);
    return;
  }
  add_reply_set_len(c, meta->key_specs_num);
  for (int j = 0; j < meta->key_specs_num; j++) {
    const command_key_spec *spec = &meta->key_specs[j];
    add_reply_map_len(c, spec->notes ? 4 : 3);
    if (spec->notes) {
      add_reply_map_key(c, "notes");
      add_reply_bulk_cstring(c, spec->notes);
    }
    add_reply_map_key(c, "flags");
    add_reply_flag_set(c, spec->flags, key_spec_flag_names, NULL);

    add_reply_map_key(c, "begin_search");
    add_reply_map_len(c, 2);
    add_reply_map_key(c, "type");
    if (spec->begin_search_type == KSPEC_BS_INDEX) {
      add_reply_bulk_cstring(c, "index");
      add_reply_map_key(c, "spec");
      add_reply_map_len(c, 1);
      add_reply_map_key(c, "index");
      add_reply_long_long(c, spec->bs_index);
    } else if (spec->begin_search_type == KSPEC_BS_KEYWORD) {
      add_reply_bulk_cstring(c, "keyword");
      add_reply_map_key(c, "spec");
      add_reply_map_len(c, 2);
      add_reply_map_key(c, "keyword");
      add_reply_bulk_cstring(c, spec->bs_keyword);
      add_reply_map_key(c, "startfrom");
      add_reply_long_long(c, spec->bs_startfrom);
    } else {
      add_reply_bulk_cstring(c, "unknown");
      add_reply_map_key(c, "spec");
      add_reply_map_len(c, 0);
    }

    add_reply_map_key(c, "find_keys");
    add_reply_map_len(c, 2);
    add_reply_map_key(c, "type");
    if (spec->find_keys_type == KSPEC_FK_RANGE) {
      add_reply_bulk_cstring(c, "range");
      add_reply_map_key(c, "spec");
      add_reply_map_len(c, 3);
      add_reply_map_key(c, "lastkey");
      add_reply_long_long(c, spec->fk_a);
      add_reply_map_key(c, "keystep");
      add_reply_long_long(c, spec->fk_b);
      add_reply_map_key(c, "limit");
      add_reply_long_long(c, spec->fk_c);
    } else if (spec->find_keys_type == KSPEC_FK_KEYNUM) {
      add_reply_bulk_cstring(c, "keynum");
      add_reply_map_key(c, "spec");
      add_reply_map_len(c, 3);
      add_reply_map_key(c, "keynumidx");
      add_reply_long_long(c, spec->fk_a);
      add_reply_map_key(c, "firstkey");
      add_reply_long_long(c, spec->fk_b);
      add_reply_map_key(c, "keystep");
      add_reply_long_long(c, spec->fk_c);
    } else {
      add_reply_bulk_cstring(c, "unknown");
      add_reply_map_key(c, "spec");
      add_reply_map_len(c, 0);
    }
  }
}

void add_reply_command_info(client *c, redis_command *cmd) {
  if (!cmd) {
    add_reply_null(c);
    return;
  }
  const command_meta *meta = command_meta_lookup(cmd->fullname);
  add_reply_array_len(c, 10);
  add_reply_bulk_cbuffer(c, cmd->fullname, sds_len(cmd->fullname));
  add_reply_long_long(c, cmd->arity);
  add_reply_flag_set(c, cmd->flags, command_flag_names, NULL);
  add_reply_long_long(c, cmd->firstkey);
  add_reply_long_long(c, cmd->lastkey);
  add_reply_long_long(c, cmd->keystep);
  add_reply_flag_set(c, cmd->acl_categories, acl_category_names, "@");
  if (meta) {
    render_template(c, meta->tips_template, 1);
  } else {
    add_reply_set_len(c, 0);
  }
  add_reply_key_specs(c, meta);
  if (cmd->subcommands_dict) {
    add_reply_array_len(c, (long)dict_size(cmd->subcommands_dict));
    dict_iterator *di = dict_get_iterator(cmd->subcommands_dict);
    dict_entry *de;
    while ((de = dict_next(di)) != NULL) {
      add_reply_command_info(c, dict_get_val(de));
    }
    dict_release_iterator(di);
  } else {
    add_reply_set_len(c, 0); /* Redis: an empty set, not an empty array */
  }
}

void add_reply_command_docs(client *c, redis_command *cmd) {
  const command_meta *meta = command_meta_lookup(cmd->fullname);
  long maplen = 1; /* group */
  if (cmd->summary) {
    maplen++;
  }
  if (cmd->since) {
    maplen++;
  }
  if (meta) {
    maplen += meta->docs_extra_pairs;
  }
  if (cmd->subcommands_dict) {
    maplen++;
  }
  add_reply_map_len(c, maplen);
  if (cmd->summary) {
    add_reply_map_key(c, "summary");
    add_reply_bulk_cstring(c, cmd->summary);
  }
  if (cmd->since) {
    add_reply_map_key(c, "since");
    add_reply_bulk_cstring(c, cmd->since);
  }
  add_reply_map_key(c, "group");
  add_reply_bulk_cstring(c, cmd->group ? cmd->group : "server");
  if (meta && meta->docs_extra_pairs) {
    render_template(c, meta->docs_template, meta->docs_extra_pairs * 2L);
  }
  if (cmd->subcommands_dict) {
    add_reply_map_key(c, "subcommands");
    add_reply_map_len(c, (long)dict_size(cmd->subcommands_dict));
    dict_iterator *di = dict_get_iterator(cmd->subcommands_dict);
    dict_entry *de;
    while ((de = dict_next(di)) != NULL) {
      redis_command *sub = dict_get_val(de);
      add_reply_bulk_cbuffer(c, sub->fullname, sds_len(sub->fullname));
      add_reply_command_docs(c, sub);
    }
    dict_release_iterator(di);
  }
}

/* ------------------------------------------------------------------ */
/* COMMAND                                                              */
/* ------------------------------------------------------------------ */
static void command_reply_all_info(client *c) {
  add_reply_array_len(c, (long)dict_size(server.commands));
  dict_iterator *di = dict_get_iterator(server.commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    add_reply_command_info(c, dict_get_val(de));
  }
  dict_release_iterator(di);
}

static void command_command(client *c) { command_reply_all_info(c); }

static void command_count_command(client *c) {
  add_reply_long_long(c, (long long)dict_size(server.commands));
}

static void command_info_command(client *c) {
  if (c->argc == 2) {
    command_reply_all_info(c);
    return;
  }
  int count = c->argc - 2;
  if (count > COMMAND_NAMES_MAX) {
    count = COMMAND_NAMES_MAX;
  }
  add_reply_array_len(c, count);
  for (int j = 0; j < count; j++) {
    add_reply_command_info(c, lookup_command_by_object(c->argv[j + 2]));
  }
}

static void command_docs_command(client *c) {
  if (c->argc == 2) {
    add_reply_map_len(c, (long)dict_size(server.commands));
    dict_iterator *di = dict_get_iterator(server.commands);
    dict_entry *de;
    while ((de = dict_next(di)) != NULL) {
      redis_command *cmd = dict_get_val(de);
      add_reply_bulk_cbuffer(c, cmd->fullname, sds_len(cmd->fullname));
      add_reply_command_docs(c, cmd);
    }
    dict_release_iterator(di);
    return;
  }
  /* Unknown names are skipped, so the count is known only at the end. */
  void *replylen = add_reply_deferred_len(c);
  long found = 0;
  for (int j = 2; j < c->argc && j - 2 < COMMAND_NAMES_MAX; j++) {
    redis_command *cmd = lookup_command_by_object(c->argv[j]);
    if (!cmd) {
      continue;
    }
    add_reply_bulk_cbuffer(c, cmd->fullname, sds_len(cmd->fullname));
    add_reply_command_docs(c, cmd);
    found++;
  }
  set_deferred_map_len(c, replylen, found);
}

static void command_getkeys_impl(client *c, int with_flags) {
  redis_command *cmd = lookup_command(c->argv + 2, c->argc - 2);
  if (!cmd) {
    add_reply_error(c, "Invalid command specified");
    return;
  }
  if (!command_has_keys(cmd)) {
    add_reply_error(c, "The command has no key arguments");
    return;
  }
  int argc = c->argc - 2;
  if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
    add_reply_error(c, "Invalid number of arguments specified for command");
    return;
  }
  get_keys_result result;
  int n = get_keys_with_specs(cmd, c->argv + 2, argc, &result);
  if (n <= 0) {
    if (cmd->flags & CMD_NO_MANDATORY_KEYS) {
      add_reply_array_len(c, 0);
    } else {
      add_reply_error(c, "Invalid arguments specified for command");
    }
    get_keys_free_result(&result);
    return;
  }
  add_reply_array_len(c, result.numkeys);
  for (int j = 0; j < result.numkeys; j++) {
    robj *key = c->argv[result.keys[j].pos + 2];
    if (!with_flags) {
      add_reply_bulk(c, key);
    } else {
      add_reply_array_len(c, 2);
      add_reply_bulk(c, key);
      add_reply_flag_set(c, (uint64_t)(unsigned)result.keys[j].flags,
                         key_spec_flag_names, NULL);
    }
  }
  get_keys_free_result(&result);
}

static void command_getkeys_command(client *c) { command_getkeys_impl(c, 0); }
static void command_getkeysandflags_command(client *c) {
  command_getkeys_impl(c, 1);
}

#define LIST_FILTER_NONE 0
#define LIST_FILTER_MODULE 1
#define LIST_FILTER_ACLCAT 2
#define LIST_FILTER_PATTERN 3

typedef struct list_filter {
  int type;
  robj *arg;
  uint64_t category; /* ACLCAT; 0 = unknown name: nothing matches */
} list_filter;

static int command_matches_filter(redis_command *cmd,
                                  const list_filter *filter) {
  switch (filter->type) {
    case LIST_FILTER_NONE:
      return 1;
    case LIST_FILTER_MODULE:
      return 0; /* no modules */
    case LIST_FILTER_ACLCAT:
      return (cmd->acl_categories & filter->category) != 0;
    case LIST_FILTER_PATTERN: {
      sds pat = filter->arg->ptr;
      return string_match_len(pat, (int)sds_len(pat), cmd->fullname,
                              (int)sds_len(cmd->fullname), 1);
    }
  }
  return 0;
}

static void command_list_add(client *c, dict *commands,
                             const list_filter *filter, long *count) {
  dict_iterator *di = dict_get_iterator(commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    redis_command *cmd = dict_get_val(de);
    if (command_matches_filter(cmd, filter)) {
      add_reply_bulk_cbuffer(c, cmd->fullname, sds_len(cmd->fullname));
      (*count)++;
    }
    if (cmd->subcommands_dict) {
      command_list_add(c, cmd->subcommands_dict, filter, count);
    }
  }
  dict_release_iterator(di);
}

static void command_list_command(client *c) {
  list_filter filter = {LIST_FILTER_NONE, NULL, 0};
  for (int i = 2; i < c->argc; i++) {
    int moreargs = c->argc - 1 - i;
    if (arg_equals_ci(c->argv[i], "filterby") && moreargs == 2 &&
        sds_encoded_object(c->argv[i + 1]) &&
        sds_encoded_object(c->argv[i + 2])) {
      robj *type = c->argv[i + 1];
      if (arg_equals_ci(type, "module")) {
        filter.type = LIST_FILTER_MODULE;
      } else if (arg_equals_ci(type, "aclcat")) {
        filter.type = LIST_FILTER_ACLCAT;
      } else if (arg_equals_ci(type, "pattern")) {
        filter.type = LIST_FILTER_PATTERN;
      } else {
        add_reply(c, shared.syntaxerr);
        return;
      }
      filter.arg = c->argv[i + 2];
      i += 2;
    } else {
      add_reply(c, shared.syntaxerr);
      return;
    }
  }
  if (filter.type == LIST_FILTER_ACLCAT) {
    for (const name_flag *f = acl_category_names; f->name; f++) {
      if (strcasecmp(filter.arg->ptr, f->name) == 0) {
        filter.category = f->flag;
      }
    }
  }
  void *replylen = add_reply_deferred_len(c);
  long count = 0;
  command_list_add(c, server.commands, &filter, &count);
  set_deferred_array_len(c, replylen, count);
}

static void command_help_command(client *c) {
  static const char *help[] = {
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "GETKEYSANDFLAGS <full-command>",
      "    Return the keys and the access flags from a full Redis command.",
      NULL};
  add_reply_help(c, help);
}

#define COMMAND_SUB(name_, summary_, since_, proc_, arity_)       \
  {                                                               \
    .declared_name = name_, .summary = summary_, .since = since_, \
    .group = "server", .proc = proc_, .arity = arity_,            \
    .flags = CMD_LOADING | CMD_STALE,                             \
    .acl_categories = ACL_CATEGORY_CONNECTION                     \
  }
static redis_command command_subcommands[] = {
    COMMAND_SUB("count", "Get total number of Redis commands", "2.8.13",
                command_count_command, 2),
    COMMAND_SUB("docs", "Get array of specific Redis command documentation",
                "7.0.0", command_docs_command, -2),
    COMMAND_SUB("getkeys", "Extract keys given a full Redis command", "2.8.13",
                command_getkeys_command, -4),
    COMMAND_SUB("getkeysandflags",
                "Extract keys and access flags given a full Redis command",
                "7.0.0", command_getkeysandflags_command, -4),
    COMMAND_SUB("help", "Show helpful text about the different subcommands",
                "5.0.0", command_help_command, 2),
    COMMAND_SUB("info",
                "Get array of specific Redis command details, or all when "
                "no argument is given.",
                "2.8.13", command_info_command, -2),
    COMMAND_SUB("list", "Get an array of Redis command names", "7.0.0",
                command_list_command, -2),
    {0}};

redis_command command_commands[] = {
    {.declared_name = "command",
     .summary = "Get array of Redis command details",
     .since = "2.8.13",
     .group = "server",
     .proc = command_command,
     .arity = -1,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_CONNECTION,
     .subcommands = command_subcommands},
    {0}};

/* ------------------------------------------------------------------ */
/* Stats and flag names shared with CONFIG RESETSTAT and the log         */
/* ------------------------------------------------------------------ */
static void reset_command_stats(redis_command *cmd) {
  cmd->microseconds = 0;
  cmd->calls = 0;
  cmd->rejected_calls = 0;
  cmd->failed_calls = 0;
  if (cmd->subcommands_dict) {
    reset_command_table_stats(cmd->subcommands_dict);
  }
}

void reset_command_table_stats(dict *commands) {
  dict_iterator *di = dict_get_safe_iterator(commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    reset_command_stats(dict_get_val(de));
  }
  dict_release_iterator(di);
}

sds cat_command_flags(sds s, uint64_t flags) {
  int first = 1;
  for (size_t j = 0; j < sizeof(command_flag_names) / sizeof(name_flag); j++) {
    if (flags & command_flag_names[j].flag) {
      s = sds_cat_printf(s, "%s%s", first ? "" : " ",
                         command_flag_names[j].name);
      first = 0;
    }
  }
  return s;
}
