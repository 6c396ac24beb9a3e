/* acl_rules_fuzz.c: libFuzzer target for the ACL rule and aclfile parsers
 * (server/acl.c, server/acl_rules.c).
 *
 * The input is an aclfile body. It is parsed the way ACL LOAD does (without
 * installing the users); then every line's words are applied one by one as
 * ACL SETUSER rules (selectors "(...)" merged as SETUSER does) to a scratch
 * user. Besides crashes and ASan/UBSan
 * findings, the target checks a property users rely on (ACL SAVE / CONFIG
 * REWRITE output loads back to the same user): the description of the
 * scratch user, applied as rules to a fresh user, gives the same
 * description. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/acl/acl.h"
#include "server/app.h"
#include "server/core/server.h"

/* Inputs larger than this add nothing but time. */
#define ACL_FUZZ_MAX_INPUT (64 * 1024)

static void check_round_trip(acl_user *u) {
  sds d = acl_describe_user(u);
  acl_user *v = acl_user_new_detached("v", 1);
  /* Split on spaces as ACL LOAD sees a saved line: rules never contain
   * whitespace, but may contain quotes. */
  int words = 0, argc = 0;
  sds *split = sds_split_len(d, (ssize_t)sds_len(d), " ", 1, &words);
  const char *bad = NULL;
  sds *argv = split ? acl_merge_selector_args(split, words, &argc, &bad) : NULL;
  if (argv == NULL) {
    fprintf(stderr, "description does not split: %s\n", d);
    abort();
  }
  sds_free_split(split, words);
  for (int j = 0; j < argc; j++) {
    const char *err = NULL;
    if (acl_set_user(v, argv[j], sds_len(argv[j]), &err) != C_OK) {
      fprintf(stderr, "rule '%s' of description '%s' rejected: %s\n", argv[j],
              d, err ? err : "?");
      abort();
    }
  }
  sds d2 = acl_describe_user(v);
  if (strcmp(d, d2) != 0) {
    fprintf(stderr, "description '%s' reloads as '%s'\n", d, d2);
    abort();
  }
  sds_free_split(argv, argc);
  sds_free(d);
  sds_free(d2);
  acl_user_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int initialized = 0;
  if (!initialized) {
    server_init_for_tests();
    initialized = 1;
  }
  if (size > ACL_FUZZ_MAX_INPUT) {
    return 0;
  }
  const char *errors = NULL;
  long n = acl_check_file_text("fuzz.acl", (const char *)data, size, &errors);
  if (n < 0) {
    if (errors == NULL ||
        strstr(errors, "WARNING: ACL errors detected") == NULL) {
      abort();
    }
  }

  acl_user *u = acl_user_new_detached("u", 1);
  sds text = sds_new_len(data, size);
  int lines = 0;
  sds *line = sds_split_len(text, (ssize_t)sds_len(text), "\n", 1, &lines);
  for (int i = 0; line && i < lines; i++) {
    int words = 0, argc = 0;
    sds *split = sds_split_args(line[i], &words);
    if (split == NULL) {
      continue;
    }
    const char *bad = NULL;
    sds *argv = acl_merge_selector_args(split, words, &argc, &bad);
    sds_free_split(split, words);
    if (argv == NULL) {
      continue;
    }
    for (int j = 0; j < argc; j++) {
      const char *err = NULL;
      if (acl_set_user(u, argv[j], sds_len(argv[j]), &err) != C_OK &&
          err == NULL) {
        abort(); /* every refusal carries Redis's error text */
      }
    }
    sds_free_split(argv, argc);
  }
  if (line) {
    sds_free_split(line, lines);
  }
  check_round_trip(u);
  acl_user_free(u);
  sds_free(text);
  return 0;
}
