// handback_corpus_gen.cc: writes real handback seeds for handback_fuzz by
// running split handshakes in one process (client <-> handoff SSL ->
// key-holding SSL until SSL_ERROR_HANDBACK), the same BoringSSL calls the
// handshaker makes. Each seed is: 2-byte big-endian handback length, the
// handback, then the client's next flight (what main reads after applying).
// Not a Bazel target (only *_fuzz.c[c] are built); regenerate with:
//   g++ -std=c++17 -isystem /usr/include/android tests/fuzz/handback_corpus_gen.cc
//     -L/usr/lib/x86_64-linux-gnu/android -Wl,-rpath,/usr/lib/x86_64-linux-gnu/android
//     -lssl -lcrypto -o /tmp/handback_corpus_gen
//   /tmp/handback_corpus_gen tests/tls tests/fuzz/corpus/handback_fuzz
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

namespace {

struct Pipe {
  BIO *rbio, *wbio;
};

void attach(SSL *ssl, Pipe *p) {
  p->rbio = BIO_new(BIO_s_mem());
  p->wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(p->rbio, -1);
  SSL_set_bio(ssl, p->rbio, p->wbio);
}

std::vector<uint8_t> take(BIO *from) {
  const uint8_t *data;
  size_t len;
  BIO_mem_contents(from, &data, &len);
  std::vector<uint8_t> out(data, data + len);
  BIO_reset(from);
  return out;
}

void put(BIO *to, const std::vector<uint8_t> &v) {
  if (!v.empty()) BIO_write(to, v.data(), static_cast<int>(v.size()));
}

void die(const char *what) {
  fprintf(stderr, "handback_corpus_gen: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

// One split handshake; writes <out>/<name>.
void seed(const std::string &certs, const std::string &out, const char *name,
          uint16_t max_version, const char *server_cert, const char *server_key,
          const char *client_cert, const char *client_key) {
  std::string ca = certs + "/ca.crt";
  SSL_CTX *client_ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_max_proto_version(client_ctx, max_version);
  SSL_CTX_load_verify_locations(client_ctx, ca.c_str(), nullptr);
  if (client_cert != nullptr &&
      (!SSL_CTX_use_certificate_chain_file(
           client_ctx, (certs + "/" + client_cert).c_str()) ||
       !SSL_CTX_use_PrivateKey_file(
           client_ctx, (certs + "/" + client_key).c_str(), SSL_FILETYPE_PEM))) {
    die("client cert");
  }
  SSL_CTX *handoff_ctx = SSL_CTX_new(TLS_method());
  bssl::SSL_CTX_set_handoff_mode(handoff_ctx, true);
  SSL_CTX *hs_ctx = SSL_CTX_new(TLS_method());
  if (!SSL_CTX_use_certificate_chain_file(
          hs_ctx, (certs + "/" + server_cert).c_str()) ||
      !SSL_CTX_use_PrivateKey_file(hs_ctx, (certs + "/" + server_key).c_str(),
                                   SSL_FILETYPE_PEM) ||
      !SSL_CTX_load_verify_locations(hs_ctx, ca.c_str(), nullptr)) {
    die("server cert");
  }
  SSL_CTX_set_verify(hs_ctx, SSL_VERIFY_PEER, nullptr);

  SSL *client = SSL_new(client_ctx);
  Pipe cp;
  attach(client, &cp);
  SSL_set_connect_state(client);
  SSL_set_tlsext_host_name(client, "localhost");
  SSL *ho = SSL_new(handoff_ctx);
  Pipe hp;
  attach(ho, &hp);
  SSL_set_accept_state(ho);
  SSL_do_handshake(client);
  put(hp.rbio, take(cp.wbio));
  int r = SSL_do_handshake(ho);
  if (SSL_get_error(ho, r) != SSL_ERROR_HANDOFF) die("no handoff");
  CBB cbb;
  CBB_init(&cbb, 512);
  SSL_CLIENT_HELLO hello;
  if (!bssl::SSL_serialize_handoff(ho, &cbb, &hello)) die("serialize handoff");
  SSL *hs = SSL_new(hs_ctx);
  if (!bssl::SSL_apply_handoff(
          hs, bssl::MakeConstSpan(CBB_data(&cbb), CBB_len(&cbb)))) {
    die("apply handoff");
  }
  CBB_cleanup(&cbb);
  Pipe sp;
  attach(hs, &sp);
  // TLS 1.2 needs more than one round trip before the handback.
  std::vector<uint8_t> flight;
  for (int i = 0; i < 6; i++) {
    r = SSL_do_handshake(hs);
    if (SSL_get_error(hs, r) == SSL_ERROR_HANDBACK) break;
    if (SSL_get_error(hs, r) != SSL_ERROR_WANT_READ) die("handshake");
    put(cp.rbio, take(sp.wbio));
    SSL_do_handshake(client);
    put(sp.rbio, take(cp.wbio));
  }
  if (SSL_get_error(hs, r) != SSL_ERROR_HANDBACK) die("no handback");
  CBB_init(&cbb, 4096);
  if (!bssl::SSL_serialize_handback(hs, &cbb)) die("serialize handback");
  put(cp.rbio, take(sp.wbio));
  SSL_do_handshake(client);
  SSL_write(client, "*1\r\n$4\r\nPING\r\n", 14);
  flight = take(cp.wbio);

  std::string path = out + "/" + name;
  FILE *fp = fopen(path.c_str(), "wb");
  if (fp == nullptr) die(path.c_str());
  size_t len = CBB_len(&cbb);
  if (len > 0xffff) die("handback too large for the seed format");
  uint8_t hdr[2] = {static_cast<uint8_t>(len >> 8),
                    static_cast<uint8_t>(len & 0xff)};
  fwrite(hdr, 1, 2, fp);
  fwrite(CBB_data(&cbb), 1, len, fp);
  fwrite(flight.data(), 1, flight.size(), fp);
  fclose(fp);
  printf("%s: handback %zu bytes, client flight %zu bytes\n", name, len,
         flight.size());
  CBB_cleanup(&cbb);
  SSL_free(ho);
  SSL_free(hs);
  SSL_free(client);
  SSL_CTX_free(client_ctx);
  SSL_CTX_free(handoff_ctx);
  SSL_CTX_free(hs_ctx);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <tests/tls dir> <corpus dir>\n", argv[0]);
    return 2;
  }
  std::string certs = argv[1], out = argv[2];
  seed(certs, out, "tls13-rsa", TLS1_3_VERSION, "server.crt", "server.key",
       nullptr, nullptr);
  seed(certs, out, "tls13-rsa-mtls", TLS1_3_VERSION, "server.crt", "server.key",
       "client.crt", "client.key");
  seed(certs, out, "tls13-ec-mtls", TLS1_3_VERSION, "server-ec.crt",
       "server-ec.key", "client-ec.crt", "client-ec.key");
  seed(certs, out, "tls12-rsa", TLS1_2_VERSION, "server.crt", "server.key",
       nullptr, nullptr);
  seed(certs, out, "tls12-ec-mtls", TLS1_2_VERSION, "server-ec.crt",
       "server-ec.key", "client-ec.crt", "client-ec.key");
  return 0;
}
