/* latency.h: Redis 7.0's latency monitor and per-command latency tracking.
 *
 * The monitor (latency.c) keeps, for each named event ("command", "fork",
 * "aof-write", ...), the last 160 samples of at most one per second, each
 * the worst latency (ms) seen in that second, plus the all-time maximum.
 * A sample is recorded only when latency-monitor-threshold is set and the
 * latency reaches it. LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR read it.
 *
 * Tracking (latency_tracking.c) keeps one histogram per command (and per
 * subcommand, "config|set") of the durations call() measured, with the
 * buckets of Redis's hdr_histogram (1 ns .. 1 s, 2 significant digits), so
 * that INFO latencystats percentiles and LATENCY HISTOGRAM come out as in
 * Redis for the same durations. */
#ifndef REDOUBT_CORE_LATENCY_H
#define REDOUBT_CORE_LATENCY_H

#include "server/core/command.h"

/* ------------------------------------------------------------------ */
/* Monitor                                                              */
/* ------------------------------------------------------------------ */
/* latency_config: the directive that drives the monitor. config.c's table
 * points at the field (its one writer); code here only reads it. */
typedef struct latency_config {
  long long monitor_threshold_ms; /* latency-monitor-threshold; 0 = off */
} latency_config;
extern latency_config latency_cfg;

/* latency_add_sample records |latency_ms| for |event| (a string literal:
 * the name is copied once, when the event is first seen). */
void latency_add_sample(const char *event, long long latency_ms);

/* latency_add_sample_if_needed records the sample only if the monitor is on
 * and |latency_ms| reaches the threshold (Redis's
 * latencyAddSampleIfNeeded). */
static inline void latency_add_sample_if_needed(const char *event,
                                                long long latency_ms) {
  if (latency_cfg.monitor_threshold_ms != 0 &&
      latency_ms >= latency_cfg.monitor_threshold_ms) {
    latency_add_sample(event, latency_ms);
  }
}

/* latency_monitor_start returns a start stamp for latency_monitor_elapsed:
 * the clock in ms while the monitor is on, 0 (no clock read) otherwise. A
 * monitored step is then two lines:
 *   long long lat = latency_monitor_start();
 *   ...the step...
 *   latency_monitor_end("event", lat);                                   */
static inline long long latency_monitor_start(void) {
  return latency_cfg.monitor_threshold_ms != 0 ? mstime() : 0;
}

/* latency_monitor_elapsed returns the ms since |start| (0 when the monitor
 * is off, or was off at the start). */
static inline long long latency_monitor_elapsed(long long start) {
  if (latency_cfg.monitor_threshold_ms == 0 || start == 0) {
    return 0;
  }
  return mstime() - start;
}

/* latency_monitor_end records the time since |start| for |event| if it
 * reaches the threshold. */
static inline void latency_monitor_end(const char *event, long long start) {
  latency_add_sample_if_needed(event, latency_monitor_elapsed(start));
}

/* latency_note_fork records a fork() that took |fork_usec| microseconds:
 * the "fork" event, and the fork rate that LATENCY DOCTOR grades. */
void latency_note_fork(long long fork_usec);

/* latency_note_aof_write records an AOF write() that started at |start|
 * (latency_monitor_start) as "aof-write" and, as Redis splits it, as
 * "aof-write-pending-fsync" if a background fsync was in progress, else
 * "aof-write-active-child" if a fork child was running, else
 * "aof-write-alone". */
void latency_note_aof_write(long long start, int fsync_in_progress,
                            int child_active);

/* LATENCY and its subcommands (latency.c). */
extern redis_command latency_commands[];

/* ------------------------------------------------------------------ */
/* Per-command tracking                                                 */
/* ------------------------------------------------------------------ */
/* Most percentiles latency-tracking-info-percentiles may list. */
#define LATENCY_TRACKING_MAX_PERCENTILES 64

/* latency_tracking_record adds one call of |cmd| that took |duration_us|
 * to its histogram (clamped to 1 ns .. 1 s as Redis does). The first call
 * of a command allocates its histogram; later ones only count. call()
 * checks server.latency_tracking_enabled before calling. */
void latency_tracking_record(const redis_command *cmd, long long duration_us);

/* latency_tracking_reset drops every histogram (CONFIG RESETSTAT). */
void latency_tracking_reset(void);

/* latency_tracking_set_percentiles sets the percentiles INFO latencystats
 * prints (latency-tracking-info-percentiles): |count| values, each already
 * checked to lie in [0, 100], |count| <= LATENCY_TRACKING_MAX_PERCENTILES.
 * Returns 1, or 0 (nothing changed) if |count| is too large. */
int latency_tracking_set_percentiles(const double *values, int count);

/* latency_info_latencystats appends INFO latencystats' fields
 * ("latency_percentiles_usec_<cmd>:p50=...,p99=...\r\n") to |info| and
 * returns it; nothing while latency-tracking is off, as Redis. */
sds latency_info_latencystats(sds info);

/* latency_reply_histograms replies LATENCY HISTOGRAM's map for the command
 * names in argv[first..argc-1], or for every command if there are none. */
void latency_reply_histograms(client *c, int first);

#endif
