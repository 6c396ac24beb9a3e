/* tls_record_fuzz.c: main's TLS record framing during a handshake
 * (tls_record_header_check), driven the way conn_tls.c drives it: the input
 * is a client byte stream cut into records one header at a time, with the
 * per-handshake budgets. Invariants: an accepted record never exceeds
 * TLS_MAX_RECORD_BODY, the total never exceeds TLS_MAX_HANDSHAKE_BYTES, the
 * record count never exceeds TLS_MAX_HANDSHAKE_RECORDS, and the first
 * record is always a handshake record. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tls/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t offset = 0, forwarded = 0;
  int records = 0;
  while (size - offset >= TLS_RECORD_HEADER_LEN) {
    size_t body = 0;
    const char *bad =
        tls_record_header_check(data + offset, records, forwarded, &body);
    if (bad != NULL) {
      break;
    }
    if (body > TLS_MAX_RECORD_BODY) {
      abort();
    }
    if (records == 0 && data[offset] != 22) {
      abort();
    }
    if (size - offset - TLS_RECORD_HEADER_LEN < body) {
      break; /* incomplete record: main waits for more bytes */
    }
    offset += TLS_RECORD_HEADER_LEN + body;
    forwarded += TLS_RECORD_HEADER_LEN + body;
    records++;
    if (forwarded > TLS_MAX_HANDSHAKE_BYTES ||
        records > TLS_MAX_HANDSHAKE_RECORDS) {
      abort();
    }
  }
  return 0;
}
