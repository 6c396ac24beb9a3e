/* ipc.c: the main <-> handshaker message codec (see ipc.h).
 *
 * Wire format, all integers big-endian. Every message: u8 type, u64
 * conn_id, then the fields of its type in this order:
 *
 *   type          conn_id  fields
 *   ------------  -------  -----------------------------------------------
 *   CONFIG        0        13 x string (cert_file, key_file, key_file_pass,
 *                          ca_cert_file, ca_cert_dir, dh_params_file,
 *                          protocols, ciphers, ciphersuites, sandbox_user,
 *                          client_cert_file, client_key_file,
 *                          client_key_file_pass; each
 *                          <= IPC_MAX_CONFIG_STRING),
 *                          u8 auth_clients (0..IPC_MAX_AUTH_CLIENTS),
 *                          u8 prefer_server_ciphers (0|1),
 *                          u8 session_caching (0|1), u8 seccomp (0|1),
 *                          u32 session_cache_size,
 *                          u32 session_cache_timeout
 *   TICKET_KEYS   0        u8 count (0..IPC_MAX_TICKET_KEYS),
 *                          count x IPC_TICKET_KEY_LEN raw bytes
 *   RECORD        != 0     bytes record (IPC_MIN_RECORD..IPC_MAX_RECORD)
 *   ABORT         != 0     nothing
 *   TEST_SYSCALL  0        string name (1..IPC_MAX_REASON)
 *   SIGN          != 0     u16 sigalg, bytes input (1..IPC_MAX_SIGN_INPUT)
 *   VERIFY        != 0     u8 purpose (IPC_VERIFY_PURPOSE_*), u8 count
 *                          (1..IPC_MAX_CHAIN_CERTS), count x bytes cert
 *                          (1..IPC_MAX_CERT_LEN; together
 *                          <= IPC_MAX_CERT_CHAIN)
 *   READY         0        string subject, string issuer (each
 *                          <= IPC_MAX_REASON), u64 not_after (two's
 *                          complement int64, unix time)
 *   CONFIG_FAIL   0        string reason (<= IPC_MAX_REASON)
 *   NEED_INPUT    != 0     bytes flight (<= IPC_MAX_FLIGHT)
 *   DONE          != 0     bytes flight (<= IPC_MAX_FLIGHT),
 *                          bytes handback (1..IPC_MAX_HANDBACK),
 *                          u8 resumed (0|1)
 *   FAIL          != 0     string reason (<= IPC_MAX_REASON),
 *                          bytes flight (<= IPC_MAX_FLIGHT)
 *   SIGNED        != 0     bytes signature (1..IPC_MAX_SIGNATURE)
 *   VERIFIED      != 0     u8 verdict (0|1), u32 verify_error (0 iff
 *                          verdict is 1, else 1..IPC_MAX_VERIFY_ERROR),
 *                          text reason, text subject, text sans (each
 *                          <= IPC_MAX_REASON)
 *
 * "bytes" and "string" are a u32 length and that many bytes. Strings never
 * contain NUL bytes (so the C string the receiver sees is exactly what was
 * sent); a "text" is a string without control bytes (0x00-0x1f, 0x7f),
 * for what main shows in logs and CLIENT LIST. A CONFIG string of length 0 means "not set": it is built from NULL
 * or "" and parsed to NULL. A flight is the handshake bytes main writes to
 * the client (for FAIL: the alert).
 *
 * The reader and writer below are small bounds-checked cursors in the shape
 * of BoringSSL's CBS/CBB: every getter can fail, nothing is read or written
 * past the end, and the parser rejects trailing bytes. Kept local so the codec
 * (and its fuzz targets) do not need libcrypto. */
#include "sandbox/ipc.h"

#include <stdlib.h>
#include <string.h>

/* A TLS record is at least its 5-byte header. */
#define IPC_MIN_RECORD 5
/* Fixed part of every message: u8 type + u64 conn_id. */
#define IPC_HEADER_LEN 9

/* ---- reader ---------------------------------------------------------- */

typedef struct ipc_reader {
  const uint8_t *data;
  size_t len;
} ipc_reader;

static int ipc_reader_get_u8(ipc_reader *r, uint8_t *out) {
  if (r->len < 1) {
    return 0;
  }
  *out = r->data[0];
  r->data++;
  r->len--;
  return 1;
}

