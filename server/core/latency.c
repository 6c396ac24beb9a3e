/* latency.c: the latency monitor (see latency.h) and the LATENCY command.
 *
 * Events are few and named by the code that records them (string
 * literals), so they live in a small array in the order they first
 * occurred; each holds a ring of LATENCY_SERIES_LEN samples. Reply texts
 * (errors, HELP, the DOCTOR report, the GRAPH sparkline) are Redis 7.0.15's
 * (src/latency.c, src/sparkline.c). */
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/latency.h"
#include "server/core/server.h"

/* Samples kept per event (Redis's LATENCY_TS_LEN). */
#define LATENCY_SERIES_LEN 160
/* Width of LATENCY GRAPH and the rows of its sparkline. */
#define LATENCY_GRAPH_COLS 80
#define LATENCY_GRAPH_ROWS 4

latency_config latency_cfg = {.monitor_threshold_ms = 0};

typedef struct latency_sample {
  int32_t time;        /* unix seconds; 0 = empty slot */
  uint32_t latency_ms; /* the worst latency seen in that second */
} latency_sample;

typedef struct latency_series {
  char *event;
  int idx;      /* the next slot to write */
  uint32_t max; /* all-time maximum since the last reset */
  latency_sample samples[LATENCY_SERIES_LEN];
} latency_series;

static struct {
  latency_series **series; /* in order of first occurrence */
  int count, cap;
  double fork_rate_gb_per_sec; /* of the last fork (LATENCY DOCTOR) */
} monitor;

/* ------------------------------------------------------------------ */
/* Recording                                                            */
/* ------------------------------------------------------------------ */
/* latency_find returns the series named exactly |name| (|len| bytes). */
static latency_series *latency_find(const char *name, size_t len) {
  for (int j = 0; j < monitor.count; j++) {
    latency_series *ts = monitor.series[j];
    if (strlen(ts->event) == len && memcmp(ts->event, name, len) == 0) {
      return ts;
    }
  }
  return NULL;
}

static latency_series *latency_create(const char *event) {
  if (monitor.count == monitor.cap) {
    monitor.cap = monitor.cap ? monitor.cap * 2 : 16;
    monitor.series =
        zrealloc(monitor.series, sizeof(*monitor.series) * (size_t)monitor.cap);
  }
  latency_series *ts = zcalloc(sizeof(*ts));
  ts->event = zstrdup(event);
  monitor.series[monitor.count++] = ts;
  return ts;
}

void latency_add_sample(const char *event, long long latency_ms) {
  latency_series *ts = latency_find(event, strlen(event));
  if (ts == NULL) {
    ts = latency_create(event);
  }
  uint32_t ms = latency_ms < 0            ? 0
                : latency_ms > UINT32_MAX ? UINT32_MAX
                                          : (uint32_t)latency_ms;
  int32_t now = (int32_t)time(NULL);
  if (ms > ts->max) {
    ts->max = ms;
  }
  /* One sample per second: a later spike in the same second only raises
   * it. */
  int prev = (ts->idx + LATENCY_SERIES_LEN - 1) % LATENCY_SERIES_LEN;
  if (ts->samples[prev].time == now) {
    if (ms > ts->samples[prev].latency_ms) {
      ts->samples[prev].latency_ms = ms;
    }
    return;
  }
  ts->samples[ts->idx].time = now;
  ts->samples[ts->idx].latency_ms = ms;
  ts->idx = (ts->idx + 1) % LATENCY_SERIES_LEN;
}

void latency_note_fork(long long fork_usec) {
  long long usec = fork_usec > 0 ? fork_usec : 1;
  monitor.fork_rate_gb_per_sec = (double)zmalloc_used_memory() * 1000000 /
                                 (double)usec / (1024 * 1024 * 1024);
  latency_add_sample_if_needed("fork", fork_usec / 1000);
}

void latency_note_aof_write(long long start, int fsync_in_progress,
                            int child_active) {
  long long ms = latency_monitor_elapsed(start);
  if (fsync_in_progress) {
    latency_add_sample_if_needed("aof-write-pending-fsync", ms);
  } else if (child_active) {
    latency_add_sample_if_needed("aof-write-active-child", ms);
  } else {
    latency_add_sample_if_needed("aof-write-alone", ms);
  }
  latency_add_sample_if_needed("aof-write", ms);
}

