/* memory_cmds.c: MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE |
 * HELP with Redis 7.0's replies, and the memory sample behind them and
 * INFO memory (memory_cmds.h).
 *
 * MEMORY USAGE measures a value through its type's compute_size (the
 * object_type_ops each type module registers), then adds the key's sds and
 * its keyspace entry as allocated (zmalloc_size). Aggregates are sampled as
 * Redis does: SAMPLES elements (default 5, 0 = all) give an average that is
 * multiplied by the element count. */
#include "server/cmds/memory_cmds.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/cmds/cmds.h"
#include "server/core/networking.h"
#include "server/core/server.h"

#define MEMORY_USAGE_DEFAULT_SAMPLES 5

/* ------------------------------------------------------------------ */
/* The sample                                                           */
/* ------------------------------------------------------------------ */

/* memory_info_field returns the value of "name:<n>" in an INFO text, 0 if
 * absent. The scripting module reports its caches only as INFO fields. */
static size_t memory_info_field(const char *info, const char *name) {
  size_t name_len = strlen(name);
  for (const char *p = info; p != NULL && *p != '\0';) {
    if (strncmp(p, name, name_len) == 0 && p[name_len] == ':') {
      return (size_t)strtoull(p + name_len + 1, NULL, 10);
    }
    p = strchr(p, '\n');
    if (p != NULL) {
      p++;
    }
  }
  return 0;
}

static void memory_sample_scripting(memory_overhead *mh) {
  sds info = info_scripting_memory_fields(sds_empty());
  mh->lua_caches = memory_info_field(info, "used_memory_scripts_eval");
  mh->functions_caches = memory_info_field(info, "used_memory_functions");
  mh->cached_scripts = memory_info_field(info, "number_of_cached_scripts");
  sds_free(info);
}

