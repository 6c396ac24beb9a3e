/* latency_tracking.c: per-command latency histograms (latency-tracking),
 * INFO latencystats and the reply of LATENCY HISTOGRAM.
 *
 * Redis records each call's duration (microseconds * 1000, clamped to
 * 1 ns .. 1 s) in an hdr_histogram created with lowest 1, highest 1e9 and
 * 2 significant digits. Its percentiles and LATENCY HISTOGRAM's bucket
 * bounds are values at bucket edges, so to print the same numbers we keep
 * the same buckets. That configuration comes down to:
 *   - 256 sub-buckets per bucket (the smallest power of two >= 2 * 10^2),
 *     of which the upper 128 are new in each bucket after the first;
 *   - bucket b covers [128 << b, 256 << b) (bucket 0: [0, 256)) in steps of
 *     1 << b;
 *   - 23 buckets reach 1e9, so the counts array has (23 + 1) * 128 = 3072
 *     slots, slot i holding the values of hist_value_at_index(i) .. the
 *     next slot's value - 1.
 * This file computes the same slot for a value, the same value for a slot
 * and the same walks (value_at_percentile, the logarithmic iterator with
 * a first bucket of 1024 ns and base 2) over its own array. */
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/latency.h"
#include "server/core/server.h"

#define HIST_MIN_NS 1LL
#define HIST_MAX_NS 1000000000LL
#define HIST_SUB_BUCKET_HALF_MAGNITUDE 7 /* half count 128 */
#define HIST_SUB_BUCKET_HALF_COUNT (1 << HIST_SUB_BUCKET_HALF_MAGNITUDE)
#define HIST_SUB_BUCKET_MASK 255LL /* sub_bucket_count - 1 */
#define HIST_BUCKET_COUNT 23
#define HIST_COUNTS_LEN ((HIST_BUCKET_COUNT + 1) * HIST_SUB_BUCKET_HALF_COUNT)
/* LATENCY HISTOGRAM's first reporting level (ns) and its growth factor. */
#define HIST_REPORT_FIRST_NS 1024LL

typedef struct latency_histogram {
  uint64_t total;
  uint64_t counts[HIST_COUNTS_LEN];
} latency_histogram;

/* Histograms by redis_command.id (dense: the command table numbers every
 * command and subcommand from 0). NULL: the command has no data. */
static struct {
  latency_histogram **by_id;
  int cap;
  double percentiles[LATENCY_TRACKING_MAX_PERCENTILES];
  int percentiles_count;
} tracking = {
    .percentiles = {50.0, 99.0, 99.9},
    .percentiles_count = 3,
};

/* ------------------------------------------------------------------ */
/* Bucket arithmetic (hdr_histogram's, for unit magnitude 0)            */
/* ------------------------------------------------------------------ */
/* hist_bucket_of: the bucket of value |v| (>= 0). */
static inline int hist_bucket_of(long long v) {
  int pow2ceiling =
      64 - __builtin_clzll((unsigned long long)v | HIST_SUB_BUCKET_MASK);
  return pow2ceiling - (HIST_SUB_BUCKET_HALF_MAGNITUDE + 1);
}

static inline int hist_index_of(long long v) {
  int bucket = hist_bucket_of(v);
  int sub = (int)(v >> bucket);
  return ((bucket + 1) << HIST_SUB_BUCKET_HALF_MAGNITUDE) + sub -
         HIST_SUB_BUCKET_HALF_COUNT;
}

/* hist_value_at_index: the lowest value slot |idx| holds. */
static long long hist_value_at_index(int idx) {
  int bucket = (idx >> HIST_SUB_BUCKET_HALF_MAGNITUDE) - 1;
  int sub =
      (idx & (HIST_SUB_BUCKET_HALF_COUNT - 1)) + HIST_SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    sub -= HIST_SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return (long long)sub << bucket;
}

/* hist_highest_equivalent: the highest value counted in |v|'s slot. */
static long long hist_highest_equivalent(long long v) {
  int bucket = hist_bucket_of(v);
  long long lowest = (v >> bucket) << bucket;
  return lowest + (1LL << bucket) - 1;
}

/* ------------------------------------------------------------------ */
/* Recording                                                            */
/* ------------------------------------------------------------------ */
static latency_histogram *latency_histogram_create(int id) {
  if (id >= tracking.cap) {
    int cap = tracking.cap ? tracking.cap : 256;
    while (cap <= id) {
      cap *= 2;
    }
    tracking.by_id =
        zrealloc(tracking.by_id, sizeof(*tracking.by_id) * (size_t)cap);
    memset(tracking.by_id + tracking.cap, 0,
           sizeof(*tracking.by_id) * (size_t)(cap - tracking.cap));
    tracking.cap = cap;
  }
  tracking.by_id[id] = zcalloc(sizeof(latency_histogram));
  return tracking.by_id[id];
}