static int ipc_reader_get_u32(ipc_reader *r, uint32_t *out) {
  if (r->len < 4) {
    return 0;
  }
  *out = ((uint32_t)r->data[0] << 24) | ((uint32_t)r->data[1] << 16) |
         ((uint32_t)r->data[2] << 8) | (uint32_t)r->data[3];
  r->data += 4;
  r->len -= 4;
  return 1;
}

static int ipc_reader_get_u64(ipc_reader *r, uint64_t *out) {
  if (r->len < 8) {
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) {
    v = (v << 8) | r->data[i];
  }
  *out = v;
  r->data += 8;
  r->len -= 8;
  return 1;
}

/* ipc_reader_get_bytes reads a u32-length-prefixed field whose length must
 * lie in [min_len, max_len]; the length is checked before the bytes are
 * touched. |*out_data| points into the reader's buffer. */
static int ipc_reader_get_bytes(ipc_reader *r, size_t min_len, size_t max_len,
                                const uint8_t **out_data, size_t *out_len) {
  uint32_t n;
  if (!ipc_reader_get_u32(r, &n)) {
    return 0;
  }
  if (n < min_len || n > max_len || n > r->len) {
    return 0;
  }
  *out_data = r->data;
  *out_len = n;
  r->data += n;
  r->len -= n;
  return 1;
}

/* ipc_reader_get_string is ipc_reader_get_bytes for text: no NUL bytes. */
static int ipc_reader_get_string(ipc_reader *r, size_t min_len, size_t max_len,
                                 const uint8_t **out_data, size_t *out_len) {
  if (!ipc_reader_get_bytes(r, min_len, max_len, out_data, out_len)) {
    return 0;
  }
  if (*out_len > 0 && memchr(*out_data, 0, *out_len) != NULL) {
    return 0;
  }
  return 1;
}

/* ipc_text_ok: |n| bytes hold no control byte (so no NUL either). */
static int ipc_text_ok(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 0x20 || p[i] == 0x7f) {
      return 0;
    }
  }
  return 1;
}

/* ipc_reader_get_fixed_string reads a string into a caller array of
 * max_len + 1 bytes and NUL-terminates it. */
static int ipc_reader_get_fixed_string(ipc_reader *r, size_t min_len,
                                       size_t max_len, char *out) {
  const uint8_t *p;
  size_t n;
  if (!ipc_reader_get_string(r, min_len, max_len, &p, &n)) {
    return 0;
  }
  memcpy(out, p, n);
  out[n] = '\0';
  return 1;
}

/* ipc_reader_get_fixed_text is ipc_reader_get_fixed_string for a text. */
static int ipc_reader_get_fixed_text(ipc_reader *r, size_t max_len, char *out) {
  const uint8_t *p;
  size_t n;
  if (!ipc_reader_get_bytes(r, 0, max_len, &p, &n) || !ipc_text_ok(p, n)) {
    return 0;
  }
  memcpy(out, p, n);
  out[n] = '\0';
  return 1;
}

/* ---- writer ---------------------------------------------------------- */

typedef struct ipc_writer {
  uint8_t *buf;
  size_t cap;
  size_t len;
  int failed; /* sticky: once a put fails the whole build fails */
} ipc_writer;

static void ipc_writer_init(ipc_writer *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->failed = (buf == NULL);
  if (w->cap > IPC_MAX_MESSAGE) {
    /* Never build a datagram the peer must reject. */
    w->cap = IPC_MAX_MESSAGE;
  }
}

static void ipc_writer_put(ipc_writer *w, const void *data, size_t n) {
  if (w->failed) {
    return;
  }
  if (n > w->cap - w->len) {
    w->failed = 1;
    return;
  }
  if (n > 0) {
    memcpy(w->buf + w->len, data, n);
  }
  w->len += n;
}

static void ipc_writer_put_u8(ipc_writer *w, uint8_t v) {
  ipc_writer_put(w, &v, 1);
}

static void ipc_writer_put_u32(ipc_writer *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                  (uint8_t)v};
  ipc_writer_put(w, b, sizeof(b));
}

static void ipc_writer_put_u64(ipc_writer *w, uint64_t v) {
  uint8_t b[8];
  for (int i = 7; i >= 0; i--) {
    b[i] = (uint8_t)v;
    v >>= 8;
  }
  ipc_writer_put(w, b, sizeof(b));
}

