/* ipc_corpus_gen.c: writes the seed corpora of ipc_request_fuzz and
 * ipc_answer_fuzz using the real builders, so seeds always match the wire
 * format. Not a Bazel target; regenerate after a format change with:
 *   gcc -std=gnu11 -D_GNU_SOURCE -I. tests/fuzz/ipc_corpus_gen.c sandbox/ipc.c
 * \ -o /tmp/ipc_corpus_gen && /tmp/ipc_corpus_gen tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox/ipc.h"

static uint8_t gen_buf[IPC_MAX_MESSAGE];

static void gen_write(const char *dir, const char *sub, const char *name,
                      size_t len) {
  char path[1024];
  if (len == 0) {
    fprintf(stderr, "builder refused %s\n", name);
    exit(1);
  }
  snprintf(path, sizeof(path), "%s/%s", dir, sub);
  mkdir(path, 0755);
  snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
  FILE *fp = fopen(path, "wb");
  if (fp == NULL || fwrite(gen_buf, 1, len, fp) != len || fclose(fp) != 0) {
    perror(path);
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
  const char *req = "ipc_request_fuzz";
  const char *ans = "ipc_answer_fuzz";
  uint8_t blob[IPC_MAX_FLIGHT];
  for (size_t i = 0; i < sizeof(blob); i++) {
    blob[i] = (uint8_t)(i * 31 + 7);
  }
  /* A plausible TLS 1.3 ClientHello record header + body start. */
  static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00,
                                  0x00, 0x04, 0x03, 0x03, 0x00, 0x00};
  static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};

  ipc_config c;
  memset(&c, 0, sizeof(c));
  c.cert_file = "tests/tls/server.crt";
  c.key_file = "tests/tls/server.key";
  c.ca_cert_file = "tests/tls/ca.crt";
  c.protocols = "TLSv1.2 TLSv1.3";
  c.sandbox_user = "nobody";
  c.auth_clients = 1;
  c.session_caching = 1;
  c.seccomp = 1;
  c.session_cache_size = 20480;
  c.session_cache_timeout = 300;
  gen_write(dir, req, "config_default",
            ipc_build_config(gen_buf, sizeof(gen_buf), &c));
  c.key_file_pass = "redoubt-test-pass";
  c.ca_cert_dir = "/etc/ssl/certs";
  c.dh_params_file = "tests/tls/redis.dh";
  c.ciphers = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256";
  c.ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
  c.auth_clients = 2;
  c.prefer_server_ciphers = 1;
  gen_write(dir, req, "config_full",
            ipc_build_config(gen_buf, sizeof(gen_buf), &c));
  memset(&c, 0, sizeof(c));
  gen_write(dir, req, "config_empty",
            ipc_build_config(gen_buf, sizeof(gen_buf), &c));

  uint8_t keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN];
  memcpy(keys, blob, sizeof(keys));
  gen_write(dir, req, "ticket_keys_2",
            ipc_build_ticket_keys(gen_buf, sizeof(gen_buf), keys, 2));
  gen_write(dir, req, "ticket_keys_1",
            ipc_build_ticket_keys(gen_buf, sizeof(gen_buf), keys, 1));
  gen_write(dir, req, "ticket_keys_0",
            ipc_build_ticket_keys(gen_buf, sizeof(gen_buf), keys, 0));
  gen_write(
      dir, req, "record_hello",
      ipc_build_record(gen_buf, sizeof(gen_buf), 1, hello, sizeof(hello)));
  gen_write(dir, req, "record_max",
            ipc_build_record(gen_buf, sizeof(gen_buf), 0xfffffffffffull, blob,
                             IPC_MAX_RECORD));
  gen_write(dir, req, "abort", ipc_build_abort(gen_buf, sizeof(gen_buf), 77));
  gen_write(dir, req, "sign_rsa_pss",
            ipc_build_sign(gen_buf, sizeof(gen_buf), 12, 0x0804, blob, 130));
  gen_write(dir, req, "sign_max",
            ipc_build_sign(gen_buf, sizeof(gen_buf), 13, 0x0403, blob,
                           IPC_MAX_SIGN_INPUT));
  {
    const uint8_t *chain[IPC_MAX_CHAIN_CERTS];
    size_t lens[IPC_MAX_CHAIN_CERTS];
    for (size_t i = 0; i < IPC_MAX_CHAIN_CERTS; i++) {
      chain[i] = blob + i * 100;
      lens[i] = IPC_MAX_CERT_CHAIN / IPC_MAX_CHAIN_CERTS;
    }
    lens[0] = 900;
    lens[1] = 1200;
    gen_write(dir, req, "verify_client_2",
              ipc_build_verify(gen_buf, sizeof(gen_buf), 14,
                               IPC_VERIFY_PURPOSE_CLIENT, chain, lens, 2));
    gen_write(dir, req, "verify_server_1",
              ipc_build_verify(gen_buf, sizeof(gen_buf), 15,
                               IPC_VERIFY_PURPOSE_SERVER, chain, lens, 1));
    lens[0] = lens[1] = IPC_MAX_CERT_CHAIN / IPC_MAX_CHAIN_CERTS;
    gen_write(dir, req, "verify_max",
              ipc_build_verify(gen_buf, sizeof(gen_buf), 16,
                               IPC_VERIFY_PURPOSE_CLIENT, chain, lens,
                               IPC_MAX_CHAIN_CERTS));
  }
  gen_write(dir, req, "test_syscall_openat",
            ipc_build_test_syscall(gen_buf, sizeof(gen_buf), "openat"));

  gen_write(dir, ans, "ready",
            ipc_build_ready(gen_buf, sizeof(gen_buf), "CN=localhost",
                            "CN=Redoubt Test CA", 1893456000));
  gen_write(dir, ans, "config_fail",
            ipc_build_config_fail(gen_buf, sizeof(gen_buf),
                                  "tls-key-file: cannot decrypt key"));
  gen_write(dir, ans, "need_input_empty",
            ipc_build_need_input(gen_buf, sizeof(gen_buf), 1, NULL, 0));
  gen_write(dir, ans, "need_input_hrr",
            ipc_build_need_input(gen_buf, sizeof(gen_buf), 2, blob, 88));
  gen_write(dir, ans, "done_small",
            ipc_build_done(gen_buf, sizeof(gen_buf), 3, blob, 1200, blob + 7,
                           1800, 0));
  gen_write(dir, ans, "done_resumed",
            ipc_build_done(gen_buf, sizeof(gen_buf), 4, blob, 300, blob + 3,
                           1300, 1));
  gen_write(dir, ans, "done_max",
            ipc_build_done(gen_buf, sizeof(gen_buf), 5, blob, IPC_MAX_FLIGHT,
                           blob, IPC_MAX_HANDBACK, 1));
  gen_write(dir, ans, "fail_alert",
            ipc_build_fail(gen_buf, sizeof(gen_buf), 6, "no shared cipher",
                           alert, sizeof(alert)));
  gen_write(dir, ans, "signed",
            ipc_build_signed(gen_buf, sizeof(gen_buf), 12, blob, 256));
  gen_write(dir, ans, "verified_ok",
            ipc_build_verified(gen_buf, sizeof(gen_buf), 14, 1, 0, "",
                               "CN=client1,O=RedoubtClients",
                               "DNS:client.example,IP:127.0.0.1"));
  gen_write(dir, ans, "verified_refused",
            ipc_build_verified(gen_buf, sizeof(gen_buf), 15, 0, 10,
                               "certificate has expired", "CN=old", ""));
  gen_write(dir, ans, "fail_empty",
            ipc_build_fail(gen_buf, sizeof(gen_buf), 7, "", NULL, 0));
  return 0;
}
