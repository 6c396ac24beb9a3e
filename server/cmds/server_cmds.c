/* server_cmds.c: server-level commands (PING ECHO TIME INFO SHUTDOWN
 * LASTSAVE) and the INFO report generator.
 *
 * INFO prints Redis 7.0's sections, field names and order. Fields for
 * subsystems Redoubt does not have yet (persistence, replication, scripting)
 * print the values an idle Redis with that feature unused would print, so
 * that tools parsing INFO keep working; they become real as the subsystems
 * land. */
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "server/base/zmalloc.h"
#include "server/cmds/memory_cmds.h"
#include "server/cmds/pubsub.h"
#include "server/cmds/server_cmds.h"
#include "server/core/latency.h"
#include "server/core/lazyfree.h"
#include "server/core/server.h"
#include "server/core/tracking.h"
#include "server/types/blocked.h"

/* INFO_EXTRA_SECTIONS_MAX bounds info_register_section. */
#define INFO_EXTRA_SECTIONS_MAX 16
/* INFO_SECTION_ARGS_MAX bounds the section names one INFO call may name. */
#define INFO_SECTION_ARGS_MAX 64
#define INFO_SECTION_NAME_MAX 64

typedef struct info_extra_section {
  const char *name;
  info_section_proc proc;
  int in_default;
} info_extra_section;

static struct {
  info_extra_section extra[INFO_EXTRA_SECTIONS_MAX];
  int extra_count;
} info_state;

/* ------------------------------------------------------------------ */
/* PING ECHO TIME LASTSAVE                                              */
/* ------------------------------------------------------------------ */
static void ping_command(client *c) {
  if (c->argc > 2) {
    add_reply_error_arity(c);
    return;
  }
  /* In RESP2 a subscribed client can only receive arrays. */
  if ((c->flags & CLIENT_PUBSUB) && c->resp == 2) {
    add_reply_array_len(c, 2);
    add_reply_bulk_cbuffer(c, "pong", 4);
    if (c->argc == 1) {
      add_reply_bulk_cbuffer(c, "", 0);
    } else {
      add_reply_bulk(c, c->argv[1]);
    }
    return;
  }
  if (c->argc == 1) {
    add_reply(c, shared.pong);
  } else {
    add_reply_bulk(c, c->argv[1]);
  }
}

static void echo_command(client *c) { add_reply_bulk(c, c->argv[1]); }

static void time_command(client *c) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  add_reply_array_len(c, 2);
  add_reply_bulk_long_long(c, (long long)tv.tv_sec);
  add_reply_bulk_long_long(c, (long long)tv.tv_usec);
}

/* Redis counts the dataset as saved at start-up: until a save happens,
 * the last save time is the start time. */
static long long last_save_time(void) {
  return server.lastsave ? (long long)server.lastsave
                         : (long long)server.stat_starttime;
}

static void lastsave_command(client *c) {
  add_reply_long_long(c, last_save_time());
}

/* ------------------------------------------------------------------ */
/* SHUTDOWN                                                             */
/* ------------------------------------------------------------------ */
static int arg_is(robj *o, const char *s) {
  return sds_encoded_object(o) && strcasecmp(o->ptr, s) == 0;
}

static void shutdown_command(client *c) {
  int flags = SHUTDOWN_NOFLAGS;
  int abort_requested = 0;
  for (int j = 1; j < c->argc; j++) {
    if (arg_is(c->argv[j], "nosave")) {
      flags |= SHUTDOWN_NOSAVE;
    } else if (arg_is(c->argv[j], "save")) {
      flags |= SHUTDOWN_SAVE;
    } else if (arg_is(c->argv[j], "now")) {
      flags |= SHUTDOWN_NOW;
    } else if (arg_is(c->argv[j], "force")) {
      flags |= SHUTDOWN_FORCE;
    } else if (arg_is(c->argv[j], "abort")) {
      abort_requested = 1;
    } else {
      add_reply(c, shared.syntaxerr);
      return;
    }
  }
  if ((abort_requested && flags != SHUTDOWN_NOFLAGS) ||
      ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE))) {
    add_reply(c, shared.syntaxerr);
    return;
  }
  if (abort_requested) {
    /* Shutdown never waits (no replicas to wait for), so nothing can be
     * in progress when a command runs. */
    add_reply_error(c, "No shutdown in progress.");
    return;
  }
  /* A busy script can only be left by SHUTDOWN NOSAVE (its effects so far
   * must not be saved). */
  if (!(flags & SHUTDOWN_NOSAVE) && server.script_busy) {
    add_reply_error_object(c, server.script_busy == SCRIPT_BUSY_EVAL
                                  ? shared.slowevalerr
                                  : shared.slowscripterr);
    return;
  }
  /* While loading, saving would overwrite a good RDB with a partial
   * dataset: Redis forces NOSAVE. */
  if (server.loading || server.sentinel_mode) {
    flags = (flags & ~SHUTDOWN_SAVE) | SHUTDOWN_NOSAVE;
  }
  if (prepare_for_shutdown(flags) == C_OK) {
    exit(0);
  }
  add_reply_error(c, "Errors trying to SHUTDOWN. Check logs.");
}