/* latency_reset drops the events named |name| (case-insensitive), or all
 * of them if |name| is NULL. Returns how many were dropped. */
static int latency_reset(const char *name, size_t len) {
  int resets = 0;
  int kept = 0;
  for (int j = 0; j < monitor.count; j++) {
    latency_series *ts = monitor.series[j];
    if (name == NULL ||
        (strlen(ts->event) == len && strncasecmp(ts->event, name, len) == 0)) {
      zfree(ts->event);
      zfree(ts);
      resets++;
    } else {
      monitor.series[kept++] = ts;
    }
  }
  monitor.count = kept;
  return resets;
}

/* ------------------------------------------------------------------ */
/* LATENCY DOCTOR                                                       */
/* ------------------------------------------------------------------ */
typedef struct latency_stats {
  uint32_t avg, min, max, mad; /* over the samples kept */
  uint32_t samples;
  time_t period; /* seconds from the oldest sample to now (at least 1) */
} latency_stats;

static void latency_analyze(const latency_series *ts, latency_stats *ls) {
  memset(ls, 0, sizeof(*ls));
  uint64_t sum = 0;
  time_t oldest = 0;
  for (int j = 0; j < LATENCY_SERIES_LEN; j++) {
    const latency_sample *s = &ts->samples[j];
    if (s->time == 0) {
      continue;
    }
    ls->samples++;
    if (ls->samples == 1) {
      ls->min = ls->max = s->latency_ms;
    } else {
      if (ls->min > s->latency_ms) {
        ls->min = s->latency_ms;
      }
      if (ls->max < s->latency_ms) {
        ls->max = s->latency_ms;
      }
    }
    sum += s->latency_ms;
    if (oldest == 0 || s->time < oldest) {
      oldest = s->time;
    }
  }
  if (ls->samples == 0) {
    return;
  }
  ls->avg = (uint32_t)(sum / ls->samples);
  ls->period = time(NULL) - oldest;
  if (ls->period == 0) {
    ls->period = 1;
  }
  sum = 0;
  for (int j = 0; j < LATENCY_SERIES_LEN; j++) {
    const latency_sample *s = &ts->samples[j];
    if (s->time == 0) {
      continue;
    }
    int64_t delta = (int64_t)ls->avg - (int64_t)s->latency_ms;
    sum += (uint64_t)(delta < 0 ? -delta : delta);
  }
  ls->mad = (uint32_t)(sum / ls->samples);
}

/* AnonHugePages of this process, in bytes (transparent huge pages). */
static long long latency_anon_huge_pages(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  if (f == NULL) {
    return 0;
  }
  char line[256];
  long long total = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long kb;
    if (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
      total += (long long)kb * 1024;
    }
  }
  fclose(f);
  return total;
}

/* The advice the report can end with, in the order it prints them. */
enum {
  ADVISE_BETTER_VM,
  ADVISE_SLOWLOG_ENABLED,
  ADVISE_SLOWLOG_TUNING,
  ADVISE_SLOWLOG_INSPECT,
  ADVISE_SCHEDULER,
  ADVISE_LOCAL_DISK,
  ADVISE_SSD,
  ADVISE_DATA_WRITEBACK,
  ADVISE_DISK_CONTENTION,
  ADVISE_NO_APPENDFSYNC,
  ADVISE_RELAX_FSYNC_POLICY,
  ADVISE_WRITE_LOAD_INFO,
  ADVISE_HZ,
  ADVISE_LARGE_OBJECTS,
  ADVISE_MASS_EVICTION,
  ADVISE_DISABLE_THP,
  ADVISE_COUNT
};

/* Which advice each event calls for, and how many it counts (Redis counts
 * some twice, which only matters for "is there any advice"). */
