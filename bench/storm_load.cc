// storm_load.cc: load generator for bench/storm.sh (handshake-storm
// isolation, issue 4).
//
//   storm_load --port P [--host 127.0.0.1] [--certs tests/tls] [--clients 50]
//              [--rate 200] [--duration 10] [--warmup 1] [--interval-ms 0]
//              [--storm-nice 0] [--storm-max-inflight 256] [--label NAME]
//              [--server-pid PID] [--storm-cert client]
//
// One TLS server, two phases, one JSON line per phase on stdout:
//   idle   N established mutual-TLS clients (keep-alive) send SET/GET
//          alternately, closed loop (or one request per --interval-ms each);
//   storm  the same clients while a separate process opens --rate new TLS
//          connections per second: full handshake (no tickets, no session
//          reuse, mutual TLS), one PING, close.
// Client certificates: the established clients use <certs>/client.crt; the
// storm uses <certs>/<--storm-cert>.crt (default "client", RSA-2048; e.g.
// "client-ec" for ECDSA P-256, whose client-side signature costs the
// generator ~20x less CPU: real storms sign on other machines).
//
// The established clients run in this process: one thread, epoll, non-
// blocking sockets, BoringSSL directly on the fds. Each request's latency
// (send to complete reply, CLOCK_MONOTONIC) goes into a log-linear histogram
// (< 1% bucket error). The storm runs in a child process forked before any
// TLS state exists (same event-loop design) so that its client-side
// handshakes are scheduled apart from the measuring loop; --storm-nice
// lowers the child's priority (its CPU then competes less with the
// measuring process; the servers see the same storm either way).
// Output fields per phase: label phase ops ops_per_s p50_ms p90_ms p99_ms
// p999_ms max_ms errors gen_cpu_pct, and for the storm phase storm_started
// storm_ok storm_failed storm_rate storm_p50_ms storm_p99_ms storm_cpu_pct.
// With --server-pid: server_cpu_pct (that process, all threads) and
// children_cpu_pct (its child processes: Redoubt's handshakers), from
// /proc, in % of one CPU over the phase.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Bounds on what the command line may ask for.
constexpr int kMaxClients = 4096;
constexpr int kMaxStormInflight = 4096;
constexpr double kMaxRate = 100000.0;
constexpr double kMaxDuration = 3600.0;
// A storm connection that has not finished within this long is a failure.
constexpr int64_t kStormConnTimeoutNs = 10LL * 1000 * 1000 * 1000;
constexpr int kEpollBatch = 256;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string certs = "tests/tls";
  int clients = 50;
  double rate = 200.0;
  double duration = 10.0;
  double warmup = 1.0;
  double interval_ms = 0.0;
  int storm_nice = 0;
  int storm_max_inflight = 256;
  std::string label = "server";
  int server_pid = 0;
  std::string storm_cert = "client";
  // 1: the storm's connections set TCP_NODELAY; 0: they keep Nagle's algorithm
  // as redis-benchmark's do, so a server that holds its TLS 1.3 tickets back
  // until its first reply shows up as a ~40 ms connect (issue 21).
  int storm_nodelay = 1;
} opt;

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

