/* spawner_proto.c: the spawner's message codec (see spawner_proto.h).
 *
 * The reader and writer are small bounds-checked cursors in the shape of
 * sandbox/ipc.c's (and of BoringSSL's CBS/CBB): every getter can fail,
 * lengths are checked against their named maximum before any byte is
 * touched, and parsers reject trailing bytes. No libcrypto: the codec is
 * linked into main, the spawner and the handshaker alike. */
#include "sandbox/spawner_proto.h"

#include <string.h>

/* ---- reader ---------------------------------------------------------- */

typedef struct spawner_reader {
  const uint8_t *data;
  size_t len;
} spawner_reader;

static int reader_get_u8(spawner_reader *r, uint8_t *out) {
  if (r->len < 1) {
    return 0;
  }
  *out = r->data[0];
  r->data++;
  r->len--;
  return 1;
}

static int reader_get_u32(spawner_reader *r, uint32_t *out) {
  if (r->len < 4) {
    return 0;
  }
  *out = ((uint32_t)r->data[0] << 24) | ((uint32_t)r->data[1] << 16) |
         ((uint32_t)r->data[2] << 8) | (uint32_t)r->data[3];
  r->data += 4;
  r->len -= 4;
  return 1;
}

static int reader_get_bytes(spawner_reader *r, size_t min_len, size_t max_len,
                            const uint8_t **out, size_t *out_len) {
  uint32_t n;
  if (!reader_get_u32(r, &n) || n < min_len || n > max_len || n > r->len) {
    return 0;
  }
  *out = r->data;
  *out_len = n;
  r->data += n;
  r->len -= n;
  return 1;
}

/* reader_get_string copies a string of min_len..max_len bytes (no NUL)
 * into |out|, an array of max_len + 1 bytes. */
static int reader_get_string(spawner_reader *r, size_t min_len, size_t max_len,
                             char *out) {
  const uint8_t *p;
  size_t n;
  if (!reader_get_bytes(r, min_len, max_len, &p, &n) ||
      (n > 0 && memchr(p, 0, n) != NULL)) {
    return 0;
  }
  memcpy(out, p, n);
  out[n] = '\0';
  return 1;
}

static int reader_get_pid(spawner_reader *r, uint32_t *out) {
  /* A pid is positive and fits pid_t. */
  return reader_get_u32(r, out) && *out > 0 && *out <= 0x7fffffffu;
}

/* ---- writer ---------------------------------------------------------- */

typedef struct spawner_writer {
  uint8_t *buf;
  size_t cap, len;
  int failed; /* sticky */
} spawner_writer;

static void writer_put(spawner_writer *w, const void *data, size_t n) {
  if (w->failed || n > w->cap - w->len) {
    w->failed = 1;
    return;
  }
  if (n > 0) {
    memcpy(w->buf + w->len, data, n);
  }
  w->len += n;
}

static void writer_put_u8(spawner_writer *w, uint8_t v) {
  writer_put(w, &v, 1);
}

static void writer_put_u32(spawner_writer *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                  (uint8_t)v};
  writer_put(w, b, sizeof(b));
}

static void writer_put_bytes(spawner_writer *w, const uint8_t *data, size_t n,
                             size_t min_len, size_t max_len) {
  if (n < min_len || n > max_len || (n > 0 && data == NULL)) {
    w->failed = 1;
    return;
  }
  writer_put_u32(w, (uint32_t)n);
  writer_put(w, data, n);
}

/* writer_put_string: |s| is a NUL-terminated array of max_len + 1 bytes. */
static void writer_put_string(spawner_writer *w, const char *s, size_t min_len,
                              size_t max_len) {
  size_t n = strnlen(s, max_len + 1);
  writer_put_bytes(w, (const uint8_t *)s, n, min_len, max_len);
}

static void writer_put_pid(spawner_writer *w, uint32_t pid) {
  if (pid == 0 || pid > 0x7fffffffu) {
    w->failed = 1;
    return;
  }
  writer_put_u32(w, pid);
}

/* ---- fields of each type ------------------------------------------- */

/* The body of each type is written and read by one pair of functions, in
 * the order of the table in spawner_proto.h. */