static const struct {
  const char *event;
  int advice[4]; /* -1 terminated */
} event_advice[] = {
    {"fast-command", {ADVISE_SCHEDULER, -1}},
    {"aof-write-pending-fsync",
     {ADVISE_LOCAL_DISK, ADVISE_DISK_CONTENTION, ADVISE_SSD,
      ADVISE_DATA_WRITEBACK}},
    {"aof-write-active-child",
     {ADVISE_NO_APPENDFSYNC, ADVISE_DATA_WRITEBACK, ADVISE_SSD, -1}},
    {"aof-write-alone",
     {ADVISE_LOCAL_DISK, ADVISE_DATA_WRITEBACK, ADVISE_SSD, -1}},
    {"aof-fsync-always", {ADVISE_RELAX_FSYNC_POLICY, -1}},
    {"aof-fstat", {ADVISE_DISK_CONTENTION, ADVISE_LOCAL_DISK, -1}},
    {"rdb-unlink-temp-file", {ADVISE_DISK_CONTENTION, ADVISE_LOCAL_DISK, -1}},
    {"aof-rewrite-diff-write",
     {ADVISE_WRITE_LOAD_INFO, ADVISE_DATA_WRITEBACK, ADVISE_SSD,
      ADVISE_LOCAL_DISK}},
    {"aof-rename",
     {ADVISE_WRITE_LOAD_INFO, ADVISE_DATA_WRITEBACK, ADVISE_SSD,
      ADVISE_LOCAL_DISK}},
    {"expire-cycle", {ADVISE_HZ, ADVISE_LARGE_OBJECTS, -1}},
    {"eviction-del", {ADVISE_LARGE_OBJECTS, -1}},
    {"eviction-cycle", {ADVISE_MASS_EVICTION, -1}},
};

/* latency_report_event appends one event's line and notes its advice. */
static sds latency_report_event(sds report, int eventnum,
                                const latency_series *ts, int *advise,
                                int *advices) {
  latency_stats ls;
  latency_analyze(ts, &ls);
  report = sds_cat_printf(
      report,
      "%d. %s: %d latency spikes (average %lums, mean deviation %lums, "
      "period %.2f sec). Worst all time event %lums.",
      eventnum, ts->event, (int)ls.samples, (unsigned long)ls.avg,
      (unsigned long)ls.mad, (double)ls.period / ls.samples,
      (unsigned long)ts->max);
  if (!strcasecmp(ts->event, "fork")) {
    double rate = monitor.fork_rate_gb_per_sec;
    const char *quality;
    if (rate < 10) {
      quality = "terrible";
    } else if (rate < 25) {
      quality = "poor";
    } else if (rate < 100) {
      quality = "good";
    } else {
      quality = "excellent";
    }
    if (rate < 25) {
      advise[ADVISE_BETTER_VM] = 1;
      (*advices)++;
    }
    report = sds_cat_printf(report, " Fork rate is %.2f GB/sec (%s).", rate,
                            quality);
  }
  if (!strcasecmp(ts->event, "command")) {
    if (server.slowlog_log_slower_than < 0) {
      advise[ADVISE_SLOWLOG_ENABLED] = 1;
      (*advices)++;
    } else if (server.slowlog_log_slower_than / 1000 >
               latency_cfg.monitor_threshold_ms) {
      advise[ADVISE_SLOWLOG_TUNING] = 1;
      (*advices)++;
    }
    advise[ADVISE_SLOWLOG_INSPECT] = 1;
    advise[ADVISE_LARGE_OBJECTS] = 1;
    *advices += 2;
  }
  for (size_t j = 0; j < sizeof(event_advice) / sizeof(event_advice[0]); j++) {
    if (strcasecmp(ts->event, event_advice[j].event) != 0) {
      continue;
    }
    for (int k = 0; k < 4 && event_advice[j].advice[k] != -1; k++) {
      advise[event_advice[j].advice[k]] = 1;
      (*advices)++;
    }
  }
  return sds_cat_len(report, "\n", 1);
}