double cpu_seconds_self() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// proc_cpu_seconds returns utime+stime of process |pid| (all threads), or
// 0 if it cannot be read.
double proc_cpu_seconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) {
    return 0;
  }
  size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 > line.size()) {
    return 0;
  }
  std::istringstream rest(line.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields after the name start at 3 (state); utime is 14, stime 15.
  for (int i = 3; i <= 15 && (rest >> field); i++) {
    if (i == 14) {
      utime = strtoull(field.c_str(), nullptr, 10);
    }
    if (i == 15) {
      stime = strtoull(field.c_str(), nullptr, 10);
    }
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// ServerCpu: CPU seconds of the server process and of its children (read
// from /proc/PID/task/PID/children: Redoubt spawns from its main thread).
struct ServerCpu {
  double main = 0, children = 0;
};

ServerCpu server_cpu() {
  ServerCpu out;
  if (opt.server_pid <= 0) {
    return out;
  }
  out.main = proc_cpu_seconds(opt.server_pid);
  std::ifstream f("/proc/" + std::to_string(opt.server_pid) + "/task/" +
                  std::to_string(opt.server_pid) + "/children");
  int child;
  while (f >> child) {
    out.children += proc_cpu_seconds(child);
  }
  return out;
}

// Histogram: log-linear over nanoseconds; 128 sub-buckets per power of two
// (bucket width < 0.8% of the value), values up to 2^40 ns (~18 min).
class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int kMaxExp = 40;

  Histogram() : counts_((kMaxExp + 1) << kSubBits, 0) {}

  void add(int64_t ns) {
    if (ns < 0) {
      ns = 0;
    }
    if (ns > max_) {
      max_ = ns;
    }
    counts_[index(static_cast<uint64_t>(ns))]++;
    total_++;
  }
  void clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
    max_ = 0;
  }
  uint64_t total() const { return total_; }
  int64_t max() const { return max_; }
  // percentile returns the upper edge of the bucket holding the p-th
  // percentile value (p in [0,100]), in ns.
  int64_t percentile(double p) const {
    if (total_ == 0) {
      return 0;
    }
    uint64_t rank = static_cast<uint64_t>(p / 100.0 * total_ + 0.5);
    if (rank < 1) {
      rank = 1;
    }
    if (rank > total_) {
      rank = total_;
    }
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); i++) {
      seen += counts_[i];
      if (seen >= rank) {
        int64_t edge = upper_edge(i);
        return edge < max_ ? edge : max_;
      }
    }
    return max_;
  }

 private:
  static size_t index(uint64_t v) {
    if (v < (1u << kSubBits)) {
      return static_cast<size_t>(v);
    }
    int msb = 63 - __builtin_clzll(v);
    if (msb > kMaxExp) {
      return ((kMaxExp + 1) << kSubBits) - 1;
    }
    int shift = msb - kSubBits;
    uint64_t sub = (v >> shift) & ((1u << kSubBits) - 1);
    return (static_cast<size_t>(shift + 1) << kSubBits) + sub;
  }
  static int64_t upper_edge(size_t i) {
    size_t block = i >> kSubBits;
    uint64_t sub = i & ((1u << kSubBits) - 1);
    if (block == 0) {
      return static_cast<int64_t>(sub);
    }
    int shift = static_cast<int>(block) - 1;
    return static_cast<int64_t>((((1ULL << kSubBits) + sub + 1) << shift) - 1);
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  int64_t max_ = 0;
};

std::string ssl_errors() {
  std::string s;
  uint32_t e;
  char buf[200];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!s.empty()) {
      s += " | ";
    }
    s += buf;
  }
  return s;
}

SSL_CTX *make_ctx(bool storm) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  std::string name = storm ? opt.storm_cert : "client";
  std::string ca = opt.certs + "/ca.crt", crt = opt.certs + "/" + name + ".crt",
              key = opt.certs + "/" + name + ".key";
  if (ctx == nullptr ||
      !SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) ||
      SSL_CTX_use_certificate_chain_file(ctx, crt.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    fprintf(stderr, "storm_load: cannot load %s certificates: %s\n",
            opt.certs.c_str(), ssl_errors().c_str());
    exit(2);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (storm) {
    // Every storm connection is a full handshake: no tickets, no cache.
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  return ctx;
}

// start_connect opens a non-blocking TCP connection (connect may still be
// in progress). Returns the fd or -1.
int start_connect(bool nodelay) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  if (nodelay) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(opt.port));
  if (inet_pton(AF_INET, opt.host.c_str(), &a.sin_addr) != 1) {
    close(fd);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

void epoll_set(int ep, int fd, uint32_t events, void *ptr, bool add) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = ptr;
  epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

// want_events maps an SSL_get_error result to epoll events (0: fatal).
uint32_t want_events(SSL *ssl, int ret) {
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      return EPOLLIN;
    case SSL_ERROR_WANT_WRITE:
      return EPOLLOUT;
    default:
      return 0;
  }
}

std::string resp_command(const std::vector<std::string> &parts) {
  std::string out = "*" + std::to_string(parts.size()) + "\r\n";
  for (const auto &p : parts) {
    out += "$" + std::to_string(p.size()) + "\r\n" + p + "\r\n";
  }
  return out;
}

// ---- established clients ------------------------------------------------