void latency_tracking_record(const redis_command *cmd, long long duration_us) {
  int id = cmd->id;
  latency_histogram *h = id < tracking.cap ? tracking.by_id[id] : NULL;
  if (h == NULL) {
    h = latency_histogram_create(id);
  }
  long long ns;
  if (duration_us >= HIST_MAX_NS / 1000) {
    ns = HIST_MAX_NS;
  } else if (duration_us < 1) {
    ns = HIST_MIN_NS;
  } else {
    ns = duration_us * 1000;
  }
  h->counts[hist_index_of(ns)]++;
  h->total++;
}

static latency_histogram *latency_histogram_of(const redis_command *cmd) {
  return cmd->id < tracking.cap ? tracking.by_id[cmd->id] : NULL;
}

void latency_tracking_reset(void) {
  for (int j = 0; j < tracking.cap; j++) {
    zfree(tracking.by_id[j]);
    tracking.by_id[j] = NULL;
  }
}

int latency_tracking_set_percentiles(const double *values, int count) {
  if (count < 0 || count > LATENCY_TRACKING_MAX_PERCENTILES) {
    return 0;
  }
  memcpy(tracking.percentiles, values, sizeof(double) * (size_t)count);
  tracking.percentiles_count = count;
  return 1;
}

/* ------------------------------------------------------------------ */
/* INFO latencystats                                                    */
/* ------------------------------------------------------------------ */
/* hist_value_at_percentile: hdr_value_at_percentile. */
static long long hist_value_at_percentile(const latency_histogram *h,
                                          double percentile) {
  double requested = percentile < 100.0 ? percentile : 100.0;
  long long wanted = (long long)(((requested / 100) * (double)h->total) + 0.5);
  if (wanted < 1) {
    wanted = 1;
  }
  unsigned long long seen = 0;
  for (int idx = 0; idx < HIST_COUNTS_LEN; idx++) {
    seen += h->counts[idx];
    if (seen >= (unsigned long long)wanted) {
      long long v = hist_value_at_index(idx);
      return percentile == 0.0 ? v : hist_highest_equivalent(v);
    }
  }
  return 0;
}

/* "%f" without trailing zeros or dot (Redis's trimDoubleString). */
static sds cat_trimmed_double(sds s, double v) {
  char buf[128];
  int len = snprintf(buf, sizeof(buf), "%f", v);
  if (len <= 0 || len >= (int)sizeof(buf)) {
    return s;
  }
  if (strchr(buf, '.') != NULL) {
    while (buf[len - 1] == '0') {
      len--;
    }
    if (buf[len - 1] == '.') {
      len--;
    }
  }
  return sds_cat_len(s, buf, (size_t)len);
}

/* A name as Redis's getSafeInfoString prints it: ':' and line breaks would
 * break the INFO format, so they become '_'. */
static sds cat_safe_name(sds info, const char *s, size_t len) {
  size_t start = sds_len(info);
  info = sds_cat_len(info, s, len);
  for (size_t j = start; j < sds_len(info); j++) {
    if (info[j] == ':' || info[j] == '\r' || info[j] == '\n' ||
        info[j] == '#') {
      info[j] = '_';
    }
  }
  return info;
}

static sds info_percentiles_line(sds info, const redis_command *cmd,
                                 const latency_histogram *h) {
  info = sds_cat(info, "latency_percentiles_usec_");
  info = cat_safe_name(info, cmd->fullname, sds_len(cmd->fullname));
  info = sds_cat(info, ":");
  for (int j = 0; j < tracking.percentiles_count; j++) {
    double p = tracking.percentiles[j];
    info = sds_cat(info, "p");
    info = cat_trimmed_double(info, p);
    info = sds_cat_printf(info, "=%.3f%s",
                          (double)hist_value_at_percentile(h, p) / 1000.0,
                          j == tracking.percentiles_count - 1 ? "" : ",");
  }
  return sds_cat(info, "\r\n");
}

static sds info_latencystats_of(sds info, dict *commands) {
  dict_iterator *di = dict_get_iterator(commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    redis_command *cmd = dict_get_val(de);
    latency_histogram *h = latency_histogram_of(cmd);
    if (h != NULL) {
      info = info_percentiles_line(info, cmd, h);
    }
    if (cmd->subcommands_dict) {
      info = info_latencystats_of(info, cmd->subcommands_dict);
    }
  }
  dict_release_iterator(di);
  return info;
}