static sds latency_report_advice(sds report, const int *advise) {
  unsigned long long slowlog_us =
      (unsigned long long)latency_cfg.monitor_threshold_ms * 1000;
  report = sds_cat(report, "\nI have a few advices for you:\n\n");
  if (advise[ADVISE_BETTER_VM]) {
    report = sds_cat(
        report,
        "- If you are using a virtual machine, consider upgrading it with a "
        "faster one using a hypervisior that provides less latency during "
        "fork() calls. Xen is known to have poor fork() performance. Even in "
        "the context of the same VM provider, certain kinds of instances can "
        "execute fork faster than others.\n");
  }
  if (advise[ADVISE_SLOWLOG_ENABLED]) {
    report = sds_cat_printf(
        report,
        "- There are latency issues with potentially slow commands you are "
        "using. Try to enable the Slow Log Redis feature using the command "
        "'CONFIG SET slowlog-log-slower-than %llu'. If the Slow log is "
        "disabled Redis is not able to log slow commands execution for "
        "you.\n",
        slowlog_us);
  }
  if (advise[ADVISE_SLOWLOG_TUNING]) {
    report = sds_cat_printf(
        report,
        "- Your current Slow Log configuration only logs events that are "
        "slower than your configured latency monitor threshold. Please use "
        "'CONFIG SET slowlog-log-slower-than %llu'.\n",
        slowlog_us);
  }
  if (advise[ADVISE_SLOWLOG_INSPECT]) {
    report = sds_cat(
        report,
        "- Check your Slow Log to understand what are the commands you are "
        "running which are too slow to execute. Please check "
        "https://redis.io/commands/slowlog for more information.\n");
  }
  if (advise[ADVISE_SCHEDULER]) {
    report = sds_cat(
        report,
        "- The system is slow to execute Redis code paths not containing "
        "system calls. This usually means the system does not provide Redis "
        "CPU time to run for long periods. You should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other "
        "software in the same system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the "
        "intrinsic latency in your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis "
        "with MALLOC=libc, if you are using Jemalloc. However this may "
        "create fragmentation problems.\n");
  }
  if (advise[ADVISE_LOCAL_DISK]) {
    report =
        sds_cat(report,
                "- It is strongly advised to use local disks for persistence, "
                "especially if you are using AOF. Remote disks provided by "
                "platform-as-a-service providers are known to be slow.\n");
  }
  if (advise[ADVISE_SSD]) {
    report = sds_cat(
        report,
        "- SSD disks are able to reduce fsync latency, and total time needed "
        "for snapshotting and AOF log rewriting (resulting in smaller memory "
        "usage). With extremely high write load SSD disks can be a good "
        "option. However Redis should perform reasonably with high load "
        "using normal disks. Use this advice as a last resort.\n");
  }
  if (advise[ADVISE_DATA_WRITEBACK]) {
    report = sds_cat(
        report,
        "- Mounting ext3/4 filesystems with data=writeback can provide a "
        "performance boost compared to data=ordered, however this mode of "
        "operation provides less guarantees, and sometimes it can happen "
        "that after a hard crash the AOF file will have a half-written "
        "command at the end and will require to be repaired before Redis "
        "restarts.\n");
  }
  if (advise[ADVISE_DISK_CONTENTION]) {
    report = sds_cat(
        report,
        "- Try to lower the disk contention. This is often caused by other "
        "disk intensive processes running in the same computer (including "
        "other Redis instances).\n");
  }
  if (advise[ADVISE_NO_APPENDFSYNC]) {
    report = sds_cat(
        report,
        "- Assuming from the point of view of data safety this is viable in "
        "your environment, you could try to enable the "
        "'no-appendfsync-on-rewrite' option, so that fsync will not be "
        "performed while there is a child rewriting the AOF file or "
        "producing an RDB file (the moment where there is high disk "
        "contention).\n");
  }
  if (advise[ADVISE_RELAX_FSYNC_POLICY] &&
      server.aof_fsync == AOF_FSYNC_ALWAYS) {
    report = sds_cat(
        report,
        "- Your fsync policy is set to 'always'. It is very hard to get good "
        "performances with such a setup, if possible try to relax the fsync "
        "policy to 'onesec'.\n");
  }
  if (advise[ADVISE_WRITE_LOAD_INFO]) {
    report = sds_cat(
        report,
        "- Latency during the AOF atomic rename operation or when the final "
        "difference is flushed to the AOF file at the end of the rewrite, "
        "sometimes is caused by very high write load, causing the AOF buffer "
        "to get very large. If possible try to send less commands to "
        "accomplish the same work, or use Lua scripts to group multiple "
        "operations into a single EVALSHA call.\n");
  }
  if (advise[ADVISE_HZ] && server.hz < 100) {
    report = sds_cat(
        report,
        "- In order to make the Redis keys expiring process more "
        "incremental, try to set the 'hz' configuration parameter to 100 "
        "using 'CONFIG SET hz 100'.\n");
  }
  if (advise[ADVISE_LARGE_OBJECTS]) {
    report = sds_cat(
        report,
        "- Deleting, expiring or evicting (because of maxmemory policy) "
        "large objects is a blocking operation. If you have very large "
        "objects that are often deleted, expired, or evicted, try to "
        "fragment those objects into multiple smaller objects.\n");
  }
  if (advise[ADVISE_MASS_EVICTION]) {
    report = sds_cat(
        report,
        "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or "
        "allocation of large objects via sets or sorted sets intersections, "
        "STORE option of SORT, Redis Cluster large keys migrations (RESTORE "
        "command), may create sudden memory pressure forcing the server to "
        "block trying to evict keys. \n");
  }
  if (advise[ADVISE_DISABLE_THP]) {
    report = sds_cat(
        report,
        "- I detected a non zero amount of anonymous huge pages used by your "
        "process. This creates very serious latency events in different "
        "conditions, especially when Redis is persisting on disk. To disable "
        "THP support use the command 'echo never > "
        "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add "
        "it into /etc/rc.local so that the command will be executed again "
        "after a reboot. Note that even if you have already disabled THP, "
        "you still need to restart the Redis process to get rid of the huge "
        "pages already created.\n");
  }
  return report;
}