/* ------------------------------------------------------------------ */
/* INFO                                                                 */
/* ------------------------------------------------------------------ */
void info_register_section(const char *name, info_section_proc proc,
                           int in_default) {
  for (int j = 0; j < info_state.extra_count; j++) {
    if (strcasecmp(info_state.extra[j].name, name) == 0) {
      info_state.extra[j].proc = proc;
      info_state.extra[j].in_default = in_default;
      return;
    }
  }
  if (info_state.extra_count >= INFO_EXTRA_SECTIONS_MAX) {
    server_log(LL_WARNING, "INFO section '%s' not registered: too many", name);
    return;
  }
  info_extra_section *s = &info_state.extra[info_state.extra_count++];
  s->name = name;
  s->proc = proc;
  s->in_default = in_default;
}

static dict_type info_sections_dict_type = {
    dict_sds_case_hash,  NULL, NULL, dict_sds_key_case_compare,
    dict_sds_destructor, NULL, NULL};

static void add_section_name(dict *d, const char *name, size_t len) {
  sds s = sds_new_len(name, len);
  sds_to_lower(s);
  if (dict_add(d, s, NULL) != DICT_OK) {
    sds_free(s);
  }
}

static void add_default_sections(dict *d) {
  static const char *defaults[] = {"server",      "clients",     "memory",
                                   "persistence", "stats",       "replication",
                                   "cpu",         "module_list", "errorstats",
                                   "cluster",     "keyspace",    NULL};
  for (int j = 0; defaults[j]; j++) {
    add_section_name(d, defaults[j], strlen(defaults[j]));
  }
  for (int j = 0; j < info_state.extra_count; j++) {
    if (info_state.extra[j].in_default) {
      add_section_name(d, info_state.extra[j].name,
                       strlen(info_state.extra[j].name));
    }
  }
}

dict *info_gen_section_dict(robj **argv, int argc, int *out_all,
                            int *out_everything) {
  dict *d = dict_create(&info_sections_dict_type);
  *out_all = 0;
  *out_everything = 0;
  if (argc == 0) {
    add_default_sections(d);
    return d;
  }
  if (argc > INFO_SECTION_ARGS_MAX) {
    argc = INFO_SECTION_ARGS_MAX;
  }
  for (int j = 0; j < argc; j++) {
    robj *o = argv[j];
    if (!sds_encoded_object(o)) {
      continue; /* a number names no section */
    }
    if (arg_is(o, "default")) {
      add_default_sections(d);
    } else if (arg_is(o, "all")) {
      *out_all = 1;
    } else if (arg_is(o, "everything")) {
      *out_all = 1;
      *out_everything = 1;
    } else if (sds_len(o->ptr) <= INFO_SECTION_NAME_MAX) {
      add_section_name(d, o->ptr, sds_len(o->ptr));
    }
  }
  return d;
}

/* section_wanted: the dict's keys are sds, so the probe must be one. */
static int section_wanted(dict *d, int all, const char *name) {
  if (all) {
    return 1;
  }
  if (!d) {
    return 0;
  }
  sds key = sds_new(name);
  int found = dict_find(d, key) != NULL;
  sds_free(key);
  return found;
}

static sds section_header(sds info, int *sections, const char *title) {
  if ((*sections)++) {
    info = sds_cat(info, "\r\n");
  }
  return sds_cat_printf(info, "# %s\r\n", title);
}

