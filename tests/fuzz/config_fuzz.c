/* config_fuzz.c: libFuzzer target for the configuration parser
 * (server/config_load.c, server/config_value.c).
 *
 * The input is a redis.conf body. It is parsed in the mode that reports
 * errors instead of exiting and has no side effects (no include, no chdir,
 * no log file). Besides crashes and ASan/UBSan findings, the target checks
 * one property a user relies on: after a successful load, every value CONFIG
 * GET shows is accepted back by CONFIG SET's parser and reads back the same
 * (so CONFIG REWRITE and a restore after a failed CONFIG SET are lossless). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config/config.h"
#include "server/config/config_internal.h"
#include "server/core/server.h"

static void check_round_trip(void) {
  for (size_t j = 0; j < config_table_len; j++) {
    const config_entry *e = &config_table[j];
    if (e->type == CONFIG_TYPE_SPECIAL && !strcmp(e->name, "dir")) {
      continue; /* dir is the process cwd: not stored by the parser */
    }
    sds before = config_entry_get(e);
    const char *err = NULL;
    if (!config_entry_set_value(e, before, &err)) {
      /* As in Redis, a multi-word value is re-split on spaces: a word that
       * itself contains a space (possible only from a config file) may
       * then exceed a word limit such as bind's 16 addresses. */
      if ((e->flags & CONFIG_FLAG_MULTI_ARG) && strchr(before, ' ')) {
        sds_free(before);
        continue;
      }
      fprintf(stderr, "%s: value '%s' from CONFIG GET rejected: %s\n", e->name,
              before, err ? err : "?");
      abort();
    }
    sds after = config_entry_get(e);
    if (strcmp(before, after) != 0) {
      fprintf(stderr, "%s: '%s' read back as '%s'\n", e->name, before, after);
      abort();
    }
    sds_free(before);
    sds_free(after);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > CONFIG_MAX_FILE_BYTES) {
    return 0;
  }
  config_init_defaults();
  const char *err = NULL;
  int ok = config_load_string((const char *)data, size, "fuzz.conf", 1, &err);
  if (!ok) {
    /* Every failure carries the FATAL header. */
    if (err == NULL || strstr(err, "*** FATAL CONFIG FILE ERROR") == NULL) {
      abort();
    }
    return 0;
  }
  config_set_load_mode(0, 1); /* no chdir while checking */
  check_round_trip();
  config_set_load_mode(0, 0);
  return 0;
}