sds latency_info_latencystats(sds info) {
  if (!server.latency_tracking_enabled || server.commands == NULL) {
    return info;
  }
  return info_latencystats_of(info, server.commands);
}

/* ------------------------------------------------------------------ */
/* LATENCY HISTOGRAM                                                    */
/* ------------------------------------------------------------------ */
/* reply_histogram: {calls: N, histogram_usec: {bound: cumulative, ...}}.
 * Redis walks its histogram with a logarithmic iterator (first level
 * 1024 ns, base 2). At level L the walk stops on the slot of L itself and
 * reports that slot's highest value (in us, truncated) with the count of
 * every slot up to and including it; past the last slot it reports the
 * last slot's highest value with the total. Levels that add nothing are
 * not printed. */
static void reply_histogram(client *c, const latency_histogram *h) {
  add_reply_map_len(c, 2);
  add_reply_bulk_cstring(c, "calls");
  add_reply_long_long(c, (long long)h->total);
  add_reply_bulk_cstring(c, "histogram_usec");
  void *len_node = add_reply_deferred_len(c);
  long pairs = 0;
  unsigned long long cumulative = 0, previous = 0;
  int idx = 0; /* next slot to add to |cumulative| */
  for (long long level = HIST_REPORT_FIRST_NS; cumulative < h->total;
       level *= 2) {
    int stop = hist_index_of(level);
    long long upper;
    if (stop >= HIST_COUNTS_LEN) {
      stop = HIST_COUNTS_LEN - 1;
      upper = hist_highest_equivalent(hist_value_at_index(stop));
    } else {
      upper = hist_highest_equivalent(level);
    }
    for (; idx <= stop; idx++) {
      cumulative += h->counts[idx];
    }
    if (cumulative > previous) {
      add_reply_long_long(c, upper / 1000);
      add_reply_long_long(c, (long long)cumulative);
      pairs++;
    }
    previous = cumulative;
    if (stop == HIST_COUNTS_LEN - 1) {
      break;
    }
  }
  set_deferred_map_len(c, len_node, pairs);
}

static void reply_named_histogram(client *c, const redis_command *cmd,
                                  const latency_histogram *h, long *count) {
  add_reply_bulk_cbuffer(c, cmd->fullname, sds_len(cmd->fullname));
  reply_histogram(c, h);
  (*count)++;
}

static void reply_all_histograms(client *c, dict *commands, long *count) {
  dict_iterator *di = dict_get_safe_iterator(commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    redis_command *cmd = dict_get_val(de);
    latency_histogram *h = latency_histogram_of(cmd);
    if (h != NULL) {
      reply_named_histogram(c, cmd, h, count);
    }
    if (cmd->subcommands_dict) {
      reply_all_histograms(c, cmd->subcommands_dict, count);
    }
  }
  dict_release_iterator(di);
}

void latency_reply_histograms(client *c, int first) {
  void *len_node = add_reply_deferred_len(c);
  long count = 0;
  if (first >= c->argc) {
    if (server.commands != NULL) {
      reply_all_histograms(c, server.commands, &count);
    }
    set_deferred_map_len(c, len_node, count);
    return;
  }
  for (int j = first; j < c->argc; j++) {
    robj *arg = c->argv[j];
    /* Unknown names are skipped, as Redis does; so are names no command
     * can have (a number, an embedded NUL). */
    if (!sds_encoded_object(arg) ||
        memchr(arg->ptr, '\0', sds_len(arg->ptr)) != NULL) {
      continue;
    }
    redis_command *cmd = lookup_command_by_cstring(arg->ptr);
    if (cmd == NULL) {
      continue;
    }
    latency_histogram *h = latency_histogram_of(cmd);
    if (h != NULL) {
      reply_named_histogram(c, cmd, h, &count);
    }
    if (cmd->subcommands_dict) {
      dict_iterator *di = dict_get_safe_iterator(cmd->subcommands_dict);
      dict_entry *de;
      while ((de = dict_next(di)) != NULL) {
        redis_command *sub = dict_get_val(de);
        latency_histogram *sh = latency_histogram_of(sub);
        if (sh != NULL) {
          reply_named_histogram(c, sub, sh, &count);
        }
      }
      dict_release_iterator(di);
    }
  }
  set_deferred_map_len(c, len_node, count);
}