/* Redis's bytesToHuman: B below 1 KiB, then K M G T P with two decimals. */
static void info_bytes_to_human(char *s, size_t size, unsigned long long n) {
  static const char units[] = "KMGTP";
  if (n < 1024) {
    snprintf(s, size, "%lluB", n);
    return;
  }
  double d = (double)n / 1024;
  for (int j = 0; units[j]; j++) {
    if (d < 1024) {
      snprintf(s, size, "%.2f%c", d, units[j]);
      return;
    }
    d /= 1024;
  }
  snprintf(s, size, "%lluB", n);
}

static const char *maxmemory_policy_name(int policy) {
  switch (policy) {
    case MAXMEMORY_VOLATILE_LRU:
      return "volatile-lru";
    case MAXMEMORY_VOLATILE_LFU:
      return "volatile-lfu";
    case MAXMEMORY_VOLATILE_TTL:
      return "volatile-ttl";
    case MAXMEMORY_VOLATILE_RANDOM:
      return "volatile-random";
    case MAXMEMORY_ALLKEYS_LRU:
      return "allkeys-lru";
    case MAXMEMORY_ALLKEYS_LFU:
      return "allkeys-lfu";
    case MAXMEMORY_ALLKEYS_RANDOM:
      return "allkeys-random";
    default:
      return "noeviction";
  }
}

static sds info_server(sds info) {
  static struct utsname name;
  static int have_name = 0;
  if (!have_name) {
    uname(&name);
    have_name = 1;
  }
  long long now_us = ustime();
  time_t uptime = (time_t)(now_us / 1000000) - server.stat_starttime;
  int port = server.port ? server.port : server.tls_port;
  info = sds_cat_printf(info,
                        "redis_version:%s\r\n"
                        "redis_git_sha1:00000000\r\n"
                        "redis_git_dirty:0\r\n"
                        "redis_build_id:0\r\n"
                        "redis_mode:standalone\r\n"
                        "os:%s %s %s\r\n"
                        "arch_bits:%d\r\n"
                        "monotonic_clock:POSIX clock_gettime\r\n"
                        "multiplexing_api:epoll\r\n"
                        "atomicvar_api:c11-builtin\r\n"
                        "gcc_version:%d.%d.%d\r\n"
                        "process_id:%lld\r\n"
                        "process_supervised:no\r\n"
                        "run_id:%s\r\n"
                        "tcp_port:%d\r\n"
                        "server_time_usec:%lld\r\n"
                        "uptime_in_seconds:%lld\r\n"
                        "uptime_in_days:%lld\r\n"
                        "hz:%d\r\n"
                        "configured_hz:%d\r\n"
                        "lru_clock:%u\r\n"
                        "executable:%s\r\n"
                        "config_file:%s\r\n"
                        "io_threads_active:0\r\n",
                        REDOUBT_VERSION, name.sysname, name.release,
                        name.machine, (int)(sizeof(long) * 8),
#ifdef __GNUC__
                        __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
                        0, 0, 0,
#endif
                        (long long)getpid(), server.runid, port, now_us,
                        (long long)uptime, (long long)(uptime / 86400),
                        server.hz, server.config_hz, server.lruclock,
                        server.executable ? server.executable : "",
                        server.configfile ? server.configfile : "");
  return info;
}

static sds info_clients(sds info) {
  unsigned long connected = 0, blocked = 0;
  size_t max_in = 0, max_out = 0;
  if (server.clients) {
    list_iter li;
    list_node *ln;
    list_rewind(server.clients, &li);
    /* One pass over the clients, as CLIENT LIST does. */
    while ((ln = list_next(&li)) != NULL) {
      client *c = list_node_value(ln);
      /* Replicas are not counted; monitors (also flagged SLAVE) are. */
      if (!(c->flags & CLIENT_SLAVE) || (c->flags & CLIENT_MONITOR)) {
        connected++;
      }
      /* Clients held by CLIENT PAUSE count as blocked too (Redis 7.0's
       * BLOCKED_POSTPONE): tools wait on this figure. */
      if (c->flags & (CLIENT_BLOCKED | CLIENT_PENDING_COMMAND)) {
        blocked++;
      }
      size_t in = c->querybuf ? sds_alloc(c->querybuf) : 0;
      size_t out = get_client_output_buffer_memory_usage(c);
      if (in > max_in) {
        max_in = in;
      }
      if (out > max_out) {
        max_out = out;
      }
    }
  }
  return sds_cat_printf(info,
                        "connected_clients:%lu\r\n"
                        "cluster_connections:0\r\n"
                        "maxclients:%u\r\n"
                        "client_recent_max_input_buffer:%zu\r\n"
                        "client_recent_max_output_buffer:%zu\r\n"
                        "blocked_clients:%lu\r\n"
                        "tracking_clients:%lu\r\n"
                        "clients_in_timeout_table:%lu\r\n",
                        connected, server.maxclients, max_in, max_out, blocked,
                        tracking_clients_count(),
                        blocked_clients_with_timeout_count());
}

