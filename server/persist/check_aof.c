/* check_aof.c: `server --check-aof [--fix] FILE|MANIFEST`, as Redis ships
 * redis-check-aof: checks a single AOF file, or every file a manifest of
 * the multi-part layout names (base, then incremental files). Reports the
 * first error with its file and offset; --fix truncates a torn last file
 * to its last complete command. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/persist/aof.h"
#include "server/persist/persist.h"

static long long size_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Checks one file; fixes a truncated one if allowed. 0 valid, 1 not. */
static int check_one(const char *path, int fix, int may_fix) {
  size_t ok_up_to;
  long long commands;
  char err[1024];
  int rc = aof_check_file(path, &ok_up_to, &commands, err, sizeof(err));
  long long size = size_of(path);
  printf(
      "AOF analyzed: filename=%s, size=%lld, ok_up_to=%zu, commands=%lld, "
      "diff=%lld\n",
      path, size, ok_up_to, commands, size - (long long)ok_up_to);
  if (rc == AOF_CHECK_OK) {
    printf("AOF %s is valid\n", path);
    return 0;
  }
  printf("%s\n", err);
  if (rc == AOF_CHECK_TRUNCATED && fix && may_fix) {
    printf(
        "This will shrink the AOF %s from %lld bytes, with %lld bytes, to "
        "%zu bytes\n",
        path, size, size - (long long)ok_up_to, ok_up_to);
    if (isatty(0)) {
      printf("Continue? [y/N]: ");
      fflush(stdout);
      char answer[8];
      if (fgets(answer, sizeof(answer), stdin) == NULL ||
          (answer[0] != 'y' && answer[0] != 'Y')) {
        printf("Aborting...\n");
        return 1;
      }
    }
    if (truncate(path, (off_t)ok_up_to) == -1) {
      printf("Failed to truncate AOF %s: %s\n", path, strerror(errno));
      return 1;
    }
    printf("Successfully truncated AOF %s\n", path);
    return 0;
  }
  if (rc == AOF_CHECK_TRUNCATED && fix) {
    printf(
        "AOF %s is torn but is not the last file: it cannot be fixed by "
        "truncation\n",
        path);
  } else if (rc == AOF_CHECK_BAD && fix) {
    printf(
        "AOF %s is corrupted in the middle (offset %zu): not fixed, "
        "truncating there would lose the commands after it\n",
        path, ok_up_to);
  } else {
    printf("AOF %s is not valid. Use the --fix option to try fixing it.\n",
           path);
  }
  return 1;
}

static int is_manifest(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  char line[16] = "";
  int yes = fgets(line, sizeof(line), f) != NULL &&
            (strncmp(line, "file ", 5) == 0 || line[0] == '#');
  fclose(f);
  return yes;
}

int persist_check_aof_main(int argc, char **argv) {
  int fix = 0;
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--fix")) {
      fix = 1;
    } else if (path == NULL) {
      path = argv[i];
    } else {
      path = NULL;
      break;
    }
  }
  if (path == NULL) {
    fprintf(stderr,
            "Usage: server --check-aof [--fix] <file.manifest|file.aof>\n");
    return 1;
  }
  if (size_of(path) < 0) {
    printf("Cannot open file %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (!is_manifest(path)) {
    printf("Start checking Old-Style AOF\n");
    return check_one(path, fix, 1);
  }
  printf("Start checking Multi Part AOF\n");
  char err[1024] = "";
  aof_manifest *m = aof_manifest_load_file(path, err, sizeof(err));
  if (m == NULL) {
    printf("Invalid AOF manifest file format: %s\n", err);
    return 1;
  }
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (slash) {
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
  } else {
    snprintf(dir, sizeof(dir), ".");
  }
  int failed = 0;
  int last_index = -1;
  for (int i = 0; i < m->count; i++) {
    if (m->files[i].type == AOF_FILE_INCR ||
        m->files[i].type == AOF_FILE_BASE) {
      last_index = i;
    }
  }
  const aof_file *base = aof_manifest_base(m);
  for (int pass = 0; pass < 2 && !failed; pass++) {
    for (int i = 0; i < m->count && !failed; i++) {
      const aof_file *f = &m->files[i];
      if ((pass == 0 && f != base) || (pass == 1 && f->type != AOF_FILE_INCR)) {
        continue;
      }
      char fpath[8192];
      snprintf(fpath, sizeof(fpath), "%s/%s", dir, f->name);
      printf("Start to check %s AOF.\n",
             f->type == AOF_FILE_BASE ? "BASE" : "INCR");
      failed = check_one(fpath, fix, i == last_index);
    }
  }
  aof_manifest_free(m);
  if (!failed) {
    printf("All AOF files and manifest are valid\n");
  }
  return failed;
}
