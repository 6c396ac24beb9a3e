/* aof_file_fuzz.c: libFuzzer target for the AOF file readers
 * (server/persist/aof.c: read_line, read_command, load_commands, the RDB
 * preamble hand-off, aof_check_file and load_one_file under
 * aof_load_at_startup).
 *
 * Input format: one AOF file: an optional RDB preamble ("REDIS..."), then
 * RESP commands ("*<n>\r\n$<len>\r\n<arg>\r\n...") and "#..." annotation
 * lines (#TS:<unix time>).
 *
 * Each input is written to a memfd and read twice:
 * 1. aof_check_file on /proc/self/fd/N (parse only, as --check-aof).
 * 2. The real start-up loader, which runs the commands on a fake client of
 *    an in-process server (server_init_for_tests): a temp appenddirname
 *    holds a manifest naming one file, a symlink to the memfd, and the
 *    server is switched to appendonly yes. The file is the manifest's base
 *    ("file input.aof seq 1 type b"), not an incremental file, so that the
 *    loader cannot keep state between inputs: after loading, it opens the
 *    last incremental file for appending, or creates the next one
 *    (appendonly.aof.1.incr.aof) when there is none. Here that name is a
 *    directory, so the open fails and aof_load_at_startup returns C_ERR
 *    having freed everything: no AOF fd stays open and no manifest is
 *    kept. Being the only file, the input is also the last one, so a torn
 *    tail takes the aof-load-truncated path (the memfd is truncated). The
 *    dataset is emptied and the ACL users reset after every input.
 *    Inputs that name a command which must not run in-process (shutdown,
 *    fork a child, write files, block, change the configuration, or reply
 *    with a COUNT the input picks; the list below) skip this step: any
 *    "\n<word>\r" in the input, case-insensitive, where <word> is on it, as
 *    every command name and subcommand is a bulk argument. Step 1 still
 *    runs.
 *
 * Oracle, besides ASan/UBSan and the server's assertions:
 * - aof_check_file returns OK, TRUNCATED or BAD; ok_up_to <= the input's
 *   size, and == the size when it returns OK (--check-aof --fix truncates
 *   there); a non-OK result has a message, NUL-terminated within err_len
 *   (the bytes after err_len stay untouched);
 * - aof_load_at_startup returns C_ERR (see above; C_OK would mean the
 *   harness no longer isolates inputs);
 * - when the loader truncated the file, aof_check_file said TRUNCATED and
 *   ok_up_to is the loader's new size: both stop at the same command. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/acl/acl.h"
#include "server/app.h"
#include "server/base/log.h"
#include "server/core/db.h"
#include "server/core/server.h"
#include "server/persist/aof.h"
#include "server/persist/persist_internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AOF_FUZZ_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define AOF_FUZZ_LSAN 1
#endif
#ifdef AOF_FUZZ_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* Real incremental files in a seed corpus are a few KB. */
#define AOF_FUZZ_MAX_INPUT (1024 * 1024)
#define AOF_FUZZ_MAX_BULK (1024 * 1024)
#define AOF_FUZZ_MAXMEMORY (128ULL * 1024 * 1024)
#define AOF_FUZZ_ERR_LEN 64
#define AOF_FUZZ_CANARY 0x5A

/* Command and subcommand names (whole bulk arguments) that keep an input
 * from the loader: command_fuzz's deny list, with whole commands where a
 * subcommand cannot be told apart here (CONFIG: "set" is also SET; CLIENT;
 * "save" and "load" cover ACL SAVE/LOAD), plus REPLCONF, PFSELFTEST (slow)
 * and the random-member commands whose COUNT command_fuzz caps. */
static const char *const aof_fuzz_deny[] = {
    "shutdown",   "debug",      "monitor",      "sync",        "psync",
    "replicaof",  "slaveof",    "failover",     "migrate",     "wait",
    "save",       "bgsave",     "bgrewriteaof", "blpop",       "brpop",
    "brpoplpush", "blmove",     "blmpop",       "bzpopmin",    "bzpopmax",
    "bzmpop",     "xread",      "xreadgroup",   "module",      "client",
    "config",     "load",       "cluster",      "quit",        "reset",
    "replconf",   "pfselftest", "srandmember",  "zrandmember", "hrandfield",
    "spop",       NULL};

static char aof_fuzz_dir[4096];
static char aof_fuzz_input_link[4200];
static char aof_fuzz_manifest[4200];
static char aof_fuzz_incr_dir[4200];
static char aof_fuzz_fd_path[64];
static int aof_fuzz_fd = -1;

static int aof_fuzz_denied(const uint8_t *data, size_t size) {
  for (size_t i = 0; i < size; i++) {
    if (data[i] != '\n') {
      continue;
    }
    const uint8_t *word = data + i + 1;
    const uint8_t *cr = memchr(word, '\r', size - i - 1);
    if (cr == NULL) {
      return 0;
    }
    size_t len = (size_t)(cr - word);
    for (int j = 0; aof_fuzz_deny[j] != NULL; j++) {
      if (strlen(aof_fuzz_deny[j]) == len &&
          !strncasecmp((const char *)word, aof_fuzz_deny[j], len)) {
        return 1;
      }
    }
  }
  return 0;
}

static void aof_fuzz_cleanup(void) {
  unlink(aof_fuzz_input_link);
  unlink(aof_fuzz_manifest);
  rmdir(aof_fuzz_incr_dir);
  rmdir(aof_fuzz_dir);
}

static void aof_fuzz_die(const char *what) {
  fprintf(stderr, "aof_file_fuzz: %s: %s\n", what, strerror(errno));
  abort();
}

