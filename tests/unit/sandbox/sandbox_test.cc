// sandbox_test.cc: the handshaker sandbox (sandbox/sandbox.h,
// sandbox/seccomp_policy.h).
//
// Each test forks a child that builds BoringSSL contexts like a handshaker
// does, calls sandbox_enter and then either does allowed work (full TLS 1.2
// and 1.3 handshakes on an in-memory BIO pair with RSA and ECDSA keys, client
// certificate verification, session resumption, enough handshakes to force
// a DRBG reseed, large allocations) and exits 0, or attempts one forbidden
// system call and must die by SIGSYS. Inside a sandboxed child nothing but
// the exit status reports back (stdout is closed and write(1) is forbidden).
// The test links jemalloc, the release server's allocator, so the policy is
// exercised with the allocator it was measured with (sanitizer builds keep
// their runtime's).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>

extern "C" {
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_policy.h"
}

namespace {

// ---- key material, made once in the parent -------------------------------

EVP_PKEY *MakeEcKey() {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (ec == nullptr || !EC_KEY_generate_key(ec)) {
    abort();
  }
  EVP_PKEY *pkey = EVP_PKEY_new();
  EVP_PKEY_assign_EC_KEY(pkey, ec);
  return pkey;
}

EVP_PKEY *MakeRsaKey() {
  RSA *rsa = RSA_new();
  BIGNUM *e = BN_new();
  BN_set_word(e, RSA_F4);
  if (!RSA_generate_key_ex(rsa, 2048, e, nullptr)) {
    abort();
  }
  BN_free(e);
  EVP_PKEY *pkey = EVP_PKEY_new();
  EVP_PKEY_assign_RSA(pkey, rsa);
  return pkey;
}

X509 *MakeCert(EVP_PKEY *key, const char *cn, X509 *issuer,
               EVP_PKEY *issuer_key, bool ca) {
  static long serial = 1;
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const uint8_t *>(cn), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(x, key);
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(
      nullptr, nullptr, NID_basic_constraints,
      const_cast<char *>(ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
    abort();
  }
  return x;
}

struct Material {
  EVP_PKEY *ca_key, *rsa_key, *ec_key, *client_key;
  X509 *ca, *rsa_cert, *ec_cert, *client_cert;
};

const Material &GetMaterial() {
  static Material m = [] {
    Material r;
    r.ca_key = MakeRsaKey();
    r.ca = MakeCert(r.ca_key, "Sandbox Test CA", nullptr, nullptr, true);
    r.rsa_key = MakeRsaKey();
    r.rsa_cert = MakeCert(r.rsa_key, "localhost", r.ca, r.ca_key, false);
    r.ec_key = MakeEcKey();
    r.ec_cert = MakeCert(r.ec_key, "localhost", r.ca, r.ca_key, false);
    r.client_key = MakeEcKey();
    r.client_cert = MakeCert(r.client_key, "client1", r.ca, r.ca_key, false);
    return r;
  }();
  return m;
}

// ---- running code in a child -----------------------------------------------

// RunInChild forks, runs |body| in the child and returns its wait status.
// The child _exits with body's return value.
int RunInChild(const std::function<int()> &body) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    return -1;
  }
  if (pid == 0) {
    _exit(body());
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return status;
}

std::string Describe(int status) {
  if (WIFEXITED(status)) {
    return "exit " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return std::string("signal ") + strsignal(WTERMSIG(status));
  }
  return "status " + std::to_string(status);
}

bool ExitedZero(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
bool KilledBySigsys(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}
#define EXPECT_EXIT_ZERO(expr)                             \
  do {                                                     \
    int status_ = (expr);                                  \
    EXPECT_TRUE(ExitedZero(status_)) << Describe(status_); \
  } while (0)
#define EXPECT_SIGSYS(expr)                                    \
  do {                                                         \
    int status_ = (expr);                                      \
    EXPECT_TRUE(KilledBySigsys(status_)) << Describe(status_); \
  } while (0)

// Enters the sandbox keeping |keep_fd|; exits the child with 90 on failure.
void EnterOrDie(int keep_fd, int seccomp) {
  char err[256];
  if (!sandbox_enter(keep_fd, nullptr, seccomp, err, sizeof(err))) {
    ssize_t ignored = write(2, err, strlen(err));
    (void)ignored;
    _exit(90);
  }
}

// ---- TLS work on memory BIOs ------------------------------------------------

SSL_CTX *ServerCtx(X509 *cert, EVP_PKEY *key, bool mtls) {
  const Material &m = GetMaterial();
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  if (mtls) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), m.ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
  }
  static const uint8_t sid_ctx[] = "sandbox-test";
  SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
  return ctx;
}

