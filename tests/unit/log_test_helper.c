/* log_test_helper.c: C side of log_test.cc. server.h cannot be included
 * from C++ (a struct member named `dict` shadows the type), so the test
 * reaches the server struct through these functions. */
#include <unistd.h>

#include "server/server.h"

static char *saved_logfile;
static int saved_verbosity;
static pid_t saved_pid;

void log_test_configure(char *logfile, int verbosity) {
  saved_logfile = server.logfile;
  saved_verbosity = server.verbosity;
  saved_pid = server.pid;
  server.logfile = logfile;
  server.verbosity = verbosity;
  server.pid = getpid();
}

void log_test_set_verbosity(int verbosity) { server.verbosity = verbosity; }

void log_test_restore(void) {
  server.logfile = saved_logfile;
  server.verbosity = saved_verbosity;
  server.pid = saved_pid;
}
