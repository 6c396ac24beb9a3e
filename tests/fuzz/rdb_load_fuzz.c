/* rdb_load_fuzz.c: libFuzzer target for the RDB file loader
 * (server/persist/rdb.c, rio.c): the whole input is an RDB stream, read
 * from a buffer (rio_init_buffer_reader) into an in-process server's
 * databases (server_init_for_tests), once with RDBFLAGS_CHECK_ONLY and
 * once for real. The databases are emptied after every input.
 *
 * Input format: an RDB file. Its last byte (part of the CRC64 trailer,
 * which is not checked when checksums are off) also steers the run:
 *   bit 0 set: server.rdb_checksum = 0 (mutated inputs get past the CRC;
 *              the loader's own validation still applies)
 *   bit 1 set: the real load uses RDBFLAGS_ALLOW_DUP instead of
 *              RDBFLAGS_NONE (a duplicate key replaces the first)
 *
 * Oracle, besides ASan/UBSan and the server's assertions:
 * - a CHECK_ONLY load keeps nothing in the databases;
 * - when both loads succeed, CHECK_ONLY counted exactly the keys the real
 *   load loaded or skipped as expired, and the same empty keys;
 * - after a successful real load with RDBFLAGS_NONE the databases hold
 *   keys_loaded keys;
 * - every loaded value is walked (its members counted by iteration must
 *   equal its stored length), then the whole dataset is saved again with
 *   rdb_save_rio into a buffer, and that output must load (CHECK_ONLY,
 *   checksum on) with the same number of keys: whatever the loader accepts
 *   is a structure the rest of the server can use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/app.h"
#include "server/core/server.h"
#include "server/ds/quicklist.h"
#include "server/persist/rdb.h"
#include "server/persist/rio.h"
#include "server/types/t_hash.h"
#include "server/types/t_list.h"
#include "server/types/t_set.h"
#include "server/types/t_zset.h"
#include "tests/fuzz/inproc_client.h"

/* Larger inputs only slow the fuzzer down (the fixtures are < 200 KB). */
#define RDB_FUZZ_MAX_INPUT (1024 * 1024)

#define RDB_FUZZ_NO_CHECKSUM 0x01
#define RDB_FUZZ_ALLOW_DUP 0x02

static long long rdb_fuzz_total_keys(void) {
  long long n = 0;
  for (int j = 0; j < server.dbnum; j++) {
    n += (long long)dict_size(server.db[j].dict);
  }
  return n;
}

static void rdb_fuzz_count_member(void *pd, const char *ele, size_t len) {
  unsigned long *n = pd;
  if (len > 0 && ele == NULL) {
    abort();
  }
  (*n)++;
}

static int rdb_fuzz_count_pair(void *pd, const char *f, size_t flen,
                               const char *v, size_t vlen) {
  unsigned long *n = pd;
  if ((flen > 0 && f == NULL) || (vlen > 0 && v == NULL)) {
    abort();
  }
  (*n)++;
  return 1;
}

/* rdb_fuzz_walk_value: iterates |o| and aborts when the number of members
 * seen differs from the length the value claims, or when it is empty (the
 * loader skips empty values). */
static void rdb_fuzz_walk_value(robj *o) {
  unsigned long seen = 0, len = 0;
  switch (o->type) {
    case OBJ_STRING:
      return;
    case OBJ_LIST: {
      quicklist_iter it;
      quicklist_entry e;
      quicklist_iter_init(&it, o->ptr, QUICKLIST_ITER_FORWARD);
      while (quicklist_next(&it, &e)) {
        seen++;
      }
      len = list_type_length(o);
      break;
    }
    case OBJ_SET:
      seen = 0;
      set_type_foreach(o, rdb_fuzz_count_member, &seen);
      len = set_type_size(o);
      break;
    case OBJ_ZSET: {
      zset *zs = zset_ptr(o); /* opens a listpack; compacted on save */
      for (zskiplist_node *n = zs->zsl->header->level[0].forward; n;
           n = n->level[0].forward) {
        seen++;
      }
      len = zset_length(o);
      if (dict_size(zs->dict) != len) {
        abort();
      }
      break;
    }
    case OBJ_HASH:
      hash_type_foreach(o, rdb_fuzz_count_pair, &seen);
      len = hash_type_length(o);
      break;
    default:
      abort(); /* the loader made an object of no known type */
  }
  if (seen != len || len == 0) {
    abort();
  }
}

