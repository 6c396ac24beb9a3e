/* reply.c: the Reply API (server.h). Replies go into the client's static
 * 16 KB buffer while it has room and no blocks are queued, then into a list
 * of client_reply_block; RESP3 types fall back to RESP2 forms for resp=2
 * clients exactly as Redis 7.0 does. */
#include <math.h>
#include <stdarg.h>

#include "server/base/zmalloc.h"
#include "server/core/networking.h"

/* Errorstats stops adding new names past this many (Redis 7.0.x). */
#define ERROR_STATS_NUMBER 128
/* reply_fmt_buf: room for a RESP header with any 64-bit number. */
#define REPLY_HDR_MAX 32

/* ------------------------------------------------------------------ */
/* Low level                                                            */
/* ------------------------------------------------------------------ */
static void put_client_in_pending_write_queue(client *c) {
  if (!(c->flags & CLIENT_PENDING_WRITE)) {
    c->flags |= CLIENT_PENDING_WRITE;
    list_link_node_tail(server.clients_pending_write, c->pending_write_node);
  }
}

int prepare_client_to_write(client *c) {
  if (c->flags & CLIENT_SCRIPT) {
    return C_OK; /* no socket: the caller reads the buffer */
  }
  if (c->flags & CLIENT_CLOSE_ASAP) {
    return C_ERR;
  }
  if (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) {
    return C_ERR;
  }
  if ((c->flags & CLIENT_MASTER) && !(c->flags & CLIENT_MASTER_FORCE_REPLY)) {
    return C_ERR;
  }
  if (c->conn == NULL) {
    return C_ERR; /* fake client */
  }
  if (!client_has_pending_replies(c)) {
    put_client_in_pending_write_queue(c);
  }
  return C_OK;
}

uint64_t reply_push_begin(client *c) {
  uint64_t saved = c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP);
  c->flags &= ~saved;
  return saved;
}

void reply_push_end(client *c, uint64_t saved) { c->flags |= saved; }

static void add_reply_proto_to_list(client *c, const char *s, size_t len) {
  list_node *ln = list_last(c->reply);
  client_reply_block *tail = ln ? list_node_value(ln) : NULL;
  /* tail may be NULL with a node present: an unfilled deferred length. */
  if (tail != NULL) {
    size_t avail = tail->size - tail->used;
    size_t copy = avail >= len ? len : avail;
    memcpy(tail->buf + tail->used, s, copy);
    tail->used += copy;
    s += copy;
    len -= copy;
  }
  if (len > 0) {
    size_t size = len < PROTO_REPLY_CHUNK_BYTES ? PROTO_REPLY_CHUNK_BYTES : len;
    tail = zmalloc(size + sizeof(client_reply_block));
    /* Take over the allocator's slack, as Redis does with usable size. */
    tail->size = zmalloc_size(tail) - sizeof(client_reply_block);
    tail->used = len;
    memcpy(tail->buf, s, len);
    list_add_node_tail(c->reply, tail);
    c->reply_bytes += tail->size;
    close_client_on_output_buffer_limit_reached(c, 1);
  }
}

/* reply_append: append raw protocol (prepare_client_to_write done). */
static inline void reply_append(client *c, const char *s, size_t len) {
  if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
    return;
  }
  if (list_length(c->reply) == 0) {
    size_t avail = c->buf_usable_size - c->bufpos;
    size_t n = len > avail ? avail : len;
    memcpy(c->buf + c->bufpos, s, n);
    c->bufpos += n;
    if (c->buf_peak < c->bufpos) {
      c->buf_peak = c->bufpos;
    }
    s += n;
    len -= n;
    if (len == 0) {
      return;
    }
  }
  add_reply_proto_to_list(c, s, len);
}