/* info_memory: the fields and their order as Redis 7.0; the figures come
 * from one memory_overhead sample (memory_cmds.c), as MEMORY STATS's. */
static sds info_memory(sds info) {
  char hmem[64], hpeak[64], hrss[64], htotal[64], hmax[64];
  memory_overhead *mh = memory_overhead_new();
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGESIZE);
  unsigned long long total_mem =
      pages > 0 && page_size > 0
          ? (unsigned long long)pages * (unsigned long long)page_size
          : 0;
  info_bytes_to_human(hmem, sizeof(hmem), mh->total_allocated);
  info_bytes_to_human(hpeak, sizeof(hpeak), mh->peak_allocated);
  info_bytes_to_human(hrss, sizeof(hrss), mh->process_rss);
  info_bytes_to_human(htotal, sizeof(htotal), total_mem);
  info_bytes_to_human(hmax, sizeof(hmax), server.maxmemory);
  info = sds_cat_printf(
      info,
      "used_memory:%zu\r\n"
      "used_memory_human:%s\r\n"
      "used_memory_rss:%zu\r\n"
      "used_memory_rss_human:%s\r\n"
      "used_memory_peak:%zu\r\n"
      "used_memory_peak_human:%s\r\n"
      "used_memory_peak_perc:%.2f%%\r\n"
      "used_memory_overhead:%zu\r\n"
      "used_memory_startup:%zu\r\n"
      "used_memory_dataset:%zu\r\n"
      "used_memory_dataset_perc:%.2f%%\r\n"
      "allocator_allocated:%zu\r\n"
      "allocator_active:%zu\r\n"
      "allocator_resident:%zu\r\n"
      "total_system_memory:%llu\r\n"
      "total_system_memory_human:%s\r\n",
      mh->total_allocated, hmem, mh->process_rss, hrss, mh->peak_allocated,
      hpeak, mh->peak_perc, mh->overhead_total, mh->startup_allocated,
      mh->dataset, mh->dataset_perc, mh->allocator_allocated,
      mh->allocator_active, mh->allocator_resident, total_mem, htotal);
  info = info_scripting_memory_fields(info); /* server/scripting */
  info = sds_cat_printf(
      info,
      "maxmemory:%llu\r\n"
      "maxmemory_human:%s\r\n"
      "maxmemory_policy:%s\r\n"
      "allocator_frag_ratio:%.2f\r\n"
      "allocator_frag_bytes:%zd\r\n"
      "allocator_rss_ratio:%.2f\r\n"
      "allocator_rss_bytes:%zd\r\n"
      "rss_overhead_ratio:%.2f\r\n"
      "rss_overhead_bytes:%zd\r\n"
      "mem_fragmentation_ratio:%.2f\r\n"
      "mem_fragmentation_bytes:%zd\r\n"
      "mem_not_counted_for_evict:0\r\n"
      "mem_replication_backlog:%zu\r\n"
      "mem_total_replication_buffers:0\r\n"
      "mem_clients_slaves:%zu\r\n"
      "mem_clients_normal:%zu\r\n"
      "mem_cluster_links:%zu\r\n"
      "mem_aof_buffer:%zu\r\n"
      "mem_allocator:%s\r\n"
      "active_defrag_running:0\r\n"
      "lazyfree_pending_objects:%zu\r\n"
      "lazyfreed_objects:%zu\r\n",
      server.maxmemory, hmax, maxmemory_policy_name(server.maxmemory_policy),
      mh->allocator_frag, mh->allocator_frag_bytes, mh->allocator_rss,
      mh->allocator_rss_bytes, mh->rss_extra, mh->rss_extra_bytes,
      mh->total_frag, mh->total_frag_bytes, mh->repl_backlog,
      mh->clients_slaves, mh->clients_normal, mh->cluster_links, mh->aof_buffer,
      zmalloc_allocator_name(), lazyfree_pending_objects(),
      lazyfree_freed_objects());
  memory_overhead_free(mh);
  return info;
}