struct Client {
  int idx = 0;
  int fd = -1;
  SSL *ssl = nullptr;
  bool handshaking = true;
  bool dead = false;
  bool in_request = false;
  bool write_pending = false;  // SSL_write must be retried with |req|
  int next_cmd = 0;            // 0: SET, 1: GET
  const std::string *req = nullptr;
  const std::string *expect = nullptr;
  std::string got;
  int64_t sent_ns = 0;
  int64_t due_ns = 0;  // paced mode: next send time
  uint32_t events = 0;
};

struct ClientSet {
  int ep = -1;
  std::vector<Client> clients;
  std::vector<std::string> set_reqs, get_reqs;
  std::string set_reply, get_reply;
  Histogram hist;
  bool recording = false;
  uint64_t errors = 0;
  int handshaken = 0;
  int64_t interval_ns = 0;
};

ClientSet cs;

void client_fail(Client *c, const char *why) {
  if (c->dead) {
    return;
  }
  c->dead = true;
  cs.errors++;
  fprintf(stderr, "storm_load: client %d: %s %s\n", c->idx, why,
          ssl_errors().c_str());
  epoll_ctl(cs.ep, EPOLL_CTL_DEL, c->fd, nullptr);
}

void client_watch(Client *c, uint32_t events) {
  if (events != c->events) {
    epoll_set(cs.ep, c->fd, events, c, false);
    c->events = events;
  }
}

void client_send(Client *c, int64_t now) {
  if (!c->write_pending) {
    c->req = c->next_cmd == 0 ? &cs.set_reqs[c->idx] : &cs.get_reqs[c->idx];
    c->expect = c->next_cmd == 0 ? &cs.set_reply : &cs.get_reply;
    c->next_cmd ^= 1;
    c->got.clear();
    c->sent_ns = now;
    c->in_request = true;
  }
  ERR_clear_error();
  int n = SSL_write(c->ssl, c->req->data(), static_cast<int>(c->req->size()));
  if (n > 0) {
    c->write_pending = false;
    client_watch(c, EPOLLIN);
    return;
  }
  uint32_t ev = want_events(c->ssl, n);
  if (ev == 0) {
    client_fail(c, "write failed");
    return;
  }
  c->write_pending = true;
  client_watch(c, ev);
}

void client_read(Client *c, int64_t *now) {
  char buf[4096];
  for (int budget = 0; budget < 64; budget++) {
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, sizeof(buf));
    if (n <= 0) {
      uint32_t ev = want_events(c->ssl, n);
      if (ev == 0) {
        client_fail(c, "read failed");
      } else {
        client_watch(c, ev);
      }
      return;
    }
    if (!c->in_request) {
      client_fail(c, "unexpected bytes");
      return;
    }
    c->got.append(buf, static_cast<size_t>(n));
    if (c->got.size() < c->expect->size()) {
      continue;
    }
    if (c->got != *c->expect) {
      client_fail(c, "unexpected reply");
      return;
    }
    *now = now_ns();
    if (cs.recording) {
      cs.hist.add(*now - c->sent_ns);
    }
    c->in_request = false;
    if (cs.interval_ns == 0) {
      client_send(c, *now);
      return;  // the reply cannot be there yet
    }
    c->due_ns += cs.interval_ns;
    if (c->due_ns <= *now) {
      // Behind schedule (a slow reply): send now, keep the cadence.
      client_send(c, *now);
      return;
    }
    client_watch(c, EPOLLIN);
    return;
  }
}

void client_handshake(Client *c, int64_t now) {
  ERR_clear_error();
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    c->handshaking = false;
    cs.handshaken++;
    c->due_ns =
        now + (cs.interval_ns * c->idx) / (opt.clients ? opt.clients : 1);
    client_watch(c, EPOLLIN);
    return;
  }
  uint32_t ev = want_events(c->ssl, r);
  if (ev == 0) {
    client_fail(c, "handshake failed");
    return;
  }
  client_watch(c, ev);
}

void clients_event(Client *c, uint32_t events, int64_t *now) {
  if (c->dead) {
    return;
  }
  if (c->handshaking) {
    client_handshake(c, *now);
    return;
  }
  if (c->write_pending) {
    client_send(c, *now);
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    client_read(c, now);
  }
}