static void ipc_writer_put_bytes(ipc_writer *w, const uint8_t *data, size_t n,
                                 size_t min_len, size_t max_len) {
  if (n < min_len || n > max_len || (n > 0 && data == NULL)) {
    w->failed = 1;
    return;
  }
  ipc_writer_put_u32(w, (uint32_t)n);
  ipc_writer_put(w, data, n);
}

/* ipc_writer_put_string writes a C string; NULL is written as empty. */
static void ipc_writer_put_string(ipc_writer *w, const char *s, size_t min_len,
                                  size_t max_len) {
  size_t n = 0;
  if (s != NULL) {
    /* strnlen bounds the scan: an overlong string fails without walking it. */
    n = strnlen(s, max_len + 1);
  }
  ipc_writer_put_bytes(w, (const uint8_t *)s, n, min_len, max_len);
}

/* ipc_writer_put_text writes a text (no control bytes); NULL as empty. */
static void ipc_writer_put_text(ipc_writer *w, const char *s, size_t max_len) {
  size_t n = s != NULL ? strnlen(s, max_len + 1) : 0;
  if (n > max_len || !ipc_text_ok((const uint8_t *)s, n)) {
    w->failed = 1;
    return;
  }
  ipc_writer_put_bytes(w, (const uint8_t *)s, n, 0, max_len);
}

static size_t ipc_writer_finish(ipc_writer *w) {
  return w->failed ? 0 : w->len;
}

static void ipc_writer_put_header(ipc_writer *w, uint8_t type,
                                  uint64_t conn_id) {
  ipc_writer_put_u8(w, type);
  ipc_writer_put_u64(w, conn_id);
}

/* ---- builders -------------------------------------------------------- */

/* The CONFIG strings in wire order, with their maxima. */
typedef struct ipc_config_string_field {
  size_t offset; /* of the const char * in ipc_config */
  size_t max_len;
} ipc_config_string_field;

static const ipc_config_string_field ipc_config_strings[] = {
    {offsetof(ipc_config, cert_file), IPC_MAX_PATH},
    {offsetof(ipc_config, key_file), IPC_MAX_PATH},
    {offsetof(ipc_config, key_file_pass), IPC_MAX_CONFIG_STRING},
    {offsetof(ipc_config, ca_cert_file), IPC_MAX_PATH},
    {offsetof(ipc_config, ca_cert_dir), IPC_MAX_PATH},
    {offsetof(ipc_config, dh_params_file), IPC_MAX_PATH},
    {offsetof(ipc_config, protocols), IPC_MAX_CONFIG_STRING},
    {offsetof(ipc_config, ciphers), IPC_MAX_CONFIG_STRING},
    {offsetof(ipc_config, ciphersuites), IPC_MAX_CONFIG_STRING},
    {offsetof(ipc_config, sandbox_user), IPC_MAX_CONFIG_STRING},
    {offsetof(ipc_config, client_cert_file), IPC_MAX_PATH},
    {offsetof(ipc_config, client_key_file), IPC_MAX_PATH},
    {offsetof(ipc_config, client_key_file_pass), IPC_MAX_CONFIG_STRING},
};
#define IPC_CONFIG_STRING_COUNT \
  (sizeof(ipc_config_strings) / sizeof(ipc_config_strings[0]))

static const char **ipc_config_string_slot(ipc_config *config, size_t i) {
  return (const char **)((char *)config + ipc_config_strings[i].offset);
}

size_t ipc_build_config(uint8_t *buf, size_t cap, const ipc_config *config) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (config == NULL || config->auth_clients > IPC_MAX_AUTH_CLIENTS ||
      config->prefer_server_ciphers > 1 || config->session_caching > 1 ||
      config->seccomp > 1) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_REQ_CONFIG, 0);
  for (size_t i = 0; i < IPC_CONFIG_STRING_COUNT; i++) {
    const char *s = *ipc_config_string_slot((ipc_config *)config, i);
    ipc_writer_put_string(&w, s, 0, ipc_config_strings[i].max_len);
  }
  ipc_writer_put_u8(&w, config->auth_clients);
  ipc_writer_put_u8(&w, config->prefer_server_ciphers);
  ipc_writer_put_u8(&w, config->session_caching);
  ipc_writer_put_u8(&w, config->seccomp);
  ipc_writer_put_u32(&w, config->session_cache_size);
  ipc_writer_put_u32(&w, config->session_cache_timeout);
  return ipc_writer_finish(&w);
}

