/* config_command.c: CONFIG GET/SET/RESETSTAT/REWRITE/HELP and the
 * config_commands[] table. Texts match Redis 7.0.15 byte for byte. */
#include <errno.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/config/config.h"
#include "server/config/config_internal.h"
#include "server/core/latency.h"
#include "server/core/lazyfree.h"
#include "server/core/server.h"

/* ------------------------------------------------------------------ */
/* CONFIG GET                                                           */
/* ------------------------------------------------------------------ */
typedef struct config_get_result {
  sds *names;
  sds *values;
  size_t count, cap;
} config_get_result;

/* get_result_add appends name/value unless the name is already there
 * (case-insensitively, as Redis's reply dict does). Takes ownership. */
static void get_result_add(config_get_result *r, sds name, sds value) {
  for (size_t j = 0; j < r->count; j++) {
    if (!strcasecmp(r->names[j], name)) {
      sds_free(name);
      sds_free(value);
      return;
    }
  }
  if (r->count == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 16;
    r->names = zrealloc(r->names, sizeof(sds) * r->cap);
    r->values = zrealloc(r->values, sizeof(sds) * r->cap);
  }
  r->names[r->count] = name;
  r->values[r->count++] = value;
}

static void config_get_command(client *c) {
  config_get_result r = {0};
  for (int i = 2; i < c->argc; i++) {
    const char *pattern = c->argv[i]->ptr;
    if (strpbrk(pattern, "[*?") == NULL) {
      /* A plain name: reply under the name as typed. */
      const config_entry *e = config_lookup(pattern);
      if (e != NULL) {
        get_result_add(&r, sds_new(pattern), config_entry_get(e));
      }
      continue;
    }
    for (size_t j = 0; j < config_table_len; j++) {
      const config_entry *e = &config_table[j];
      if (e->flags & CONFIG_FLAG_HIDDEN) {
        continue;
      }
      if (string_match(pattern, e->name, 1)) {
        get_result_add(&r, sds_new(e->name), config_entry_get(e));
      }
      if (e->alias && string_match(pattern, e->alias, 1)) {
        get_result_add(&r, sds_new(e->alias), config_entry_get(e));
      }
    }
  }
  add_reply_map_len(c, (long)r.count);
  for (size_t j = 0; j < r.count; j++) {
    add_reply_bulk_cbuffer(c, r.names[j], sds_len(r.names[j]));
    add_reply_bulk_cbuffer(c, r.values[j], sds_len(r.values[j]));
    sds_free(r.names[j]);
    sds_free(r.values[j]);
  }
  zfree(r.names);
  zfree(r.values);
}

/* ------------------------------------------------------------------ */
/* CONFIG SET                                                           */
/* ------------------------------------------------------------------ */
/* redact_argument hides a sensitive value from SLOWLOG and MONITOR: they
 * read c->original_argv when it is set, so keep a copy there with the
 * value replaced by "(redacted)". */
static void redact_argument(client *c, int index) {
  if (shared.redacted == NULL || index >= c->argc) {
    return;
  }
  if (c->original_argv == NULL) {
    c->original_argv = zmalloc(sizeof(robj *) * (size_t)c->argc);
    c->original_argc = c->argc;
    for (int j = 0; j < c->argc; j++) {
      c->original_argv[j] = c->argv[j];
      incr_ref_count(c->argv[j]);
    }
  }
  if (index >= c->original_argc || c->original_argv[index] == shared.redacted) {
    return;
  }
  decr_ref_count(c->original_argv[index]);
  c->original_argv[index] = shared.redacted;
  incr_ref_count(shared.redacted);
}

/* reply_set_error replies Redis's text; newlines in a reason from a
 * callback (TLS) become spaces so the reply stays one line. */
static void reply_set_error(client *c, const char *name, const char *err) {
  sds msg = sds_cat_printf(sds_empty(),
                           "CONFIG SET failed (possibly related to argument "
                           "'%s') - %s",
                           name, err);
  for (size_t j = 0; j < sds_len(msg); j++) {
    if (msg[j] == '\r' || msg[j] == '\n') {
      msg[j] = ' ';
    }
  }
  add_reply_error_sds(c, msg);
}