static sds info_persistence(sds info) { return info_persistence_fields(info); }

static sds info_stats(sds info) {
  return sds_cat_printf(
      info,
      "total_connections_received:%lld\r\n"
      "total_commands_processed:%lld\r\n"
      "instantaneous_ops_per_sec:%lld\r\n"
      "total_net_input_bytes:%lld\r\n"
      "total_net_output_bytes:%lld\r\n"
      "total_net_repl_input_bytes:0\r\n"
      "total_net_repl_output_bytes:0\r\n"
      "instantaneous_input_kbps:%.2f\r\n"
      "instantaneous_output_kbps:%.2f\r\n"
      "instantaneous_input_repl_kbps:0.00\r\n"
      "instantaneous_output_repl_kbps:0.00\r\n"
      "rejected_connections:%lld\r\n"
      "sync_full:%lld\r\n"
      "sync_partial_ok:%lld\r\n"
      "sync_partial_err:%lld\r\n"
      "expired_keys:%lld\r\n"
      "expired_stale_perc:%.2f\r\n"
      "expired_time_cap_reached_count:%lld\r\n"
      "expire_cycle_cpu_milliseconds:%lld\r\n"
      "evicted_keys:%lld\r\n"
      "evicted_clients:%lld\r\n"
      "total_eviction_exceeded_time:%lld\r\n"
      "current_eviction_exceeded_time:0\r\n"
      "keyspace_hits:%lld\r\n"
      "keyspace_misses:%lld\r\n"
      "pubsub_channels:%ld\r\n"
      "pubsub_patterns:%ld\r\n"
      "pubsubshard_channels:%ld\r\n"
      "latest_fork_usec:0\r\n"
      "total_forks:0\r\n"
      "migrate_cached_sockets:0\r\n"
      "slave_expires_tracked_keys:0\r\n"
      "active_defrag_hits:0\r\n"
      "active_defrag_misses:0\r\n"
      "active_defrag_key_hits:0\r\n"
      "active_defrag_key_misses:0\r\n"
      "total_active_defrag_time:0\r\n"
      "current_active_defrag_time:0\r\n"
      "tracking_total_keys:%llu\r\n"
      "tracking_total_items:%llu\r\n"
      "tracking_total_prefixes:%llu\r\n"
      "unexpected_error_replies:%lld\r\n"
      "total_error_replies:%lld\r\n"
      "dump_payload_sanitizations:%lld\r\n"
      "total_reads_processed:%lld\r\n"
      "total_writes_processed:%lld\r\n"
      "io_threaded_reads_processed:%lld\r\n"
      "io_threaded_writes_processed:%lld\r\n"
      "reply_buffer_shrinks:0\r\n"
      "reply_buffer_expands:0\r\n",
      server.stat_numconnections, server.stat_numcommands,
      get_instantaneous_metric(server.inst_metric_samples),
      server.stat_net_input_bytes, server.stat_net_output_bytes,
      (double)get_instantaneous_metric(server.inst_net_in_samples) / 1024,
      (double)get_instantaneous_metric(server.inst_net_out_samples) / 1024,
      server.stat_rejected_conn, server.stat_sync_full,
      server.stat_sync_partial_ok, server.stat_sync_partial_err,
      server.stat_expiredkeys, server.stat_expired_stale_perc * 100,
      server.stat_expired_time_cap_reached_count,
      server.stat_expire_cycle_time_used / 1000, server.stat_evictedkeys,
      server.stat_evictedclients, server.stat_total_eviction_exceeded_time,
      server.stat_keyspace_hits, server.stat_keyspace_misses,
      pubsub_total_channels(), pubsub_total_patterns(),
      pubsub_total_shard_channels(), tracking_total_keys(),
      tracking_total_items(), tracking_total_prefixes(),
      server.stat_unexpected_error_replies, server.stat_total_error_replies,
      server.stat_dump_payload_sanitizations, server.stat_total_reads_processed,
      server.stat_total_writes_processed, server.stat_io_reads_processed,
      server.stat_io_writes_processed);
}

static sds info_replication(sds info) { return info_replication_fields(info); }

static double timeval_seconds(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1000000;
}

