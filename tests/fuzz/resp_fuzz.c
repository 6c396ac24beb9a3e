/* resp_fuzz.c: libFuzzer target for the request parser (server/resp.c).
 *
 * Input layout: byte 0 selects limits (bit 0 auth on, 1 small bulk limit,
 * 2 small inline limit, 7 inline refused as from a master),
 * byte 1 seeds the chunk sizes, the rest is the client's byte stream. The
 * stream is parsed once as a whole and once fed in pseudo-random chunks the
 * way the server feeds a query buffer; both runs must produce the same
 * commands and the same final error. Any crash, out-of-bounds read (ASan)
 * or disagreement aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/proto/resp.h"

/* A digest of the run: commands and arguments hashed in order. */
typedef struct digest {
  uint64_t hash;
  size_t commands;
  size_t args;
  int error;
  char error_text[RESP_MAX_ERROR_LEN];
} digest;

static void digest_mix(digest *d, const void *p, size_t len) {
  const unsigned char *b = p;
  for (size_t i = 0; i < len; i++) {
    d->hash = (d->hash ^ b[i]) * 1099511628211ULL;
  }
}

/* FUZZ_MAX_EVENTS bounds work per input. */
#define FUZZ_MAX_EVENTS 1000000

static void run(const uint8_t *data, size_t size, const resp_limits *lim,
                uint32_t seed, int chunked, digest *d) {
  resp_parser p;
  resp_parser_init(&p);
  memset(d, 0, sizeof(*d));
  d->hash = 1469598103934665603ULL;
  char *buf = malloc(size + 1);
  size_t buflen = 0, fed = 0;
  long events = 0;
  uint32_t x = seed | 1;
  for (;;) {
    size_t n = size - fed;
    if (chunked && n > 0) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      size_t c = 1 + (x % 17);
      if (c < n) {
        n = c;
      }
    }
    memcpy(buf + buflen, data + fed, n);
    buflen += n;
    fed += n;
    size_t pos = 0;
    int stop = 0;
    while (events++ < FUZZ_MAX_EVENTS) {
      resp_out o;
      resp_event ev = resp_parse(&p, buf, buflen, &pos, lim, &o);
      if (pos > buflen) {
        abort();
      }
      if (ev == RESP_EV_NEED_MORE) {
        break;
      } else if (ev == RESP_EV_ARRAY_START) {
        if (o.count <= 0) {
          abort();
        }
        digest_mix(d, "[", 1);
      } else if (ev == RESP_EV_ARG) {
        d->args++;
        digest_mix(d, &o.len, sizeof(o.len));
        digest_mix(d, o.data, o.len);
      } else if (ev == RESP_EV_COMMAND_END) {
        d->commands++;
        digest_mix(d, "]", 1);
      } else {
        d->error = 1;
        memcpy(d->error_text, o.error, sizeof(o.error));
        stop = 1;
        break;
      }
    }
    memmove(buf, buf + pos, buflen - pos);
    buflen -= pos;
    if (stop || fed >= size || events >= FUZZ_MAX_EVENTS) {
      break;
    }
  }
  resp_parser_free(&p);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) {
    return 0;
  }
  resp_limits lim;
  resp_limits_default(&lim);
  lim.auth_required = data[0] & 1;
  if (data[0] & 2) {
    lim.max_bulk_len = 64;
  }
  if (data[0] & 4) {
    lim.max_inline_size = 256; /* reach the size errors with small inputs */
  }
  if (data[0] & 0x80) {
    lim.allow_inline = 0; /* a master's stream: inline is a desync error */
  }
  uint32_t seed = data[1] * 2654435761u;
  digest whole, split;
  run(data + 2, size - 2, &lim, seed, 0, &whole);
  run(data + 2, size - 2, &lim, seed, 1, &split);
  if (whole.hash != split.hash || whole.commands != split.commands ||
      whole.args != split.args || whole.error != split.error ||
      strcmp(whole.error_text, split.error_text) != 0) {
    abort();
  }
  return 0;
}
