/* spawner_proto_fuzz.c: the privileged spawner's codec (sandbox/
 * spawner_proto.c), all four parsers on every input: main's requests (what
 * the root spawner parses from an unprivileged, possibly compromised main),
 * a handshaker's key request, and the answers main and a handshaker parse.
 *
 * Properties: whatever a parser accepts is of that parser's types only,
 * rebuilds through spawner_build to exactly the input bytes (the encoding
 * is canonical), and re-parses to the same fields. main's requests and a
 * handshaker's request are disjoint (a handshaker can never ask for a
 * spawn, main never for keys); only ERROR is both a main answer and a key
 * answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/spawner_proto.h"

static uint8_t fuzz_buf[SPAWNER_MAX_MESSAGE];
static spawner_message fuzz_m, fuzz_again;

static int fuzz_same_bytes(const uint8_t *a, size_t a_len, const uint8_t *b,
                           size_t b_len) {
  return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

static void fuzz_compare(const spawner_message *a, const spawner_message *b) {
  if (a->type != b->type || strcmp(a->argv0, b->argv0) != 0 ||
      memcmp(a->child_arg, b->child_arg, sizeof(a->child_arg)) != 0 ||
      strcmp(a->sandbox_user, b->sandbox_user) != 0 ||
      a->seccomp != b->seccomp || strcmp(a->key_file, b->key_file) != 0 ||
      strcmp(a->client_key_file, b->client_key_file) != 0 ||
      strcmp(a->key_file_pass, b->key_file_pass) != 0 ||
      strcmp(a->client_key_file_pass, b->client_key_file_pass) != 0 ||
      !fuzz_same_bytes(a->key, a->key_len, b->key, b->key_len) ||
      !fuzz_same_bytes(a->client_key, a->client_key_len, b->client_key,
                       b->client_key_len) ||
      a->socket_buffer != b->socket_buffer || a->kind != b->kind ||
      a->pid != b->pid || a->how != b->how || a->nice != b->nice ||
      a->state != b->state || a->wait_status != b->wait_status ||
      strcmp(a->reason, b->reason) != 0) {
    abort();
  }
}

typedef int fuzz_parser(const uint8_t *, size_t, spawner_message *);

/* fuzz_check runs |parse| and, if it accepts, checks the properties. Returns
 * the accepted type, or 0. */
static uint8_t fuzz_check(fuzz_parser *parse, const uint8_t *data, size_t size,
                          uint8_t lo, uint8_t hi) {
  if (!parse(data, size, &fuzz_m)) {
    return 0;
  }
  if (fuzz_m.type < lo || fuzz_m.type > hi) {
    if (fuzz_m.type != SPAWNER_ANS_ERROR ||
        parse == spawner_parse_main_request ||
        parse == spawner_parse_key_request) {
      abort(); /* a type of another direction */
    }
  }
  size_t n = spawner_build(fuzz_buf, sizeof(fuzz_buf), &fuzz_m);
  if (n != size || memcmp(fuzz_buf, data, size) != 0) {
    abort();
  }
  if (!parse(fuzz_buf, n, &fuzz_again)) {
    abort();
  }
  fuzz_compare(&fuzz_m, &fuzz_again);
  uint8_t type = fuzz_m.type;
  spawner_message_wipe(&fuzz_m);
  spawner_message_wipe(&fuzz_again);
  return type;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t main_request = fuzz_check(spawner_parse_main_request, data, size,
                                    SPAWNER_REQ_INIT, SPAWNER_REQ_NICE);
  uint8_t key_request =
      fuzz_check(spawner_parse_key_request, data, size, SPAWNER_REQ_KEY_REQUEST,
                 SPAWNER_REQ_KEY_REQUEST);
  uint8_t main_answer = fuzz_check(spawner_parse_main_answer, data, size,
                                   SPAWNER_ANS_READY, SPAWNER_ANS_ERROR);
  uint8_t keys_answer = fuzz_check(spawner_parse_keys_answer, data, size,
                                   SPAWNER_ANS_KEYS, SPAWNER_ANS_KEYS);
  if ((main_request && (key_request || main_answer || keys_answer)) ||
      (key_request && (main_answer || keys_answer)) ||
      (main_answer && keys_answer && main_answer != SPAWNER_ANS_ERROR)) {
    abort(); /* one datagram accepted by two directions */
  }
  return 0;
}