size_t ipc_build_ticket_keys(uint8_t *buf, size_t cap,
                             const uint8_t keys[][IPC_TICKET_KEY_LEN],
                             size_t count) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (count > IPC_MAX_TICKET_KEYS || (count > 0 && keys == NULL)) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_REQ_TICKET_KEYS, 0);
  ipc_writer_put_u8(&w, (uint8_t)count);
  for (size_t i = 0; i < count; i++) {
    ipc_writer_put(&w, keys[i], IPC_TICKET_KEY_LEN);
  }
  return ipc_writer_finish(&w);
}

size_t ipc_build_record(uint8_t *buf, size_t cap, uint64_t conn_id,
                        const uint8_t *record, size_t len) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_REQ_RECORD, conn_id);
  ipc_writer_put_bytes(&w, record, len, IPC_MIN_RECORD, IPC_MAX_RECORD);
  return ipc_writer_finish(&w);
}

size_t ipc_build_abort(uint8_t *buf, size_t cap, uint64_t conn_id) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_REQ_ABORT, conn_id);
  return ipc_writer_finish(&w);
}

size_t ipc_build_sign(uint8_t *buf, size_t cap, uint64_t conn_id,
                      uint16_t sigalg, const uint8_t *input, size_t len) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_REQ_SIGN, conn_id);
  uint8_t alg[2] = {(uint8_t)(sigalg >> 8), (uint8_t)sigalg};
  ipc_writer_put(&w, alg, sizeof(alg));
  ipc_writer_put_bytes(&w, input, len, 1, IPC_MAX_SIGN_INPUT);
  return ipc_writer_finish(&w);
}

size_t ipc_build_signed(uint8_t *buf, size_t cap, uint64_t conn_id,
                        const uint8_t *signature, size_t len) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_ANS_SIGNED, conn_id);
  ipc_writer_put_bytes(&w, signature, len, 1, IPC_MAX_SIGNATURE);
  return ipc_writer_finish(&w);
}

static int ipc_purpose_ok(uint8_t purpose) {
  return purpose == IPC_VERIFY_PURPOSE_CLIENT ||
         purpose == IPC_VERIFY_PURPOSE_SERVER;
}

size_t ipc_build_verify(uint8_t *buf, size_t cap, uint64_t conn_id,
                        uint8_t purpose, const uint8_t *const *certs,
                        const size_t *cert_lens, size_t count) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0 || !ipc_purpose_ok(purpose) || count == 0 ||
      count > IPC_MAX_CHAIN_CERTS || certs == NULL || cert_lens == NULL) {
    return 0;
  }
  size_t total = 0;
  for (size_t i = 0; i < count; i++) {
    if (cert_lens[i] > IPC_MAX_CERT_CHAIN - total) {
      return 0;
    }
    total += cert_lens[i];
  }
  ipc_writer_put_header(&w, IPC_REQ_VERIFY, conn_id);
  ipc_writer_put_u8(&w, purpose);
  ipc_writer_put_u8(&w, (uint8_t)count);
  for (size_t i = 0; i < count; i++) {
    ipc_writer_put_bytes(&w, certs[i], cert_lens[i], 1, IPC_MAX_CERT_LEN);
  }
  return ipc_writer_finish(&w);
}

static int ipc_verdict_ok(uint8_t verdict, uint32_t verify_error) {
  return verdict == 1 ? verify_error == 0
                      : verdict == 0 && verify_error >= 1 &&
                            verify_error <= IPC_MAX_VERIFY_ERROR;
}

size_t ipc_build_verified(uint8_t *buf, size_t cap, uint64_t conn_id,
                          int verdict, uint32_t verify_error,
                          const char *reason, const char *subject,
                          const char *sans) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0 || verdict < 0 || verdict > 1 ||
      !ipc_verdict_ok((uint8_t)verdict, verify_error)) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_ANS_VERIFIED, conn_id);
  ipc_writer_put_u8(&w, (uint8_t)verdict);
  ipc_writer_put_u32(&w, verify_error);
  ipc_writer_put_text(&w, reason, IPC_MAX_REASON);
  ipc_writer_put_text(&w, subject, IPC_MAX_REASON);
  ipc_writer_put_text(&w, sans, IPC_MAX_REASON);
  return ipc_writer_finish(&w);
}

size_t ipc_build_test_syscall(uint8_t *buf, size_t cap, const char *name) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  ipc_writer_put_header(&w, IPC_REQ_TEST_SYSCALL, 0);
  ipc_writer_put_string(&w, name, 1, IPC_MAX_REASON);
  return ipc_writer_finish(&w);
}

