/* log.c: the server log (see log.h). role is M (main), C (a child
 * process), X (sentinel); level is one of ". - * #" for debug, verbose,
 * notice, warning. Lines go to server_log_settings.file, or to stdout when
 * it is empty or unset. */
#include <execinfo.h>
#include <stdarg.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/base/log.h"

log_settings server_log_settings = {.verbosity = LL_NOTICE};

/* Frames printed in an assertion or panic report. */
#define LOG_BACKTRACE_MAX_FRAMES 64

static const char log_level_chars[] = ".-*#";

static char log_role_char(void) {
  if (server_log_settings.sentinel) {
    return 'X';
  }
  if (server_log_settings.main_pid != 0 &&
      getpid() != server_log_settings.main_pid) {
    return 'C';
  }
  return 'M';
}

void server_log_raw(int level, const char *msg) {
  static const int syslog_levels[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE,
                                      LOG_WARNING};
  int rawmode = level & LL_RAW;
  level &= 0xff;
  if (level < server_log_settings.verbosity) {
    return;
  }
  if (level < LL_DEBUG || level > LL_WARNING) {
    level = LL_WARNING;
  }
  int to_stdout =
      server_log_settings.file == NULL || server_log_settings.file[0] == '\0';
  /* Appending per line (as Redis does) lets logrotate move the file. */
  FILE *fp = to_stdout ? stdout : fopen(server_log_settings.file, "a");
  if (fp == NULL) {
    return;
  }
  if (rawmode) {
    fprintf(fp, "%s", msg);
  } else {
    struct timeval tv;
    struct tm tm;
    char when[64];
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    size_t off = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + off, sizeof(when) - off, "%03d", (int)(tv.tv_usec / 1000));
    fprintf(fp, "%d:%c %s %c %s\n", (int)getpid(), log_role_char(), when,
            log_level_chars[level], msg);
  }
  fflush(fp);
  if (!to_stdout) {
    fclose(fp);
  }
  if (server_log_settings.syslog_enabled) {
    syslog(syslog_levels[level], "%s", msg);
  }
}

void server_log(int level, const char *fmt, ...) {
  /* Format only what will be written. */
  if ((level & 0xff) < server_log_settings.verbosity) {
    return;
  }
  char msg[LOG_MAX_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  server_log_raw(level, msg);
}

void security_log(const char *event, const char *fmt, ...) {
  if (LL_NOTICE < server_log_settings.verbosity) {
    return;
  }
  char fields[LOG_MAX_LEN];
  fields[0] = '\0';
  if (fmt != NULL && fmt[0] != '\0') {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof(fields), fmt, ap);
    va_end(ap);
  }
  if (fields[0] != '\0') {
    server_log(LL_NOTICE, "security event=%s %s", event, fields);
  } else {
    server_log(LL_NOTICE, "security event=%s", event);
  }
}

/* ---- security events caused by network peers ------------------------- */

/* One entry per (event, source, cause) seen in the current window. */
typedef struct security_log_entry {
  uint64_t hash;
  char event[48];
  char source[64];
  char cause[160];
  long long suppressed; /* repeats after the first, not written */
} security_log_entry;

static struct {
  security_log_entry entries[SECURITY_LOG_MAX_KEYS];
  int used;
  long long window_start_ms; /* 0: no window open */
  long long dropped;         /* not even an entry was free */
} seclog;

static long long security_log_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  /* never 0, which means "no window open" */
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

/* security_log_copy copies |in| into |out| for a key: quotes become
 * apostrophes and control bytes '?', so the summary line stays one
 * parsable line whatever the cause text holds. */
static void security_log_copy(char *out, size_t len, const char *in) {
  size_t o = 0;
  for (; in != NULL && *in != '\0' && o + 1 < len; in++) {
    unsigned char ch = (unsigned char)*in;
    out[o++] = ch == '"' ? '\'' : (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
  }
  out[o] = '\0';
}

static uint64_t security_log_hash(const char *event, const char *source,
                                  const char *cause) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const char *parts[3] = {event, source, cause};
  for (int i = 0; i < 3; i++) {
    for (const char *p = parts[i]; *p != '\0'; p++) {
      h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    }
    h = (h ^ 0xff) * 0x100000001b3ULL; /* separator */
  }
  return h;
}

/* security_log_find returns the entry of the (already copied) key, or,
 * with |add|, a new one (NULL when the table is full). */
static security_log_entry *security_log_find(const char *event,
                                             const char *source,
                                             const char *cause, int add) {
  uint64_t h = security_log_hash(event, source, cause);
  for (int i = 0; i < seclog.used; i++) {
    security_log_entry *e = &seclog.entries[i];
    if (e->hash == h && strcmp(e->event, event) == 0 &&
        strcmp(e->source, source) == 0 && strcmp(e->cause, cause) == 0) {
      return e;
    }
  }
  if (!add || seclog.used == SECURITY_LOG_MAX_KEYS) {
    return NULL;
  }
  security_log_entry *e = &seclog.entries[seclog.used++];
  e->hash = h;
  snprintf(e->event, sizeof(e->event), "%s", event);
  snprintf(e->source, sizeof(e->source), "%s", source);
  snprintf(e->cause, sizeof(e->cause), "%s", cause);
  e->suppressed = 0;
  return e;
}

