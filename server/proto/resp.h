/* resp.h: an incremental, bounds-checked parser for client requests: RESP2
 * multibulk ("*<n>\r\n$<len>\r\n<bytes>\r\n...") and inline commands
 * ("SET k \"v\"\n").
 *
 * The parser is a pure function over a caller-owned buffer: it never reads
 * outside buf[0..len) and keeps only the state needed between partial reads
 * (argument count left, current bulk length, decoded inline arguments). It
 * has no client dependency, so it is unit-tested and fuzzed on its own.
 *
 * Behaviour follows Redis 7.0 byte for byte, including quirks clients can
 * observe (the two bytes after a bulk are skipped unchecked; a line
 * terminator is searched with C-string semantics, so a NUL before it hides
 * it), with one deliberate difference: the inline / count-line size limit
 * is applied to a complete line too, so the outcome never depends on how
 * the bytes were split across reads.
 *
 * Usage: call resp_parse() repeatedly. Each call consumes bytes from
 * buf[*pos..len) and returns one event:
 *   RESP_EV_NEED_MORE    nothing more can be done until more bytes arrive
 *                        (bytes consumed so far stay consumed);
 *   RESP_EV_ARRAY_START  a command with out->count (> 0) arguments begins;
 *   RESP_EV_ARG          one argument: out->data / out->len. For multibulk
 *                        it points into buf (valid until buf changes); for
 *                        inline it points into the parser's scratch (valid
 *                        until the next resp_parse / resp_parser_reset);
 *   RESP_EV_COMMAND_END  the command is complete (possibly with 0 args);
 *   RESP_EV_ERROR        protocol error: out->error is the exact Redis text
 *                        without the "-ERR " prefix; the connection must be
 *                        closed after replying. The parser must be reset
 *                        before reuse. */
#ifndef REDOUBT_RESP_H
#define REDOUBT_RESP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RESP_INLINE_MAX_SIZE bounds an inline line and a "*<n>" / "$<n>" line. */
#define RESP_INLINE_MAX_SIZE (1024 * 64)
/* RESP_MAX_MULTIBULK_LEN is Redis 7.0's argument count limit (INT_MAX). */
#define RESP_MAX_MULTIBULK_LEN 2147483647LL
/* Limits for clients that still have to authenticate (Redis 7.0.x). */
#define RESP_UNAUTH_MAX_MULTIBULK_LEN 10
#define RESP_UNAUTH_MAX_BULK_LEN 16384
/* RESP_MAX_ERROR_LEN bounds out->error. */
#define RESP_MAX_ERROR_LEN 96

typedef enum resp_request_type {
  RESP_REQ_NONE = 0,
  RESP_REQ_INLINE = 1, /* same values as PROTO_REQ_* in server/core/client.h */
  RESP_REQ_MULTIBULK = 2,
} resp_request_type;

typedef enum resp_event {
  RESP_EV_NEED_MORE = 0,
  RESP_EV_ARRAY_START,
  RESP_EV_ARG,
  RESP_EV_COMMAND_END,
  RESP_EV_ERROR,
} resp_event;

typedef struct resp_limits {
  long long max_bulk_len;      /* proto-max-bulk-len; < 0 means no limit */
  long long max_multibulk_len; /* RESP_MAX_MULTIBULK_LEN for Redis parity */
  size_t max_inline_size;      /* RESP_INLINE_MAX_SIZE */
  int auth_required;           /* apply the RESP_UNAUTH_* limits */
  int allow_inline;            /* 0: inline request is an error (masters) */
} resp_limits;

/* resp_limits_default fills Redis 7.0's defaults. */
void resp_limits_default(resp_limits *lim);

typedef struct resp_parser {
  resp_request_type reqtype;
  long long multibulklen; /* arguments still to read */
  long long bulklen;      /* length of the bulk being read, -1 if none */
  /* Inline: decoded arguments waiting to be handed out. */
  char *inline_data;      /* concatenated decoded bytes */
  size_t *inline_offsets; /* argc + 1 offsets into inline_data */
  int inline_argc;
  int inline_next;    /* next argument to hand out */
  int inline_pending; /* 1 while inline args are being handed out */
  int end_pending;    /* last argument handed out, COMMAND_END next */
  int in_error;
} resp_parser;

typedef struct resp_out {
  long long count;                /* ARRAY_START: number of arguments */
  const char *data;               /* ARG */
  size_t len;                     /* ARG */
  char error[RESP_MAX_ERROR_LEN]; /* ERROR: NUL-terminated text */
  size_t error_len;
} resp_out;

/* resp_parser_init prepares a zeroed parser. */
void resp_parser_init(resp_parser *p);
/* resp_parser_reset drops a partially parsed command and the inline scratch
 * (keeps nothing allocated). */
void resp_parser_reset(resp_parser *p);
/* resp_parser_free releases the scratch. Safe on a zeroed parser. */
void resp_parser_free(resp_parser *p);
/* resp_parser_in_command is 1 between ARRAY_START and COMMAND_END. */
int resp_parser_in_command(const resp_parser *p);

/* resp_parse consumes from buf[*pos..len) and returns the next event (see
 * the file comment). Never reads past buf + len. */
resp_event resp_parse(resp_parser *p, const char *buf, size_t len, size_t *pos,
                      const resp_limits *lim, resp_out *out);

/* resp_parse_strict_ll parses a base-10 integer with Redis's string2ll
 * rules (no '+', no leading zeros, no spaces, fits in long long). Returns 1
 * on success. Exposed for tests. */
int resp_parse_strict_ll(const char *s, size_t len, long long *out_value);

#ifdef __cplusplus
}
#endif

#endif