size_t ipc_build_ready(uint8_t *buf, size_t cap, const char *subject,
                       const char *issuer, int64_t not_after) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  ipc_writer_put_header(&w, IPC_ANS_READY, 0);
  ipc_writer_put_string(&w, subject, 0, IPC_MAX_REASON);
  ipc_writer_put_string(&w, issuer, 0, IPC_MAX_REASON);
  ipc_writer_put_u64(&w, (uint64_t)not_after);
  return ipc_writer_finish(&w);
}

size_t ipc_build_config_fail(uint8_t *buf, size_t cap, const char *reason) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  ipc_writer_put_header(&w, IPC_ANS_CONFIG_FAIL, 0);
  ipc_writer_put_string(&w, reason, 0, IPC_MAX_REASON);
  return ipc_writer_finish(&w);
}

size_t ipc_build_need_input(uint8_t *buf, size_t cap, uint64_t conn_id,
                            const uint8_t *flight, size_t flight_len) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_ANS_NEED_INPUT, conn_id);
  ipc_writer_put_bytes(&w, flight, flight_len, 0, IPC_MAX_FLIGHT);
  return ipc_writer_finish(&w);
}

size_t ipc_build_done(uint8_t *buf, size_t cap, uint64_t conn_id,
                      const uint8_t *flight, size_t flight_len,
                      const uint8_t *handback, size_t handback_len,
                      int resumed) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_ANS_DONE, conn_id);
  ipc_writer_put_bytes(&w, flight, flight_len, 0, IPC_MAX_FLIGHT);
  ipc_writer_put_bytes(&w, handback, handback_len, 1, IPC_MAX_HANDBACK);
  ipc_writer_put_u8(&w, resumed ? 1 : 0);
  return ipc_writer_finish(&w);
}

size_t ipc_build_fail(uint8_t *buf, size_t cap, uint64_t conn_id,
                      const char *reason, const uint8_t *flight,
                      size_t flight_len) {
  ipc_writer w;
  ipc_writer_init(&w, buf, cap);
  if (conn_id == 0) {
    return 0;
  }
  ipc_writer_put_header(&w, IPC_ANS_FAIL, conn_id);
  ipc_writer_put_string(&w, reason, 0, IPC_MAX_REASON);
  ipc_writer_put_bytes(&w, flight, flight_len, 0, IPC_MAX_FLIGHT);
  return ipc_writer_finish(&w);
}

/* ---- parsers --------------------------------------------------------- */

/* ipc_parse_config copies the strings into one allocation owned by |out|. */
static int ipc_parse_config(ipc_reader *r, ipc_message *out) {
  const uint8_t *data[IPC_CONFIG_STRING_COUNT];
  size_t lens[IPC_CONFIG_STRING_COUNT];
  size_t total = 0;
  for (size_t i = 0; i < IPC_CONFIG_STRING_COUNT; i++) {
    if (!ipc_reader_get_string(r, 0, ipc_config_strings[i].max_len, &data[i],
                               &lens[i])) {
      return 0;
    }
    total += lens[i] + 1; /* bounded: 13 x (4096 + 1) */
  }
  ipc_config *c = &out->config;
  uint32_t cache_size, cache_timeout;
  if (!ipc_reader_get_u8(r, &c->auth_clients) ||
      !ipc_reader_get_u8(r, &c->prefer_server_ciphers) ||
      !ipc_reader_get_u8(r, &c->session_caching) ||
      !ipc_reader_get_u8(r, &c->seccomp) ||
      !ipc_reader_get_u32(r, &cache_size) ||
      !ipc_reader_get_u32(r, &cache_timeout)) {
    return 0;
  }
  if (c->auth_clients > IPC_MAX_AUTH_CLIENTS || c->prefer_server_ciphers > 1 ||
      c->session_caching > 1 || c->seccomp > 1) {
    return 0;
  }
  c->session_cache_size = cache_size;
  c->session_cache_timeout = cache_timeout;
  /* Check for trailing bytes before allocating. */
  if (r->len != 0) {
    return 0;
  }
  char *strings = malloc(total);
  if (strings == NULL) {
    return 0;
  }
  out->owned_strings = strings;
  char *p = strings;
  for (size_t i = 0; i < IPC_CONFIG_STRING_COUNT; i++) {
    const char **slot = ipc_config_string_slot(c, i);
    if (lens[i] == 0) {
      *slot = NULL;
      continue;
    }
    memcpy(p, data[i], lens[i]);
    p[lens[i]] = '\0';
    *slot = p;
    p += lens[i] + 1;
  }
  return 1;
}

