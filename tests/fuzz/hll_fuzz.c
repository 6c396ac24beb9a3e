/* hll_fuzz.c: libFuzzer target for the HyperLogLog decoders
 * (server/types/hyperloglog.c): an arbitrary string is stored with SET and
 * then read and written by every HLL command through process_command on an
 * in-process server (server_init_for_tests).
 *
 * Input format: byte 0 flags, byte 1 the number of elements PFADD adds
 * (0..255), then the body.
 *   bit 0  the value is a 16-byte HLL header followed by the body (else the
 *          body alone is the value, header included or not);
 *   bit 1  that header says dense (else sparse);
 *   bit 2  that header carries a valid cached cardinality (else stale);
 *   bit 3  the body is cut or zero-padded to the dense register size;
 *   bit 4  hll-sparse-max-bytes is 64 for this input (else 3000).
 *
 * Oracle, besides ASan/UBSan and the server's assertions:
 * - every reply is a result or one of the errors Redis gives for such a
 *   value: -INVALIDOBJ, the WRONGTYPE of an invalid HLL, "HLL encoding is
 *   not sparse"; any other reply shape aborts;
 * - when PFDEBUG TODENSE converts a copy of a sparse value, the value was a
 *   consistent sparse HLL: its estimate (stale cache: computed) equals the
 *   dense copy's, the union estimate of PFCOUNT k k equals it too, and the
 *   same PFADD on both leaves the same registers (PFDEBUG GETREG) and the
 *   same estimate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/core/server.h"
#include "tests/fuzz/inproc_client.h"

#define HLL_FUZZ_MAX_INPUT (64 * 1024)
#define HLL_FUZZ_HDR 16
#define HLL_FUZZ_DENSE_REGISTERS 12288

#define FLAG_HEADER 1
#define FLAG_DENSE 2
#define FLAG_VALID_CACHE 4
#define FLAG_DENSE_SIZE 8
#define FLAG_SMALL_SPARSE 16

static const char *const allowed_errors[] = {
    "-INVALIDOBJ Corrupted HLL object detected\r\n",
    "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n",
    "-ERR HLL encoding is not sparse\r\n",
};

/* check_reply aborts unless |r| is a well-formed reply that is not an
 * error, or one of the allowed errors. Returns 1 for a non-error. */
static int check_reply(const sds r) {
  if (sds_len(r) > 0 && r[0] == '-') {
    for (size_t i = 0; i < sizeof(allowed_errors) / sizeof(*allowed_errors);
         i++) {
      if (fz_reply_is(r, allowed_errors[i])) {
        return 0;
      }
    }
    abort(); /* an error Redis would not give here */
  }
  fz_reply rep = fz_parse(r); /* aborts on a malformed reply */
  fz_reply_free(&rep);
  return 1;
}

/* run: the command of C-string arguments (at most 8), its reply checked;
 * returns the reply (the caller frees it). */
static sds run(client *c, int argc, const char **argv) {
  size_t lens[8];
  for (int i = 0; i < argc; i++) {
    lens[i] = strlen(argv[i]);
  }
  sds r = fz_call(c, argc, argv, lens);
  check_reply(r);
  return r;
}

static void run_free(client *c, int argc, const char **argv) {
  sds_free(run(c, argc, argv));
}

static void set_value(client *c, const char *key, const sds value) {
  const char *argv[3] = {"SET", key, value};
  size_t lens[3] = {3, strlen(key), sds_len(value)};
  sds r = fz_call(c, 3, argv, lens);
  if (!fz_reply_is(r, "+OK\r\n")) {
    abort();
  }
  sds_free(r);
}

static void set_sparse_max(client *c, const char *value) {
  const char *argv[4] = {"CONFIG", "SET", "hll-sparse-max-bytes", value};
  sds r = run(c, 4, argv);
  if (!fz_reply_is(r, "+OK\r\n")) {
    abort();
  }
  sds_free(r);
}

/* build_value: the string the input describes (see the file header). */
static sds build_value(uint8_t flags, const uint8_t *body, size_t body_len) {
  sds v = sds_empty();
  if (flags & FLAG_HEADER) {
    uint8_t hdr[HLL_FUZZ_HDR] = {'H', 'Y', 'L', 'L'};
    hdr[4] = (flags & FLAG_DENSE) ? 0 : 1;
    if (flags & FLAG_VALID_CACHE) {
      hdr[8] = 0x39;
      hdr[9] = 0x30; /* 12345 */
    } else {
      hdr[15] = 0x80;
    }
    v = sds_cat_len(v, hdr, sizeof(hdr));
  }
  if (flags & FLAG_DENSE_SIZE) {
    size_t take = body_len < HLL_FUZZ_DENSE_REGISTERS
                      ? body_len
                      : HLL_FUZZ_DENSE_REGISTERS;
    v = sds_cat_len(v, body, take);
    v = sds_grow_zero(v, sds_len(v) + (HLL_FUZZ_DENSE_REGISTERS - take));
  } else {
    v = sds_cat_len(v, body, body_len);
  }
  return v;
}