static void config_set_command(client *c) {
  if (c->argc & 1) {
    add_reply_error(c, "syntax error");
    return;
  }
  int count = (c->argc - 2) / 2;
  const config_entry **entries = zcalloc(sizeof(*entries) * (size_t)count);
  const char **values = zcalloc(sizeof(*values) * (size_t)count);
  const char *unknown_name = NULL, *err_name = NULL, *err = NULL;
  int invalid = 0;

  for (int i = 0; i < count; i++) {
    const char *name = c->argv[2 + i * 2]->ptr;
    const config_entry *e = config_lookup(name);
    if (e == NULL) {
      if (!invalid) {
        unknown_name = name;
        invalid = 1;
      }
      continue;
    }
    /* Redact every sensitive value even when the command fails. */
    if (e->flags & CONFIG_FLAG_SENSITIVE) {
      redact_argument(c, 2 + i * 2 + 1);
    }
    if (invalid) {
      continue;
    }
    int immutable = (e->flags & CONFIG_FLAG_IMMUTABLE) != 0;
    int protected_denied =
        !immutable && (e->flags & CONFIG_FLAG_PROTECTED) &&
        !config_protected_action_allowed(config_enable_protected_configs(), c);
    if (immutable || protected_denied) {
      err = immutable ? "can't set immutable config"
                      : "can't set protected config";
      err_name = name;
      invalid = 1;
      continue;
    }
    for (int j = 0; j < i; j++) {
      if (entries[j] == e) {
        err = "duplicate parameter";
        err_name = name;
        invalid = 1;
        break;
      }
    }
    entries[i] = e;
    values[i] = c->argv[2 + i * 2 + 1]->ptr;
  }

  if (!invalid) {
    int failed = 0;
    if (config_set_many(entries, values, count, &err, &failed)) {
      add_reply(c, shared.ok);
    } else {
      /* Redis names the directive as found in its table (lower case, the
       * alias if the alias was used). */
      const char *typed = c->argv[2 + failed * 2]->ptr;
      const config_entry *e = entries[failed];
      const char *shown =
          (e->alias && !strcasecmp(typed, e->alias)) ? e->alias : e->name;
      reply_set_error(c, shown, err);
    }
  } else if (err_name) {
    reply_set_error(c, err_name, err);
  } else {
    add_reply_error_format(
        c, "Unknown option or number of arguments for CONFIG SET - '%s'",
        unknown_name);
  }
  zfree(entries);
  zfree(values);
}

/* ------------------------------------------------------------------ */
/* CONFIG RESETSTAT / REWRITE / HELP                                    */
/* ------------------------------------------------------------------ */
static void reset_server_stats(void) {
  server.stat_numcommands = 0;
  server.stat_numconnections = 0;
  server.stat_expiredkeys = 0;
  server.stat_expired_stale_perc = 0;
  server.stat_expired_time_cap_reached_count = 0;
  server.stat_expire_cycle_time_used = 0;
  server.stat_evictedkeys = 0;
  server.stat_evictedclients = 0;
  server.stat_total_eviction_exceeded_time = 0;
  server.stat_keyspace_hits = 0;
  server.stat_keyspace_misses = 0;
  server.stat_rejected_conn = 0;
  server.stat_sync_full = 0;
  server.stat_sync_partial_ok = 0;
  server.stat_sync_partial_err = 0;
  server.stat_net_input_bytes = 0;
  server.stat_net_output_bytes = 0;
  server.stat_unexpected_error_replies = 0;
  server.stat_total_error_replies = 0;
  server.stat_dump_payload_sanitizations = 0;
  server.stat_io_reads_processed = 0;
  server.stat_io_writes_processed = 0;
  server.stat_total_reads_processed = 0;
  server.stat_total_writes_processed = 0;
  server.stat_client_qbuf_limit_disconnections = 0;
  server.stat_client_outbuf_limit_disconnections = 0;
  server.stat_peak_memory = 0;
  server.stat_numconnections_tls = 0;
  server.inst_metric_last_sample_time = 0;
  server.inst_metric_last_sample_count = 0;
  server.inst_metric_idx = 0;
  server.inst_net_in_last = 0;
  server.inst_net_out_last = 0;
  memset(server.inst_metric_samples, 0, sizeof(server.inst_metric_samples));
  memset(server.inst_net_in_samples, 0, sizeof(server.inst_net_in_samples));
  memset(server.inst_net_out_samples, 0, sizeof(server.inst_net_out_samples));
  lazyfree_reset_stats(); /* lazyfreed_objects */
}