// The newest session the client side received (BoringSSL hands TLS 1.3
// tickets to the new-session callback; SSL_get1_session is not resumable).
SSL_SESSION *g_last_session = nullptr;

int KeepSession(SSL *, SSL_SESSION *session) {
  SSL_SESSION_free(g_last_session);
  g_last_session = session;
  return 1;  // we own it now
}

SSL_CTX *ClientCtx(uint16_t version, bool with_cert) {
  const Material &m = GetMaterial();
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_min_proto_version(ctx, version);
  SSL_CTX_set_max_proto_version(ctx, version);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
  SSL_CTX_sess_set_new_cb(ctx, KeepSession);
  if (with_cert) {
    SSL_CTX_use_certificate(ctx, m.client_cert);
    SSL_CTX_use_PrivateKey(ctx, m.client_key);
  }
  return ctx;
}

// Handshake runs one connection to completion, exchanges application data
// both ways and returns 1 on success. |*out_session| (if given) receives the
// client session for resumption; |*out_resumed| whether this one resumed.
int Handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *session,
              SSL_SESSION **out_session, int *out_resumed) {
  SSL *server = SSL_new(sctx);
  SSL *client = SSL_new(cctx);
  BIO *sbio, *cbio;
  if (!BIO_new_bio_pair(&sbio, 0, &cbio, 0)) {
    return 0;
  }
  SSL_set_bio(server, sbio, sbio);
  SSL_set_bio(client, cbio, cbio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  if (session != nullptr) {
    SSL_set_session(client, session);
  }
  int ok = 0;
  for (int round = 0; round < 50; round++) {
    int c = SSL_do_handshake(client);
    int s = SSL_do_handshake(server);
    if (c == 1 && s == 1) {
      ok = 1;
      break;
    }
    if ((c != 1 && SSL_get_error(client, c) != SSL_ERROR_WANT_READ) ||
        (s != 1 && SSL_get_error(server, s) != SSL_ERROR_WANT_READ)) {
      break;
    }
  }
  if (ok) {
    // Server -> client data also carries TLS 1.3 tickets to the client.
    char buf[16];
    ok = SSL_write(server, "PONG", 4) == 4 && SSL_read(client, buf, 16) == 4 &&
         SSL_write(client, "PING", 4) == 4 && SSL_read(server, buf, 16) == 4;
  }
  if (ok && out_resumed != nullptr) {
    *out_resumed = SSL_session_reused(server);
  }
  if (ok && out_session != nullptr) {
    *out_session = g_last_session;
    g_last_session = nullptr;
  }
  SSL_free(client);
  SSL_free(server);
  return ok;
}

// The allowed workload; returns 0 or a distinct failure code.
int AllowedWork() {
  const Material &m = GetMaterial();
  SSL_CTX *rsa = ServerCtx(m.rsa_cert, m.rsa_key, false);
  SSL_CTX *ec = ServerCtx(m.ec_cert, m.ec_key, false);
  SSL_CTX *mtls = ServerCtx(m.ec_cert, m.ec_key, true);
  SSL_CTX *c12 = ClientCtx(TLS1_2_VERSION, false);
  SSL_CTX *c13 = ClientCtx(TLS1_3_VERSION, false);
  SSL_CTX *c13_cert = ClientCtx(TLS1_3_VERSION, true);
  SSL_CTX *c12_cert = ClientCtx(TLS1_2_VERSION, true);

  EnterOrDie(-1, 1);

  if (!Handshake(rsa, c12, nullptr, nullptr, nullptr)) return 10;
  if (!Handshake(rsa, c13, nullptr, nullptr, nullptr)) return 11;
  if (!Handshake(ec, c12, nullptr, nullptr, nullptr)) return 12;
  if (!Handshake(ec, c13, nullptr, nullptr, nullptr)) return 13;
  // mTLS: verification (X509 time checks, chain building) in the sandbox.
  if (!Handshake(mtls, c13_cert, nullptr, nullptr, nullptr)) return 14;
  if (!Handshake(mtls, c12_cert, nullptr, nullptr, nullptr)) return 15;
  // mTLS refusal without a client certificate must fail cleanly.
  if (Handshake(mtls, c13, nullptr, nullptr, nullptr)) return 16;
  // Resumption, both versions.
  for (SSL_CTX *client : {c12, c13}) {
    SSL_SESSION *session = nullptr;
    int resumed = 0;
    if (!Handshake(ec, client, nullptr, &session, &resumed) || resumed ||
        session == nullptr) {
      return 17;
    }
    if (!Handshake(ec, client, session, nullptr, &resumed) || !resumed) {
      return 18;
    }
    SSL_SESSION_free(session);
  }
  // Large allocations and their growth: mmap without PROT_EXEC, madvise.
  void *big = malloc(4 << 20);
  if (big == nullptr) return 19;
  memset(big, 1, 4 << 20);
  big = realloc(big, 16 << 20);
  if (big == nullptr) return 20;
  free(big);
  // Logging to stderr is allowed.
  if (write(2, "", 0) != 0) return 21;
  // Enough handshakes to pass BoringSSL's DRBG reseed interval (4096 RAND
  // calls, ~1,000 TLS 1.3 handshakes): the reseed calls getrandom.
  for (int i = 0; i < 1200; i++) {
    if (!Handshake(ec, c13, nullptr, nullptr, nullptr)) return 22;
  }
  return 0;
}

TEST(SandboxTest, AllowedWorkSurvivesTheFilter) {
  GetMaterial();
  EXPECT_EXIT_ZERO(RunInChild(AllowedWork));
}

// Each forbidden call, made raw (glibc cannot substitute another call).
void ExpectForbidden(const std::function<void()> &call) {
  GetMaterial();
  int status = RunInChild([&] {
    EnterOrDie(-1, 1);
    call();
    return 0;  // survived: the filter did not stop it
  });
  EXPECT_SIGSYS(status);
}

TEST(SandboxTest, OpenatKills) {
  ExpectForbidden([] { syscall(SYS_openat, AT_FDCWD, "/etc/passwd", 0); });
}
TEST(SandboxTest, SocketKills) {
  ExpectForbidden([] { syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); });
}
TEST(SandboxTest, ExecveKills) {
  ExpectForbidden([] {
    char *const argv[] = {const_cast<char *>("/bin/true"), nullptr};
    syscall(SYS_execve, "/bin/true", argv, nullptr);
  });
}
TEST(SandboxTest, PtraceKills) {
  ExpectForbidden([] { syscall(SYS_ptrace, 0, 0, 0, 0); });
}
TEST(SandboxTest, GetppidKills) {
  ExpectForbidden([] { syscall(SYS_getppid); });
}
TEST(SandboxTest, WriteToStdoutKills) {
  ExpectForbidden([] { syscall(SYS_write, 1, "x", 1); });
}
TEST(SandboxTest, ExecutableMmapKills) {
  ExpectForbidden([] {
    syscall(SYS_mmap, nullptr, 4096, PROT_READ | PROT_EXEC,
            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  });
}
TEST(SandboxTest, MprotectToExecKills) {
  ExpectForbidden([] {
    static char page[4096] __attribute__((aligned(4096)));
    syscall(SYS_mprotect, page, sizeof(page), PROT_READ | PROT_EXEC);
  });
}
TEST(SandboxTest, CloseKills) {
  ExpectForbidden([] { syscall(SYS_close, 2); });
}
// A 32-bit (int 0x80) system call: other ABIs are killed by the arch check.
//
// Whether int 0x80 reaches a system call table at all depends on the kernel:
// with IA32 emulation compiled in and enabled it enters the i386 table (and
// seccomp sees AUDIT_ARCH_I386); without it, or with it disabled at boot
// (ia32_emulation=false, CONFIG_IA32_EMULATION_DEFAULT_DISABLED), the CPU's
// general-protection fault reaches the process as SIGSEGV before seccomp
// runs. The test first asks an unfiltered child which kernel this is, then
// holds the sandboxed child to what that kernel allows: SIGSYS from the
// filter's architecture check where the call would reach the i386 table, and
// death (not survival) where the kernel itself refuses the entry.
long I386Getpid() {
  long ret;
  // i386 __NR_getpid is 20.
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  return ret;
}

enum class I386Entry { kReachesTable, kRefusedByKernel, kUnknown };

I386Entry ProbeI386Entry(std::string *how) {
  int status = RunInChild([] {
    // The kernel's verdict, not a sanitizer's: ASan's SIGSEGV handler would
    // turn the fault into an abort.
    signal(SIGSEGV, SIG_DFL);
    return I386Getpid() == getpid() ? 0 : 1;
  });
  *how = Describe(status);
  if (ExitedZero(status)) return I386Entry::kReachesTable;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
    return I386Entry::kRefusedByKernel;
  }
  return I386Entry::kUnknown;
}

