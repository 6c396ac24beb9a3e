// split_shim.cc: extern "C" wrappers over BoringSSL's split-handshake API,
// which is C++ only (namespace bssl, Span arguments). The rest of tls/ is C.
//
// The serialize functions check the SSL's state first: BoringSSL's
// SSL_serialize_handback dereferences handshake state that no longer exists
// once the handshake finished (SIGSEGV measured in
// research/split-handshake/probe_handback.cc), so a wrong call here must
// fail, not crash.
#include <openssl/err.h>
#include <openssl/ssl.h>

extern "C" {
#include "tls/internal_common.h"
}

// stopped_with reports whether |ssl| is mid-handshake and its last
// operation stopped with |want| (SSL_ERROR_HANDOFF / SSL_ERROR_HANDBACK).
// SSL_get_error with ret -1 consults only the stored state, provided the
// error queue is empty, which the callers ensure.
static bool stopped_with(const SSL *ssl, int want) {
  if (ssl == nullptr || !SSL_in_init(ssl)) {
    return false;
  }
  if (ERR_peek_error() != 0) {
    return false;
  }
  return SSL_get_error(ssl, -1) == want;
}

extern "C" void tls_shim_set_handoff_mode(SSL_CTX *ctx, int on) {
  bssl::SSL_CTX_set_handoff_mode(ctx, on != 0);
}

extern "C" int tls_shim_serialize_handoff(SSL *ssl, CBB *out) {
  if (!stopped_with(ssl, SSL_ERROR_HANDOFF)) {
    return 0;
  }
  SSL_CLIENT_HELLO hello;
  return bssl::SSL_serialize_handoff(ssl, out, &hello) ? 1 : 0;
}

extern "C" int tls_shim_apply_handoff(SSL *ssl, const uint8_t *data,
                                      size_t len) {
  if (ssl == nullptr || data == nullptr || len == 0) {
    return 0;
  }
  return bssl::SSL_apply_handoff(ssl, bssl::MakeConstSpan(data, len)) ? 1 : 0;
}

extern "C" int tls_shim_serialize_handback(SSL *ssl, CBB *out) {
  if (!stopped_with(ssl, SSL_ERROR_HANDBACK)) {
    return 0;
  }
  return bssl::SSL_serialize_handback(ssl, out) ? 1 : 0;
}

extern "C" int tls_shim_apply_handback(SSL *ssl, const uint8_t *data,
                                       size_t len) {
  if (ssl == nullptr || data == nullptr || len == 0) {
    return 0;
  }
  return bssl::SSL_apply_handback(ssl, bssl::MakeConstSpan(data, len)) ? 1 : 0;
}