static void memory_sample_clients(memory_overhead *mh) {
  if (server.clients == NULL) {
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(server.clients, &li);
  while ((ln = list_next(&li)) != NULL) {
    client *c = list_node_value(ln);
    size_t mem = client_total_memory_usage(c, NULL);
    /* Monitors carry the SLAVE flag too but are ordinary clients. */
    if ((c->flags & CLIENT_SLAVE) && !(c->flags & CLIENT_MONITOR)) {
      mh->clients_slaves += mem;
    } else {
      mh->clients_normal += mem;
    }
  }
}

/* memory_sample_allocator reads RSS, zmalloc's count and jemalloc's
 * statistics back to back so that their ratios compare one moment. */
static void memory_sample_allocator(memory_overhead *mh) {
  mh->process_rss = zmalloc_get_rss();
  mh->allocator_has_stats = zmalloc_get_allocator_info(
      &mh->allocator_allocated, &mh->allocator_active, &mh->allocator_resident);
  if (!mh->allocator_has_stats) {
    /* glibc malloc: nothing finer than zmalloc's count and the RSS. */
    mh->allocator_allocated = mh->total_allocated;
    mh->allocator_active = mh->total_allocated;
    mh->allocator_resident = mh->process_rss;
  }
  size_t used = mh->total_allocated;
  size_t rss = mh->process_rss;
  mh->total_frag = used ? (float)rss / (float)used : 0;
  mh->total_frag_bytes = (ssize_t)rss - (ssize_t)used;
  mh->allocator_frag =
      mh->allocator_allocated
          ? (float)mh->allocator_active / (float)mh->allocator_allocated
          : 0;
  mh->allocator_frag_bytes =
      (ssize_t)mh->allocator_active - (ssize_t)mh->allocator_allocated;
  mh->allocator_rss = mh->allocator_active ? (float)mh->allocator_resident /
                                                 (float)mh->allocator_active
                                           : 0;
  mh->allocator_rss_bytes =
      (ssize_t)mh->allocator_resident - (ssize_t)mh->allocator_active;
  mh->rss_extra =
      mh->allocator_resident ? (float)rss / (float)mh->allocator_resident : 0;
  mh->rss_extra_bytes = (ssize_t)rss - (ssize_t)mh->allocator_resident;
}

memory_overhead *memory_overhead_new(void) {
  memory_overhead *mh = zcalloc(sizeof(*mh));
  size_t used = zmalloc_used_memory();
  if ((long long)used > server.stat_peak_memory) {
    server.stat_peak_memory = (long long)used;
  }
  mh->total_allocated = used;
  mh->startup_allocated = server.initial_memory_usage;
  mh->peak_allocated = (size_t)server.stat_peak_memory;
  memory_sample_allocator(mh);

  size_t total = server.initial_memory_usage;
  /* The backlog, the AOF buffer and cluster links are not in zmalloc's
   * count as separate figures: they stay 0, as INFO's mem_* fields. */
  memory_sample_clients(mh);
  total += mh->clients_slaves + mh->clients_normal;
  memory_sample_scripting(mh);
  total += mh->lua_caches + mh->functions_caches;

  for (int j = 0; server.db != NULL && j < server.dbnum; j++) {
    redis_db *db = &server.db[j];
    size_t keys = dict_size(db->dict);
    if (keys == 0) {
      continue;
    }
    mh->total_keys += keys;
    mh->db = zrealloc(mh->db, sizeof(mh->db[0]) * (mh->num_dbs + 1));
    memory_db_overhead *dbo = &mh->db[mh->num_dbs++];
    dbo->dbid = j;
    dbo->overhead_ht_main = keys * sizeof(dict_entry) +
                            dict_slots(db->dict) * sizeof(dict_entry *) +
                            keys * sizeof(robj);
    dbo->overhead_ht_expires = dict_size(db->expires) * sizeof(dict_entry) +
                               dict_slots(db->expires) * sizeof(dict_entry *);
    dbo->overhead_ht_slot_to_keys = 0;
    total += dbo->overhead_ht_main + dbo->overhead_ht_expires;
  }

  mh->overhead_total = total;
  mh->dataset = used > total ? used - total : 0;
  mh->peak_perc =
      mh->peak_allocated ? (float)used * 100 / (float)mh->peak_allocated : 0;
  size_t net_usage = 1;
  if (used > mh->startup_allocated) {
    net_usage = used - mh->startup_allocated;
  }
  mh->dataset_perc = (float)mh->dataset * 100 / (float)net_usage;
  mh->bytes_per_key = mh->total_keys ? net_usage / mh->total_keys : 0;
  return mh;
}

void memory_overhead_free(memory_overhead *mh) {
  if (mh == NULL) {
    return;
  }
  zfree(mh->db);
  zfree(mh);
}

/* ------------------------------------------------------------------ */
/* MEMORY DOCTOR                                                        */
/* ------------------------------------------------------------------ */

#define MEMORY_DOCTOR_MIN_USED (5 * 1024 * 1024)
#define MEMORY_DOCTOR_MIN_BYTES (10 << 20)
#define MEMORY_DOCTOR_CLIENT_BUF (200 * 1024)
#define MEMORY_DOCTOR_REPLICA_BUF (10 * 1024 * 1024)
#define MEMORY_DOCTOR_MANY_SCRIPTS 1000

/* The report's paragraphs, worded as Redis 7.0 words them. */
static const char memory_doctor_peak[] =
    " * Peak memory: In the past this instance used more than 150% the "
    "memory that is currently using. The allocator is normally not able to "
    "release memory after a peak, so you can expect to see a big "
    "fragmentation ratio, however this is actually harmless and is only due "
    "to the memory peak, and if the Redis instance Resident Set Size (RSS) "
    "is currently bigger than expected, the memory will be used as soon as "
    "you fill the Redis instance with more data. If the memory peak was "
    "only occasional and you want to try to reclaim memory, please try the "
    "MEMORY PURGE command, otherwise the only other option is to shutdown "
    "and restart the instance.\n\n";
static const char memory_doctor_frag_fmt[] =
    " * High total RSS: This instance has a memory fragmentation and RSS "
    "overhead greater than 1.4 (this means that the Resident Set Size of the "
    "Redis process is much larger than the sum of the logical allocations "
    "Redis performed). This problem is usually due either to a large peak "
    "memory (check if there is a peak memory entry above in the report) or "
    "may result from a workload that causes the allocator to fragment memory "
    "a lot. If the problem is a large peak memory, then there is no issue. "
    "Otherwise, make sure you are using the Jemalloc allocator and not the "
    "default libc malloc. Note: The currently used allocator is \"%s\".\n\n";
static const char memory_doctor_alloc_frag[] =
    " * High allocator fragmentation: This instance has an allocator "
    "external fragmentation greater than 1.1. This problem is usually due "
    "either to a large peak memory (check if there is a peak memory entry "
    "above in the report) or may result from a workload that causes the "
    "allocator to fragment memory a lot. You can try enabling 'activedefrag' "
    "config option.\n\n";
static const char memory_doctor_alloc_rss[] =
    " * High allocator RSS overhead: This instance has an RSS memory "
    "overhead is greater than 1.1 (this means that the Resident Set Size of "
    "the allocator is much larger than the sum what the allocator actually "
    "holds). This problem is usually due to a large peak memory (check if "
    "there is a peak memory entry above in the report), you can try the "
    "MEMORY PURGE command to reclaim it.\n\n";
static const char memory_doctor_proc_rss[] =
    " * High process RSS overhead: This instance has non-allocator RSS "
    "memory overhead is greater than 1.1 (this means that the Resident Set "
    "Size of the Redis process is much larger than the RSS the allocator "
    "holds). This problem may be due to Lua scripts or Modules.\n\n";
static const char memory_doctor_replica_buf[] =
    " * Big replica buffers: The replica output buffers in this instance are "
    "greater than 10MB for each replica (on average). This likely means "
    "that there is some replica instance that is struggling receiving data, "
    "either because it is too slow or because of networking issues. As a "
    "result, data piles on the master output buffers. Please try to "
    "identify what replica is not receiving data correctly and why. You can "
    "use the INFO output in order to check the replicas delays and the "
    "CLIENT LIST command to check the output buffers of each replica.\n\n";
static const char memory_doctor_client_buf[] =
    " * Big client buffers: The clients output buffers in this instance are "
    "greater than 200K per client (on average). This may result from "
    "different causes, like Pub/Sub clients subscribed to channels bot not "
    "receiving data fast enough, so that data piles on the Redis instance "
    "output buffer, or clients sending commands with large replies or very "
    "large sequences of commands in the same pipeline. Please use the CLIENT "
    "LIST command in order to investigate the issue if it causes problems in "
    "your instance, or to understand better why certain clients are using a "
    "big amount of memory.\n\n";
static const char memory_doctor_scripts[] =
    " * Many scripts: There seem to be many cached scripts in this instance "
    "(more than 1000). This may be because scripts are generated and "
    "`EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT "
    "LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, "
    "the scripts' caches may end up consuming most of your memory.\n\n";

/* memory_doctor_report: Redis's getMemoryDoctorReport over our sample. */
static sds memory_doctor_report(void) {
  memory_overhead *mh = memory_overhead_new();
  int empty = 0, big_peak = 0, high_frag = 0, high_alloc_frag = 0;
  int high_proc_rss = 0, high_alloc_rss = 0, big_replica_buf = 0;
  int big_client_buf = 0, many_scripts = 0, num_reports = 0;

  if (mh->total_allocated < MEMORY_DOCTOR_MIN_USED) {
    empty = 1;
    num_reports++;
  } else {
    if ((float)mh->peak_allocated / (float)mh->total_allocated > 1.5) {
      big_peak = 1;
      num_reports++;
    }
    if (mh->total_frag > 1.4 &&
        mh->total_frag_bytes > MEMORY_DOCTOR_MIN_BYTES) {
      high_frag = 1;
      num_reports++;
    }
    if (mh->allocator_frag > 1.1 &&
        mh->allocator_frag_bytes > MEMORY_DOCTOR_MIN_BYTES) {
      high_alloc_frag = 1;
      num_reports++;
    }
    if (mh->allocator_rss > 1.1 &&
        mh->allocator_rss_bytes > MEMORY_DOCTOR_MIN_BYTES) {
      high_alloc_rss = 1;
      num_reports++;
    }
    if (mh->rss_extra > 1.1 && mh->rss_extra_bytes > MEMORY_DOCTOR_MIN_BYTES) {
      high_proc_rss = 1;
      num_reports++;
    }
    long replicas = 0, clients = 0;
    if (server.clients != NULL) {
      list_iter li;
      list_node *ln;
      list_rewind(server.clients, &li);
      while ((ln = list_next(&li)) != NULL) {
        client *c = list_node_value(ln);
        if ((c->flags & CLIENT_SLAVE) && !(c->flags & CLIENT_MONITOR)) {
          replicas++;
        } else {
          clients++;
        }
      }
    }
    if (clients > 0 &&
        mh->clients_normal / (size_t)clients > MEMORY_DOCTOR_CLIENT_BUF) {
      big_client_buf = 1;
      num_reports++;
    }
    if (replicas > 0 && mh->clients_slaves > MEMORY_DOCTOR_REPLICA_BUF) {
      big_replica_buf = 1;
      num_reports++;
    }
    if (mh->cached_scripts > MEMORY_DOCTOR_MANY_SCRIPTS) {
      many_scripts = 1;
      num_reports++;
    }
  }

  sds s;
  if (num_reports == 0) {
    s = sds_new(
        "Hi Sam, I can't find any memory issue in your instance. "
        "I can only account for what occurs on this base.\n");
  } else if (empty) {
    s = sds_new(
        "Hi Sam, this instance is empty or is using very little memory, "
        "my issues detector can't be used in these conditions. "
        "Please, leave for your mission on Earth and fill it with some data. "
        "The new Sam and I will be back to our programming as soon as I "
        "finished rebooting.\n");
  } else {
    s = sds_new(
        "Sam, I detected a few issues in this Redis instance memory "
        "implants:\n\n");
    if (big_peak) {
      s = sds_cat(s, memory_doctor_peak);
    }
    if (high_frag) {
      s = sds_cat_printf(s, memory_doctor_frag_fmt, zmalloc_allocator_name());
    }
    if (high_alloc_frag) {
      s = sds_cat(s, memory_doctor_alloc_frag);
    }
    if (high_alloc_rss) {
      s = sds_cat(s, memory_doctor_alloc_rss);
    }
    if (high_proc_rss) {
      s = sds_cat(s, memory_doctor_proc_rss);
    }
    if (big_replica_buf) {
      s = sds_cat(s, memory_doctor_replica_buf);
    }
    if (big_client_buf) {
      s = sds_cat(s, memory_doctor_client_buf);
    }
    if (many_scripts) {
      s = sds_cat(s, memory_doctor_scripts);
    }
    s = sds_cat(s, "I'm here to keep you safe, Sam. I want to help you.\n");
  }
  memory_overhead_free(mh);
  return s;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */

static void memory_help_command(client *c) {
  static const char *help[] = {
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values "
      "are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
      NULL};
  add_reply_help(c, help);
}

/* MEMORY USAGE key [SAMPLES count] */
static void memory_usage_command(client *c) {
  long long samples = MEMORY_USAGE_DEFAULT_SAMPLES;
  for (int j = 3; j < c->argc; j++) {
    if (!strcasecmp(c->argv[j]->ptr, "samples") && j + 1 < c->argc) {
      if (get_long_long_from_object_or_reply(c, c->argv[j + 1], &samples,
                                             NULL) != C_OK) {
        return;
      }
      if (samples < 0) {
        add_reply_error_object(c, shared.syntaxerr);
        return;
      }
      j++;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  /* As Redis: the entry as stored, without touching its access clock or
   * expiring it. */
  dict_entry *de = dict_find(c->db->dict, c->argv[2]->ptr);
  if (de == NULL) {
    add_reply_null(c);
    return;
  }
  /* compute_size takes 0 as "every element". */
  size_t usage = object_compute_size(dict_get_val(de), (size_t)samples);
  usage += sds_alloc_size(dict_get_key(de));
  usage += zmalloc_size(de);
  add_reply_long_long(c, (long long)usage);
}

static void memory_stats_command(client *c) {
  memory_overhead *mh = memory_overhead_new();
  add_reply_map_len(c, 27 + (long)mh->num_dbs);
#define MEMORY_STAT_LL(name, value)  \
  do {                               \
    add_reply_bulk_cstring(c, name); \
    add_reply_long_long(c, value);   \
  } while (0)
#define MEMORY_STAT_DOUBLE(name, value) \
  do {                                  \
    add_reply_bulk_cstring(c, name);    \
    add_reply_double(c, value);         \
  } while (0)
  MEMORY_STAT_LL("peak.allocated", (long long)mh->peak_allocated);
  MEMORY_STAT_LL("total.allocated", (long long)mh->total_allocated);
  MEMORY_STAT_LL("startup.allocated", (long long)mh->startup_allocated);
  MEMORY_STAT_LL("replication.backlog", (long long)mh->repl_backlog);
  MEMORY_STAT_LL("clients.slaves", (long long)mh->clients_slaves);
  MEMORY_STAT_LL("clients.normal", (long long)mh->clients_normal);
  MEMORY_STAT_LL("cluster.links", (long long)mh->cluster_links);
  MEMORY_STAT_LL("aof.buffer", (long long)mh->aof_buffer);
  MEMORY_STAT_LL("lua.caches", (long long)mh->lua_caches);
  MEMORY_STAT_LL("functions.caches", (long long)mh->functions_caches);
  for (size_t j = 0; j < mh->num_dbs; j++) {
    char dbname[32];
    snprintf(dbname, sizeof(dbname), "db.%d", mh->db[j].dbid);
    add_reply_bulk_cstring(c, dbname);
    add_reply_map_len(c, 3);
    MEMORY_STAT_LL("overhead.hashtable.main",
                   (long long)mh->db[j].overhead_ht_main);
    MEMORY_STAT_LL("overhead.hashtable.expires",
                   (long long)mh->db[j].overhead_ht_expires);
    MEMORY_STAT_LL("overhead.hashtable.slot-to-keys",
                   (long long)mh->db[j].overhead_ht_slot_to_keys);
  }
  MEMORY_STAT_LL("overhead.total", (long long)mh->overhead_total);
  MEMORY_STAT_LL("keys.count", (long long)mh->total_keys);
  MEMORY_STAT_LL("keys.bytes-per-key", (long long)mh->bytes_per_key);
  MEMORY_STAT_LL("dataset.bytes", (long long)mh->dataset);
  MEMORY_STAT_DOUBLE("dataset.percentage", mh->dataset_perc);
  MEMORY_STAT_DOUBLE("peak.percentage", mh->peak_perc);
  MEMORY_STAT_LL("allocator.allocated", (long long)mh->allocator_allocated);
  MEMORY_STAT_LL("allocator.active", (long long)mh->allocator_active);
  MEMORY_STAT_LL("allocator.resident", (long long)mh->allocator_resident);
  MEMORY_STAT_DOUBLE("allocator-fragmentation.ratio", mh->allocator_frag);
  MEMORY_STAT_LL("allocator-fragmentation.bytes", mh->allocator_frag_bytes);
  MEMORY_STAT_DOUBLE("allocator-rss.ratio", mh->allocator_rss);
  MEMORY_STAT_LL("allocator-rss.bytes", mh->allocator_rss_bytes);
  MEMORY_STAT_DOUBLE("rss-overhead.ratio", mh->rss_extra);
  MEMORY_STAT_LL("rss-overhead.bytes", mh->rss_extra_bytes);
  /* The total RSS overhead, named so for backward compatibility. */
  MEMORY_STAT_DOUBLE("fragmentation", mh->total_frag);
  MEMORY_STAT_LL("fragmentation.bytes", mh->total_frag_bytes);
#undef MEMORY_STAT_LL
#undef MEMORY_STAT_DOUBLE
  memory_overhead_free(mh);
}

static void memory_stats_append(void *opaque, const char *text) {
  sds *out = opaque;
  *out = sds_cat(*out, text);
}

static void memory_malloc_stats_command(client *c) {
  sds report = sds_empty();
  if (zmalloc_stats_print(memory_stats_append, &report)) {
    add_reply_verbatim(c, report, sds_len(report), "txt");
  } else {
    add_reply_bulk_cstring(c, "Stats not supported for the current allocator");
  }
  sds_free(report);
}

static void memory_doctor_command(client *c) {
  sds report = memory_doctor_report();
  add_reply_verbatim(c, report, sds_len(report), "txt");
  sds_free(report);
}

static void memory_purge_command(client *c) {
  if (zmalloc_purge() == 0) {
    add_reply(c, shared.ok);
  } else {
    add_reply_error(c, "Error purging dirty pages");
  }
}

/* ------------------------------------------------------------------ */
/* Table                                                                */
/* ------------------------------------------------------------------ */

#define MEMORY_SUBCMD(name_, summary_, proc_, arity_, flags_, acl_, first_, \
                      last_, step_)                                         \
  {                                                                         \
    .declared_name = name_, .summary = summary_, .since = "4.0.0",          \
    .group = "server", .proc = proc_, .arity = arity_, .flags = flags_,     \
    .acl_categories = acl_, .firstkey = first_, .lastkey = last_,           \
    .keystep = step_                                                        \
  }

static redis_command memory_subcommands[] = {
    MEMORY_SUBCMD("doctor", "Outputs memory problems report",
                  memory_doctor_command, 2, 0, ACL_CATEGORY_SLOW, 0, 0, 0),
    MEMORY_SUBCMD("help", "Show helpful text about the different subcommands",
                  memory_help_command, 2, CMD_LOADING | CMD_STALE,
                  ACL_CATEGORY_SLOW, 0, 0, 0),
    MEMORY_SUBCMD("malloc-stats", "Show allocator internal stats",
                  memory_malloc_stats_command, 2, 0, ACL_CATEGORY_SLOW, 0, 0,
                  0),
    MEMORY_SUBCMD("purge", "Ask the allocator to release memory",
                  memory_purge_command, 2, 0, ACL_CATEGORY_SLOW, 0, 0, 0),
    MEMORY_SUBCMD("stats", "Show memory usage details", memory_stats_command, 2,
                  0, ACL_CATEGORY_SLOW, 0, 0, 0),
    MEMORY_SUBCMD("usage", "Estimate the memory usage of a key",
                  memory_usage_command, -3, CMD_READONLY,
                  ACL_CATEGORY_READ | ACL_CATEGORY_SLOW, 2, 2, 1),
    {0}};

redis_command memory_commands[] = {
    {.declared_name = "memory",
     .summary = "A container for memory diagnostics commands",
     .since = "4.0.0",
     .group = "server",
     .proc = NULL,
     .arity = -2,
     .flags = 0,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = memory_subcommands},
    {0}};
