/* restore_fuzz.c: libFuzzer target for RESTORE payloads
 * (server/persist/rdb.c rdb_load_object and the RESTORE command in
 * server/persist/persist.c), run through process_command on an
 * in-process server (server_init_for_tests).
 *
 * Input format: a DUMP payload without its 10-byte footer: the RDB type
 * byte, then the value's body. The target appends the footer (RDB version
 * 10, little-endian, and the CRC64 of everything before it), so every
 * input gets past verify_dump_payload and reaches the loader.
 *
 * Oracle, besides ASan/UBSan and the server's assertions:
 * - RESTORE k1 replies +OK or an error; after an error k1 does not exist;
 * - after +OK: D1 = DUMP k1; RESTORE k2 D1 must reply +OK; D2 = DUMP k2
 *   must equal D1 byte for byte (a DUMP -> RESTORE -> DUMP round trip is a
 *   fixed point). Sets and hashes in "hashtable" encoding are the
 *   exception: their member order follows the dict's buckets and chains,
 *   which differ between two dicts filled in different orders, so there D2
 *   must only have D1's type byte and length;
 * - always: k1 and k2 hold the same value, compared element by element
 *   through real commands (TYPE, GET, LRANGE, SMEMBERS, ZRANGE WITHSCORES,
 *   HGETALL; unordered replies sorted), and each reply's element count
 *   equals STRLEN/LLEN/SCARD/ZCARD/HLEN: the restored structure walks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/crc64.h"
#include "server/core/server.h"
#include "tests/fuzz/inproc_client.h"

/* Larger payloads only slow the fuzzer down. */
#define RESTORE_FUZZ_MAX_INPUT (256 * 1024)
#define RESTORE_FUZZ_RDB_VERSION 10

/* ---- the target ------------------------------------------------------ */

static sds restore_fuzz_payload(const uint8_t *data, size_t size) {
  sds p = sds_new_len(data, size);
  unsigned char footer[10];
  footer[0] = RESTORE_FUZZ_RDB_VERSION & 0xFF;
  footer[1] = (RESTORE_FUZZ_RDB_VERSION >> 8) & 0xFF;
  p = sds_cat_len(p, footer, 2);
  uint64_t crc = crc64(0, p, sds_len(p));
  for (int i = 0; i < 8; i++) {
    footer[i] = (unsigned char)(crc >> (8 * i));
  }
  return sds_cat_len(p, footer, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > RESTORE_FUZZ_MAX_INPUT) {
    return 0;
  }
  fz_init_server_once();
  client *c = create_client(NULL);
  c->flags |= CLIENT_SCRIPT;

  sds payload = restore_fuzz_payload(data, size);
  sds r = fz_restore(c, "k1", payload);
  sds_free(payload);
  if (fz_reply_is(r, "+OK\r\n")) {
    sds d1 = fz_dump(c, "k1");
    sds enc = fz_call3(c, "OBJECT", "ENCODING", "k1");
    int unordered = fz_reply_is(enc, "$9\r\nhashtable\r\n");
    sds_free(enc);
    sds r2 = fz_restore(c, "k2", d1);
    if (!fz_reply_is(r2, "+OK\r\n")) {
      abort(); /* our own DUMP output is refused */
    }
    sds_free(r2);
    sds d2 = fz_dump(c, "k2");
    if (sds_len(d1) != sds_len(d2) || d1[0] != d2[0] ||
        (!unordered && memcmp(d1, d2, sds_len(d1)) != 0)) {
      abort(); /* DUMP -> RESTORE -> DUMP changed the payload */
    }
    sds v1 = fz_canon(c, "k1");
    sds v2 = fz_canon(c, "k2");
    if (sds_len(v1) != sds_len(v2) || memcmp(v1, v2, sds_len(v1)) != 0) {
      abort(); /* the restored copy holds another value */
    }
    sds_free(v1);
    sds_free(v2);
    sds_free(d1);
    sds_free(d2);
  } else {
    if (sds_len(r) == 0 || r[0] != '-') {
      abort();
    }
    sds e = fz_call2(c, "EXISTS", "k1");
    if (!fz_reply_is(e, ":0\r\n")) {
      abort(); /* a refused payload left a key behind */
    }
    sds_free(e);
  }
  sds_free(r);
  free_client(c);
  empty_data(-1, 0, NULL);
  server.dirty = 0;
  return 0;
}