static int security_log_sources_of(const char *event) {
  int n = 0;
  for (int i = 0; i < seclog.used; i++) {
    n += strcmp(seclog.entries[i].event, event) == 0 &&
         strcmp(seclog.entries[i].source, SECURITY_LOG_OTHERS) != 0;
  }
  return n;
}

void security_log_flush(void) {
  for (int i = 0; i < seclog.used; i++) {
    const security_log_entry *e = &seclog.entries[i];
    if (e->suppressed > 0) {
      server_log(LL_NOTICE,
                 "security event=%s source=%s cause=\"%s\" suppressed=%lld "
                 "window=%ds",
                 e->event, e->source, e->cause, e->suppressed,
                 SECURITY_LOG_WINDOW_MS / 1000);
    }
  }
  if (seclog.dropped > 0) {
    server_log(LL_NOTICE,
               "security event=events_dropped cause=\"aggregation table "
               "full\" suppressed=%lld window=%ds",
               seclog.dropped, SECURITY_LOG_WINDOW_MS / 1000);
  }
  seclog.used = 0;
  seclog.dropped = 0;
  seclog.window_start_ms = 0;
}

void security_log_cron(void) {
  if (seclog.window_start_ms != 0 &&
      security_log_now_ms() - seclog.window_start_ms >=
          SECURITY_LOG_WINDOW_MS) {
    security_log_flush();
  }
}

void security_log_peer(const char *event, const char *source, const char *cause,
                       const char *fmt, ...) {
  if (LL_NOTICE < server_log_settings.verbosity) {
    return;
  }
  char ev[sizeof(seclog.entries[0].event)];
  char src[sizeof(seclog.entries[0].source)];
  char why[sizeof(seclog.entries[0].cause)];
  security_log_copy(ev, sizeof(ev), event);
  security_log_copy(src, sizeof(src),
                    source != NULL && source[0] != '\0' ? source : "-");
  security_log_copy(why, sizeof(why), cause);
  security_log_cron(); /* a window that is over is summarized first */
  if (seclog.window_start_ms == 0) {
    seclog.window_start_ms = security_log_now_ms();
  }
  security_log_entry *e = security_log_find(ev, src, why, 0);
  if (e == NULL && security_log_sources_of(ev) >= SECURITY_LOG_MAX_SOURCES) {
    /* Many sources of one event: the rest share one count, so that a
     * flood from many addresses neither fills the log nor the table. */
    e = security_log_find(ev, SECURITY_LOG_OTHERS, why, 1);
    if (e == NULL) {
      seclog.dropped++;
    } else {
      e->suppressed++;
    }
    return;
  }
  if (e != NULL) {
    e->suppressed++;
    return;
  }
  if (security_log_find(ev, src, why, 1) == NULL) {
    seclog.dropped++;
    return;
  }
  char fields[LOG_MAX_LEN];
  fields[0] = '\0';
  if (fmt != NULL && fmt[0] != '\0') {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof(fields), fmt, ap);
    va_end(ap);
  }
  security_log(event, "%s", fields);
}

/* log_backtrace writes the current stack to the log destination; it
 * bypasses stdio buffering so it works even when the heap is corrupt. */
static void log_backtrace(void) {
  void *frames[LOG_BACKTRACE_MAX_FRAMES];
  int n = backtrace(frames, LOG_BACKTRACE_MAX_FRAMES);
  int to_stdout =
      server_log_settings.file == NULL || server_log_settings.file[0] == '\0';
  int fd = to_stdout ? STDOUT_FILENO : -1;
  FILE *fp = NULL;
  if (!to_stdout) {
    fp = fopen(server_log_settings.file, "a");
    if (fp == NULL) {
      return;
    }
    fd = fileno(fp);
  }
  server_log_raw(LL_WARNING | LL_RAW, "\n------ STACK TRACE ------\n");
  backtrace_symbols_fd(frames, n, fd);
  if (fp != NULL) {
    fclose(fp);
  }
}

void server_assert_failed(const char *estr, const char *file, int line) {
  server_log(LL_WARNING, "=== ASSERTION FAILED ===");
  server_log(LL_WARNING, "==> %s:%d '%s' is not true", file, line, estr);
  log_backtrace();
  /* The server_assert macro aborts after this returns. */
}

void server_panic_impl(const char *file, int line, const char *msg, ...) {
  char fmtmsg[LOG_MAX_LEN];
  va_list ap;
  va_start(ap, msg);
  vsnprintf(fmtmsg, sizeof(fmtmsg), msg, ap);
  va_end(ap);
  server_log(LL_WARNING, "------------------------------------------------");
  server_log(LL_WARNING,
             "!!! Software Failure. Press left mouse button to "
             "continue");
  server_log(LL_WARNING, "Guru Meditation: %s #%s:%d", fmtmsg, file, line);
  log_backtrace();
  abort();
}
