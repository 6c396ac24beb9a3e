/* ipc_answer_fuzz.c: handshaker -> main datagrams (ipc_parse_answer), the
 * direction where main trusts nothing: a compromised handshaker writes these.
 *
 * Property: whatever parses must rebuild, through the public builders, to
 * exactly the input bytes (the encoding is canonical), and re-parsing the
 * rebuilt datagram must give the same fields. A request-type datagram must
 * never parse as an answer. A parsed VERIFIED is consistent (verdict 1 iff
 * no error, the error bounded) and its texts, which main logs and shows in
 * CLIENT LIST, hold no control byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/ipc.h"

static uint8_t fuzz_buf[IPC_MAX_MESSAGE];

static size_t fuzz_rebuild(const ipc_message *m) {
  switch (m->type) {
    case IPC_ANS_READY:
      return ipc_build_ready(fuzz_buf, sizeof(fuzz_buf), m->cert_subject,
                             m->cert_issuer, m->cert_not_after);
    case IPC_ANS_CONFIG_FAIL:
      return ipc_build_config_fail(fuzz_buf, sizeof(fuzz_buf), m->reason);
    case IPC_ANS_NEED_INPUT:
      return ipc_build_need_input(fuzz_buf, sizeof(fuzz_buf), m->conn_id,
                                  m->data, m->data_len);
    case IPC_ANS_DONE:
      return ipc_build_done(fuzz_buf, sizeof(fuzz_buf), m->conn_id, m->data,
                            m->data_len, m->handback, m->handback_len,
                            m->resumed);
    case IPC_ANS_FAIL:
      return ipc_build_fail(fuzz_buf, sizeof(fuzz_buf), m->conn_id, m->reason,
                            m->data, m->data_len);
    case IPC_ANS_SIGNED:
      return ipc_build_signed(fuzz_buf, sizeof(fuzz_buf), m->conn_id, m->data,
                              m->data_len);
    case IPC_ANS_VERIFIED:
      return ipc_build_verified(fuzz_buf, sizeof(fuzz_buf), m->conn_id,
                                m->verdict, m->verify_error, m->reason,
                                m->cert_subject, m->cert_sans);
    default:
      abort(); /* the parser accepted a non-answer type */
  }
}

static void fuzz_check_text(const char *s) {
  for (; *s; s++) {
    if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) {
      abort();
    }
  }
}

static void fuzz_check_verified(const ipc_message *m) {
  if (m->type != IPC_ANS_VERIFIED) {
    return;
  }
  if (m->verdict > 1 || (m->verdict == 1) != (m->verify_error == 0) ||
      m->verify_error > IPC_MAX_VERIFY_ERROR) {
    abort();
  }
  fuzz_check_text(m->reason);
  fuzz_check_text(m->cert_subject);
  fuzz_check_text(m->cert_sans);
}

static void fuzz_compare(const ipc_message *a, const ipc_message *b) {
  if (a->type != b->type || a->conn_id != b->conn_id ||
      a->data_len != b->data_len ||
      (a->data_len > 0 && memcmp(a->data, b->data, a->data_len) != 0) ||
      a->handback_len != b->handback_len ||
      (a->handback_len > 0 &&
       memcmp(a->handback, b->handback, a->handback_len) != 0) ||
      strcmp(a->reason, b->reason) != 0 ||
      strcmp(a->cert_subject, b->cert_subject) != 0 ||
      strcmp(a->cert_issuer, b->cert_issuer) != 0 ||
      a->cert_not_after != b->cert_not_after || a->resumed != b->resumed ||
      a->verdict != b->verdict || a->verify_error != b->verify_error ||
      strcmp(a->cert_sans, b->cert_sans) != 0) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ipc_message m, again, as_request;
  if (ipc_parse_request(data, size, &as_request)) {
    if (as_request.type >= IPC_ANS_READY) {
      abort(); /* an answer type accepted by the request parser */
    }
    ipc_message_cleanup(&as_request);
  }
  if (!ipc_parse_answer(data, size, &m)) {
    ipc_message_cleanup(&m); /* must be harmless after a failed parse */
    return 0;
  }
  fuzz_check_verified(&m);
  size_t n = fuzz_rebuild(&m);
  if (n != size || memcmp(fuzz_buf, data, size) != 0) {
    abort();
  }
  if (!ipc_parse_answer(fuzz_buf, n, &again)) {
    abort();
  }
  fuzz_compare(&m, &again);
  ipc_message_cleanup(&again);
  ipc_message_cleanup(&m);
  return 0;
}
