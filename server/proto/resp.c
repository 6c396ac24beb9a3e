/* resp.c: incremental request parser (see resp.h). Every read is checked
 * against len; every loop is bounded by the bytes it is given. */
#include "server/proto/resp.h"

#include "server/base/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void resp_limits_default(resp_limits *lim) {
  lim->max_bulk_len = 512LL * 1024 * 1024;
  lim->max_multibulk_len = RESP_MAX_MULTIBULK_LEN;
  lim->max_inline_size = RESP_INLINE_MAX_SIZE;
  lim->auth_required = 0;
  lim->allow_inline = 1;
}

void resp_parser_init(resp_parser *p) {
  memset(p, 0, sizeof(*p));
  p->bulklen = -1;
}

static void resp_inline_clear(resp_parser *p) {
  free(p->inline_data);
  free(p->inline_offsets);
  p->inline_data = NULL;
  p->inline_offsets = NULL;
  p->inline_argc = 0;
  p->inline_next = 0;
  p->inline_pending = 0;
}

void resp_parser_reset(resp_parser *p) {
  resp_inline_clear(p);
  p->reqtype = RESP_REQ_NONE;
  p->multibulklen = 0;
  p->bulklen = -1;
  p->in_error = 0;
  p->end_pending = 0;
}

void resp_parser_free(resp_parser *p) { resp_inline_clear(p); }

int resp_parser_in_command(const resp_parser *p) {
  return p->multibulklen > 0 || p->inline_pending || p->end_pending;
}

int resp_parse_strict_ll(const char *s, size_t len, long long *out_value) {
  size_t i = 0;
  int negative = 0;
  unsigned long long v = 0;

  if (len == 0 || len > 20) {
    return 0;
  }
  if (len == 1 && s[0] == '0') {
    *out_value = 0;
    return 1;
  }
  if (s[0] == '-') {
    negative = 1;
    i = 1;
    if (len == 1) {
      return 0;
    }
  }
  /* First digit 1-9: no leading zeros, no "-0". */
  if (s[i] < '1' || s[i] > '9') {
    return 0;
  }
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return 0;
    }
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) {
      return 0;
    }
    v = v * 10 + d;
  }
  if (negative) {
    if (v > (unsigned long long)INT64_MAX + 1) {
      return 0;
    }
    *out_value = (long long)(0 - v);
  } else {
    if (v > (unsigned long long)INT64_MAX) {
      return 0;
    }
    *out_value = (long long)v;
  }
  return 1;
}

/* resp_find_terminator mimics strchr() on a NUL-terminated query buffer:
 * returns the index (from start) of the first |ch|, or -1 when the data ends
 * or a NUL comes first. */
static long long resp_find_terminator(const char *buf, size_t start, size_t len,
                                      char ch) {
  size_t avail = len - start;
  const char *base = buf + start;
  const char *hit = memchr(base, ch, avail);
  size_t scan = hit ? (size_t)(hit - base) : avail;
  if (memchr(base, '\0', scan) != NULL) {
    return -1;
  }
  return hit ? (long long)scan : -1;
}

static resp_event resp_fail(resp_parser *p, resp_out *out, const char *msg) {
  size_t n = strlen(msg);
  if (n >= sizeof(out->error)) {
    n = sizeof(out->error) - 1;
  }
  memcpy(out->error, msg, n);
  out->error[n] = '\0';
  /* Replies never carry raw CR/LF inside an error (Redis maps them to
   * spaces when formatting). */
  for (size_t i = 0; i < n; i++) {
    if (out->error[i] == '\r' || out->error[i] == '\n') {
      out->error[i] = ' ';
    }
  }
  out->error_len = n;
  p->in_error = 1;
  return RESP_EV_ERROR;
}

static resp_event resp_parse_inline(resp_parser *p, const char *buf, size_t len,
                                    size_t *pos, const resp_limits *lim,
                                    resp_out *out) {
  long long nl = resp_find_terminator(buf, *pos, len, '\n');
  if (nl < 0) {
    if (len - *pos > lim->max_inline_size) {
      return resp_fail(p, out, "Protocol error: too big inline request");
    }
    return RESP_EV_NEED_MORE;
  }
  if ((size_t)nl > lim->max_inline_size) {
    return resp_fail(p, out, "Protocol error: too big inline request");
  }
  size_t linelen = (size_t)nl;
  size_t consumed = linelen + 1;
  if (linelen > 0 && buf[*pos + linelen - 1] == '\r') {
    linelen--;
  }
  char *data = NULL;
  size_t *offs = NULL;
  int argc = 0;
  if (!util_split_args(buf + *pos, linelen, &data, &offs, &argc)) {
    return resp_fail(p, out, "Protocol error: unbalanced quotes in request");
  }
  if (!lim->allow_inline && linelen != 0) {
    free(data);
    free(offs);
    return resp_fail(p, out, "Master using the inline protocol. Desync?");
  }
  *pos += consumed;
  if (argc == 0) {
    free(data);
    free(offs);
    p->reqtype = RESP_REQ_NONE;
    return RESP_EV_COMMAND_END;
  }
  p->inline_data = data;
  p->inline_offsets = offs;
  p->inline_argc = argc;
  p->inline_next = 0;
  p->inline_pending = 1;
  out->count = argc;
  return RESP_EV_ARRAY_START;
}