static sds info_cpu(sds info) {
  struct rusage self, children, thread;
  memset(&self, 0, sizeof(self));
  memset(&children, 0, sizeof(children));
  memset(&thread, 0, sizeof(thread));
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  getrusage(RUSAGE_THREAD, &thread);
  return sds_cat_printf(
      info,
      "used_cpu_sys:%f\r\n"
      "used_cpu_user:%f\r\n"
      "used_cpu_sys_children:%f\r\n"
      "used_cpu_user_children:%f\r\n"
      "used_cpu_sys_main_thread:%f\r\n"
      "used_cpu_user_main_thread:%f\r\n",
      timeval_seconds(self.ru_stime), timeval_seconds(self.ru_utime),
      timeval_seconds(children.ru_stime), timeval_seconds(children.ru_utime),
      timeval_seconds(thread.ru_stime), timeval_seconds(thread.ru_utime));
}

/* Names are printed as Redis's getSafeInfoString does: ':' and line
 * breaks would corrupt the report, so they become '_'. */
static sds cat_safe_info_string(sds info, const char *s, size_t len) {
  size_t start = sds_len(info);
  info = sds_cat_len(info, s, len);
  for (size_t j = start; j < sds_len(info); j++) {
    if (info[j] == ':' || info[j] == '\r' || info[j] == '\n') {
      info[j] = '_';
    }
  }
  return info;
}

static sds info_command_stats(sds info, dict *commands) {
  dict_iterator *di = dict_get_iterator(commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    redis_command *c = dict_get_val(de);
    if (c->calls || c->failed_calls || c->rejected_calls) {
      info = sds_cat(info, "cmdstat_");
      info = cat_safe_info_string(info, c->fullname, sds_len(c->fullname));
      info = sds_cat_printf(
          info,
          ":calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
          "failed_calls=%lld\r\n",
          c->calls, c->microseconds,
          c->calls == 0 ? 0 : (float)c->microseconds / (float)c->calls,
          c->rejected_calls, c->failed_calls);
    }
    if (c->subcommands_dict) {
      info = info_command_stats(info, c->subcommands_dict);
    }
  }
  dict_release_iterator(di);
  return info;
}

static int compare_error_entries(const void *a, const void *b) {
  const dict_entry *const *ea = a;
  const dict_entry *const *eb = b;
  return strcmp(dict_get_key(*ea), dict_get_key(*eb));
}

/* Redis keeps error codes in a radix tree, so they print sorted. */
static sds info_error_stats(sds info) {
  if (!server.errors || dict_size(server.errors) == 0) {
    return info;
  }
  size_t n = dict_size(server.errors);
  dict_entry **entries = zmalloc(sizeof(dict_entry *) * n);
  size_t count = 0;
  dict_iterator *di = dict_get_iterator(server.errors);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL && count < n) {
    entries[count++] = de;
  }
  dict_release_iterator(di);
  qsort(entries, count, sizeof(dict_entry *), compare_error_entries);
  for (size_t j = 0; j < count; j++) {
    sds name = dict_get_key(entries[j]);
    info = sds_cat(info, "errorstat_");
    info = cat_safe_info_string(info, name, sds_len(name));
    info = sds_cat_printf(info, ":count=%llu\r\n",
                          (unsigned long long)entries[j]->v.u64);
  }
  zfree(entries);
  return info;
}

static sds info_keyspace(sds info) {
  for (int j = 0; server.db && j < server.dbnum; j++) {
    redis_db *db = &server.db[j];
    long long keys = (long long)dict_size(db->dict);
    long long vkeys = (long long)dict_size(db->expires);
    if (keys || vkeys) {
      info =
          sds_cat_printf(info, "db%d:keys=%lld,expires=%lld,avg_ttl=%lld\r\n",
                         j, keys, vkeys, db->avg_ttl);
    }
  }
  return info;
}