TEST(SandboxTest, I386AbiKills) {
  GetMaterial();
  std::string probe;
  I386Entry entry = ProbeI386Entry(&probe);
  int status = RunInChild([] {
    EnterOrDie(-1, 1);
    (void)I386Getpid();
    return 0;  // survived: neither the filter nor the kernel stopped it
  });
  switch (entry) {
    case I386Entry::kReachesTable:
      std::cout << "[   CASE   ] i386 emulation on: int $0x80 getpid works "
                   "unfiltered; the filter must kill it with SIGSYS\n";
      RecordProperty("i386_case", "kernel routes int 0x80; SIGSYS expected");
      EXPECT_SIGSYS(status);
      break;
    case I386Entry::kRefusedByKernel:
      std::cout << "[   CASE   ] i386 emulation off: the kernel refuses "
                   "int $0x80 (unfiltered probe: "
                << probe << "); the sandboxed child must die too\n";
      RecordProperty("i386_case", "kernel refuses int 0x80 (SIGSEGV)");
      EXPECT_TRUE(WIFSIGNALED(status)) << Describe(status);
      EXPECT_FALSE(ExitedZero(status)) << Describe(status);
      break;
    case I386Entry::kUnknown:
      // An unfiltered int 0x80 that neither works nor faults is a kernel
      // this test does not know: fail loudly instead of guessing.
      ADD_FAILURE() << "unexpected unfiltered int $0x80 outcome: " << probe;
      break;
  }
}