static int ipc_parse_ticket_keys(ipc_reader *r, ipc_message *out) {
  uint8_t count;
  if (!ipc_reader_get_u8(r, &count) || count > IPC_MAX_TICKET_KEYS) {
    return 0;
  }
  if (r->len != (size_t)count * IPC_TICKET_KEY_LEN) {
    return 0; /* truncated or trailing */
  }
  for (size_t i = 0; i < count; i++) {
    memcpy(out->ticket_keys[i], r->data + i * IPC_TICKET_KEY_LEN,
           IPC_TICKET_KEY_LEN);
  }
  out->ticket_key_count = count;
  r->data += r->len;
  r->len = 0;
  return 1;
}

/* ipc_parse_verify reads VERIFY's purpose and chain (pointers into the
 * datagram); the total is bounded before anything is kept. */
static int ipc_parse_verify(ipc_reader *r, ipc_message *out) {
  uint8_t count;
  size_t total = 0;
  if (!ipc_reader_get_u8(r, &out->purpose) || !ipc_purpose_ok(out->purpose) ||
      !ipc_reader_get_u8(r, &count) || count == 0 ||
      count > IPC_MAX_CHAIN_CERTS) {
    return 0;
  }
  for (size_t i = 0; i < count; i++) {
    if (!ipc_reader_get_bytes(r, 1, IPC_MAX_CERT_LEN, &out->certs[i],
                              &out->cert_lens[i]) ||
        out->cert_lens[i] > IPC_MAX_CERT_CHAIN - total) {
      return 0;
    }
    total += out->cert_lens[i];
  }
  out->cert_count = count;
  return 1;
}

/* ipc_parse_header reads type and conn_id and enforces the conn_id rule:
 * 0 for process-wide messages, nonzero for per-connection ones. */
static int ipc_parse_header(const uint8_t *buf, size_t len, ipc_reader *r,
                            ipc_message *out) {
  memset(out, 0, sizeof(*out));
  if (buf == NULL || len > IPC_MAX_MESSAGE) {
    return 0;
  }
  r->data = buf;
  r->len = len;
  return ipc_reader_get_u8(r, &out->type) &&
         ipc_reader_get_u64(r, &out->conn_id);
}

static int ipc_conn_id_ok(const ipc_message *msg, int per_connection) {
  return per_connection ? msg->conn_id != 0 : msg->conn_id == 0;
}

/* ipc_parse_finish rejects trailing bytes; on error it leaves |out| zeroed
 * (so ipc_message_cleanup on it is harmless). */
static int ipc_parse_finish(ipc_reader *r, ipc_message *out, int ok) {
  if (ok && r->len == 0) {
    return 1;
  }
  ipc_message_cleanup(out);
  return 0;
}

int ipc_parse_request(const uint8_t *buf, size_t len, ipc_message *out) {
  ipc_reader r;
  if (!ipc_parse_header(buf, len, &r, out)) {
    return ipc_parse_finish(&r, out, 0);
  }
  int ok = 0;
  switch (out->type) {
    case IPC_REQ_CONFIG:
      ok = ipc_conn_id_ok(out, 0) && ipc_parse_config(&r, out);
      break;
    case IPC_REQ_TICKET_KEYS:
      ok = ipc_conn_id_ok(out, 0) && ipc_parse_ticket_keys(&r, out);
      break;
    case IPC_REQ_RECORD:
      ok = ipc_conn_id_ok(out, 1) &&
           ipc_reader_get_bytes(&r, IPC_MIN_RECORD, IPC_MAX_RECORD, &out->data,
                                &out->data_len);
      break;
    case IPC_REQ_ABORT:
      ok = ipc_conn_id_ok(out, 1);
      break;
    case IPC_REQ_TEST_SYSCALL:
      ok = ipc_conn_id_ok(out, 0) &&
           ipc_reader_get_fixed_string(&r, 1, IPC_MAX_REASON, out->reason);
      break;
    case IPC_REQ_SIGN: {
      uint8_t hi = 0, lo = 0;
      ok = ipc_conn_id_ok(out, 1) && ipc_reader_get_u8(&r, &hi) &&
           ipc_reader_get_u8(&r, &lo) &&
           ipc_reader_get_bytes(&r, 1, IPC_MAX_SIGN_INPUT, &out->data,
                                &out->data_len);
      out->sigalg = (uint16_t)((hi << 8) | lo);
      break;
    }
    case IPC_REQ_VERIFY:
      ok = ipc_conn_id_ok(out, 1) && ipc_parse_verify(&r, out);
      break;
    default:
      ok = 0; /* unknown, or an answer type */
      break;
  }
  return ipc_parse_finish(&r, out, ok);
}