// clients_run drives the established clients until |until_ns|; |send| says
// whether requests flow (false: handshakes only).
void clients_run(int64_t until_ns, bool send) {
  epoll_event evs[kEpollBatch];
  for (;;) {
    int64_t now = now_ns();
    if (now >= until_ns) {
      return;
    }
    int64_t wait_ns = until_ns - now;
    if (send && cs.interval_ns > 0) {
      for (auto &c : cs.clients) {
        if (c.dead || c.handshaking || c.in_request) {
          continue;
        }
        if (c.due_ns <= now) {
          client_send(&c, now);
        } else if (c.due_ns - now < wait_ns) {
          wait_ns = c.due_ns - now;
        }
      }
    } else if (send) {
      for (auto &c : cs.clients) {
        if (!c.dead && !c.handshaking && !c.in_request) {
          client_send(&c, now);
        }
      }
    }
    // Round up: a 0 ms timeout would spin until the due time.
    int timeout_ms = static_cast<int>((wait_ns + 999999) / 1000000);
    int n = epoll_wait(cs.ep, evs, kEpollBatch, timeout_ms);
    if (n < 0 && errno != EINTR) {
      perror("epoll_wait");
      exit(1);
    }
    now = now_ns();
    for (int i = 0; i < n; i++) {
      clients_event(static_cast<Client *>(evs[i].data.ptr), evs[i].events,
                    &now);
    }
  }
}

void clients_setup() {
  SSL_CTX *ctx = make_ctx(false);
  cs.ep = epoll_create1(EPOLL_CLOEXEC);
  cs.interval_ns = static_cast<int64_t>(opt.interval_ms * 1e6);
  cs.clients.resize(static_cast<size_t>(opt.clients));
  std::string value(64, 'v');
  cs.set_reply = "+OK\r\n";
  cs.get_reply = "$64\r\n" + value + "\r\n";
  for (int i = 0; i < opt.clients; i++) {
    std::string key = "storm:" + std::to_string(i);
    cs.set_reqs.push_back(resp_command({"SET", key, value}));
    cs.get_reqs.push_back(resp_command({"GET", key}));
    Client *c = &cs.clients[static_cast<size_t>(i)];
    c->idx = i;
    c->fd = start_connect(true);
    if (c->fd < 0) {
      fprintf(stderr, "storm_load: cannot connect to %s:%d: %s\n",
              opt.host.c_str(), opt.port, strerror(errno));
      exit(1);
    }
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_connect_state(c->ssl);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    c->events = EPOLLOUT;
    epoll_set(cs.ep, c->fd, EPOLLOUT, c, true);
  }
  int64_t deadline = now_ns() + 10LL * 1000000000;
  while (cs.handshaken + static_cast<int>(cs.errors) < opt.clients &&
         now_ns() < deadline) {
    clients_run(now_ns() + 50000000, false);
  }
  if (cs.handshaken < opt.clients) {
    fprintf(stderr, "storm_load: only %d of %d clients connected\n",
            cs.handshaken, opt.clients);
    exit(1);
  }
  SSL_CTX_free(ctx);  // the SSLs keep their references
}

// ---- storm -------------------------------------------------------------

struct StormConn {
  int fd = -1;
  SSL *ssl = nullptr;
  int64_t started_ns = 0;
  bool handshaking = true;
  bool pinged = false;
  std::string got;
  uint32_t events = 0;
};

struct StormResult {
  uint64_t started, ok, failed;
  double rate, p50_ms, p99_ms, cpu_pct;
};

void storm_finish(int ep, StormConn *s, bool ok, uint64_t *ok_count,
                  uint64_t *failed, Histogram *hist, int *inflight) {
  if (ok) {
    (*ok_count)++;
    hist->add(now_ns() - s->started_ns);
  } else {
    (*failed)++;
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, nullptr);
  SSL_free(s->ssl);
  close(s->fd);
  (*inflight)--;
  delete s;
}

// storm_wait: after an SSL call returned r <= 0, watch what it waits for.
// Returns 0 (in progress) or -1 (a real error: the connection failed).
int storm_wait(int ep, StormConn *s, int r) {
  uint32_t ev = want_events(s->ssl, r);
  if (ev == 0) {
    return -1;
  }
  if (ev != s->events) {
    epoll_set(ep, s->fd, ev, s, false);
    s->events = ev;
  }
  return 0;
}