// An x32 system call (x86_64 arch, bit 30 set) is refused even for brk,
// which the policy allows as a native call. This holds on every kernel:
// seccomp runs on the raw number before the kernel looks at bit 30, so
// whether CONFIG_X86_X32_ABI is built in does not change the outcome.
TEST(SandboxTest, X32AbiKills) {
  ExpectForbidden([] { syscall(0x40000000L | SYS_brk, 0L); });
}

#ifdef REDOUBT_TEST_HOOKS
TEST(SandboxTest, TestHookSyscallsKill) {
  for (const char *name : {"openat", "socket", "execve", "ptrace"}) {
    ExpectForbidden([name] { sandbox_run_test_syscall(name); });
  }
  EXPECT_EQ(sandbox_run_test_syscall("no-such-call"), 0);
}
#endif

// True when uid 0 is the host's root (identity uid_map); inside a user
// namespace (Bazel's linux-sandbox) sandbox_enter's uid drop is best effort.
bool InInitialUserNamespace() {
  FILE *fp = fopen("/proc/self/uid_map", "re");
  if (fp == nullptr) {
    return true;
  }
  unsigned long inside = 1, outside = 1, count = 0;
  int fields = fscanf(fp, "%lu %lu %lu", &inside, &outside, &count);
  fclose(fp);
  return fields == 3 && inside == 0 && outside == 0 && count == 4294967295ul;
}