static resp_event resp_parse_multibulk(resp_parser *p, const char *buf,
                                       size_t len, size_t *pos,
                                       const resp_limits *lim, resp_out *out) {
  long long ll;

  if (p->multibulklen == 0) {
    long long cr = resp_find_terminator(buf, *pos, len, '\r');
    if (cr < 0) {
      if (len - *pos > lim->max_inline_size) {
        return resp_fail(p, out, "Protocol error: too big mbulk count string");
      }
      return RESP_EV_NEED_MORE;
    }
    if ((size_t)cr > lim->max_inline_size) {
      return resp_fail(p, out, "Protocol error: too big mbulk count string");
    }
    /* The byte after '\r' (assumed '\n') must be there too. */
    if ((size_t)cr + 2 > len - *pos) {
      return RESP_EV_NEED_MORE;
    }
    /* buf[*pos] is '*' (the caller chose multibulk from it). */
    if (!resp_parse_strict_ll(buf + *pos + 1, (size_t)cr - 1, &ll) ||
        ll > lim->max_multibulk_len) {
      return resp_fail(p, out, "Protocol error: invalid multibulk length");
    }
    if (ll > RESP_UNAUTH_MAX_MULTIBULK_LEN && lim->auth_required) {
      return resp_fail(p, out,
                       "Protocol error: unauthenticated multibulk length");
    }
    *pos += (size_t)cr + 2;
    if (ll <= 0) {
      p->reqtype = RESP_REQ_NONE;
      return RESP_EV_COMMAND_END;
    }
    p->multibulklen = ll;
    p->bulklen = -1;
    out->count = ll;
    return RESP_EV_ARRAY_START;
  }

  if (p->bulklen == -1) {
    long long cr = resp_find_terminator(buf, *pos, len, '\r');
    if (cr < 0) {
      if (len - *pos > lim->max_inline_size) {
        return resp_fail(p, out, "Protocol error: too big bulk count string");
      }
      return RESP_EV_NEED_MORE;
    }
    if ((size_t)cr > lim->max_inline_size) {
      return resp_fail(p, out, "Protocol error: too big bulk count string");
    }
    if ((size_t)cr + 2 > len - *pos) {
      return RESP_EV_NEED_MORE;
    }
    if (buf[*pos] != '$') {
      char msg[64];
      snprintf(msg, sizeof(msg), "Protocol error: expected '$', got '%c'",
               buf[*pos]);
      /* %c of a NUL would cut the string; cr > 0 here means the first byte
       * is not NUL (resp_find_terminator stops at NUL), and cr == 0 means
       * it is '\r'. */
      return resp_fail(p, out, msg);
    }
    if (!resp_parse_strict_ll(buf + *pos + 1, (size_t)cr - 1, &ll) || ll < 0 ||
        (lim->max_bulk_len >= 0 && ll > lim->max_bulk_len)) {
      return resp_fail(p, out, "Protocol error: invalid bulk length");
    }
    if (ll > RESP_UNAUTH_MAX_BULK_LEN && lim->auth_required) {
      return resp_fail(p, out, "Protocol error: unauthenticated bulk length");
    }
    *pos += (size_t)cr + 2;
    p->bulklen = ll;
  }

  /* Bulk payload plus two bytes that Redis skips without checking. */
  if (len - *pos < (size_t)p->bulklen + 2) {
    return RESP_EV_NEED_MORE;
  }
  out->data = buf + *pos;
  out->len = (size_t)p->bulklen;
  *pos += (size_t)p->bulklen + 2;
  p->bulklen = -1;
  p->multibulklen--;
  return RESP_EV_ARG;
}

resp_event resp_parse(resp_parser *p, const char *buf, size_t len, size_t *pos,
                      const resp_limits *lim, resp_out *out) {
  if (p->in_error) {
    return resp_fail(p, out, "Protocol error: parser in error state");
  }
  if (p->inline_pending) {
    if (p->inline_next < p->inline_argc) {
      int i = p->inline_next++;
      out->data = p->inline_data + p->inline_offsets[i];
      out->len = p->inline_offsets[i + 1] - p->inline_offsets[i];
      return RESP_EV_ARG;
    }
    resp_inline_clear(p);
    p->reqtype = RESP_REQ_NONE;
    return RESP_EV_COMMAND_END;
  }
  if (p->end_pending) {
    p->end_pending = 0;
    p->reqtype = RESP_REQ_NONE;
    return RESP_EV_COMMAND_END;
  }
  if (*pos > len) {
    return RESP_EV_NEED_MORE; /* caller bug: never read past len */
  }
  if (p->reqtype == RESP_REQ_NONE) {
    if (*pos >= len) {
      return RESP_EV_NEED_MORE;
    }
    p->reqtype = buf[*pos] == '*' ? RESP_REQ_MULTIBULK : RESP_REQ_INLINE;
  }
  if (p->reqtype == RESP_REQ_INLINE) {
    return resp_parse_inline(p, buf, len, pos, lim, out);
  }
  resp_event ev = resp_parse_multibulk(p, buf, len, pos, lim, out);
  if (ev == RESP_EV_ARG && p->multibulklen == 0) {
    /* That was the last argument: COMMAND_END comes on the next call. */
    p->end_pending = 1;
  }
  return ev;
}