// storm_step advances one storm connection. Returns 1 done-ok, -1 failed,
// 0 in progress.
int storm_step(int ep, StormConn *s) {
  static const std::string ping = "*1\r\n$4\r\nPING\r\n";
  ERR_clear_error();
  if (s->handshaking) {
    int r = SSL_do_handshake(s->ssl);
    if (r != 1) {
      return storm_wait(ep, s, r);
    }
    s->handshaking = false;
  }
  if (!s->pinged) {
    int n = SSL_write(s->ssl, ping.data(), static_cast<int>(ping.size()));
    if (n <= 0) {
      return storm_wait(ep, s, n);
    }
    s->pinged = true;
  }
  char buf[256];
  for (int budget = 0; budget < 16; budget++) {
    int n = SSL_read(s->ssl, buf, sizeof(buf));
    if (n <= 0) {
      return storm_wait(ep, s, n);
    }
    s->got.append(buf, static_cast<size_t>(n));
    if (s->got.size() >= 7) {
      return s->got == "+PONG\r\n" ? 1 : -1;
    }
  }
  return 0;
}

StormResult storm_run() {
  SSL_CTX *ctx = make_ctx(true);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  Histogram hist;
  uint64_t started = 0, ok = 0, failed = 0;
  int inflight = 0;
  std::vector<StormConn *> live;
  double cpu0 = cpu_seconds_self();
  int64_t start = now_ns();
  int64_t end = start + static_cast<int64_t>(opt.duration * 1e9);
  int64_t drain_until = end + kStormConnTimeoutNs;
  epoll_event evs[kEpollBatch];
  for (;;) {
    int64_t now = now_ns();
    if (now >= end && inflight == 0) {
      break;
    }
    if (now >= drain_until) {
      break;
    }
    // Launch what is due (bounded concurrency).
    while (now < end && inflight < opt.storm_max_inflight) {
      int64_t due = start + static_cast<int64_t>(started * 1e9 / opt.rate);
      if (due > now) {
        break;
      }
      StormConn *s = new StormConn;
      s->started_ns = now;
      started++;
      s->fd = start_connect(opt.storm_nodelay != 0);
      if (s->fd < 0) {
        failed++;
        delete s;
        continue;
      }
      s->ssl = SSL_new(ctx);
      SSL_set_fd(s->ssl, s->fd);
      SSL_set_connect_state(s->ssl);
      SSL_set_tlsext_host_name(s->ssl, "localhost");
      s->events = EPOLLOUT;
      epoll_set(ep, s->fd, EPOLLOUT, s, true);
      inflight++;
      live.push_back(s);
    }
    int64_t next_due =
        now < end ? start + static_cast<int64_t>(started * 1e9 / opt.rate)
                  : now + 50000000;
    int64_t wait_ns = next_due - now;
    if (wait_ns < 0) {
      wait_ns = 0;
    }
    int timeout_ms = static_cast<int>((wait_ns + 999999) / 1000000);
    int n = epoll_wait(ep, evs, kEpollBatch, timeout_ms);
    for (int i = 0; i < n; i++) {
      StormConn *s = static_cast<StormConn *>(evs[i].data.ptr);
      int r = storm_step(ep, s);
      if (r != 0) {
        for (auto &p : live) {
          if (p == s) {
            p = nullptr;
          }
        }
        storm_finish(ep, s, r > 0, &ok, &failed, &hist, &inflight);
      }
    }
    // Expire connections older than the per-connection timeout.
    now = now_ns();
    size_t w = 0;
    for (size_t i = 0; i < live.size(); i++) {
      StormConn *s = live[i];
      if (s == nullptr) {
        continue;
      }
      if (now - s->started_ns > kStormConnTimeoutNs) {
        storm_finish(ep, s, false, &ok, &failed, &hist, &inflight);
        continue;
      }
      live[w++] = s;
    }
    live.resize(w);
  }
  for (StormConn *s : live) {
    if (s != nullptr) {
      storm_finish(ep, s, false, &ok, &failed, &hist, &inflight);
    }
  }
  double elapsed = (now_ns() - start) / 1e9;
  double launch_window = opt.duration < elapsed ? opt.duration : elapsed;
  StormResult res{};
  res.started = started;
  res.ok = ok;
  res.failed = failed;
  res.rate = launch_window > 0 ? started / launch_window : 0;
  res.p50_ms = hist.percentile(50) / 1e6;
  res.p99_ms = hist.percentile(99) / 1e6;
  res.cpu_pct = elapsed > 0 ? 100.0 * (cpu_seconds_self() - cpu0) / elapsed : 0;
  close(ep);
  SSL_CTX_free(ctx);
  return res;
}

