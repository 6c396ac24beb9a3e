/* t_zset_scan.c: ZSCAN (registered in t_zset.c's command table). Replies
 * follow Redis 7.0. */

#include "server/core/scan_common.h"
#include "server/types/t_zset.h"

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
  /* A compact set's listpack is walked whole, member then score as the
   * listpack holds it, like Redis (scan_common.c). */
  scan_object_command(c, zobj, cursor,
                      zset_is_compact(zobj) ? NULL : zset_ptr(zobj)->dict,
                      zscan_emit);
}
