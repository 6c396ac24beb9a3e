/* ipc.h: the typed message codec between main and a handshaker.
 *
 * One message per SOCK_SEQPACKET datagram:
 *   u8 type, u64 conn_id, then the type's fields in order; byte fields are
 *   u32 length + bytes. Every length has a named maximum; trailing bytes are
 *   an error. Parsers never trust the peer: a message that fails to parse, or
 *   that does not match the receiver's state, is a protocol violation (main
 *   then kills and respawns that handshaker).
 *
 * Requests (main -> handshaker) and answers (handshaker -> main) have
 * distinct type ranges and separate parse functions, so neither side accepts
 * the other's messages. */
#ifndef REDOUBT_SANDBOX_IPC_H
#define REDOUBT_SANDBOX_IPC_H

#include <stddef.h>
#include <stdint.h>

/* Limits */
#define IPC_MAX_MESSAGE (160 * 1024)      /* one datagram */
#define IPC_MAX_RECORD (16384 + 2048 + 5) /* one TLS record incl. header */
#define IPC_MAX_FLIGHT (64 * 1024)        /* handshake bytes for the client */
#define IPC_MAX_HANDBACK (64 * 1024)      /* holds the ClientHello transcript */
#define IPC_MAX_REASON 256
#define IPC_MAX_PATH 4096
#define IPC_MAX_CONFIG_STRING 4096
#define IPC_TICKET_KEY_LEN 48 /* name(16) + HMAC(16) + AES(16) */
#define IPC_MAX_TICKET_KEYS 2 /* current, previous */
/* auth_clients is 0 (no), 1 (yes) or 2 (optional) on the wire: the values
 * of tls-auth-clients (TLS_CLIENT_AUTH_* in tls/options.h; tls/policy.c
 * checks that they agree). */
#define IPC_MAX_AUTH_CLIENTS 2

/* Requests: main -> handshaker */
typedef enum {
  IPC_REQ_CONFIG = 1,       /* conn_id 0: the handshaker's configuration */
  IPC_REQ_TICKET_KEYS = 2,  /* conn_id 0: session ticket keys */
  IPC_REQ_RECORD = 3,       /* one complete TLS record from the client */
  IPC_REQ_ABORT = 4,        /* main dropped conn_id: forget it */
  IPC_REQ_TEST_SYSCALL = 5, /* test builds only: run a forbidden syscall */
  /* sign |data| (a TLS 1.2/1.3 signature input) with the client key for
   * main's outgoing TLS connection |conn_id| (tls-replication): main runs
   * that handshake itself and never holds the key */
  IPC_REQ_SIGN = 6,
  /* verify a peer's certificate chain (DER, leaf first, as the peer sent
   * it) for main's connection |conn_id|; sent only to a verifier (a
   * handshaker process started in verify-only role: no private key, never
   * a ClientHello), so main parses no X.509 */
  IPC_REQ_VERIFY = 7
} ipc_request_type;

/* Answers: handshaker -> main */
typedef enum {
  IPC_ANS_READY = 64,       /* conn_id 0: sandboxed, certificate summary */
  IPC_ANS_CONFIG_FAIL = 65, /* conn_id 0: could not load material */
  IPC_ANS_NEED_INPUT = 66,  /* write the flight, send the next record */
  IPC_ANS_DONE = 67,        /* write the flight, apply the handback */
  IPC_ANS_FAIL = 68,        /* write the flight (alert), close */
  IPC_ANS_SIGNED = 69,      /* the signature for a SIGN request */
  IPC_ANS_VERIFIED = 70     /* the verdict on a VERIFY request */
} ipc_answer_type;

/* SIGN: the largest input (a TLS 1.3 CertificateVerify input is 64 + 34 +
 * 64 bytes; TLS 1.2 signs 64 bytes of randoms plus the ServerKeyExchange
 * parameters) and signature (RSA 8192 is 1 KB). */
#define IPC_MAX_SIGN_INPUT 4096
#define IPC_MAX_SIGNATURE 1024

/* VERIFY: what the chain is checked for (the X.509 purpose). */
#define IPC_VERIFY_PURPOSE_CLIENT 1 /* a client's certificate (mTLS) */
#define IPC_VERIFY_PURPOSE_SERVER 2 /* a server's (an outgoing connection) */
/* VERIFY: at most this many certificates, each 1..IPC_MAX_CERT_LEN bytes,
 * together at most IPC_MAX_CERT_CHAIN (main caps what it reads from a peer
 * below that: TLS_MAX_PEER_CERT_LIST in tls/). */
#define IPC_MAX_CHAIN_CERTS 10
#define IPC_MAX_CERT_LEN (16 * 1024)
#define IPC_MAX_CERT_CHAIN (32 * 1024)
/* VERIFIED: the X.509 error code of a refusal (X509_V_ERR_*, 1..this). */
#define IPC_MAX_VERIFY_ERROR 1023

/* The handshaker's configuration: paths and policy, never key bytes. */
typedef struct ipc_config {
  const char *cert_file, *key_file, *key_file_pass, *ca_cert_file, *ca_cert_dir,
      *dh_params_file, *protocols, *ciphers, *ciphersuites, *sandbox_user;
  /* the client certificate and key (tls-client-*; empty: the server's) */
  const char *client_cert_file, *client_key_file, *client_key_file_pass;
  uint8_t auth_clients; /* 0..IPC_MAX_AUTH_CLIENTS (TLS_CLIENT_AUTH_*) */
  uint8_t prefer_server_ciphers, session_caching, seccomp;
  uint32_t session_cache_size, session_cache_timeout;
} ipc_config;

