/* t_zset_scan.c: ZSCAN (registered in t_zset.c's command table). Replies
 * follow Redis 7.0. */
#include <math.h>

#include "listpack.h"
#include "scan_common.h"
#include "t_zset.h"

/* Score text as Redis's listpack holds it: integral scores within
 * +-LLONG_MAX/2 are integer entries, the rest d2string text. */
static int zset_listpack_score_string(char *buf, size_t len, double score) {
  long long ll;
  if (zset_score_as_integer(score, &ll)) {
    return ll2string(buf, len, ll);
  }
  return d2string(buf, len, score);
}

static void zscan_add_node(scan_result *r, const zskiplist_node *n,
                           int listpack) {
  char buf[MAX_D2STRING_CHARS];
  int len = listpack ? zset_listpack_score_string(buf, sizeof(buf), n->score)
                     : d2string(buf, sizeof(buf), n->score);
  scan_result_add(r, n->ele, sds_len(n->ele));
  scan_result_add(r, buf, (size_t)len);
}

static void zscan_emit(scan_result *r, const dict_entry *de) {
  zscan_add_node(r, dict_get_val(de), 0);
}

void zscan_command(client *c) {
  unsigned long cursor;
  if (scan_parse_cursor_or_reply(c, c->argv[2], &cursor) != C_OK) {
    return;
  }
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.emptyscan);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  scan_options opts;
  if (scan_parse_options_or_reply(c, 3, &opts) != C_OK) {
    return;
  }
  zset *zs = zset_ptr(zobj);
  scan_result r = {NULL, 0, 0};
  if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
    /* The compact form is returned whole, in order, like Redis. */
    for (zskiplist_node *n = zs->zsl->header->level[0].forward; n;
         n = n->level[0].forward) {
      zscan_add_node(&r, n, 1);
    }
    cursor = 0;
  } else {
    cursor = scan_dict_collect(zs->dict, cursor, opts.count, zscan_emit, &r);
  }
  scan_reply(c, cursor, &r, 1, &opts);
}

