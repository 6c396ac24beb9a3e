/* replay_main.c: a stand-in for libFuzzer's main in ordinary builds.
 * Runs every file named on the command line (and every regular file directly
 * inside a named directory) through LLVMFuzzerTestOneInput once, so corpora and
 * crash reproducers replay in every build, with or without clang. Arguments
 * starting with '-' (libFuzzer flags such as -runs=0) are ignored. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Inputs larger than this are a corpus mistake, not a test case. */
#define REPLAY_MAX_INPUT_BYTES (16u * 1024u * 1024u)
/* Bound on files taken from one directory. */
#define REPLAY_MAX_DIR_ENTRIES 100000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_run_file(const char *path, unsigned long *count) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) {
    fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || st.st_size < 0 ||
      (uint64_t)st.st_size > REPLAY_MAX_INPUT_BYTES) {
    fprintf(stderr, "replay: %s: unreadable or larger than %u bytes\n", path,
            REPLAY_MAX_INPUT_BYTES);
    fclose(fp);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  /* Exact-size heap copy so ASan catches reads past the input's end. */
  uint8_t *buf = malloc(size > 0 ? size : 1);
  if (buf == NULL) {
    fclose(fp);
    return -1;
  }
  size_t got = size > 0 ? fread(buf, 1, size, fp) : 0;
  fclose(fp);
  if (got != size) {
    fprintf(stderr, "replay: short read on %s\n", path);
    free(buf);
    return -1;
  }
  uint8_t *input = size > 0 ? buf : NULL;
  LLVMFuzzerTestOneInput(input, size);
  free(buf);
  (*count)++;
  return 0;
}

static int replay_run_dir(const char *path, unsigned long *count) {
  DIR *dir = opendir(path);
  if (dir == NULL) {
    fprintf(stderr, "replay: cannot open dir %s: %s\n", path, strerror(errno));
    return -1;
  }
  int rc = 0;
  unsigned int seen = 0;
  struct dirent *ent;
  while ((ent = readdir(dir)) != NULL && seen < REPLAY_MAX_DIR_ENTRIES) {
    seen++;
    if (ent->d_name[0] == '.') {
      continue;
    }
    char child[4096];
    int n = snprintf(child, sizeof(child), "%s/%s", path, ent->d_name);
    if (n < 0 || (size_t)n >= sizeof(child)) {
      rc = -1;
      continue;
    }
    struct stat st;
    if (stat(child, &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    if (replay_run_file(child, count) != 0) {
      rc = -1;
    }
  }
  closedir(dir);
  return rc;
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize != NULL) {
    LLVMFuzzerInitialize(&argc, &argv);
  }
  unsigned long count = 0;
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (arg[0] == '-') {
      continue;
    }
    struct stat st;
    if (stat(arg, &st) != 0) {
      fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
      rc = 1;
      continue;
    }
    int r = S_ISDIR(st.st_mode) ? replay_run_dir(arg, &count)
                                : replay_run_file(arg, &count);
    if (r != 0) {
      rc = 1;
    }
  }
  printf("replay: %lu inputs executed\n", count);
  return rc;
}
