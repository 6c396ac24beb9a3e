/* log.c: the server log (see log.h). role is M (main), C (a child
 * process), X (sentinel); level is one of ". - * #" for debug, verbose,
 * notice, warning. Lines go to server_log_settings.file, or to stdout when
 * it is empty or unset. */
#include <execinfo.h>
#include <stdarg.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

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