sds gen_redis_info_string(dict *section_dict, int all_sections,
                          int everything) {
  sds info = sds_empty();
  int sections = 0;
  if (everything) {
    all_sections = 1;
  }
  dict *d = section_dict;
  int all = all_sections;
  if (section_wanted(d, all, "server")) {
    info = section_header(info, &sections, "Server");
    info = info_server(info);
  }
  if (section_wanted(d, all, "clients")) {
    info = section_header(info, &sections, "Clients");
    info = info_clients(info);
  }
  if (section_wanted(d, all, "memory")) {
    info = section_header(info, &sections, "Memory");
    info = info_memory(info);
  }
  if (section_wanted(d, all, "persistence")) {
    info = section_header(info, &sections, "Persistence");
    info = info_persistence(info);
  }
  if (section_wanted(d, all, "stats")) {
    info = section_header(info, &sections, "Stats");
    info = info_stats(info);
  }
  if (section_wanted(d, all, "replication")) {
    info = section_header(info, &sections, "Replication");
    info = info_replication(info);
  }
  if (section_wanted(d, all, "cpu")) {
    info = section_header(info, &sections, "CPU");
    info = info_cpu(info);
  }
  if (section_wanted(d, all, "module_list") ||
      section_wanted(d, all, "modules")) {
    info = section_header(info, &sections, "Modules");
  }
  if (section_wanted(d, all, "commandstats")) {
    info = section_header(info, &sections, "Commandstats");
    if (server.commands) {
      info = info_command_stats(info, server.commands);
    }
  }
  if (section_wanted(d, all, "errorstats")) {
    info = section_header(info, &sections, "Errorstats");
    info = info_error_stats(info);
  }
  if (section_wanted(d, all, "latencystats")) {
    info = section_header(info, &sections, "Latencystats");
    info = latency_info_latencystats(info);
  }
  if (section_wanted(d, all, "cluster")) {
    info = section_header(info, &sections, "Cluster");
    info = sds_cat(info, "cluster_enabled:0\r\n");
  }
  if (section_wanted(d, all, "keyspace")) {
    info = section_header(info, &sections, "Keyspace");
    info = info_keyspace(info);
  }
  for (int j = 0; j < info_state.extra_count; j++) {
    info_extra_section *s = &info_state.extra[j];
    if (!section_wanted(d, all, s->name)) {
      continue;
    }
    char title[INFO_SECTION_NAME_MAX + 1];
    snprintf(title, sizeof(title), "%s", s->name);
    /* "sandbox" -> "Sandbox"; short names are acronyms: "tls" -> "TLS". */
    size_t title_len = strlen(title);
    for (size_t k = 0; k < title_len && (k == 0 || title_len <= 3); k++) {
      if (title[k] >= 'a' && title[k] <= 'z') {
        title[k] = (char)(title[k] - 'a' + 'A');
      }
    }
    info = section_header(info, &sections, title);
    info = s->proc(info);
  }
  return info;
}

static void info_command(client *c) {
  int all = 0, everything = 0;
  dict *sections =
      info_gen_section_dict(c->argv + 1, c->argc - 1, &all, &everything);
  sds info = gen_redis_info_string(sections, all, everything);
  add_reply_verbatim(c, info, sds_len(info), "txt");
  sds_free(info);
  dict_release(sections);
}

/* ------------------------------------------------------------------ */
/* Table                                                                */
/* ------------------------------------------------------------------ */
redis_command server_commands[] = {
    {.declared_name = "ping",
     .summary = "Ping the server",
     .since = "1.0.0",
     .group = "connection",
     .proc = ping_command,
     .arity = -1,
     .flags = CMD_FAST,
     .acl_categories = ACL_CATEGORY_CONNECTION},
    {.declared_name = "echo",
     .summary = "Echo the given string",
     .since = "1.0.0",
     .group = "connection",
     .proc = echo_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl_categories = ACL_CATEGORY_CONNECTION},
    {.declared_name = "time",
     .summary = "Return the current server time",
     .since = "2.6.0",
     .group = "server",
     .proc = time_command,
     .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST},
    {.declared_name = "info",
     .summary = "Get information and statistics about the server",
     .since = "1.0.0",
     .group = "server",
     .proc = info_command,
     .arity = -1,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_DANGEROUS},
    {.declared_name = "shutdown",
     .summary = "Synchronously save the dataset to disk and then shut down "
                "the server",
     .since = "1.0.0",
     .group = "server",
     .proc = shutdown_command,
     .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE |
              CMD_NO_MULTI | CMD_SENTINEL | CMD_ALLOW_BUSY},
    {.declared_name = "lastsave",
     .summary = "Get the UNIX time stamp of the last successful save to disk",
     .since = "1.0.0",
     .group = "server",
     .proc = lastsave_command,
     .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl_categories = ACL_CATEGORY_ADMIN | ACL_CATEGORY_DANGEROUS},
    {0}};