static void put_body(spawner_writer *w, const spawner_message *m) {
  switch (m->type) {
    case SPAWNER_REQ_INIT:
      writer_put_string(w, m->argv0, 1, SPAWNER_MAX_PATH);
      writer_put_string(w, m->child_arg[0], 1, SPAWNER_MAX_ARG);
      writer_put_string(w, m->child_arg[1], 0, SPAWNER_MAX_ARG);
      writer_put_string(w, m->sandbox_user, 0, SPAWNER_MAX_USER);
      writer_put_string(w, m->key_file, 0, SPAWNER_MAX_PATH);
      writer_put_string(w, m->client_key_file, 0, SPAWNER_MAX_PATH);
      writer_put_string(w, m->key_file_pass, 0, SPAWNER_MAX_PASS);
      writer_put_string(w, m->client_key_file_pass, 0, SPAWNER_MAX_PASS);
      if (m->seccomp > 1) {
        w->failed = 1;
      }
      writer_put_u8(w, m->seccomp);
      break;
    case SPAWNER_REQ_SPAWN:
      if (m->socket_buffer > SPAWNER_MAX_SOCKET_BUFFER) {
        w->failed = 1;
      }
      writer_put_u32(w, m->socket_buffer);
      if (m->kind >= SPAWNER_MAX_CHILD_KINDS) {
        w->failed = 1;
      }
      writer_put_u8(w, m->kind);
      break;
    case SPAWNER_REQ_KILL:
      writer_put_pid(w, m->pid);
      break;
    case SPAWNER_REQ_REAP:
      writer_put_pid(w, m->pid);
      if (m->how > SPAWNER_REAP_FORCE) {
        w->failed = 1;
      }
      writer_put_u8(w, m->how);
      break;
    case SPAWNER_REQ_NICE:
      writer_put_pid(w, m->pid);
      if (m->nice < SPAWNER_MIN_NICE || m->nice > SPAWNER_MAX_NICE) {
        w->failed = 1;
      }
      writer_put_u8(w, (uint8_t)(m->nice - SPAWNER_MIN_NICE));
      break;
    case SPAWNER_REQ_KEY_REQUEST:
      writer_put_string(w, m->key_file, 1, SPAWNER_MAX_PATH);
      writer_put_string(w, m->client_key_file, 0, SPAWNER_MAX_PATH);
      break;
    case SPAWNER_ANS_READY:
    case SPAWNER_ANS_OK:
      break;
    case SPAWNER_ANS_SPAWNED:
      writer_put_pid(w, m->pid);
      break;
    case SPAWNER_ANS_STATUS:
      writer_put_pid(w, m->pid);
      if (m->state > SPAWNER_STATE_GONE) {
        w->failed = 1;
      }
      writer_put_u8(w, m->state);
      writer_put_u32(w, m->wait_status);
      break;
    case SPAWNER_ANS_ERROR:
      writer_put_string(w, m->reason, 1, SPAWNER_MAX_REASON);
      break;
    case SPAWNER_ANS_KEYS:
      writer_put_bytes(w, m->key, m->key_len, 1, SPAWNER_MAX_KEY_FILE);
      writer_put_string(w, m->key_file_pass, 0, SPAWNER_MAX_PASS);
      writer_put_bytes(w, m->client_key, m->client_key_len, 0,
                       SPAWNER_MAX_KEY_FILE);
      writer_put_string(w, m->client_key_file_pass, 0, SPAWNER_MAX_PASS);
      break;
    default:
      w->failed = 1;
      break;
  }
}

