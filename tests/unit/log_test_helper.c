/* log_test_helper.c: C side of log_test.cc. server.h cannot be included
 * from C++ (a struct member named `dict` shadows the type), so the test
 * reaches the server struct through these functions. */
#include <unistd.h>

#include "server/core/server.h"

static char *saved_logfile;
static int saved_verbosity;
static pid_t saved_pid;

void log_test_configure(char *logfile, int verbosity) {
  saved_logfile = server_log_settings.file;
  saved_verbosity = server_log_settings.verbosity;
  saved_pid = server_log_settings.main_pid;
  server_log_settings.file = logfile;
  server_log_settings.verbosity = verbosity;
  server_log_settings.main_pid = getpid();
}

void log_test_set_verbosity(int verbosity) { server_log_settings.verbosity = verbosity; }

void log_test_restore(void) {
  server_log_settings.file = saved_logfile;
  server_log_settings.verbosity = saved_verbosity;
  server_log_settings.main_pid = saved_pid;
}