/* pfadd: PFADD key with |count| elements derived from |seed|. */
static sds pfadd(client *c, const char *key, unsigned count, unsigned seed) {
  const char *argv[2 + 255];
  char names[255][24];
  size_t lens[2 + 255];
  argv[0] = "PFADD";
  argv[1] = key;
  lens[0] = 5;
  lens[1] = strlen(key);
  for (unsigned i = 0; i < count; i++) {
    snprintf(names[i], sizeof(names[i]), "e%u:%u", seed, i * 2654435761u);
    argv[2 + i] = names[i];
    lens[2 + i] = strlen(names[i]);
  }
  sds r = fz_call(c, 2 + (int)count, argv, lens);
  check_reply(r);
  return r;
}

static int same(const sds a, const sds b) {
  return sds_len(a) == sds_len(b) && memcmp(a, b, sds_len(a)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > HLL_FUZZ_MAX_INPUT) {
    return 0;
  }
  fz_init_server_once();
  client *c = create_client(NULL);
  c->flags |= CLIENT_SCRIPT;
  uint8_t flags = data[0];
  unsigned count = data[1];
  sds value = build_value(flags, data + 2, size - 2);
  if (flags & FLAG_SMALL_SPARSE) {
    set_sparse_max(c, "64");
  }

  /* A valid HLL to combine the value with. */
  run_free(c, 5, (const char *[]){"PFADD", "other", "x", "y", "z"});

  /* Every command on the value, each on a fresh copy. */
  set_value(c, "k", value);
  run_free(c, 2, (const char *[]){"PFCOUNT", "k"});
  run_free(c, 3, (const char *[]){"PFCOUNT", "k", "other"});
  run_free(c, 3, (const char *[]){"PFCOUNT", "other", "k"});
  run_free(c, 3, (const char *[]){"PFDEBUG", "ENCODING", "k"});
  run_free(c, 3, (const char *[]){"PFDEBUG", "DECODE", "k"});
  run_free(c, 3, (const char *[]){"PFMERGE", "dst", "k"});
  run_free(c, 4, (const char *[]){"PFMERGE", "dst2", "other", "k"});
  sds_free(pfadd(c, "k", count, 1));
  run_free(c, 2, (const char *[]){"PFCOUNT", "k"});
  run_free(c, 3, (const char *[]){"PFDEBUG", "DECODE", "k"});
  run_free(c, 2, (const char *[]){"GET", "k"});
  set_value(c, "m", value);
  run_free(c, 2, (const char *[]){"PFMERGE", "m"});
  run_free(c, 3, (const char *[]){"PFMERGE", "m", "other"});
  run_free(c, 2, (const char *[]){"PFCOUNT", "m"});
  set_value(c, "g", value);
  run_free(c, 3, (const char *[]){"PFDEBUG", "GETREG", "g"});

  /* Sparse against dense: a copy that converts was a consistent sparse HLL,
   * and both forms must then estimate and grow alike. */
  set_value(c, "s", value);
  set_value(c, "d", value);
  sds conv = run(c, 3, (const char *[]){"PFDEBUG", "TODENSE", "d"});
  sds enc = run(c, 3, (const char *[]){"PFDEBUG", "ENCODING", "s"});
  if (fz_reply_is(conv, ":1\r\n") && fz_reply_is(enc, "+sparse\r\n") &&
      !(flags & FLAG_VALID_CACHE) && (flags & FLAG_HEADER)) {
    sds cs = run(c, 2, (const char *[]){"PFCOUNT", "s"});
    sds cd = run(c, 2, (const char *[]){"PFCOUNT", "d"});
    sds cu = run(c, 3, (const char *[]){"PFCOUNT", "s", "s"});
    if (!same(cs, cd) || !same(cs, cu) || cs[0] != ':') {
      abort(); /* sparse and dense estimate the same registers differently */
    }
    sds as = pfadd(c, "s", count, 2);
    sds ad = pfadd(c, "d", count, 2);
    sds rs = run(c, 3, (const char *[]){"PFDEBUG", "GETREG", "s"});
    sds rd = run(c, 3, (const char *[]){"PFDEBUG", "GETREG", "d"});
    if (!same(as, ad) || !same(rs, rd)) {
      abort(); /* the same PFADD changed the two forms differently */
    }
    sds_free(as);
    sds_free(ad);
    sds_free(rs);
    sds_free(rd);
    sds_free(cs);
    sds_free(cd);
    sds_free(cu);
  }
  sds_free(conv);
  sds_free(enc);

  if (flags & FLAG_SMALL_SPARSE) {
    set_sparse_max(c, "3000");
  }
  sds_free(value);
  free_client(c);
  empty_data(-1, 0, NULL);
  server.dirty = 0;
  return 0;
}