static int get_body(spawner_reader *r, spawner_message *m) {
  uint8_t b;
  switch (m->type) {
    case SPAWNER_REQ_INIT:
      return reader_get_string(r, 1, SPAWNER_MAX_PATH, m->argv0) &&
             reader_get_string(r, 1, SPAWNER_MAX_ARG, m->child_arg[0]) &&
             reader_get_string(r, 0, SPAWNER_MAX_ARG, m->child_arg[1]) &&
             reader_get_string(r, 0, SPAWNER_MAX_USER, m->sandbox_user) &&
             reader_get_string(r, 0, SPAWNER_MAX_PATH, m->key_file) &&
             reader_get_string(r, 0, SPAWNER_MAX_PATH, m->client_key_file) &&
             reader_get_string(r, 0, SPAWNER_MAX_PASS, m->key_file_pass) &&
             reader_get_string(r, 0, SPAWNER_MAX_PASS,
                               m->client_key_file_pass) &&
             reader_get_u8(r, &m->seccomp) && m->seccomp <= 1;
    case SPAWNER_REQ_SPAWN:
      return reader_get_u32(r, &m->socket_buffer) &&
             m->socket_buffer <= SPAWNER_MAX_SOCKET_BUFFER &&
             reader_get_u8(r, &m->kind) && m->kind < SPAWNER_MAX_CHILD_KINDS;
    case SPAWNER_REQ_KILL:
      return reader_get_pid(r, &m->pid);
    case SPAWNER_REQ_REAP:
      return reader_get_pid(r, &m->pid) && reader_get_u8(r, &m->how) &&
             m->how <= SPAWNER_REAP_FORCE;
    case SPAWNER_REQ_NICE:
      if (!reader_get_pid(r, &m->pid) || !reader_get_u8(r, &b) ||
          b > SPAWNER_MAX_NICE - SPAWNER_MIN_NICE) {
        return 0;
      }
      m->nice = (int)b + SPAWNER_MIN_NICE;
      return 1;
    case SPAWNER_REQ_KEY_REQUEST:
      return reader_get_string(r, 1, SPAWNER_MAX_PATH, m->key_file) &&
             reader_get_string(r, 0, SPAWNER_MAX_PATH, m->client_key_file);
    case SPAWNER_ANS_READY:
    case SPAWNER_ANS_OK:
      return 1;
    case SPAWNER_ANS_SPAWNED:
      return reader_get_pid(r, &m->pid);
    case SPAWNER_ANS_STATUS:
      return reader_get_pid(r, &m->pid) && reader_get_u8(r, &m->state) &&
             m->state <= SPAWNER_STATE_GONE &&
             reader_get_u32(r, &m->wait_status);
    case SPAWNER_ANS_ERROR:
      return reader_get_string(r, 1, SPAWNER_MAX_REASON, m->reason);
    case SPAWNER_ANS_KEYS:
      return reader_get_bytes(r, 1, SPAWNER_MAX_KEY_FILE, &m->key,
                              &m->key_len) &&
             reader_get_string(r, 0, SPAWNER_MAX_PASS, m->key_file_pass) &&
             reader_get_bytes(r, 0, SPAWNER_MAX_KEY_FILE, &m->client_key,
                              &m->client_key_len) &&
             reader_get_string(r, 0, SPAWNER_MAX_PASS, m->client_key_file_pass);
    default:
      return 0;
  }
}

/* ---- public ---------------------------------------------------------- */

void spawner_message_init(spawner_message *msg, uint8_t type) {
  memset(msg, 0, sizeof(*msg));
  msg->type = type;
}

void spawner_message_wipe(spawner_message *msg) {
  explicit_bzero(msg, sizeof(*msg));
}

size_t spawner_build(uint8_t *buf, size_t cap, const spawner_message *msg) {
  spawner_writer w = {buf,
                      cap < SPAWNER_MAX_MESSAGE ? cap : SPAWNER_MAX_MESSAGE, 0,
                      buf == NULL || msg == NULL};
  if (!w.failed) {
    writer_put_u8(&w, msg->type);
    put_body(&w, msg);
  }
  return w.failed ? 0 : w.len;
}

/* spawner_parse accepts one of the |allowed| types (a 0-terminated list). */
static int spawner_parse(const uint8_t *buf, size_t len, spawner_message *out,
                         const uint8_t *allowed) {
  spawner_reader r = {buf, len};
  uint8_t type;
  memset(out, 0, sizeof(*out));
  if (buf == NULL || len > SPAWNER_MAX_MESSAGE || !reader_get_u8(&r, &type)) {
    return 0;
  }
  int known = 0;
  for (const uint8_t *t = allowed; *t != 0; t++) {
    known |= *t == type;
  }
  out->type = type;
  if (!known || !get_body(&r, out) || r.len != 0) {
    spawner_message_wipe(out);
    return 0;
  }
  return 1;
}

int spawner_parse_main_request(const uint8_t *buf, size_t len,
                               spawner_message *out) {
  static const uint8_t allowed[] = {SPAWNER_REQ_INIT, SPAWNER_REQ_SPAWN,
                                    SPAWNER_REQ_KILL, SPAWNER_REQ_REAP,
                                    SPAWNER_REQ_NICE, 0};
  return spawner_parse(buf, len, out, allowed);
}

int spawner_parse_key_request(const uint8_t *buf, size_t len,
                              spawner_message *out) {
  static const uint8_t allowed[] = {SPAWNER_REQ_KEY_REQUEST, 0};
  return spawner_parse(buf, len, out, allowed);
}

int spawner_parse_main_answer(const uint8_t *buf, size_t len,
                              spawner_message *out) {
  static const uint8_t allowed[] = {SPAWNER_ANS_READY,  SPAWNER_ANS_SPAWNED,
                                    SPAWNER_ANS_STATUS, SPAWNER_ANS_OK,
                                    SPAWNER_ANS_ERROR,  0};
  return spawner_parse(buf, len, out, allowed);
}

int spawner_parse_keys_answer(const uint8_t *buf, size_t len,
                              spawner_message *out) {
  static const uint8_t allowed[] = {SPAWNER_ANS_KEYS, SPAWNER_ANS_ERROR, 0};
  return spawner_parse(buf, len, out, allowed);
}
