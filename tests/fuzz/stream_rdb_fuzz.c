/* stream_rdb_fuzz.c: libFuzzer target for stream values read from outside
 * (server/persist/rdb_stream.c, the node validation of
 * server/types/t_stream_ds.c), through RESTORE on an in-process server,
 * then every stream command on what was accepted.
 *
 * Input format: byte 0 picks the RDB type (value % 3: 15, 19 or 21, the
 * stream encodings of Redis 5/6, 7.0 and 7.2) and, in its bit 2, a
 * stream-node-max-entries of 2 instead of 100 (so commands split nodes);
 * the rest is the value's body (what follows the type byte in a DUMP
 * payload). The target adds the type byte and the footer (RDB version 10,
 * CRC64), so every input reaches the loader.
 *
 * Oracle, besides ASan/UBSan and the server's assertions:
 * - RESTORE replies +OK or an error; after an error the key does not exist;
 * - after +OK: XLEN equals the entries XRANGE and XREVRANGE walk, DUMP ->
 *   RESTORE -> DUMP is a fixed point and the copy's XINFO STREAM FULL is the
 *   original's (fz_canon);
 * - then reads (XINFO STREAM / GROUPS / CONSUMERS, XPENDING both forms,
 *   XREAD) and writes (XADD, XDEL, XTRIM exact and ~, XSETID, XREADGROUP
 *   new and history, XACK, XCLAIM, XAUTOCLAIM, XGROUP SETID / DELCONSUMER /
 *   DESTROY) on every group the value holds must all answer, and XLEN must
 *   still equal what XRANGE walks. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/crc64.h"
#include "server/core/server.h"
#include "tests/fuzz/inproc_client.h"

#define STREAM_FUZZ_MAX_INPUT (256 * 1024)
#define STREAM_FUZZ_RDB_VERSION 10
/* Names taken from a value: at most this many groups and consumers. */
#define STREAM_FUZZ_MAX_NAMES 8

static const unsigned char stream_types[3] = {15, 19, 21};

static sds stream_payload(unsigned char type, const uint8_t *body,
                          size_t size) {
  sds p = sds_new_len(&type, 1);
  p = sds_cat_len(p, body, size);
  unsigned char footer[10];
  footer[0] = STREAM_FUZZ_RDB_VERSION & 0xFF;
  footer[1] = (STREAM_FUZZ_RDB_VERSION >> 8) & 0xFF;
  p = sds_cat_len(p, footer, 2);
  uint64_t crc = crc64(0, p, sds_len(p));
  for (int i = 0; i < 8; i++) {
    footer[i] = (unsigned char)(crc >> (8 * i));
  }
  return sds_cat_len(p, footer, 8);
}

/* cmd runs a command of C-string arguments (NULL-terminated) and checks
 * that the reply is one well-formed RESP reply. */
static sds cmd(client *c, ...) {
  const char *argv[16];
  size_t lens[16];
  int argc = 0;
  va_list ap;
  va_start(ap, c);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && argc < 16) {
    argv[argc] = a;
    lens[argc] = strlen(a);
    argc++;
  }
  va_end(ap);
  return fz_call(c, argc, argv, lens);
}

static void cmd_free(client *c, ...) {
  const char *argv[16];
  size_t lens[16];
  int argc = 0;
  va_list ap;
  va_start(ap, c);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && argc < 16) {
    argv[argc] = a;
    lens[argc] = strlen(a);
    argc++;
  }
  va_end(ap);
  sds r = fz_call(c, argc, argv, lens);
  if (sds_len(r) == 0) {
    abort(); /* every command answers */
  }
  sds_free(r);
}

/* ---- a small reader for nested replies ------------------------------ */

/* skip_reply returns the offset after the reply at pos (aborting on a
 * malformed one); with |names| it collects the bulk strings that follow a
 * "name" bulk (XINFO GROUPS / CONSUMERS maps). */
static size_t skip_reply(const sds r, size_t pos, sds *names, int *nnames) {
  if (pos >= sds_len(r)) {
    abort();
  }
  char kind = r[pos];
  size_t end = fz_line_end(r, pos);
  long long n = strtoll(r + pos + 1, NULL, 10);
  if (kind == '$') {
    if (n < 0) {
      return end;
    }
    if ((size_t)n + 2 > sds_len(r) - end) {
      abort();
    }
    return end + (size_t)n + 2;
  }
  if (kind == '*') {
    int want_name = 0;
    for (long long i = 0; i < n; i++) {
      size_t next = skip_reply(r, end, names, nnames);
      if (want_name && names && *nnames < STREAM_FUZZ_MAX_NAMES &&
          r[end] == '$') {
        size_t body = fz_line_end(r, end);
        names[(*nnames)++] = sds_new_len(r + body, next - body - 2);
      }
      want_name = r[end] == '$' && next - end == 10 &&
                  !memcmp(r + end, "$4\r\nname\r\n", 10);
      end = next;
    }
    return end;
  }
  if (kind == '+' || kind == '-' || kind == ':') {
    return end;
  }
  abort();
  return 0;
}

static long long entries_walked(client *c, const char *key, int rev) {
  sds r = rev ? cmd(c, "XREVRANGE", key, "+", "-", NULL)
              : cmd(c, "XRANGE", key, "-", "+", NULL);
  if (sds_len(r) < 4 || r[0] != '*' ||
      skip_reply(r, 0, NULL, NULL) != sds_len(r)) {
    abort();
  }
  long long n = strtoll(r + 1, NULL, 10);
  sds_free(r);
  return n;
}

static void check_length(client *c, const char *key) {
  long long n = fz_count(c, "XLEN", key);
  if (entries_walked(c, key, 0) != n || entries_walked(c, key, 1) != n) {
    abort(); /* XLEN and the entries disagree */
  }
}