static void rdb_fuzz_walk_all(void) {
  for (int j = 0; j < server.dbnum; j++) {
    dict_iterator it;
    dict_init_safe_iterator(&it, server.db[j].dict);
    dict_entry *de;
    while ((de = dict_next(&it)) != NULL) {
      rdb_fuzz_walk_value(dict_get_val(de));
    }
    dict_reset_iterator(&it);
  }
  zset_compact_opened();
}

/* rdb_fuzz_resave: saves the loaded dataset and loads the result back
 * (CHECK_ONLY): it must succeed with every key. */
static void rdb_fuzz_resave(void) {
  long long keys = rdb_fuzz_total_keys();
  int saved_checksum = server.rdb_checksum;
  server.rdb_checksum = 1;
  rio w;
  rio_init_buffer_writer(&w);
  if (!rdb_save_rio(&w, RDBFLAGS_NONE)) {
    abort();
  }
  sds out = rio_take_buffer(&w);
  rio_release(&w);
  rio r;
  rio_init_buffer_reader(&r, out, sds_len(out));
  rdb_load_info info;
  char err[512];
  int rc =
      rdb_load_rio(&r, RDBFLAGS_CHECK_ONLY, "resaved", &info, err, sizeof(err));
  rio_release(&r);
  sds_free(out);
  server.rdb_checksum = saved_checksum;
  if (rc != C_OK || info.keys_loaded != keys || info.keys_empty != 0 ||
      !info.checksum_checked) {
    abort(); /* a value the loader accepted cannot be saved and reloaded */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > RDB_FUZZ_MAX_INPUT) {
    return 0;
  }
  fz_init_server_once();
  unsigned char control = size > 0 ? data[size - 1] : 0;
  int saved_checksum = server.rdb_checksum;
  server.rdb_checksum = (control & RDB_FUZZ_NO_CHECKSUM) ? 0 : 1;
  int flags =
      (control & RDB_FUZZ_ALLOW_DUP) ? RDBFLAGS_ALLOW_DUP : RDBFLAGS_NONE;
  char err[512];

  /* --check-rdb's pass: counts, keeps nothing. */
  rio r;
  rdb_load_info check_info;
  rio_init_buffer_reader(&r, data, size);
  int check_rc = rdb_load_rio(&r, RDBFLAGS_CHECK_ONLY, "fuzz", &check_info, err,
                              sizeof(err));
  rio_release(&r);
  if (rdb_fuzz_total_keys() != 0) {
    abort();
  }

  /* The real load. */
  rdb_load_info info;
  rio_init_buffer_reader(&r, data, size);
  int rc = rdb_load_rio(&r, flags, "fuzz", &info, err, sizeof(err));
  rio_release(&r);
  if (rc == C_OK) {
    if (check_rc == C_OK &&
        (check_info.keys_loaded != info.keys_loaded + info.keys_expired ||
         check_info.keys_empty != info.keys_empty)) {
      abort();
    }
    if (flags == RDBFLAGS_NONE && rdb_fuzz_total_keys() != info.keys_loaded) {
      abort();
    }
    rdb_fuzz_walk_all();
    rdb_fuzz_resave();
  } else if (err[0] == '\0') {
    abort(); /* a failed load says why */
  }
  empty_data(-1, 0, NULL);
  server.rdb_checksum = saved_checksum;
  server.dirty = 0;
  return 0;
}