/* fmt_u64 writes v in decimal to the end of a buffer; returns the start. */
static char *fmt_u64(char *end, unsigned long long v) {
  do {
    *--end = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return end;
}

/* reply_header formats "<prefix><ll>\r\n" into buf and returns length. */
static size_t reply_header(char *buf, char prefix, long long ll) {
  char tmp[REPLY_HDR_MAX];
  char *end = tmp + sizeof(tmp);
  unsigned long long v =
      ll < 0 ? 0ULL - (unsigned long long)ll : (unsigned long long)ll;
  char *p = fmt_u64(end, v);
  if (ll < 0) {
    *--p = '-';
  }
  size_t n = (size_t)(end - p);
  buf[0] = prefix;
  memcpy(buf + 1, p, n);
  buf[n + 1] = '\r';
  buf[n + 2] = '\n';
  return n + 3;
}

static void add_reply_long_long_with_prefix(client *c, long long ll,
                                            char prefix) {
  char buf[REPLY_HDR_MAX];
  size_t n = reply_header(buf, prefix, ll);
  reply_append(c, buf, n);
}

/* ------------------------------------------------------------------ */
/* Plain replies                                                        */
/* ------------------------------------------------------------------ */
void add_reply_proto(client *c, const char *s, size_t len) {
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  reply_append(c, s, len);
}

void add_reply(client *c, robj *obj) {
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  if (sds_encoded_object(obj)) {
    reply_append(c, obj->ptr, sds_len(obj->ptr));
  } else if (obj->encoding == OBJ_ENCODING_INT) {
    char buf[LONG_STR_SIZE];
    int n = ll2string(buf, sizeof(buf), (long)obj->ptr);
    reply_append(c, buf, (size_t)n);
  } else {
    server_panic("Wrong obj->encoding in add_reply()");
  }
}

void add_reply_sds(client *c, sds s) {
  if (prepare_client_to_write(c) != C_OK) {
    sds_free(s);
    return;
  }
  reply_append(c, s, sds_len(s));
  sds_free(s);
}

void add_reply_status_length(client *c, const char *s, size_t len) {
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  reply_append(c, "+", 1);
  reply_append(c, s, len);
  reply_append(c, "\r\n", 2);
}

void add_reply_status(client *c, const char *status) {
  add_reply_status_length(c, status, strlen(status));
}

void add_reply_long_long(client *c, long long ll) {
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  add_reply_long_long_with_prefix(c, ll, ':');
}

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */
static void increment_error_count(const char *name, size_t len) {
  if (server.errors == NULL) {
    return;
  }
  sds key = sds_new_len(name, len);
  dict_entry *de = dict_find(server.errors, key);
  if (de == NULL) {
    if (dict_size(server.errors) >= ERROR_STATS_NUMBER) {
      sds_free(key);
      return; /* bounded: new names beyond the cap are not tracked */
    }
    de = dict_add_raw(server.errors, key, NULL);
    if (de == NULL) {
      sds_free(key);
      return;
    }
    de->v.u64 = 0;
  } else {
    sds_free(key);
  }
  de->v.u64++;
}

void after_error_reply(client *c, const char *s, size_t len) {
  server.stat_total_error_replies++;
  if (len == 0 || s[0] != '-') {
    increment_error_count("ERR", 3);
  } else {
    const char *space = memchr(s, ' ', len < 32 ? len : 32);
    if (space != NULL) {
      increment_error_count(s + 1, (size_t)(space - s) - 1);
    } else {
      increment_error_count("ERR", 3);
    }
  }
  int ctype = client_type(c);
  if (ctype == CLIENT_TYPE_MASTER || ctype == CLIENT_TYPE_SLAVE) {
    const char *to = ctype == CLIENT_TYPE_MASTER ? "master" : "replica";
    const char *from = ctype == CLIENT_TYPE_MASTER ? "replica" : "master";
    const char *cmdname = c->lastcmd ? c->lastcmd->fullname : "<unknown>";
    server_log(LL_WARNING,
               "== CRITICAL == This %s is sending an error to its %s: "
               "'%.*s' after processing the command '%s'",
               from, to, (int)len, s, cmdname);
  }
}

void add_reply_error_length(client *c, const char *s, size_t len) {
  if (prepare_client_to_write(c) == C_OK) {
    if (len == 0 || s[0] != '-') {
      reply_append(c, "-ERR ", 5);
    }
    reply_append(c, s, len);
    reply_append(c, "\r\n", 2);
  }
  after_error_reply(c, s, len);
}

void add_reply_error(client *c, const char *err) {
  add_reply_error_length(c, err, strlen(err));
}

void add_reply_error_sds(client *c, sds err) {
  add_reply_error_length(c, err, sds_len(err));
  sds_free(err);
}

void add_reply_error_object(client *c, robj *err) {
  add_reply(c, err);
  size_t len = sds_len(err->ptr);
  /* Shared error objects carry their trailing CRLF. */
  after_error_reply(c, err->ptr, len >= 2 ? len - 2 : len);
}

void add_reply_error_format(client *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sds s = sds_cat_vprintf(sds_empty(), fmt, ap);
  va_end(ap);
  /* Trailing newlines go (the reply adds CRLF); inner ones become spaces so
   * the protocol stays valid. */
  s = sds_trim(s, "\r\n");
  for (size_t j = 0; j < sds_len(s); j++) {
    if (s[j] == '\r' || s[j] == '\n') {
      s[j] = ' ';
    }
  }
  add_reply_error_length(c, s, sds_len(s));
  sds_free(s);
}

void add_reply_error_sds_ex(client *c, sds err, int flags) {
  err = sds_trim(err, "\r\n");
  for (size_t j = 0; j < sds_len(err); j++) {
    if (err[j] == '\r' || err[j] == '\n') {
      err[j] = ' ';
    }
  }
  if (!(flags & ERR_REPLY_FLAG_NO_STATS_UPDATE)) {
    add_reply_error_length(c, err, sds_len(err));
  } else {
    if (prepare_client_to_write(c) == C_OK) {
      if (sds_len(err) == 0 || err[0] != '-') {
        reply_append(c, "-ERR ", 5);
      }
      reply_append(c, err, sds_len(err));
      reply_append(c, "\r\n", 2);
    }
    /* Not counted again, but the command still failed (Redis 7.0). */
    if (c->realcmd != NULL) {
      c->realcmd->failed_calls++;
    }
  }
  sds_free(err);
}

void add_reply_error_arity(client *c) {
  add_reply_error_format(c, "wrong number of arguments for '%s' command",
                         c->cmd && c->cmd->fullname ? c->cmd->fullname : "");
}

void add_reply_error_expire_time(client *c) {
  add_reply_error_format(c, "invalid expire time in '%s' command",
                         c->cmd && c->cmd->fullname ? c->cmd->fullname : "");
}

void add_reply_subcommand_syntax_error(client *c) {
  sds cmd = sds_new((char *)c->argv[0]->ptr);
  sds_to_upper(cmd);
  add_reply_error_format(c,
                         "unknown subcommand or wrong number of arguments for "
                         "'%.128s'. Try %s HELP.",
                         c->argc > 1 ? (char *)c->argv[1]->ptr : "", cmd);
  sds_free(cmd);
}

/* ------------------------------------------------------------------ */
/* Bulks                                                                */
/* ------------------------------------------------------------------ */
void add_reply_bulk_cbuffer(client *c, const void *p, size_t len) {
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  add_reply_long_long_with_prefix(c, (long long)len, '$');
  reply_append(c, p, len);
  reply_append(c, "\r\n", 2);
}

void add_reply_bulk(client *c, robj *obj) {
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  if (sds_encoded_object(obj)) {
    size_t len = sds_len(obj->ptr);
    /* Fast path: header, payload and CRLF straight into the static
     * buffer with one bounds check. */
    if (list_length(c->reply) == 0 && !(c->flags & CLIENT_CLOSE_AFTER_REPLY) &&
        c->buf_usable_size - c->bufpos >= len + REPLY_HDR_MAX + 2) {
      char *dst = c->buf + c->bufpos;
      size_t n = reply_header(dst, '$', (long long)len);
      memcpy(dst + n, obj->ptr, len);
      dst[n + len] = '\r';
      dst[n + len + 1] = '\n';
      c->bufpos += n + len + 2;
      if (c->buf_peak < c->bufpos) {
        c->buf_peak = c->bufpos;
      }
      return;
    }
    add_reply_long_long_with_prefix(c, (long long)len, '$');
    reply_append(c, obj->ptr, len);
    reply_append(c, "\r\n", 2);
  } else {
    char buf[LONG_STR_SIZE];
    int n = ll2string(buf, sizeof(buf), (long)obj->ptr);
    add_reply_long_long_with_prefix(c, n, '$');
    reply_append(c, buf, (size_t)n);
    reply_append(c, "\r\n", 2);
  }
}

void add_reply_bulk_sds(client *c, sds s) {
  add_reply_bulk_cbuffer(c, s, sds_len(s));
  sds_free(s);
}

void add_reply_bulk_cstring(client *c, const char *s) {
  if (s == NULL) {
    add_reply_null(c);
  } else {
    add_reply_bulk_cbuffer(c, s, strlen(s));
  }
}

void add_reply_bulk_long_long(client *c, long long ll) {
  char buf[LONG_STR_SIZE];
  int n = ll2string(buf, sizeof(buf), ll);
  add_reply_bulk_cbuffer(c, buf, (size_t)n);
}

void add_reply_verbatim(client *c, const char *s, size_t len, const char *ext) {
  if (c->resp == 2) {
    add_reply_bulk_cbuffer(c, s, len);
    return;
  }
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  char buf[REPLY_HDR_MAX + 4];
  size_t n = reply_header(buf, '=', (long long)len + 4);
  reply_append(c, buf, n);
  char tag[4] = {'t', 'x', 't', ':'};
  if (ext != NULL) {
    /* A format shorter than 3 characters is padded with spaces (Redis). */
    const char *e = ext;
    for (int i = 0; i < 3; i++) {
      tag[i] = *e != '\0' ? *e++ : ' ';
    }
  }
  reply_append(c, tag, 4);
  reply_append(c, s, len);
  reply_append(c, "\r\n", 2);
}

void add_reply_big_num(client *c, const char *num, size_t len) {
  if (c->resp == 2) {
    add_reply_bulk_cbuffer(c, num, len);
    return;
  }
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  reply_append(c, "(", 1);
  reply_append(c, num, len);
  reply_append(c, "\r\n", 2);
}

/* ------------------------------------------------------------------ */
/* RESP3 scalars with RESP2 fallbacks                                   */
/* ------------------------------------------------------------------ */
void add_reply_null(client *c) {
  if (c->resp == 2) {
    add_reply_proto(c, "$-1\r\n", 5);
  } else {
    add_reply_proto(c, "_\r\n", 3);
  }
}

void add_reply_null_array(client *c) {
  if (c->resp == 2) {
    add_reply_proto(c, "*-1\r\n", 5);
  } else {
    add_reply_proto(c, "_\r\n", 3);
  }
}

void add_reply_bool(client *c, int b) {
  if (c->resp == 2) {
    add_reply_proto(c, b ? ":1\r\n" : ":0\r\n", 4);
  } else {
    add_reply_proto(c, b ? "#t\r\n" : "#f\r\n", 4);
  }
}

void add_reply_double(client *c, double d) {
  if (isinf(d)) {
    if (c->resp == 2) {
      add_reply_bulk_cstring(c, d > 0 ? "inf" : "-inf");
    } else {
      add_reply_proto(c, d > 0 ? ",inf\r\n" : ",-inf\r\n", d > 0 ? 6 : 7);
    }
    return;
  }
  char dbuf[MAX_D2STRING_CHARS];
  /* Redis 7.0 prints doubles with %.17g in both protocols. */
  int dlen = snprintf(dbuf, sizeof(dbuf), "%.17g", d);
  if (dlen < 0) {
    dlen = 0;
  }
  if (c->resp == 2) {
    add_reply_bulk_cbuffer(c, dbuf, (size_t)dlen);
  } else {
    if (prepare_client_to_write(c) != C_OK) {
      return;
    }
    reply_append(c, ",", 1);
    reply_append(c, dbuf, (size_t)dlen);
    reply_append(c, "\r\n", 2);
  }
}

void add_reply_human_long_double(client *c, long double d) {
  char buf[MAX_LONG_DOUBLE_CHARS];
  int len = ld2string(buf, sizeof(buf), d, LD_STR_HUMAN);
  if (len < 0) {
    len = 0;
  }
  if (c->resp == 2) {
    add_reply_bulk_cbuffer(c, buf, (size_t)len);
  } else {
    if (prepare_client_to_write(c) != C_OK) {
      return;
    }
    reply_append(c, ",", 1);
    reply_append(c, buf, (size_t)len);
    reply_append(c, "\r\n", 2);
  }
}

/* ------------------------------------------------------------------ */
/* Aggregates                                                           */
/* ------------------------------------------------------------------ */
static void add_reply_aggregate_len(client *c, long length, char prefix) {
  if (prepare_client_to_write(c) != C_OK) {
    return;
  }
  add_reply_long_long_with_prefix(c, length, prefix);
}

void add_reply_array_len(client *c, long length) {
  add_reply_aggregate_len(c, length, '*');
}

void add_reply_map_len(client *c, long length) {
  if (c->resp == 2) {
    add_reply_aggregate_len(c, length * 2, '*');
  } else {
    add_reply_aggregate_len(c, length, '%');
  }
}

void add_reply_set_len(client *c, long length) {
  add_reply_aggregate_len(c, length, c->resp == 2 ? '*' : '~');
}

void add_reply_attribute_len(client *c, long length) {
  if (c->resp >= 3) {
    add_reply_aggregate_len(c, length, '|');
  }
}

void add_reply_push_len(client *c, long length) {
  add_reply_aggregate_len(c, length, c->resp == 2 ? '*' : '>');
}

void add_reply_help(client *c, const char **help) {
  sds cmd = sds_new((char *)c->argv[0]->ptr);
  void *blenp = add_reply_deferred_len(c);
  int blen = 0;
  sds_to_upper(cmd);
  sds header = sds_cat_printf(
      sds_empty(),
      "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd);
  add_reply_status_length(c, header, sds_len(header));
  sds_free(header);
  sds_free(cmd);
  while (help[blen] != NULL) {
    add_reply_status(c, help[blen++]);
  }
  add_reply_status(c, "HELP");
  add_reply_status(c, "    Prints this help.");
  blen += 1; /* header */
  blen += 2; /* footer */
  set_deferred_array_len(c, blenp, blen);
}

/* ------------------------------------------------------------------ */
/* Deferred lengths                                                     */
/* ------------------------------------------------------------------ */
/* trim_reply_unused_tail_space gives back a mostly empty tail block before
 * a deferred slot is appended after it (it will never grow again). */
static void trim_reply_unused_tail_space(client *c) {
  list_node *ln = list_last(c->reply);
  client_reply_block *tail = ln ? list_node_value(ln) : NULL;
  if (tail == NULL) {
    return;
  }
  if (tail->size - tail->used > tail->size / 4 &&
      tail->used < PROTO_REPLY_CHUNK_BYTES) {
    size_t old_size = tail->size;
    tail = zrealloc(tail, tail->used + sizeof(client_reply_block));
    tail->size = zmalloc_size(tail) - sizeof(client_reply_block);
    c->reply_bytes = c->reply_bytes + tail->size - old_size;
    ln->value = tail;
  }
}

void *add_reply_deferred_len(client *c) {
  if (prepare_client_to_write(c) != C_OK) {
    return NULL;
  }
  trim_reply_unused_tail_space(c);
  list_add_node_tail(c->reply, NULL); /* placeholder */
  return list_last(c->reply);
}

static void set_deferred_reply(client *c, void *node, const char *s,
                               size_t length) {
  list_node *ln = node;
  client_reply_block *next, *prev;
  if (node == NULL) {
    return; /* output was refused when the slot was asked for */
  }
  /* Prefer filling spare room of the block before the slot, then
   * prepending to the block after it: fewer blocks, fewer writes. */
  if (ln->prev != NULL && (prev = list_node_value(ln->prev)) != NULL &&
      prev->size - prev->used > 0) {
    size_t n = prev->size - prev->used;
    if (n > length) {
      n = length;
    }
    memcpy(prev->buf + prev->used, s, n);
    prev->used += n;
    length -= n;
    if (length == 0) {
      list_del_node(c->reply, ln);
      return;
    }
    s += n;
  }
  if (ln->next != NULL && (next = list_node_value(ln->next)) != NULL &&
      next->size - next->used >= length &&
      next->used < PROTO_REPLY_CHUNK_BYTES * 4) {
    memmove(next->buf + length, next->buf, next->used);
    memcpy(next->buf, s, length);
    next->used += length;
    list_del_node(c->reply, ln);
  } else {
    client_reply_block *buf = zmalloc(length + sizeof(client_reply_block));
    buf->size = zmalloc_size(buf) - sizeof(client_reply_block);
    buf->used = length;
    memcpy(buf->buf, s, length);
    ln->value = buf;
    c->reply_bytes += buf->size;
    close_client_on_output_buffer_limit_reached(c, 1);
  }
}

static void set_deferred_aggregate_len(client *c, void *node, long length,
                                       char prefix) {
  char buf[REPLY_HDR_MAX];
  size_t n = reply_header(buf, prefix, length);
  set_deferred_reply(c, node, buf, n);
}

void set_deferred_array_len(client *c, void *node, long length) {
  set_deferred_aggregate_len(c, node, length, '*');
}

void set_deferred_map_len(client *c, void *node, long length) {
  if (c->resp == 2) {
    set_deferred_aggregate_len(c, node, length * 2, '*');
  } else {
    set_deferred_aggregate_len(c, node, length, '%');
  }
}

void set_deferred_set_len(client *c, void *node, long length) {
  set_deferred_aggregate_len(c, node, length, c->resp == 2 ? '*' : '~');
}

void set_deferred_push_len(client *c, void *node, long length) {
  set_deferred_aggregate_len(c, node, length, c->resp == 2 ? '*' : '>');
}

void set_deferred_attribute_len(client *c, void *node, long length) {
  if (c->resp >= 3) {
    set_deferred_aggregate_len(c, node, length, '|');
  } else if (node != NULL) {
    /* RESP2 has no attributes: drop the slot. */
    list_del_node(c->reply, node);
  }
}

void set_deferred_reply_status(client *c, void *node, const char *s) {
  sds r = sds_cat_printf(sds_empty(), "+%s\r\n", s);
  set_deferred_reply(c, node, r, sds_len(r));
  sds_free(r);
}

void set_deferred_reply_bulk(client *c, void *node, const char *s, size_t len) {
  sds r = sds_cat_printf(sds_empty(), "$%zu\r\n", len);
  r = sds_cat_len(r, s, len);
  r = sds_cat_len(r, "\r\n", 2);
  set_deferred_reply(c, node, r, sds_len(r));
  sds_free(r);
}