/* A parsed message. Byte fields point into the parsed buffer (valid while
 * it lives); strings in |config| are copies owned by the message and freed
 * by ipc_message_cleanup. */
typedef struct ipc_message {
  uint8_t type;
  uint64_t conn_id;
  /* RECORD: record; NEED_INPUT/DONE/FAIL: flight; SIGN: the input;
   * SIGNED: the signature */
  const uint8_t *data;
  size_t data_len;
  const uint8_t *handback; /* DONE */
  size_t handback_len;
  char reason[IPC_MAX_REASON + 1]; /* FAIL, CONFIG_FAIL; TEST_SYSCALL name */
  /* READY: certificate summary text (subject, issuer, not-after unix time) */
  char cert_subject[IPC_MAX_REASON + 1];
  char cert_issuer[IPC_MAX_REASON + 1];
  int64_t cert_not_after;
  uint8_t resumed; /* DONE: 1 if the handshake resumed a session */
  uint16_t sigalg; /* SIGN: the TLS SignatureScheme */
  /* VERIFY: purpose and the chain (pointers into the parsed buffer) */
  uint8_t purpose;
  size_t cert_count;
  const uint8_t *certs[IPC_MAX_CHAIN_CERTS];
  size_t cert_lens[IPC_MAX_CHAIN_CERTS];
  /* VERIFIED: verdict (1 accepted, 0 refused), the X.509 error of a
   * refusal (0 iff accepted), the leaf's subject (cert_subject) and
   * subjectAltNames (cert_sans), and a reason text (reason). These texts
   * never hold control bytes (the parser refuses them). */
  uint8_t verdict;
  uint32_t verify_error;
  char cert_sans[IPC_MAX_REASON + 1];
  ipc_config config; /* CONFIG */
  uint8_t ticket_keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN];
  size_t ticket_key_count;
  char *owned_strings; /* internal */
} ipc_message;

/* ipc_parse_request parses a main->handshaker datagram. Returns 1, or 0 on
 * any malformation (unknown type, bad length, trailing bytes, over a
 * limit). */
int ipc_parse_request(const uint8_t *buf, size_t len, ipc_message *out);
/* ipc_parse_answer parses a handshaker->main datagram. Returns 1 or 0. */
int ipc_parse_answer(const uint8_t *buf, size_t len, ipc_message *out);
void ipc_message_cleanup(ipc_message *msg);

/* Builders write one datagram into |buf| (capacity |cap|) and return its
 * length, or 0 if it would not fit or a field exceeds its maximum. Every
 * other parameter is input; |flight| is the handshake bytes main is to
 * write to the client. */
size_t ipc_build_config(uint8_t *buf, size_t cap, const ipc_config *config);
size_t ipc_build_ticket_keys(uint8_t *buf, size_t cap,
                             const uint8_t keys[][IPC_TICKET_KEY_LEN],
                             size_t count);
size_t ipc_build_record(uint8_t *buf, size_t cap, uint64_t conn_id,
                        const uint8_t *record, size_t len);
size_t ipc_build_abort(uint8_t *buf, size_t cap, uint64_t conn_id);
size_t ipc_build_sign(uint8_t *buf, size_t cap, uint64_t conn_id,
                      uint16_t sigalg, const uint8_t *input, size_t len);
size_t ipc_build_signed(uint8_t *buf, size_t cap, uint64_t conn_id,
                        const uint8_t *signature, size_t len);
/* ipc_build_verify: |certs|/|cert_lens| hold |count| DER certificates,
 * leaf first. */
size_t ipc_build_verify(uint8_t *buf, size_t cap, uint64_t conn_id,
                        uint8_t purpose, const uint8_t *const *certs,
                        const size_t *cert_lens, size_t count);
/* ipc_build_verified: |verdict| 1 with |verify_error| 0, or 0 with a
 * nonzero |verify_error|; the texts must hold no control bytes. */
size_t ipc_build_verified(uint8_t *buf, size_t cap, uint64_t conn_id,
                          int verdict, uint32_t verify_error,
                          const char *reason, const char *subject,
                          const char *sans);
size_t ipc_build_test_syscall(uint8_t *buf, size_t cap, const char *name);
size_t ipc_build_ready(uint8_t *buf, size_t cap, const char *subject,
                       const char *issuer, int64_t not_after);
size_t ipc_build_config_fail(uint8_t *buf, size_t cap, const char *reason);
size_t ipc_build_need_input(uint8_t *buf, size_t cap, uint64_t conn_id,
                            const uint8_t *flight, size_t flight_len);
size_t ipc_build_done(uint8_t *buf, size_t cap, uint64_t conn_id,
                      const uint8_t *flight, size_t flight_len,
                      const uint8_t *handback, size_t handback_len,
                      int resumed);
size_t ipc_build_fail(uint8_t *buf, size_t cap, uint64_t conn_id,
                      const char *reason, const uint8_t *flight,
                      size_t flight_len);

#endif
