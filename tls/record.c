/* record.c: the only parsing main does of a client's handshake bytes: the
 * 5-byte TLS record header (content type, version major, length), with the
 * per-handshake budgets. Kept pure (no I/O, no BoringSSL) so that it has a
 * fuzz target (tests/fuzz/tls_record_fuzz.c). */
#include <stddef.h>
#include <stdint.h>

#include "tls/internal.h"

#define TLS_CONTENT_CCS 20
#define TLS_CONTENT_HANDSHAKE 22
#define TLS_CONTENT_APPLICATION 23

const char *tls_record_header_check(const uint8_t header[TLS_RECORD_HEADER_LEN],
                                    int records_so_far, size_t bytes_so_far,
                                    size_t *out_body) {
  size_t body = ((size_t)header[3] << 8) | header[4];
  *out_body = 0;
  if (records_so_far == 0 && header[0] != TLS_CONTENT_HANDSHAKE) {
    return "not a TLS ClientHello (plaintext client on the TLS port?)";
  }
  if (header[0] < TLS_CONTENT_CCS || header[0] > TLS_CONTENT_APPLICATION ||
      header[1] != 3) {
    return "malformed TLS record header";
  }
  if (body > TLS_MAX_RECORD_BODY) {
    return "TLS record too long";
  }
  if (records_so_far < 0 || records_so_far >= TLS_MAX_HANDSHAKE_RECORDS) {
    return "ClientHello in too many records";
  }
  if (bytes_so_far > TLS_MAX_HANDSHAKE_BYTES ||
      TLS_RECORD_HEADER_LEN + body > TLS_MAX_HANDSHAKE_BYTES - bytes_so_far) {
    return "handshake too large";
  }
  *out_body = body;
  return NULL;
}