// Without the filter (seccomp = 0) the other steps can be inspected.
TEST(SandboxTest, ClosesFdsSetsLimitsAndDropsPrivileges) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
  int extra = open("/dev/null", O_RDONLY);
  ASSERT_GE(extra, 0);
  int keep = pair[1];
  uid_t nobody_uid = 65534;
  if (struct passwd *pw = getpwnam("nobody")) {
    nobody_uid = pw->pw_uid;
  }
  bool root = geteuid() == 0;
  bool can_drop = root && InInitialUserNamespace();
  // Which case ran depends on how the test is started, not on the code:
  // say so, so a run that skipped the uid checks is visible in the log.
  std::cout << "[   CASE   ] "
            << (can_drop ? "root in the initial user namespace: uid drop, "
                           "groups and read-only root checked"
                : root   ? "root in a user namespace (Bazel's sandbox): "
                           "chroot checked, uid drop is best effort"
                         : "not root: no chroot or uid drop to check")
            << "\n";
  int status = RunInChild([&] {
    EnterOrDie(keep, 0);
    if (fcntl(keep, F_GETFD) < 0) return 30;
    if (fcntl(2, F_GETFD) < 0) return 31;
    if (fcntl(extra, F_GETFD) >= 0 || errno != EBADF) return 32;
    if (fcntl(pair[0], F_GETFD) >= 0) return 33;
    if (fcntl(0, F_GETFD) >= 0 || fcntl(1, F_GETFD) >= 0) return 34;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max != 0) return 35;
    if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_max != 0) return 36;
    // FSIZE is 0 whatever stderr is (issue 17: it used to stay unlimited
    // when stderr was a file).
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_max != 0) {
      return 37;
    }
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // An address-space limit (sanitizer builds reserve terabytes of shadow).
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_max == RLIM_INFINITY ||
        rl.rlim_max > (rlim_t)1 << 30) {
      return 48;
    }
#endif
    if (getrlimit(RLIMIT_NPROC, &rl) != 0 || rl.rlim_max != 0) return 38;
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) return 39;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 40;
    // No new descriptors, even though fds 0 and 1 are free.
    if (dup(keep) >= 0) return 41;
    if (root) {
      // chroot works as root even inside a user namespace.
      if (access("/etc/passwd", F_OK) == 0) return 45;
      // The capability bounding set is empty (CapBnd: 0).
      for (int cap = 0; cap <= 63; cap++) {
        int in_set = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in_set < 0) break;
        if (in_set != 0) return 49;
      }
    }
    if (can_drop) {
      if (getuid() != nobody_uid || geteuid() != nobody_uid) return 42;
      if (setuid(0) == 0) return 43;
      if (getgroups(0, nullptr) > 1) return 44;
      // The new root cannot be written (unlinked, and not ours).
      if (mkdir("/x", 0700) == 0) return 46;
    }
    // The IPC socket still works.
    if (send(keep, "ok", 2, 0) != 2) return 47;
    return 0;
  });
  EXPECT_EXIT_ZERO(status);
  char buf[4];
  EXPECT_EQ(recv(pair[0], buf, sizeof(buf), MSG_DONTWAIT), 2);
  close(pair[0]);
  close(pair[1]);
  close(extra);
}