int ipc_parse_answer(const uint8_t *buf, size_t len, ipc_message *out) {
  ipc_reader r;
  if (!ipc_parse_header(buf, len, &r, out)) {
    return ipc_parse_finish(&r, out, 0);
  }
  int ok = 0;
  uint64_t not_after;
  switch (out->type) {
    case IPC_ANS_READY:
      ok = ipc_conn_id_ok(out, 0) &&
           ipc_reader_get_fixed_string(&r, 0, IPC_MAX_REASON,
                                       out->cert_subject) &&
           ipc_reader_get_fixed_string(&r, 0, IPC_MAX_REASON,
                                       out->cert_issuer) &&
           ipc_reader_get_u64(&r, &not_after);
      if (ok) {
        out->cert_not_after = (int64_t)not_after;
      }
      break;
    case IPC_ANS_CONFIG_FAIL:
      ok = ipc_conn_id_ok(out, 0) &&
           ipc_reader_get_fixed_string(&r, 0, IPC_MAX_REASON, out->reason);
      break;
    case IPC_ANS_NEED_INPUT:
      ok = ipc_conn_id_ok(out, 1) &&
           ipc_reader_get_bytes(&r, 0, IPC_MAX_FLIGHT, &out->data,
                                &out->data_len);
      break;
    case IPC_ANS_DONE:
      ok = ipc_conn_id_ok(out, 1) &&
           ipc_reader_get_bytes(&r, 0, IPC_MAX_FLIGHT, &out->data,
                                &out->data_len) &&
           ipc_reader_get_bytes(&r, 1, IPC_MAX_HANDBACK, &out->handback,
                                &out->handback_len) &&
           ipc_reader_get_u8(&r, &out->resumed) && out->resumed <= 1;
      break;
    case IPC_ANS_FAIL:
      ok = ipc_conn_id_ok(out, 1) &&
           ipc_reader_get_fixed_string(&r, 0, IPC_MAX_REASON, out->reason) &&
           ipc_reader_get_bytes(&r, 0, IPC_MAX_FLIGHT, &out->data,
                                &out->data_len);
      break;
    case IPC_ANS_SIGNED:
      ok = ipc_conn_id_ok(out, 1) &&
           ipc_reader_get_bytes(&r, 1, IPC_MAX_SIGNATURE, &out->data,
                                &out->data_len);
      break;
    case IPC_ANS_VERIFIED:
      ok = ipc_conn_id_ok(out, 1) && ipc_reader_get_u8(&r, &out->verdict) &&
           ipc_reader_get_u32(&r, &out->verify_error) &&
           ipc_verdict_ok(out->verdict, out->verify_error) &&
           ipc_reader_get_fixed_text(&r, IPC_MAX_REASON, out->reason) &&
           ipc_reader_get_fixed_text(&r, IPC_MAX_REASON, out->cert_subject) &&
           ipc_reader_get_fixed_text(&r, IPC_MAX_REASON, out->cert_sans);
      break;
    default:
      ok = 0; /* unknown, or a request type */
      break;
  }
  return ipc_parse_finish(&r, out, ok);
}

void ipc_message_cleanup(ipc_message *msg) {
  if (msg == NULL) {
    return;
  }
  if (msg->owned_strings != NULL) {
    /* The passphrase is a secret: wipe every copied string before freeing
     * (they all live in owned_strings). */
    for (size_t i = 0; i < IPC_CONFIG_STRING_COUNT; i++) {
      const char *s = *ipc_config_string_slot(&msg->config, i);
      if (s != NULL) {
        explicit_bzero((char *)s, strlen(s));
      }
    }
    free(msg->owned_strings);
  }
  /* Ticket keys are secrets too; explicit_bzero is not optimised away. */
  explicit_bzero(msg, sizeof(*msg));
}
