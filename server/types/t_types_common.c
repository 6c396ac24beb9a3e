/* t_types_common.c: helpers shared by the type modules (see
 * t_types_common.h). */
#include "server/types/t_types_common.h"

void type_remove_members(client *c, robj *o, int first,
                         int (*remove)(robj *o, const char *ele, size_t len),
                         unsigned long (*size)(const robj *o), int notify_class,
                         const char *event) {
  long removed = 0;
  int key_removed = 0;
  for (int j = first; j < c->argc; j++) {
    if (remove(o, c->argv[j]->ptr, sds_len(c->argv[j]->ptr))) {
      removed++;
      if (size(o) == 0) {
        db_delete(c->db, c->argv[1]);
        key_removed = 1;
        break;
      }
    }
  }
  if (removed) {
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(notify_class, event, c->argv[1], c->db->id);
    if (key_removed) {
      notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
    }
    server.dirty += removed;
  }
  add_reply_long_long(c, removed);
}

void add_reply_lp_entry_ref(client *c, const lp_entry_ref *r) {
  if (r->sval != NULL) {
    add_reply_bulk_cbuffer(c, r->sval, r->slen);
  } else {
    add_reply_bulk_long_long(c, r->lval);
  }
}

int type_parse_rand_count_or_reply(client *c, const char *opt, long *count,
                                   int *with_opt) {
  *with_opt = 0;
  if (get_range_long_from_object_or_reply(c, c->argv[2], -LONG_MAX, LONG_MAX,
                                          count, NULL) != C_OK) {
    return C_ERR;
  }
  if (c->argc > 4 || (c->argc == 4 && (!sds_encoded_object(c->argv[3]) ||
                                       strcasecmp(c->argv[3]->ptr, opt)))) {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  if (c->argc == 4) {
    *with_opt = 1;
    if (*count < -LONG_MAX / 2 || *count > LONG_MAX / 2) {
      add_reply_error(c, "value is out of range");
      return C_ERR;
    }
  }
  return C_OK;
}
