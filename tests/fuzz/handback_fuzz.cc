// handback_fuzz.cc: libFuzzer target for main's apply-handback step (the
// handshaker's serialized connection state, which main must treat as
// untrusted: a compromised handshaker controls every byte).
//
// Main's code path (tls/conn_tls.c tls_conn_apply_handback) is: SSL_new(the
// generation's main_ctx), tls_shim_apply_handback(blob), tls_peer_on_handback
// (a resumed session's client identity must carry main's binding: that
// parses the binding field of the handed-back session), then the handshake
// continues with the client. This target builds main_ctx with the real
// tls_pool_create_generation, gives every input a fresh SSL, applies the
// blob and, when BoringSSL accepts it, runs tls_peer_on_handback and drives
// the connection with the remaining bytes as the client's records
// (SSL_do_handshake, SSL_read, SSL_write; a client chain gets a refusal
// from a stand-in verifier) so state that was accepted but inconsistent
// shows up too, and tls_peer_check at the end.
//
// Input layout: 2 bytes big-endian blob length L, L bytes handback blob
// (truncated to what is there), then bytes from the client.
// Seeds: real handbacks from an in-process split handshake, written by
// tests/fuzz/handback_corpus_gen.cc (see its header).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern "C" {
#include "server/core/server.h"
#include "tls/internal.h"
}

// Work per input is bounded by these budgets.
#define HANDBACK_FUZZ_MAX_STEPS 8
#define HANDBACK_FUZZ_READ_BUF 4096

static SSL_CTX *handback_fuzz_main_ctx;
static tls_generation *handback_fuzz_gen;

// handback_fuzz_find_ca returns tests/tls/ca.crt when reachable (run from the
// workspace or from bazel-out), else NULL (then client auth is off).
static char *handback_fuzz_find_ca(void) {
  if (access("tests/tls/ca.crt", R_OK) == 0) {
    return strdup("tests/tls/ca.crt");
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = 0;
    char *at = strstr(exe, "/bazel-out/");
    if (at != NULL) {
      *at = 0;
      char path[4200];
      snprintf(path, sizeof(path), "%s/tests/tls/ca.crt", exe);
      if (access(path, R_OK) == 0) {
        return strdup(path);
      }
    }
  }
  return NULL;
}

static void handback_fuzz_init(void) {
  if (handback_fuzz_main_ctx != NULL) {
    return;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    tls_settings s;
    memset(&s, 0, sizeof(s));
    s.session_caching = 1;
    s.session_cache_timeout = 300;
    s.ca_cert_file = attempt == 0 ? handback_fuzz_find_ca() : NULL;
    s.auth_clients =
        s.ca_cert_file != NULL ? TLS_CLIENT_AUTH_OPTIONAL : TLS_CLIENT_AUTH_NO;
    if (attempt == 0 && s.ca_cert_file == NULL) {
      continue;
    }
    tls_ticket_keys_rotate(1);
    char err[512];
    tls_generation *gen = tls_pool_create_generation(&s, err, sizeof(err));
    if (gen != NULL) {
      tls_peer_start();
      handback_fuzz_main_ctx = gen->main_ctx;
      handback_fuzz_gen = gen;  // kept: tls_peer_check reads its policy
      return;
    }
  }
  abort();  // cannot build main's context: the target cannot run
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  handback_fuzz_init();
  if (size < 2) {
    return 0;
  }
  size_t blen = ((size_t)data[0] << 8) | data[1];
  if (blen > size - 2) {
    blen = size - 2;
  }
  const uint8_t *blob = data + 2;
  const uint8_t *rest = blob + blen;
  size_t rest_len = size - 2 - blen;

  ERR_clear_error();
  SSL *ssl = SSL_new(handback_fuzz_main_ctx);
  if (ssl == NULL) {
    abort();
  }
  // main copies the blob out of the IPC buffer; an exact-size heap copy
  // lets ASan see any read past its end.
  uint8_t *copy = (uint8_t *)malloc(blen ? blen : 1);
  memcpy(copy, blob, blen);
  int ok = tls_shim_apply_handback(ssl, copy, blen);
  free(copy);
  tls_conn *conn = (tls_conn *)calloc(1, sizeof(tls_conn));
  if (conn == NULL) {
    abort();
  }
  conn->ssl = ssl;
  conn->gen = handback_fuzz_gen;
  char why[IPC_MAX_REASON];
  if (ok) {
    ok = tls_peer_on_handback(conn, why, sizeof(why));
  }
  if (ok) {
    BIO *rbio = BIO_new_mem_buf(rest, (int)rest_len);
    BIO *wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    int done = 0;
    for (int i = 0; i < HANDBACK_FUZZ_MAX_STEPS && !done; i++) {
      int r = SSL_do_handshake(ssl);
      int code = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, r);
      if (r == 1) {
        done = 1;
      } else if (code == SSL_ERROR_WANT_CERTIFICATE_VERIFY) {
        // A verifier refuses (parsing it is the verifier's business).
        const uint8_t *certs[IPC_MAX_CHAIN_CERTS];
        size_t lens[IPC_MAX_CHAIN_CERTS], count = 0;
        if (tls_peer_begin_verify(conn, certs, lens, &count)) {
          ipc_message verdict;
          memset(&verdict, 0, sizeof(verdict));
          verdict.type = IPC_ANS_VERIFIED;
          verdict.verify_error =
              20;  // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
          tls_peer_record_verdict(conn, &verdict);
        }
      } else if (code != SSL_ERROR_WANT_READ) {
        break;
      }
    }
    if (done) {
      uint8_t buf[HANDBACK_FUZZ_READ_BUF];
      for (int i = 0; i < HANDBACK_FUZZ_MAX_STEPS; i++) {
        if (SSL_read(ssl, buf, sizeof(buf)) <= 0) {
          break;
        }
      }
      (void)SSL_write(ssl, "+PONG\r\n", 7);
      (void)SSL_get_verify_result(ssl);
      (void)SSL_get_current_cipher(ssl);
      (void)SSL_session_reused(ssl);
      char subject[IPC_MAX_REASON + 1];
      (void)tls_peer_check(conn, subject, sizeof(subject), why, sizeof(why));
    }
  }
  ERR_clear_error();
  tls_peer_release(conn);
  free(conn);
  SSL_free(ssl);
  return 0;
}
