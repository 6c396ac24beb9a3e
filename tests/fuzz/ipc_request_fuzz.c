/* ipc_request_fuzz.c: main -> handshaker datagrams (ipc_parse_request).
 *
 * Property: whatever parses must rebuild, through the public builders, to
 * exactly the input bytes (the encoding is canonical), and re-parsing the
 * rebuilt datagram must give the same fields. An answer-type datagram must
 * never parse as a request. A parsed VERIFY stays within its named limits
 * (count, each certificate, the whole chain) and its certificates lie
 * inside the datagram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/ipc.h"

static uint8_t fuzz_buf[IPC_MAX_MESSAGE];

static int fuzz_same_string(const char *a, const char *b) {
  if (a == NULL || b == NULL) {
    return a == b;
  }
  return strcmp(a, b) == 0;
}

static size_t fuzz_rebuild(const ipc_message *m) {
  switch (m->type) {
    case IPC_REQ_CONFIG:
      return ipc_build_config(fuzz_buf, sizeof(fuzz_buf), &m->config);
    case IPC_REQ_TICKET_KEYS:
      return ipc_build_ticket_keys(
          fuzz_buf, sizeof(fuzz_buf),
          (const uint8_t(*)[IPC_TICKET_KEY_LEN])m->ticket_keys,
          m->ticket_key_count);
    case IPC_REQ_RECORD:
      return ipc_build_record(fuzz_buf, sizeof(fuzz_buf), m->conn_id, m->data,
                              m->data_len);
    case IPC_REQ_ABORT:
      return ipc_build_abort(fuzz_buf, sizeof(fuzz_buf), m->conn_id);
    case IPC_REQ_TEST_SYSCALL:
      return ipc_build_test_syscall(fuzz_buf, sizeof(fuzz_buf), m->reason);
    case IPC_REQ_SIGN:
      return ipc_build_sign(fuzz_buf, sizeof(fuzz_buf), m->conn_id, m->sigalg,
                            m->data, m->data_len);
    case IPC_REQ_VERIFY:
      return ipc_build_verify(fuzz_buf, sizeof(fuzz_buf), m->conn_id,
                              m->purpose, m->certs, m->cert_lens,
                              m->cert_count);
    default:
      abort(); /* the parser accepted a non-request type */
  }
}

/* fuzz_check_verify: a VERIFY's limits hold and its certificates point
 * into [data, data + size). */
static void fuzz_check_verify(const ipc_message *m, const uint8_t *data,
                              size_t size) {
  size_t total = 0;
  if (m->type != IPC_REQ_VERIFY) {
    return;
  }
  if (m->cert_count < 1 || m->cert_count > IPC_MAX_CHAIN_CERTS ||
      (m->purpose != IPC_VERIFY_PURPOSE_CLIENT &&
       m->purpose != IPC_VERIFY_PURPOSE_SERVER)) {
    abort();
  }
  for (size_t i = 0; i < m->cert_count; i++) {
    if (m->cert_lens[i] < 1 || m->cert_lens[i] > IPC_MAX_CERT_LEN ||
        m->certs[i] < data || m->certs[i] + m->cert_lens[i] > data + size) {
      abort();
    }
    total += m->cert_lens[i];
  }
  if (total > IPC_MAX_CERT_CHAIN) {
    abort();
  }
}

static void fuzz_compare(const ipc_message *a, const ipc_message *b) {
  const ipc_config *x = &a->config, *y = &b->config;
  if (a->type != b->type || a->conn_id != b->conn_id ||
      a->data_len != b->data_len ||
      (a->data_len > 0 && memcmp(a->data, b->data, a->data_len) != 0) ||
      strcmp(a->reason, b->reason) != 0 ||
      a->ticket_key_count != b->ticket_key_count ||
      memcmp(a->ticket_keys, b->ticket_keys, sizeof(a->ticket_keys)) != 0 ||
      !fuzz_same_string(x->cert_file, y->cert_file) ||
      !fuzz_same_string(x->key_file, y->key_file) ||
      !fuzz_same_string(x->key_file_pass, y->key_file_pass) ||
      !fuzz_same_string(x->ca_cert_file, y->ca_cert_file) ||
      !fuzz_same_string(x->ca_cert_dir, y->ca_cert_dir) ||
      !fuzz_same_string(x->dh_params_file, y->dh_params_file) ||
      !fuzz_same_string(x->protocols, y->protocols) ||
      !fuzz_same_string(x->ciphers, y->ciphers) ||
      !fuzz_same_string(x->ciphersuites, y->ciphersuites) ||
      !fuzz_same_string(x->sandbox_user, y->sandbox_user) ||
      !fuzz_same_string(x->client_cert_file, y->client_cert_file) ||
      !fuzz_same_string(x->client_key_file, y->client_key_file) ||
      !fuzz_same_string(x->client_key_file_pass, y->client_key_file_pass) ||
      a->sigalg != b->sigalg || a->purpose != b->purpose ||
      a->cert_count != b->cert_count || x->auth_clients != y->auth_clients ||
      x->prefer_server_ciphers != y->prefer_server_ciphers ||
      x->session_caching != y->session_caching || x->seccomp != y->seccomp ||
      x->session_cache_size != y->session_cache_size ||
      x->session_cache_timeout != y->session_cache_timeout) {
    abort();
  }
  for (size_t i = 0; i < a->cert_count; i++) {
    if (a->cert_lens[i] != b->cert_lens[i] ||
        memcmp(a->certs[i], b->certs[i], a->cert_lens[i]) != 0) {
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ipc_message m, again, as_answer;
  if (ipc_parse_answer(data, size, &as_answer)) {
    if (as_answer.type < IPC_ANS_READY) {
      abort(); /* a request type accepted by the answer parser */
    }
    ipc_message_cleanup(&as_answer);
  }
  if (!ipc_parse_request(data, size, &m)) {
    ipc_message_cleanup(&m); /* must be harmless after a failed parse */
    return 0;
  }
  fuzz_check_verify(&m, data, size);
  size_t n = fuzz_rebuild(&m);
  if (n != size || memcmp(fuzz_buf, data, size) != 0) {
    abort();
  }
  if (!ipc_parse_request(fuzz_buf, n, &again)) {
    abort();
  }
  fuzz_compare(&m, &again);
  ipc_message_cleanup(&again);
  ipc_message_cleanup(&m);
  return 0;
}
