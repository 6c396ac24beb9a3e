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
