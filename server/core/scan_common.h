/* scan_common.h: the shared part of HSCAN, SSCAN and ZSCAN.
 *
 * Usage from a command (Redis order: cursor first, then key, then options):
 *
 *   unsigned long cursor;
 *   if (scan_parse_cursor_or_reply(c, c->argv[2], &cursor) != C_OK) return;
 *   robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptyscan);
 *   if (o == NULL || check_type(c, o, OBJ_HASH)) return;
 *   scan_object_command(c, o, cursor, dict_or_NULL, emit_proc);
 *
 * Compact encodings (listpack, intset: pass d == NULL) return every element
 * in one reply with cursor 0, as Redis does. For a hashtable encoding pass
 * the dict and an emit proc that appends the entry's element(s) with
 * scan_result_add*: one string for sets, member then value for hashes and
 * zsets (pairs are detected from the object type). */
#ifndef REDOUBT_SCAN_COMMON_H
#define REDOUBT_SCAN_COMMON_H

#include "server/core/server.h"

/* Collected elements of one scan call (sds, owned). */
typedef struct scan_result {
  sds *items;
  size_t count, cap;
} scan_result;

void scan_result_add(scan_result *r, const char *s, size_t len);
void scan_result_add_sds_copy(scan_result *r, sds s);
void scan_result_add_long_long(scan_result *r, long long v);

/* scan_emit_proc appends the element(s) of one hashtable entry. */
typedef void scan_emit_proc(scan_result *r, const dict_entry *de);

/* scan_parse_cursor_or_reply parses a SCAN cursor like Redis (strtoul on
 * the whole argument); replies "invalid cursor" and returns C_ERR if bad. */
int scan_parse_cursor_or_reply(client *c, robj *o, unsigned long *cursor);

/* Building blocks, for a type whose compact form is not a listpack/intset
 * in memory (e.g. a zset kept as dict+skiplist but reported as listpack):
 * parse options, collect elements yourself (in Redis's order, cursor 0 for
 * a compact encoding) or with scan_dict_collect, then scan_reply. */
typedef struct scan_options {
  long count;  /* default 10 */
  sds pattern; /* NULL or the MATCH pattern (borrowed from argv) */
  int use_pattern;
} scan_options;
/* scan_parse_options_or_reply parses [MATCH p] [COUNT n] from
 * c->argv[first..]; replies and returns C_ERR on error. */
int scan_parse_options_or_reply(client *c, int first, scan_options *opts);
/* scan_dict_collect runs a budgeted dict_scan from cursor; returns the
 * next cursor (0 when done). */
unsigned long scan_dict_collect(dict *d, unsigned long cursor, long count,
                                scan_emit_proc *emit, scan_result *r);
/* scan_reply applies MATCH (to the member of each pair when pairs) and
 * replies [cursor, elements]; frees r's contents. */
void scan_reply(client *c, unsigned long cursor, scan_result *r, int pairs,
                const scan_options *opts);

/* scan_object_command parses MATCH/COUNT from c->argv[3..] and replies.
 * o is a hash, set or zset; d is its hashtable (NULL for a compact
 * encoding, which must be listpack or intset). */
void scan_object_command(client *c, robj *o, unsigned long cursor, dict *d,
                         scan_emit_proc *emit);

#endif