static sds latency_report(void) {
  if (monitor.count == 0 && latency_cfg.monitor_threshold_ms == 0) {
    return sds_new(
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in "
        "this Redis instance. You may use \"CONFIG SET "
        "latency-monitor-threshold <milliseconds>.\" in order to enable it. "
        "If we weren't in a deep space mission I'd suggest to take a look at "
        "https://redis.io/topics/latency-monitor.\n");
  }
  sds report = sds_empty();
  int advise[ADVISE_COUNT] = {0};
  int advices = 0;
  for (int j = 0; j < monitor.count; j++) {
    if (j == 0) {
      report = sds_cat(
          report,
          "Dave, I have observed latency spikes in this Redis instance. You "
          "don't mind talking about it, do you Dave?\n\n");
    }
    report = latency_report_event(report, j + 1, monitor.series[j], advise,
                                  &advices);
  }
  if (latency_anon_huge_pages() > 0) {
    advise[ADVISE_DISABLE_THP] = 1;
    advices++;
  }
  if (monitor.count == 0 && advices == 0) {
    report = sds_cat(
        report,
        "Dave, no latency spike was observed during the lifetime of this "
        "Redis instance, not in the slightest bit. I honestly think you "
        "ought to sit down calmly, take a stress pill, and think things "
        "over.\n");
  } else if (monitor.count > 0 && advices == 0) {
    report = sds_cat(
        report,
        "\nWhile there are latency events logged, I'm not able to suggest "
        "any easy fix. Please use the Redis community to get some help, "
        "providing this report in your help request.\n");
  } else {
    report = latency_report_advice(report, advise);
  }
  return report;
}

/* ------------------------------------------------------------------ */
/* LATENCY GRAPH: Redis's sparkline, filled, 4 rows, 80 columns          */
/* ------------------------------------------------------------------ */
typedef struct graph_point {
  double value;
  char label[16]; /* "12s", "3m", "1h", "2d" */
} graph_point;

/* graph_render_range appends the rows for points[offset, offset + len):
 * LATENCY_GRAPH_ROWS rows of the curve, a blank row, then the labels
 * written downwards, one character per row. */
