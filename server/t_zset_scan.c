/* t_zset_scan.c: ZSCAN (registered in t_zset.c's command table). Replies
 * follow Redis 7.0. */
#include <math.h>

#include "listpack.h"
#include "scan_common.h"
#include "t_zset.h"

static void zscan_emit(scan_result *r, const dict_entry *de) {
  const zskiplist_node *n = dict_get_val(de);
  char buf[MAX_D2STRING_CHARS];
  int len = d2string(buf, sizeof(buf), n->score);
  scan_result_add(r, n->ele, sds_len(n->ele));
  scan_result_add(r, buf, (size_t)len);
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
  scan_result r = {NULL, 0, 0};
  if (zset_is_compact(zobj)) {
    /* The compact form is returned whole, in order, like Redis: each
     * member, then its score as the listpack holds it. */
    unsigned char *lp = zobj->ptr;
    for (unsigned char *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
      uint32_t len;
      unsigned char buf[LP_INTBUF_SIZE];
      unsigned char *s = lp_get_string(p, &len, buf);
      scan_result_add(&r, (const char *)s, len);
    }
    cursor = 0;
  } else {
    zset *zs = zset_ptr(zobj);
    cursor = scan_dict_collect(zs->dict, cursor, opts.count, zscan_emit, &r);
  }
  scan_reply(c, cursor, &r, 1, &opts);
}