// A handshaker's stderr is a socket to main's log relay: log lines go
// through, each write one datagram.
TEST(SandboxTest, LoggingToASocketStderrWorks) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
  int status = RunInChild([&] {
    if (dup2(pair[1], 2) != 2) return 50;
    EnterOrDie(-1, 1);
    for (int i = 0; i < 10; i++) {
      if (write(2, "handshaker log line\n", 20) != 20) return 51;
    }
    return 0;
  });
  EXPECT_EXIT_ZERO(status);
  char buf[512];
  int lines = 0;
  ssize_t n;
  // Other datagrams: sandbox_enter's warning line (user namespaces).
  while ((n = recv(pair[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
    lines += std::string(buf, n) == "handshaker log line\n";
  }
  EXPECT_EQ(lines, 10);
  close(pair[0]);
  close(pair[1]);
}

// Were stderr a file after all (a handshaker started by hand), FSIZE 0 holds:
// the file does not grow, and the write fails with EFBIG instead of killing
// the process with SIGXFSZ.
TEST(SandboxTest, AFileStderrDoesNotGrow) {
  char path[] = "/tmp/redoubt-sandbox-test-XXXXXX";
  int log_fd = mkstemp(path);
  ASSERT_GE(log_fd, 0);
  unlink(path);
  int status = RunInChild([&] {
    if (dup2(log_fd, 2) != 2) return 50;
    EnterOrDie(-1, 1);
    for (int i = 0; i < 100; i++) {
      errno = 0;
      if (write(2, "handshaker log line\n", 20) != -1 || errno != EFBIG) {
        return 51;
      }
    }
    return 0;
  });
  EXPECT_EXIT_ZERO(status);
  struct stat st;
  ASSERT_EQ(fstat(log_fd, &st), 0);
  // At most sandbox_enter's own warning line (user namespaces), written
  // before the limits.
  EXPECT_LT(st.st_size, 1000);
  close(log_fd);
}

TEST(SandboxTest, UnknownUserFails) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "the user is only looked up when running as root";
  }
  int status = RunInChild([] {
    char err[256];
    if (sandbox_enter(-1, "no-such-user-redoubt", 0, err, sizeof(err))) {
      return 1;
    }
    return strstr(err, "not found") != nullptr ? 0 : 2;
  });
  EXPECT_EXIT_ZERO(status);
}

TEST(SandboxTest, PolicyDescribeListsEveryRule) {
  char buf[4096];
  size_t n = sandbox_policy_describe(buf, sizeof(buf));
  ASSERT_GT(n, 0u);
  ASSERT_LT(n, sizeof(buf));
  std::string text(buf, n);
  for (const char *name :
       {"recvmsg [fd == IPC socket]:", "sendmsg [fd == IPC socket]:",
        "futex [FUTEX_WAKE_PRIVATE]:", "madvise [MADV_DONTNEED, MADV_FREE]:",
        "brk:", "getrandom:", "exit_group:", "write [fd == 2]:",
        "mmap [prot without PROT_EXEC]:", "munmap:", "clock_gettime:",
        "default: kill process"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  // Dropped after the audit (issue 17): never used by the handshaker.
  for (const char *name :
       {"\nmremap", "\nmprotect", "\nrt_sigreturn", "\nexit:"}) {
    EXPECT_EQ(text.find(name), std::string::npos) << name;
  }
  // Truncation behaves like snprintf.
  char small[16];
  EXPECT_EQ(sandbox_policy_describe(small, sizeof(small)), n);
  EXPECT_EQ(strlen(small), sizeof(small) - 1);
}

// The spawner's policy: reading files yes, writing or creating files no.
TEST(SandboxTest, SpawnerPolicyDescribesItsLimits) {
  char buf[8192];
  size_t n = sandbox_seccomp_describe(SANDBOX_POLICY_SPAWNER, buf, sizeof(buf));
  ASSERT_GT(n, 0u);
  ASSERT_LT(n, sizeof(buf));
  std::string text(buf, n);
  EXPECT_NE(text.find("openat [read-only, no O_CREAT]:"), std::string::npos);
  EXPECT_NE(text.find("socket [refused: EACCES]:"), std::string::npos);
  for (const char *name : {"\nptrace", "\nunlink", "\nrename", "\nmount",
                           "\nbpf", "\nprocess_vm", "\nbind", "\nlisten"}) {
    EXPECT_EQ(text.find(name), std::string::npos) << name;
  }
}

// ---- the trimmed handshaker list (issue 17 item 6) ------------------------

// recvmsg and sendmsg only on the IPC socket: here stderr is a second
// socket, and using it for sendmsg or recvmsg kills.
void ExpectIpcOnly(bool use_ipc, bool sending) {
  GetMaterial();
  int ipc[2], other[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ipc), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, other), 0);
  ASSERT_EQ(send(ipc[0], "x", 1, 0), 1);
  ASSERT_EQ(send(other[0], "x", 1, 0), 1);
  int status = RunInChild([&] {
    if (dup2(other[1], 2) != 2) return 60;
    EnterOrDie(ipc[1], 1);
    int fd = use_ipc ? ipc[1] : 2;
    char c = 'y';
    struct iovec iov = {&c, 1};
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = sending ? syscall(SYS_sendmsg, fd, &mh, 0)
                        : syscall(SYS_recvmsg, fd, &mh, 0);
    return n == 1 ? 0 : 61;
  });
  if (use_ipc) {
    EXPECT_EXIT_ZERO(status);
  } else {
    EXPECT_SIGSYS(status);
  }
  for (int fd : {ipc[0], ipc[1], other[0], other[1]}) close(fd);
}

