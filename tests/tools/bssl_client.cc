// bssl_client.cc: a BoringSSL TLS client for Redoubt's TLS tests.
//
//   bssl_client -p PORT [-cacert F] [-cert F -key F] [-tls12|-tls13]
//               [-n CONNS] [-resume] [-split N] [-curves LIST]
//               [-big BYTES] [-pipeline N] [-q]
//
// Every connection runs the handshake on memory BIOs pumped to the socket,
// so -split N can cut the ClientHello into N TLS records (exercising main's
// record reader and the handshaker's multi-record path). After the
// handshake it sends PING (expects +PONG), optionally SET/GET of a BYTES
// value and N pipelined PINGs. Exit status 0 only if everything checked
// out. Prints one line per connection: version, cipher, reused=0/1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

struct Options {
  int port = 6379;
  std::string cacert = "tests/tls/ca.crt", cert, key, curves;
  int version = 0;
  int conns = 1;
  bool resume = false;
  int split = 1;
  size_t big = 0;
  int pipeline = 0;
  bool quiet = false;
} opt;

SSL_SESSION *g_session = nullptr;

int on_new_session(SSL *, SSL_SESSION *session) {
  if (g_session) SSL_SESSION_free(g_session);
  g_session = session;
  return 1;
}

std::string errors() {
  std::string s;
  uint32_t e;
  char buf[200];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!s.empty()) s += " | ";
    s += buf;
  }
  return s;
}

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Connection: SSL on memory BIOs, pumped by hand.
struct Conn {
  int fd = -1;
  SSL *ssl = nullptr;
  BIO *rbio = nullptr, *wbio = nullptr;
  bool first_flight = true;

  // flush sends what the SSL wrote; the very first flight (ClientHello)
  // is re-cut into opt.split records.
  bool flush() {
    const uint8_t *data;
    size_t len;
    BIO_mem_contents(wbio, &data, &len);
    if (len == 0) return true;
    bool ok;
    if (first_flight && opt.split > 1 && len > 5 && data[0] == 22) {
      size_t body = (static_cast<size_t>(data[3]) << 8) | data[4];
      size_t total = 5 + body;
      std::vector<uint8_t> out;
      size_t chunk = (body + opt.split - 1) / opt.split;
      for (size_t off = 0; off < body; off += chunk) {
        size_t n = std::min(chunk, body - off);
        out.insert(out.end(),
                   {data[0], data[1], data[2], static_cast<uint8_t>(n >> 8),
                    static_cast<uint8_t>(n & 0xff)});
        out.insert(out.end(), data + 5 + off, data + 5 + off + n);
      }
      out.insert(out.end(), data + total, data + len);
      ok = write_all(fd, out.data(), out.size());
    } else {
      ok = write_all(fd, data, len);
    }
    first_flight = false;
    BIO_reset(wbio);
    return ok;
  }

  bool fill() {
    uint8_t buf[16384];
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return false;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    BIO_write(rbio, buf, static_cast<int>(n));
    return true;
  }

  bool handshake(std::string *why) {
    for (int i = 0; i < 1000; i++) {
      int r = SSL_do_handshake(ssl);
      if (!flush()) {
        *why = "write failed";
        return false;
      }
      if (r == 1) return true;
      if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ) {
        *why = "handshake: " + errors();
        return false;
      }
      if (!fill()) {
        *why = "connection closed during handshake " + errors();
        return false;
      }
    }
    *why = "handshake loop";
    return false;
  }

  bool send(const std::string &s) {
    size_t off = 0;
    while (off < s.size()) {
      int n = SSL_write(
          ssl, s.data() + off,
          static_cast<int>(std::min<size_t>(s.size() - off, 1 << 20)));
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
      if (!flush()) return false;
    }
    return true;
  }

  // read_until reads until |buf| holds at least |want| bytes.
  bool read_until(std::string *buf, size_t want) {
    char tmp[65536];
    while (buf->size() < want) {
      int n = SSL_read(ssl, tmp, sizeof(tmp));
      if (n > 0) {
        buf->append(tmp, static_cast<size_t>(n));
        continue;
      }
      if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) return false;
      if (!flush() || !fill()) return false;
    }
    return true;
  }
};