static void aof_fuzz_init_once(void) {
  static int done;
  if (done) {
    return;
  }
  done = 1;
#ifdef AOF_FUZZ_LSAN
  /* aof_init runs twice (below): the first call's empty buffer is dropped.
   * Start-up state is global and never freed; only inputs are checked. */
  __lsan_disable();
#endif
  server_init_for_tests();
  server.proto_max_bulk_len = AOF_FUZZ_MAX_BULK;
  server.maxmemory = AOF_FUZZ_MAXMEMORY;
  server.aof_load_truncated = 1;
  server_log_settings.verbosity = LL_WARNING + 1; /* quiet */

  const char *tmp = getenv("TEST_TMPDIR");
  if (tmp == NULL || tmp[0] == '\0') {
    tmp = getenv("TMPDIR");
  }
  if (tmp == NULL || tmp[0] == '\0') {
    tmp = "/tmp";
  }
  snprintf(aof_fuzz_dir, sizeof(aof_fuzz_dir), "%s/aof_file_fuzz.XXXXXX", tmp);
  if (mkdtemp(aof_fuzz_dir) == NULL) {
    aof_fuzz_die("mkdtemp");
  }
  atexit(aof_fuzz_cleanup);
  aof_fuzz_fd = memfd_create("aof_file_fuzz", MFD_CLOEXEC);
  if (aof_fuzz_fd == -1) {
    aof_fuzz_die("memfd_create");
  }
  snprintf(aof_fuzz_fd_path, sizeof(aof_fuzz_fd_path), "/proc/self/fd/%d",
           aof_fuzz_fd);
  snprintf(aof_fuzz_input_link, sizeof(aof_fuzz_input_link), "%s/input.aof",
           aof_fuzz_dir);
  if (symlink(aof_fuzz_fd_path, aof_fuzz_input_link) == -1) {
    aof_fuzz_die("symlink");
  }
  /* The name aof_load_at_startup would create for the first incremental
   * file (appendfilename "appendonly.aof", the default). */
  snprintf(aof_fuzz_incr_dir, sizeof(aof_fuzz_incr_dir), "%s/%s.1.incr.aof",
           aof_fuzz_dir, server.appendfilename);
  if (mkdir(aof_fuzz_incr_dir, 0700) == -1) {
    aof_fuzz_die("mkdir");
  }
  snprintf(aof_fuzz_manifest, sizeof(aof_fuzz_manifest), "%s/%s.manifest",
           aof_fuzz_dir, server.appendfilename);
  FILE *fp = fopen(aof_fuzz_manifest, "w");
  if (fp == NULL || fputs("file input.aof seq 1 type b\n", fp) == EOF ||
      fclose(fp) != 0) {
    aof_fuzz_die("writing the manifest");
  }
  server.aof_dirname = aof_fuzz_dir; /* immutable config: never freed */
  /* appendonly yes as at start-up: aof_init reads it (server_init_for_tests
   * ran it with the default, no). */
  server.appendonly = 1;
  aof_init();
  if (aof_state() != AOF_ON) {
    abort();
  }
#ifdef AOF_FUZZ_LSAN
  __lsan_enable();
#endif
}

static void aof_fuzz_write_input(const uint8_t *data, size_t size) {
  if (ftruncate(aof_fuzz_fd, 0) == -1) {
    aof_fuzz_die("ftruncate");
  }
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(aof_fuzz_fd, data + done, size - done, (off_t)done);
    if (n <= 0) {
      aof_fuzz_die("pwrite");
    }
    done += (size_t)n;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > AOF_FUZZ_MAX_INPUT) {
    return 0;
  }
  aof_fuzz_init_once();
  aof_fuzz_write_input(data, size);

  /* 1. Parse only. */
  size_t ok_up_to = 0;
  long long commands = 0;
  char err[AOF_FUZZ_ERR_LEN + 16];
  memset(err, AOF_FUZZ_CANARY, sizeof(err));
  int rc = aof_check_file(aof_fuzz_fd_path, &ok_up_to, &commands, err,
                          AOF_FUZZ_ERR_LEN);
  for (size_t j = AOF_FUZZ_ERR_LEN; j < sizeof(err); j++) {
    if ((unsigned char)err[j] != AOF_FUZZ_CANARY) {
      abort(); /* wrote past err_len */
    }
  }
  if (memchr(err, '\0', AOF_FUZZ_ERR_LEN) == NULL || commands < 0 ||
      ok_up_to > size) {
    abort();
  }
  switch (rc) {
    case AOF_CHECK_OK:
      if (ok_up_to != size) {
        abort(); /* a clean file is valid to its end */
      }
      break;
    case AOF_CHECK_TRUNCATED:
    case AOF_CHECK_BAD:
      if (err[0] == '\0') {
        abort();
      }
      break;
    default:
      abort();
  }

  /* 2. The start-up loader, running the commands. */
  if (aof_fuzz_denied(data, size)) {
    return 0;
  }
  if (aof_load_at_startup() != C_ERR) {
    abort(); /* it kept an fd and a manifest: see the file comment */
  }
  struct stat st;
  if (fstat(aof_fuzz_fd, &st) == -1) {
    aof_fuzz_die("fstat");
  }
  if ((size_t)st.st_size != size &&
      (rc != AOF_CHECK_TRUNCATED || (size_t)st.st_size != ok_up_to)) {
    abort(); /* the loader cut the file where --check-aof would not */
  }
  empty_data(-1, 0, NULL);
  acl_replace_all_users(NULL, 0);
  server.dirty = 0;
  return 0;
}
