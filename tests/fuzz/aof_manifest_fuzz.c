/* aof_manifest_fuzz.c: libFuzzer target for the AOF manifest parser
 * (aof_manifest_parse in server/persist/aof.c), which reads
 * appenddirname/<appendfilename>.manifest at start-up and for
 * --check-aof.
 *
 * Input format: a manifest's text ("file <name> seq <n> type <b|i|h>"
 * lines, # comments, names quoted as sds_split_args reads them).
 *
 * Oracle, besides ASan/UBSan:
 * - a failure writes a NUL-terminated message that fits err_len (a short
 *   buffer is used; the bytes after it must stay untouched);
 * - a parsed manifest has at least one file; every name is non-empty, has
 *   no '/' and no NUL, and is not "." or ".." (the loader joins it to
 *   appenddirname); every seq is >= 1; every type is b, i or h; there is
 *   at most one base, aof_manifest_base finds it, and base_seq / incr_seq
 *   are the highest seq of their kind (0 when there is none);
 * - the manifest written back the way the server writes it (aof.c's
 *   manifest_to_string: a name is quoted with sds_cat_repr unless it is
 *   plain) parses again to the same files: what the server persists it can
 *   read back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/ds/sds.h"
#include "server/persist/aof.h"

/* Real manifests are a few lines; a large input only slows the fuzzer. */
#define MANIFEST_FUZZ_MAX_INPUT (64 * 1024)
#define MANIFEST_FUZZ_ERR_LEN 48
#define MANIFEST_FUZZ_CANARY 0xA5

static void check_manifest(const aof_manifest *m) {
  if (m->count < 1 || m->count > m->cap || m->files == NULL) {
    abort();
  }
  int bases = 0;
  long long base_seq = 0, incr_seq = 0;
  const aof_file *base = NULL;
  for (int i = 0; i < m->count; i++) {
    const aof_file *f = &m->files[i];
    size_t len = sds_len(f->name);
    if (len == 0 || strlen(f->name) != len || memchr(f->name, '/', len) ||
        !strcmp(f->name, ".") || !strcmp(f->name, "..")) {
      abort(); /* the loader would leave appenddirname */
    }
    if (f->seq < 1) {
      abort();
    }
    switch (f->type) {
      case AOF_FILE_BASE:
        bases++;
        if (base == NULL) {
          base = f;
        }
        if (f->seq > base_seq) {
          base_seq = f->seq;
        }
        break;
      case AOF_FILE_INCR:
        if (f->seq > incr_seq) {
          incr_seq = f->seq;
        }
        break;
      case AOF_FILE_HISTORY:
        break;
      default:
        abort();
    }
  }
  if (bases > 1 || aof_manifest_base(m) != base || m->base_seq != base_seq ||
      m->incr_seq != incr_seq) {
    abort();
  }
}

/* kind_rank: the order the server's writer puts kinds in. */
static int kind_rank(char type) {
  return type == AOF_FILE_BASE ? 0 : type == AOF_FILE_HISTORY ? 1 : 2;
}

/* nth_in_written_order: the index in m of the i-th file as
 * aof_manifest_format orders them (by kind, file order within a kind). */
static int nth_in_written_order(const aof_manifest *m, int i) {
  for (int rank = 0; rank < 3; rank++) {
    for (int j = 0; j < m->count; j++) {
      if (kind_rank(m->files[j].type) == rank && i-- == 0) {
        return j;
      }
    }
  }
  abort();
}

static void check_round_trip(const aof_manifest *m) {
  sds text = aof_manifest_format(m);
  char err[256];
  aof_manifest *again =
      aof_manifest_parse(text, sds_len(text), "again", err, sizeof(err));
  /* A written line longer than the parser's 1024-byte limit (a long name,
   * quoted) is the one thing that may not come back. */
  if (again == NULL && strstr(err, "line too long") != NULL) {
    sds_free(text);
    return;
  }
  if (again == NULL || again->count != m->count ||
      again->base_seq != m->base_seq || again->incr_seq != m->incr_seq) {
    abort();
  }
  for (int i = 0; i < m->count; i++) {
    const aof_file *a = &m->files[nth_in_written_order(m, i)];
    const aof_file *b = &again->files[i];
    if (sds_cmp(a->name, b->name) != 0 || a->seq != b->seq ||
        a->type != b->type) {
      abort();
    }
  }
  aof_manifest_free(again);
  sds_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MANIFEST_FUZZ_MAX_INPUT) {
    return 0;
  }
  /* An exact-size copy: ASan sees a read past the text's end. */
  char *text = malloc(size > 0 ? size : 1);
  if (size > 0) {
    memcpy(text, data, size);
  }
  char err[MANIFEST_FUZZ_ERR_LEN + 16];
  memset(err, MANIFEST_FUZZ_CANARY, sizeof(err));
  aof_manifest *m =
      aof_manifest_parse(text, size, "fuzz", err, MANIFEST_FUZZ_ERR_LEN);
  free(text);
  for (size_t j = MANIFEST_FUZZ_ERR_LEN; j < sizeof(err); j++) {
    if ((unsigned char)err[j] != MANIFEST_FUZZ_CANARY) {
      abort(); /* wrote past err_len */
    }
  }
  if (m == NULL) {
    if (memchr(err, '\0', MANIFEST_FUZZ_ERR_LEN) == NULL || err[0] == '\0') {
      abort(); /* a failure must say why, NUL-terminated */
    }
    return 0;
  }
  check_manifest(m);
  check_round_trip(m);
  aof_manifest_free(m);
  return 0;
}