// storm_child waits for one byte on |go_fd|, runs the storm, writes the
// StormResult to |result_fd| and exits.
[[noreturn]] void storm_child(int go_fd, int result_fd) {
  if (opt.storm_nice != 0 &&
      setpriority(PRIO_PROCESS, 0, opt.storm_nice) != 0) {
    perror("storm_load: setpriority");
  }
  char go;
  if (read(go_fd, &go, 1) != 1) {
    _exit(0);
  }
  StormResult res = storm_run();
  ssize_t w = write(result_fd, &res, sizeof(res));
  _exit(w == static_cast<ssize_t>(sizeof(res)) ? 0 : 1);
}

double parse_number(const char *flag, const char *s, double lo, double hi) {
  char *end = nullptr;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "storm_load: %s wants a number in [%g, %g]\n", flag, lo,
            hi);
    exit(2);
  }
  return v;
}

void print_phase(const char *phase, double elapsed, double gen_cpu,
                 const ServerCpu &cpu0, const ServerCpu &cpu1,
                 const StormResult *storm) {
  const Histogram &h = cs.hist;
  printf(
      "{\"label\": \"%s\", \"phase\": \"%s\", \"ops\": %llu, "
      "\"ops_per_s\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
      "\"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
      "\"errors\": %llu, \"gen_cpu_pct\": %.1f",
      opt.label.c_str(), phase, static_cast<unsigned long long>(h.total()),
      h.total() / elapsed, h.percentile(50) / 1e6, h.percentile(90) / 1e6,
      h.percentile(99) / 1e6, h.percentile(99.9) / 1e6, h.max() / 1e6,
      static_cast<unsigned long long>(cs.errors), gen_cpu);
  if (opt.server_pid > 0) {
    // A child that exited during the phase takes its CPU time with it (a
    // respawned handshaker restarts from 0): never report a negative.
    double children = cpu1.children - cpu0.children;
    printf(", \"server_cpu_pct\": %.1f, \"children_cpu_pct\": %.1f",
           100.0 * (cpu1.main - cpu0.main) / elapsed,
           children > 0 ? 100.0 * children / elapsed : 0.0);
  }
  if (storm != nullptr) {
    printf(
        ", \"storm_started\": %llu, \"storm_ok\": %llu, "
        "\"storm_failed\": %llu, \"storm_rate\": %.1f, "
        "\"storm_p50_ms\": %.3f, \"storm_p99_ms\": %.3f, "
        "\"storm_cpu_pct\": %.1f",
        static_cast<unsigned long long>(storm->started),
        static_cast<unsigned long long>(storm->ok),
        static_cast<unsigned long long>(storm->failed), storm->rate,
        storm->p50_ms, storm->p99_ms, storm->cpu_pct);
  }
  printf("}\n");
  fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      printf(
          "usage: storm_load --port P [--host H] [--certs DIR] "
          "[--clients N] [--rate R] [--duration S] [--warmup S] "
          "[--interval-ms MS] [--storm-nice N] [--storm-max-inflight N] "
          "[--label NAME] [--server-pid PID] [--storm-cert NAME] "
          "[--storm-nodelay 0|1]\n");
      return 0;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "storm_load: %s needs a value\n", a.c_str());
      return 2;
    }
    const char *v = argv[++i];
    if (a == "--port") {
      opt.port = static_cast<int>(parse_number("--port", v, 1, 65535));
    } else if (a == "--host") {
      opt.host = v;
    } else if (a == "--certs") {
      opt.certs = v;
    } else if (a == "--clients") {
      opt.clients =
          static_cast<int>(parse_number("--clients", v, 1, kMaxClients));
    } else if (a == "--rate") {
      opt.rate = parse_number("--rate", v, 0.1, kMaxRate);
    } else if (a == "--duration") {
      opt.duration = parse_number("--duration", v, 0.5, kMaxDuration);
    } else if (a == "--warmup") {
      opt.warmup = parse_number("--warmup", v, 0, kMaxDuration);
    } else if (a == "--interval-ms") {
      opt.interval_ms = parse_number("--interval-ms", v, 0, 60000);
    } else if (a == "--storm-nice") {
      opt.storm_nice = static_cast<int>(parse_number("--storm-nice", v, 0, 19));
    } else if (a == "--storm-max-inflight") {
      opt.storm_max_inflight = static_cast<int>(
          parse_number("--storm-max-inflight", v, 1, kMaxStormInflight));
    } else if (a == "--storm-nodelay") {
      opt.storm_nodelay =
          static_cast<int>(parse_number("--storm-nodelay", v, 0, 1));
    } else if (a == "--label") {
      opt.label = v;
    } else if (a == "--storm-cert") {
      opt.storm_cert = v;
      if (opt.storm_cert.empty() ||
          opt.storm_cert.find('/') != std::string::npos) {
        fprintf(stderr,
                "storm_load: --storm-cert wants a file name in --certs\n");
        return 2;
      }
    } else if (a == "--server-pid") {
      opt.server_pid =
          static_cast<int>(parse_number("--server-pid", v, 1, 1 << 30));
    } else {
      fprintf(stderr, "storm_load: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (opt.port == 0) {
    fprintf(stderr, "storm_load: --port is required\n");
    return 2;
  }
  // Fork the storm process before any TLS state exists.
  int go[2], result[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(result, O_CLOEXEC) != 0) {
    perror("pipe");
    return 1;
  }
  pid_t storm_pid = fork();
  if (storm_pid < 0) {
    perror("fork");
    return 1;
  }
  if (storm_pid == 0) {
    close(go[1]);
    close(result[0]);
    storm_child(go[0], result[1]);
  }
  close(go[0]);
  close(result[1]);

  clients_setup();
  int64_t t = now_ns();
  clients_run(t + static_cast<int64_t>(opt.warmup * 1e9), true);

  // idle
  cs.hist.clear();
  cs.recording = true;
  double cpu0 = cpu_seconds_self();
  ServerCpu server0 = server_cpu();
  t = now_ns();
  clients_run(t + static_cast<int64_t>(opt.duration * 1e9), true);
  cs.recording = false;
  double elapsed = (now_ns() - t) / 1e9;
  print_phase("idle", elapsed, 100.0 * (cpu_seconds_self() - cpu0) / elapsed,
              server0, server_cpu(), nullptr);
  clients_run(now_ns() + 500000000, true);

  // storm: start it, let it reach its rate, record while it runs.
  if (write(go[1], "g", 1) != 1) {
    perror("storm_load: start storm");
    return 1;
  }
  const double lead = 0.3;
  clients_run(now_ns() + static_cast<int64_t>(lead * 1e9), true);
  cs.hist.clear();
  cs.recording = true;
  cpu0 = cpu_seconds_self();
  server0 = server_cpu();
  t = now_ns();
  clients_run(t + static_cast<int64_t>((opt.duration - lead) * 1e9), true);
  cs.recording = false;
  elapsed = (now_ns() - t) / 1e9;
  double gen_cpu = 100.0 * (cpu_seconds_self() - cpu0) / elapsed;
  ServerCpu server1 = server_cpu();
  StormResult res{};
  // Keep the clients going while the storm drains (its late connections
  // still load the server), then collect its result.
  for (;;) {
    clients_run(now_ns() + 20000000, true);
    int st;
    pid_t r = waitpid(storm_pid, &st, WNOHANG);
    if (r == storm_pid) {
      break;
    }
  }
  ssize_t got = read(result[0], &res, sizeof(res));
  if (got != static_cast<ssize_t>(sizeof(res))) {
    fprintf(stderr, "storm_load: the storm process reported nothing\n");
    memset(&res, 0, sizeof(res));
  }
  print_phase("storm", elapsed, gen_cpu, server0, server1, &res);
  return cs.errors == 0 ? 0 : 1;
}