/* reset_command_stats zeroes per-command counters, subcommands included
 * (the same walk as reset_command_table_stats in commands.c, kept here so
 * CONFIG RESETSTAT does not depend on that module's progress). */
static void reset_command_stats(dict *commands, int depth) {
  if (commands == NULL || depth > 1) {
    return;
  }
  dict_iterator *it = dict_get_safe_iterator(commands);
  dict_entry *de;
  while ((de = dict_next(it)) != NULL) {
    redis_command *cmd = dict_get_val(de);
    cmd->microseconds = 0;
    cmd->calls = 0;
    cmd->rejected_calls = 0;
    cmd->failed_calls = 0;
    reset_command_stats(cmd->subcommands_dict, depth + 1);
  }
  dict_release_iterator(it);
}

static void config_resetstat_command(client *c) {
  reset_server_stats();
  reset_command_stats(server.commands, 0);
  latency_tracking_reset(); /* the per-command histograms, as Redis */
  if (server.errors) {
    dict_empty(server.errors, NULL);
  }
  add_reply(c, shared.ok);
}

static void config_rewrite_command(client *c) {
  if (server.configfile == NULL) {
    add_reply_error(c, "The server is running without a config file");
    return;
  }
  if (!config_rewrite(server.configfile)) {
    int saved = errno;
    server_log(LL_WARNING, "CONFIG REWRITE failed: %s", strerror(saved));
    add_reply_error_format(c, "Rewriting config file: %s", strerror(saved));
    return;
  }
  server_log(LL_WARNING, "CONFIG REWRITE executed with success.");
  add_reply(c, shared.ok);
}

static void config_help_command(client *c) {
  static const char *help[] = {
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their "
      "values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      NULL};
  add_reply_help(c, help);
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */
#define CONFIG_ADMIN_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define CONFIG_ADMIN_ACL \
  (ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS)

static redis_command config_subcommands[] = {
    {.declared_name = "get",
     .summary = "Get the values of configuration parameters",
     .since = "2.0.0",
     .group = "server",
     .proc = config_get_command,
     .arity = -3,
     .flags = CONFIG_ADMIN_FLAGS,
     .acl_categories = CONFIG_ADMIN_ACL},
    {.declared_name = "help",
     .summary = "Show helpful text about the different subcommands",
     .since = "5.0.0",
     .group = "server",
     .proc = config_help_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SLOW},
    {.declared_name = "resetstat",
     .summary = "Reset the stats returned by INFO",
     .since = "2.0.0",
     .group = "server",
     .proc = config_resetstat_command,
     .arity = 2,
     .flags = CONFIG_ADMIN_FLAGS,
     .acl_categories = CONFIG_ADMIN_ACL},
    {.declared_name = "rewrite",
     .summary =
         "Rewrite the configuration file with the in memory configuration",
     .since = "2.8.0",
     .group = "server",
     .proc = config_rewrite_command,
     .arity = 2,
     .flags = CONFIG_ADMIN_FLAGS,
     .acl_categories = CONFIG_ADMIN_ACL},
    {.declared_name = "set",
     .summary = "Set configuration parameters to the given values",
     .since = "2.0.0",
     .group = "server",
     .proc = config_set_command,
     .arity = -4,
     .flags = CONFIG_ADMIN_FLAGS,
     .acl_categories = CONFIG_ADMIN_ACL},
    {0}};

redis_command config_commands[] = {
    {.declared_name = "config",
     .summary = "A container for server configuration commands",
     .since = "2.0.0",
     .group = "server",
     .arity = -2,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = config_subcommands},
    {0}};
