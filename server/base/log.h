/* log.h: the server log, assertions and panics (server/base).
 *
 * Every layer logs through this header; it depends on nothing above libc.
 * Lines use Redis's format so existing log tooling keeps working:
 *
 *   <pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>
 *
 * Where the lines go and which are kept is |log_settings|, owned by this
 * module and written by the configuration layer (the `loglevel`, `logfile`
 * and `syslog-enabled` directives point into it). */
#ifndef REDOUBT_BASE_LOG_H
#define REDOUBT_BASE_LOG_H

#include <stdlib.h>
#include <sys/types.h>

/* Log levels, as Redis numbers them. */
#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3
#define LL_RAW (1 << 10) /* or'ed in: write the message without a prefix */
#define LOG_MAX_LEN 1024

/* log_settings: where log lines go. Single-threaded: only the event loop
 * writes it (at start-up and on CONFIG SET). */
typedef struct log_settings {
  int verbosity;      /* LL_*: lines below it are dropped */
  char *file;         /* NULL or "": standard output; otherwise appended */
  int syslog_enabled; /* also send each line to syslog */
  pid_t main_pid;     /* lines from another pid are marked as a child (C) */
  int sentinel;       /* lines are marked X (sentinel) */
} log_settings;
extern log_settings server_log_settings;

/* server_log writes |fmt| at |level| if the verbosity keeps it. */
void server_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* server_log_raw writes |msg| as is (with the prefix unless LL_RAW). */
void server_log_raw(int level, const char *msg);
/* security_log: one greppable line per security event:
 *   "security event=<name> key=value ..." at notice level. */
void security_log(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* security_log_peer records a security event a network peer caused (a
 * failed or refused TLS handshake): |source| is its address (no port),
 * |cause| a short stable reason (NULL: ""). The first event of each
 * (event, source, cause) in a window of SECURITY_LOG_WINDOW_MS is written
 * as security_log writes it; repeats are only counted, and when the window
 * ends (security_log_cron) one summary line per key that had repeats says
 * how many:
 *   security event=<name> source=<addr> cause="<cause>" suppressed=<n>
 *   window=10s
 * An event seen from more than SECURITY_LOG_MAX_SOURCES sources in a window
 * counts the others under source=others; if the table of keys is full the
 * event is counted in an events_dropped summary. So a flood of half-open
 * sockets writes a few lines per window, not one per socket, and cannot
 * hide another kind of event. Event loop thread only. */
#define SECURITY_LOG_WINDOW_MS 10000
#define SECURITY_LOG_MAX_KEYS 256
#define SECURITY_LOG_MAX_SOURCES 64
#define SECURITY_LOG_OTHERS "others"
void security_log_peer(const char *event, const char *source, const char *cause,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* security_log_cron ends the window when it is over (from the server's
 * cron); security_log_flush ends it now (summaries written). */
void security_log_cron(void);
void security_log_flush(void);

#define server_assert(_e) \
  ((_e) ? (void)0 : (server_assert_failed(#_e, __FILE__, __LINE__), abort()))
/* server_assert_failed logs the failed expression and a backtrace; the
 * server_assert macro aborts after it returns. */
void server_assert_failed(const char *estr, const char *file, int line);
/* server_panic logs the message and a backtrace, then aborts. */
void server_panic_impl(const char *file, int line, const char *msg, ...)
    __attribute__((format(printf, 3, 4), noreturn));
#define server_panic(...) server_panic_impl(__FILE__, __LINE__, __VA_ARGS__)

#endif