static int collect_names(client *c, sds reply, sds *names) {
  int n = 0;
  if (sds_len(reply) == 0 || reply[0] != '*') {
    sds_free(reply);
    return 0;
  }
  if (skip_reply(reply, 0, names, &n) != sds_len(reply)) {
    abort();
  }
  (void)c;
  sds_free(reply);
  return n;
}

static void exercise_group(client *c, const char *key, sds group) {
  sds consumers[STREAM_FUZZ_MAX_NAMES];
  int nc = collect_names(c, cmd(c, "XINFO", "CONSUMERS", key, group, NULL),
                         consumers);
  cmd_free(c, "XPENDING", key, group, NULL);
  cmd_free(c, "XPENDING", key, group, "-", "+", "100", NULL);
  cmd_free(c, "XPENDING", key, group, "IDLE", "0", "(0-0", "+", "3", NULL);
  for (int i = 0; i < nc; i++) {
    cmd_free(c, "XPENDING", key, group, "-", "+", "10", consumers[i], NULL);
    cmd_free(c, "XREADGROUP", "GROUP", group, consumers[i], "COUNT", "3",
             "STREAMS", key, "0", NULL);
    cmd_free(c, "XCLAIM", key, group, consumers[i], "0", "0-1", "1-0", "FORCE",
             "JUSTID", NULL);
  }
  cmd_free(c, "XREADGROUP", "GROUP", group, "fz", "COUNT", "5", "STREAMS", key,
           ">", NULL);
  cmd_free(c, "XREADGROUP", "GROUP", group, "fz", "NOACK", "STREAMS", key, ">",
           NULL);
  cmd_free(c, "XAUTOCLAIM", key, group, "fz2", "0", "-", "COUNT", "7", NULL);
  cmd_free(c, "XAUTOCLAIM", key, group, "fz2", "0", "-", "JUSTID", NULL);
  cmd_free(c, "XACK", key, group, "0-1", "1-0", "18446744073709551615-0", NULL);
  cmd_free(c, "XINFO", "CONSUMERS", key, group, NULL);
  if (nc > 0) {
    cmd_free(c, "XGROUP", "DELCONSUMER", key, group, consumers[0], NULL);
  }
  cmd_free(c, "XGROUP", "SETID", key, group, "0", NULL);
  cmd_free(c, "XREADGROUP", "GROUP", group, "fz3", "STREAMS", key, ">", NULL);
  for (int i = 0; i < nc; i++) {
    sds_free(consumers[i]);
  }
}

static void exercise(client *c, const char *key) {
  check_length(c, key);
  cmd_free(c, "XINFO", "STREAM", key, NULL);
  cmd_free(c, "XINFO", "STREAM", key, "FULL", NULL);
  cmd_free(c, "XREAD", "COUNT", "5", "STREAMS", key, "0", NULL);
  cmd_free(c, "XRANGE", key, "(0-0", "(18446744073709551615", "COUNT", "3",
           NULL);
  sds groups[STREAM_FUZZ_MAX_NAMES];
  int ng = collect_names(c, cmd(c, "XINFO", "GROUPS", key, NULL), groups);
  for (int i = 0; i < ng; i++) {
    exercise_group(c, key, groups[i]);
  }
  check_length(c, key);
  cmd_free(c, "XADD", key, "*", "f", "v", NULL);
  cmd_free(c, "XADD", key, "MAXLEN", "~", "5", "*", "g", "w", NULL);
  check_length(c, key);
  cmd_free(c, "XDEL", key, "0-1", "1-1", NULL);
  cmd_free(c, "XTRIM", key, "MINID", "~", "1", NULL);
  cmd_free(c, "XTRIM", key, "MAXLEN", "3", NULL);
  check_length(c, key);
  cmd_free(c, "XSETID", key, "18446744073709551615-0", NULL);
  for (int i = 0; i < ng; i++) {
    cmd_free(c, "XGROUP", "DESTROY", key, groups[i], NULL);
    sds_free(groups[i]);
  }
  check_length(c, key);
  cmd_free(c, "XINFO", "STREAM", key, "FULL", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > STREAM_FUZZ_MAX_INPUT) {
    return 0;
  }
  fz_init_server_once();
  server.stream_node_max_entries = (data[0] & 4) ? 2 : 100;
  client *c = create_client(NULL);
  c->flags |= CLIENT_SCRIPT;
  sds payload = stream_payload(stream_types[data[0] % 3], data + 1, size - 1);
  sds r = fz_restore(c, "k1", payload);
  sds_free(payload);
  if (fz_reply_is(r, "+OK\r\n")) {
    sds d1 = fz_dump(c, "k1");
    sds r2 = fz_restore(c, "k2", d1);
    if (!fz_reply_is(r2, "+OK\r\n")) {
      abort(); /* our own DUMP output is refused */
    }
    sds_free(r2);
    sds d2 = fz_dump(c, "k2");
    if (sds_len(d1) != sds_len(d2) || memcmp(d1, d2, sds_len(d1)) != 0) {
      abort(); /* DUMP -> RESTORE -> DUMP changed the payload */
    }
    sds v1 = fz_canon(c, "k1");
    sds v2 = fz_canon(c, "k2");
    if (sds_len(v1) != sds_len(v2) || memcmp(v1, v2, sds_len(v1)) != 0) {
      abort(); /* the copy holds another stream */
    }
    sds_free(v1);
    sds_free(v2);
    sds_free(d1);
    sds_free(d2);
    exercise(c, "k1");
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
  server.stream_node_max_entries = 100;
  return 0;
}