TEST(SandboxTest, SendmsgOnTheIpcSocketWorks) { ExpectIpcOnly(true, true); }
TEST(SandboxTest, RecvmsgOnTheIpcSocketWorks) { ExpectIpcOnly(true, false); }
TEST(SandboxTest, SendmsgOnAnotherFdKills) { ExpectIpcOnly(false, true); }
TEST(SandboxTest, RecvmsgOnAnotherFdKills) { ExpectIpcOnly(false, false); }

#ifndef __SANITIZE_ADDRESS__
// madvise: only the advice jemalloc uses to return pages (ASan's shadow
// memory needs more: sanitizer builds allow any).
TEST(SandboxTest, MadviseHugepageKills) {
  ExpectForbidden([] {
    static char page[4096] __attribute__((aligned(4096)));
    syscall(SYS_madvise, page, sizeof(page), MADV_HUGEPAGE);
  });
}
#endif
TEST(SandboxTest, MremapKills) {
  ExpectForbidden([] { syscall(SYS_mremap, nullptr, 4096, 8192, 0); });
}
TEST(SandboxTest, MprotectKills) {
  ExpectForbidden([] {
    static char page[4096] __attribute__((aligned(4096)));
    syscall(SYS_mprotect, page, sizeof(page), PROT_READ);
  });
}
TEST(SandboxTest, ThreadExitKills) {
  ExpectForbidden([] { syscall(SYS_exit, 0); });
}
TEST(SandboxTest, MadviseDontneedWorks) {
  GetMaterial();
  EXPECT_EXIT_ZERO(RunInChild([] {
    static char page[4096] __attribute__((aligned(4096)));
    EnterOrDie(-1, 1);
    return syscall(SYS_madvise, page, sizeof(page), MADV_DONTNEED) == 0 ? 0
                                                                        : 62;
  }));
}
TEST(SandboxTest, FutexWaitKills) {
  ExpectForbidden([] {
    static uint32_t word = 0;
    syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, nullptr, nullptr, 0);
  });
}
TEST(SandboxTest, FutexWakePrivateWorks) {
  GetMaterial();
  EXPECT_EXIT_ZERO(RunInChild([] {
    static uint32_t word = 0;
    EnterOrDie(-1, 1);
    return syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
                   0) == 0
               ? 0
               : 63;
  }));
}
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// brk is allowed (jemalloc's fallback when mmap fails) and capped by
// RLIMIT_AS: growing the heap past it fails cleanly, without a kill.
TEST(SandboxTest, BrkPastTheAddressSpaceLimitFails) {
  GetMaterial();
  EXPECT_EXIT_ZERO(RunInChild([] {
    EnterOrDie(-1, 1);
    errno = 0;
    void *r = sbrk((intptr_t)1 << 32);
    return r == (void *)-1 && errno == ENOMEM ? 0 : 64;
  }));
}
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// RLIMIT_AS: a runaway allocation fails instead of growing without bound.
TEST(SandboxTest, HugeAllocationFailsUnderTheAddressSpaceLimit) {
  GetMaterial();
  EXPECT_EXIT_ZERO(RunInChild([] {
    EnterOrDie(-1, 1);
    // volatile: the compiler may not assume the allocation succeeds
    size_t volatile size = (size_t)1 << 30;
    void *volatile p = malloc(size);
    return p == nullptr ? 0 : 65;
  }));
}
#endif

}  // namespace