static sds graph_render_range(sds out, const graph_point *points, int offset,
                              int len, double min, double max) {
  static const char fill[] = "_o#";
  const int charset_len = 3;
  const int rows = LATENCY_GRAPH_ROWS;
  const int steps = charset_len * rows;
  double relmax = max - min;
  if (relmax == 0) {
    relmax = 1;
  }
  char *chars = zmalloc((size_t)len);
  for (int row = 0;; row++) {
    int more = 0;
    memset(chars, ' ', (size_t)len);
    for (int j = 0; j < len; j++) {
      const graph_point *p = &points[offset + j];
      if (row < rows) {
        double relval = p->value - min;
        int step = (int)((double)(int)(relval * steps) / relmax);
        if (step < 0) {
          step = 0;
        }
        if (step >= steps) {
          step = steps - 1;
        }
        int charidx = step - ((rows - row - 1) * charset_len);
        more = 1;
        if (charidx >= 0 && charidx < charset_len) {
          chars[j] = fill[charidx];
        } else if (charidx >= charset_len) {
          chars[j] = '|';
        }
      } else if (row == rows) {
        more = 1; /* the margin above the labels */
        break;
      } else {
        size_t label_char = (size_t)(row - rows - 1);
        if (strlen(p->label) > label_char) {
          more = 1;
          chars[j] = p->label[label_char];
        }
      }
    }
    if (!more) {
      break;
    }
    out = sds_cat_len(out, chars, (size_t)len);
    out = sds_cat_len(out, "\n", 1);
  }
  zfree(chars);
  return out;
}

static sds latency_graph(const latency_series *ts) {
  graph_point points[LATENCY_SERIES_LEN];
  int n = 0;
  uint32_t min = 0, max = 0;
  time_t now = time(NULL);
  for (int j = 0; j < LATENCY_SERIES_LEN; j++) {
    const latency_sample *s = &ts->samples[(ts->idx + j) % LATENCY_SERIES_LEN];
    if (s->time == 0) {
      continue;
    }
    if (n == 0) {
      min = max = s->latency_ms;
    } else {
      if (s->latency_ms > max) {
        max = s->latency_ms;
      }
      if (s->latency_ms < min) {
        min = s->latency_ms;
      }
    }
    int elapsed = (int)(now - s->time);
    graph_point *p = &points[n++];
    p->value = s->latency_ms;
    if (elapsed < 60) {
      snprintf(p->label, sizeof(p->label), "%ds", elapsed);
    } else if (elapsed < 3600) {
      snprintf(p->label, sizeof(p->label), "%dm", elapsed / 60);
    } else if (elapsed < 3600 * 24) {
      snprintf(p->label, sizeof(p->label), "%dh", elapsed / 3600);
    } else {
      snprintf(p->label, sizeof(p->label), "%dd", elapsed / (3600 * 24));
    }
  }
  sds graph = sds_cat_printf(
      sds_empty(), "%s - high %lu ms, low %lu ms (all time high %lu ms)\n",
      ts->event, (unsigned long)max, (unsigned long)min,
      (unsigned long)ts->max);
  for (int j = 0; j < LATENCY_GRAPH_COLS; j++) {
    graph = sds_cat_len(graph, "-", 1);
  }
  graph = sds_cat_len(graph, "\n", 1);
  for (int j = 0; j < n; j += LATENCY_GRAPH_COLS) {
    int len = n - j < LATENCY_GRAPH_COLS ? n - j : LATENCY_GRAPH_COLS;
    if (j != 0) {
      graph = sds_cat_len(graph, "\n", 1);
    }
    graph = graph_render_range(graph, points, j, len, min, max);
  }
  return graph;
}

/* ------------------------------------------------------------------ */
/* The command                                                          */
/* ------------------------------------------------------------------ */
static void latency_reply_samples(client *c, const latency_series *ts) {
  void *len_node = add_reply_deferred_len(c);
  long n = 0;
  for (int j = 0; j < LATENCY_SERIES_LEN; j++) {
    const latency_sample *s = &ts->samples[(ts->idx + j) % LATENCY_SERIES_LEN];
    if (s->time == 0) {
      continue;
    }
    add_reply_array_len(c, 2);
    add_reply_long_long(c, s->time);
    add_reply_long_long(c, s->latency_ms);
    n++;
  }
  set_deferred_array_len(c, len_node, n);
}

static void latency_reply_latest(client *c) {
  add_reply_array_len(c, monitor.count);
  for (int j = 0; j < monitor.count; j++) {
    const latency_series *ts = monitor.series[j];
    int last = (ts->idx + LATENCY_SERIES_LEN - 1) % LATENCY_SERIES_LEN;
    add_reply_array_len(c, 4);
    add_reply_bulk_cstring(c, ts->event);
    add_reply_long_long(c, ts->samples[last].time);
    add_reply_long_long(c, ts->samples[last].latency_ms);
    add_reply_long_long(c, ts->max);
  }
}

