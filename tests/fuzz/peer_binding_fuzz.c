/* peer_binding_fuzz.c: the identity binding main reads from a resumed
 * session after the handback (tls_peer_parse_binding, tls/peer.c). The
 * session, and so these bytes, come from a handshaker: a compromised one
 * writes them.
 *
 * Properties: whatever parses holds a text subject (no control byte) of at
 * most IPC_MAX_REASON bytes, the MAC is the last 32 bytes, and the binding
 * rebuilt with tls_peer_binding_body plus that MAC is byte for byte the
 * input (one encoding per binding). */
#include <openssl/bytestring.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tls_peer_binding binding;
  if (!tls_peer_parse_binding(data, size, &binding)) {
    return 0;
  }
  size_t subject_len = strlen(binding.subject);
  if (subject_len > IPC_MAX_REASON || binding.body_len + 32 != size ||
      memcmp(binding.mac, data + binding.body_len, 32) != 0) {
    abort();
  }
  for (size_t i = 0; i < subject_len; i++) {
    unsigned char ch = (unsigned char)binding.subject[i];
    if (ch < 0x20 || ch == 0x7f) {
      abort();
    }
  }
  CBB cbb;
  if (!CBB_init(&cbb, size)) {
    return 0;
  }
  if (!tls_peer_binding_body(&cbb, binding.authenticated_at,
                             binding.chain_sha256, binding.subject) ||
      !CBB_add_bytes(&cbb, binding.mac, sizeof(binding.mac)) ||
      CBB_len(&cbb) != size || memcmp(CBB_data(&cbb), data, size) != 0) {
    abort();
  }
  CBB_cleanup(&cbb);
  return 0;
}