std::string bulk(const std::string &s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

bool run_one(SSL_CTX *ctx, int index, int *reused) {
  Conn c;
  c.fd = connect_to(opt.port);
  if (c.fd < 0) {
    fprintf(stderr, "conn %d: connect failed\n", index);
    return false;
  }
  c.ssl = SSL_new(ctx);
  c.rbio = BIO_new(BIO_s_mem());
  c.wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(c.rbio, -1);
  SSL_set_bio(c.ssl, c.rbio, c.wbio);
  SSL_set_connect_state(c.ssl);
  SSL_set_tlsext_host_name(c.ssl, "localhost");
  if (opt.resume && g_session) SSL_set_session(c.ssl, g_session);
  std::string why;
  bool ok = c.handshake(&why);
  std::string result;
  if (ok) {
    std::string in;
    ok = c.send("*1\r\n$4\r\nPING\r\n") && c.read_until(&in, 7) &&
         in == "+PONG\r\n";
    if (!ok) why = "PING failed: got '" + in + "' " + errors();
    if (ok && opt.big > 0) {
      std::string value(opt.big, 'x');
      for (size_t i = 0; i < value.size(); i++) value[i] = 'a' + (i * 7 % 26);
      std::string cmd = "*3\r\n" + bulk("SET") + bulk("bssl:big") +
                        bulk(value) + "*2\r\n" + bulk("GET") + bulk("bssl:big");
      std::string expect = "+OK\r\n" + bulk(value);
      in.clear();
      ok = c.send(cmd) && c.read_until(&in, expect.size()) && in == expect;
      if (!ok)
        why = "big value round trip failed (" + std::to_string(in.size()) +
              " bytes back)";
    }
    if (ok && opt.pipeline > 0) {
      std::string cmd, expect;
      for (int i = 0; i < opt.pipeline; i++) {
        cmd += "*2\r\n$4\r\nECHO\r\n" + bulk(std::to_string(i));
        expect += bulk(std::to_string(i));
      }
      in.clear();
      ok = c.send(cmd) && c.read_until(&in, expect.size()) && in == expect;
      if (!ok) why = "pipeline failed";
    }
    // TLS 1.3 tickets arrive after the handshake: give them a chance.
    if (ok && opt.resume) {
      c.send("*1\r\n$4\r\nPING\r\n");
      in.clear();
      c.read_until(&in, 7);
    }
    *reused += SSL_session_reused(c.ssl);
    const SSL_CIPHER *cipher = SSL_get_current_cipher(c.ssl);
    if (!opt.quiet || !ok)
      printf("conn %d: %s %s reused=%d %s\n", index, SSL_get_version(c.ssl),
             cipher ? SSL_CIPHER_get_name(cipher) : "?",
             SSL_session_reused(c.ssl), ok ? "OK" : why.c_str());
    SSL_shutdown(c.ssl);
    c.flush();
  } else {
    printf("conn %d: FAILED %s\n", index, why.c_str());
  }
  SSL_free(c.ssl);
  close(c.fd);
  return ok;
}

}  // namespace

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) exit(2);
      return argv[++i];
    };
    if (a == "-p")
      opt.port = atoi(next().c_str());
    else if (a == "-cacert")
      opt.cacert = next();
    else if (a == "-cert")
      opt.cert = next();
    else if (a == "-key")
      opt.key = next();
    else if (a == "-tls12")
      opt.version = TLS1_2_VERSION;
    else if (a == "-tls13")
      opt.version = TLS1_3_VERSION;
    else if (a == "-n")
      opt.conns = atoi(next().c_str());
    else if (a == "-resume")
      opt.resume = true;
    else if (a == "-split")
      opt.split = atoi(next().c_str());
    else if (a == "-curves")
      opt.curves = next();
    else if (a == "-big")
      opt.big = strtoul(next().c_str(), nullptr, 10);
    else if (a == "-pipeline")
      opt.pipeline = atoi(next().c_str());
    else if (a == "-q")
      opt.quiet = true;
    else {
      fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (opt.version) {
    SSL_CTX_set_min_proto_version(ctx, opt.version);
    SSL_CTX_set_max_proto_version(ctx, opt.version);
  }
  if (!SSL_CTX_load_verify_locations(ctx, opt.cacert.c_str(), nullptr)) {
    fprintf(stderr, "cannot load CA %s\n", opt.cacert.c_str());
    return 2;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!opt.cert.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx, opt.cert.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx, opt.key.c_str(), SSL_FILETYPE_PEM) !=
           1)) {
    fprintf(stderr, "cannot load client certificate: %s\n", errors().c_str());
    return 2;
  }
  if (!opt.curves.empty() &&
      !SSL_CTX_set1_curves_list(ctx, opt.curves.c_str())) {
    fprintf(stderr, "bad curves list\n");
    return 2;
  }
  SSL_CTX_set_session_cache_mode(
      ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  int ok = 0, reused = 0;
  for (int i = 0; i < opt.conns; i++) {
    ok += run_one(ctx, i, &reused) ? 1 : 0;
  }
  printf("total=%d ok=%d reused=%d\n", opt.conns, ok, reused);
  return ok == opt.conns ? 0 : 1;
}