static void latency_command(client *c) {
  const char *sub = c->argv[1]->ptr;
  if (!strcasecmp(sub, "history") && c->argc == 3) {
    sds name = c->argv[2]->ptr;
    latency_series *ts = latency_find(name, sds_len(name));
    if (ts == NULL) {
      add_reply_array_len(c, 0);
    } else {
      latency_reply_samples(c, ts);
    }
  } else if (!strcasecmp(sub, "graph") && c->argc == 3) {
    sds name = c->argv[2]->ptr;
    latency_series *ts = latency_find(name, sds_len(name));
    if (ts == NULL) {
      add_reply_error_format(c, "No samples available for event '%s'", name);
      return;
    }
    sds graph = latency_graph(ts);
    add_reply_verbatim(c, graph, sds_len(graph), "txt");
    sds_free(graph);
  } else if (!strcasecmp(sub, "latest") && c->argc == 2) {
    latency_reply_latest(c);
  } else if (!strcasecmp(sub, "doctor") && c->argc == 2) {
    sds report = latency_report();
    add_reply_verbatim(c, report, sds_len(report), "txt");
    sds_free(report);
  } else if (!strcasecmp(sub, "reset")) {
    if (c->argc == 2) {
      add_reply_long_long(c, latency_reset(NULL, 0));
    } else {
      long long resets = 0;
      for (int j = 2; j < c->argc; j++) {
        sds name = c->argv[j]->ptr;
        resets += latency_reset(name, sds_len(name));
      }
      add_reply_long_long(c, resets);
    }
  } else if (!strcasecmp(sub, "histogram")) {
    latency_reply_histograms(c, 2);
  } else if (!strcasecmp(sub, "help") && c->argc == 2) {
    static const char *help[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a "
        "histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL};
    add_reply_help(c, help);
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

#define LATENCY_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define LATENCY_ACL \
  (ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS)

static redis_command latency_subcommands[] = {
    {.declared_name = "doctor",
     .summary = "Return a human readable latency analysis report.",
     .since = "2.8.13",
     .group = "server",
     .proc = latency_command,
     .arity = 2,
     .flags = LATENCY_FLAGS,
     .acl_categories = LATENCY_ACL},
    {.declared_name = "graph",
     .summary = "Return a latency graph for the event.",
     .since = "2.8.13",
     .group = "server",
     .proc = latency_command,
     .arity = 3,
     .flags = LATENCY_FLAGS,
     .acl_categories = LATENCY_ACL},
    {.declared_name = "help",
     .summary = "Show helpful text about the different subcommands.",
     .since = "2.8.13",
     .group = "server",
     .proc = latency_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SLOW},
    {.declared_name = "histogram",
     .summary = "Return the cumulative distribution of latencies of a subset "
                "of commands or all.",
     .since = "7.0.0",
     .group = "server",
     .proc = latency_command,
     .arity = -2,
     .flags = LATENCY_FLAGS,
     .acl_categories = LATENCY_ACL},
    {.declared_name = "history",
     .summary = "Return timestamp-latency samples for the event.",
     .since = "2.8.13",
     .group = "server",
     .proc = latency_command,
     .arity = 3,
     .flags = LATENCY_FLAGS,
     .acl_categories = LATENCY_ACL},
    {.declared_name = "latest",
     .summary = "Return the latest latency samples for all events.",
     .since = "2.8.13",
     .group = "server",
     .proc = latency_command,
     .arity = 2,
     .flags = LATENCY_FLAGS,
     .acl_categories = LATENCY_ACL},
    {.declared_name = "reset",
     .summary = "Reset latency data for one or more events.",
     .since = "2.8.13",
     .group = "server",
     .proc = latency_command,
     .arity = -2,
     .flags = LATENCY_FLAGS,
     .acl_categories = LATENCY_ACL},
    {0},
};

redis_command latency_commands[] = {
    {.declared_name = "latency",
     .summary = "A container for latency diagnostics commands",
     .since = "2.8.13",
     .group = "server",
     /* A container: the dispatcher runs the subcommand's proc. */
     .proc = latency_command,
     .arity = -2,
     .flags = 0,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = latency_subcommands},
    {0},
};
