/* scan_common.c: HSCAN / SSCAN / ZSCAN share cursor parsing, options,
 * the budgeted dict walk, MATCH filtering and the reply (scan_common.h). */
#include "server/core/scan_common.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/ds/intset.h"
#include "server/ds/listpack.h"

/* Buckets visited per requested element at most: a sparse table answers
 * with few elements rather than blocking the server (Redis does the same). */
#define SCAN_BUCKETS_PER_COUNT 10

static void scan_result_push(scan_result *r, sds s) {
  if (r->count == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 16;
    r->items = zrealloc(r->items, r->cap * sizeof(sds));
  }
  r->items[r->count++] = s;
}

void scan_result_add(scan_result *r, const char *s, size_t len) {
  scan_result_push(r, sds_new_len(s, len));
}

void scan_result_add_sds_copy(scan_result *r, sds s) {
  scan_result_push(r, sds_dup(s));
}

void scan_result_add_long_long(scan_result *r, long long v) {
  char buf[LONG_STR_SIZE];
  int len = ll2string(buf, sizeof(buf), v);
  scan_result_push(r, sds_new_len(buf, (size_t)len));
}

int scan_parse_cursor_or_reply(client *c, robj *o, unsigned long *cursor) {
  robj *d = get_decoded_object(o);
  const char *s = d->ptr;
  char *eptr;
  errno = 0;
  *cursor = strtoul(s, &eptr, 10);
  int bad = isspace((unsigned char)s[0]) || eptr[0] != '\0' ||
            errno == ERANGE || (size_t)(eptr - s) != sds_len(d->ptr);
  decr_ref_count(d);
  if (bad) {
    add_reply_error(c, "invalid cursor");
    return C_ERR;
  }
  return C_OK;
}

typedef struct scan_dict_state {
  scan_result *r;
  scan_emit_proc *emit;
} scan_dict_state;

static void scan_dict_callback(void *privdata, const dict_entry *de) {
  scan_dict_state *st = privdata;
  st->emit(st->r, de);
}

static void scan_collect_listpack(scan_result *r, unsigned char *lp) {
  unsigned char buf[LP_INTBUF_SIZE];
  for (unsigned char *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
    uint32_t len;
    unsigned char *s = lp_get_string(p, &len, buf);
    scan_result_add(r, (const char *)s, len);
  }
}

static void scan_collect_intset(scan_result *r, intset *is) {
  int64_t v;
  for (uint32_t i = 0; intset_get(is, i, &v); i++) {
    scan_result_add_long_long(r, v);
  }
}

int scan_parse_options_or_reply(client *c, int first, scan_options *opts) {
  opts->count = 10;
  opts->pattern = NULL;
  opts->use_pattern = 0;
  for (int i = first; i < c->argc;) {
    int left = c->argc - i;
    const char *opt = c->argv[i]->ptr;
    if (!strcasecmp(opt, "count") && left >= 2) {
      if (get_long_from_object_or_reply(c, c->argv[i + 1], &opts->count,
                                        NULL) != C_OK) {
        return C_ERR;
      }
      if (opts->count < 1) {
        add_reply_error_object(c, shared.syntaxerr);
        return C_ERR;
      }
      i += 2;
    } else if (!strcasecmp(opt, "match") && left >= 2) {
      opts->pattern = c->argv[i + 1]->ptr;
      opts->use_pattern =
          !(sds_len(opts->pattern) == 1 && opts->pattern[0] == '*');
      i += 2;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return C_ERR;
    }
  }
  return C_OK;
}

unsigned long scan_dict_collect(dict *d, unsigned long cursor, long count,
                                scan_emit_proc *emit, scan_result *r) {
  scan_dict_state st = {r, emit};
  long budget = count > LONG_MAX / SCAN_BUCKETS_PER_COUNT
                    ? LONG_MAX
                    : count * SCAN_BUCKETS_PER_COUNT;
  /* Like Redis, COUNT is compared with collected strings (a hash pair
   * counts twice). */
  size_t want = (size_t)count;
  do {
    cursor = dict_scan(d, cursor, scan_dict_callback, &st);
  } while (cursor && budget-- && r->count < want);
  return cursor;
}

void scan_reply(client *c, unsigned long cursor, scan_result *r, int pairs,
                const scan_options *opts) {
  size_t step = pairs ? 2 : 1;
  size_t kept = 0;
  int patlen = opts->pattern ? (int)sds_len(opts->pattern) : 0;
  for (size_t k = 0; k + step <= r->count; k += step) {
    sds elem = r->items[k];
    int keep =
        !opts->use_pattern ||
        string_match_len(opts->pattern, patlen, elem, (int)sds_len(elem), 0);
    for (size_t j = 0; j < step; j++) {
      if (keep) {
        r->items[kept++] = r->items[k + j];
      } else {
        sds_free(r->items[k + j]);
      }
    }
  }
  add_reply_array_len(c, 2);
  add_reply_bulk_long_long(c, (long long)cursor);
  add_reply_array_len(c, (long)kept);
  for (size_t k = 0; k < kept; k++) {
    add_reply_bulk_sds(c, r->items[k]);
  }
  zfree(r->items);
  r->items = NULL;
  r->count = r->cap = 0;
}

void scan_object_command(client *c, robj *o, unsigned long cursor, dict *d,
                         scan_emit_proc *emit) {
  scan_options opts;
  if (scan_parse_options_or_reply(c, 3, &opts) != C_OK) {
    return;
  }
  /* Hashes and zsets yield member/value pairs. */
  int pairs = (o->type == OBJ_HASH || o->type == OBJ_ZSET);
  scan_result r = {NULL, 0, 0};
  if (d != NULL) {
    cursor = scan_dict_collect(d, cursor, opts.count, emit, &r);
  } else if (o->encoding == OBJ_ENCODING_LISTPACK) {
    scan_collect_listpack(&r, o->ptr);
    cursor = 0;
  } else if (o->encoding == OBJ_ENCODING_INTSET) {
    scan_collect_intset(&r, o->ptr);
    cursor = 0;
  } else {
    server_panic("scan_object_command: unsupported encoding %d",
                 (int)o->encoding);
  }
  scan_reply(c, cursor, &r, pairs, &opts);
}
