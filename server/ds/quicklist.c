/* quicklist.c: a doubly linked list of PACKED (listpack) and PLAIN (one
 * element) nodes (see quicklist.h).
 *
 * Invariants: no node is empty (an emptied node is unlinked at once);
 * ql->count is the sum of node counts; a PACKED node's count equals
 * lp_length(entry), a PLAIN node's is 1. A PACKED node accepts an insert
 * while it stays within the fill limit; an insert in the middle of a full
 * node splits it in two halves afterwards. An element of at least the
 * packed threshold always gets a PLAIN node (inserted in the middle of a
 * PACKED node, it splits that node around itself, as Redis does); a PLAIN
 * node never takes a second element. */
#include "server/ds/quicklist.h"

#include <string.h>

#include "server/base/log.h"
#include "server/base/util.h"
#include "server/base/zmalloc.h"
#include "server/ds/listpack.h"
#include "server/ds/sds.h"

/* Byte limits of negative fills: -1 .. -5. */
static const size_t quicklist_fill_bytes[] = {4096, 8192, 16384, 32768, 65536};
/* Per-entry overhead estimate (encoding + backlen) used before inserting. */
#define QUICKLIST_ENTRY_OVERHEAD 11

/* The packed threshold is process-wide, as in Redis: it is a debugging knob
 * (DEBUG QUICKLIST-PACKED-THRESHOLD), not a per-list setting. */
static size_t quicklist_threshold = QUICKLIST_PACKED_THRESHOLD_DEFAULT;

int quicklist_set_packed_threshold(size_t sz) {
  if (sz > QUICKLIST_PACKED_THRESHOLD_MAX) {
    return 0;
  }
  quicklist_threshold = sz == 0 ? QUICKLIST_PACKED_THRESHOLD_DEFAULT : sz;
  return 1;
}

size_t quicklist_packed_threshold(void) { return quicklist_threshold; }

static int quicklist_is_large(size_t len) { return len >= quicklist_threshold; }

static int quicklist_node_is_plain(const quicklist_node *node) {
  return node->container == QUICKLIST_NODE_CONTAINER_PLAIN;
}

size_t quicklist_node_bytes(const quicklist_node *node) {
  return quicklist_node_is_plain(node) ? sds_len((sds)node->entry)
                                       : lp_bytes(node->entry);
}

/* Positions inside a node: a PLAIN node has one, its entry. */
static unsigned char *quicklist_node_first(quicklist_node *node) {
  return quicklist_node_is_plain(node) ? node->entry : lp_first(node->entry);
}

static unsigned char *quicklist_node_last(quicklist_node *node) {
  return quicklist_node_is_plain(node) ? node->entry : lp_last(node->entry);
}

static unsigned char *quicklist_node_next(quicklist_node *node,
                                          unsigned char *p) {
  return quicklist_node_is_plain(node) ? NULL : lp_next(node->entry, p);
}

static unsigned char *quicklist_node_prev(quicklist_node *node,
                                          unsigned char *p) {
  return quicklist_node_is_plain(node) ? NULL : lp_prev(node->entry, p);
}

static void quicklist_node_free(quicklist_node *node) {
  if (quicklist_node_is_plain(node)) {
    sds_free((sds)node->entry);
  } else {
    lp_free(node->entry);
  }
  zfree(node);
}

static size_t quicklist_node_max_bytes(int fill) {
  if (fill >= 0) {
    return QUICKLIST_SIZE_SAFETY_LIMIT;
  }
  int idx = -fill - 1;
  if (idx >=
      (int)(sizeof(quicklist_fill_bytes) / sizeof(quicklist_fill_bytes[0]))) {
    idx =
        (int)(sizeof(quicklist_fill_bytes) / sizeof(quicklist_fill_bytes[0])) -
        1;
  }
  return quicklist_fill_bytes[idx];
}

/* quicklist_node_allows returns 1 if node is a PACKED node that may take
 * one more entry of |bytes| bytes (an element under the packed threshold). */
static int quicklist_node_allows(const quicklist *ql,
                                 const quicklist_node *node, size_t bytes) {
  if (node == NULL || quicklist_node_is_plain(node) ||
      quicklist_is_large(bytes)) {
    return 0;
  }
  size_t new_sz = lp_bytes(node->entry) + bytes + QUICKLIST_ENTRY_OVERHEAD;
  if (new_sz > quicklist_node_max_bytes(ql->fill)) {
    return 0;
  }
  if (ql->fill > 0 && node->count + 1 > (unsigned int)ql->fill) {
    return 0;
  }
  /* The listpack count field stays exact below 65535. */
  return node->count + 1 < 65535;
}

static quicklist_node *quicklist_node_create(void) {
  quicklist_node *node = zmalloc(sizeof(*node));
  node->prev = node->next = NULL;
  node->entry = lp_new(0);
  node->count = 0;
  node->container = QUICKLIST_NODE_CONTAINER_PACKED;
  return node;
}

/* quicklist_plain_node_create takes |element| (an sds) as a PLAIN node. */
static quicklist_node *quicklist_plain_node_create(sds element) {
  quicklist_node *node = zmalloc(sizeof(*node));
  node->prev = node->next = NULL;
  node->entry = (unsigned char *)element;
  node->count = 1;
  node->container = QUICKLIST_NODE_CONTAINER_PLAIN;
  return node;
}

static void quicklist_link_after(quicklist *ql, quicklist_node *old,
                                 quicklist_node *node) {
  node->prev = old;
  if (old == NULL) {
    node->next = ql->head;
    if (ql->head) {
      ql->head->prev = node;
    }
    ql->head = node;
  } else {
    node->next = old->next;
    if (old->next) {
      old->next->prev = node;
    }
    old->next = node;
  }
  if (node->next == NULL) {
    ql->tail = node;
  }
  ql->len++;
}

void quicklist_append_listpack(quicklist *ql, unsigned char *lp) {
  quicklist_node *node = zmalloc(sizeof(*node));
  node->prev = node->next = NULL;
  node->entry = lp;
  node->count = (unsigned int)lp_length(lp);
  node->container = QUICKLIST_NODE_CONTAINER_PACKED;
  quicklist_link_after(ql, ql->tail, node);
  ql->count += node->count;
}

void quicklist_append_plain(quicklist *ql, char *element) {
  quicklist_link_after(ql, ql->tail, quicklist_plain_node_create(element));
  ql->count++;
}

static void quicklist_link_before(quicklist *ql, quicklist_node *old,
                                  quicklist_node *node) {
  quicklist_link_after(ql, old ? old->prev : ql->tail, node);
}

/* quicklist_unlink_node unlinks and frees node; the caller has taken its
 * entries out of ql->count. */
static void quicklist_unlink_node(quicklist *ql, quicklist_node *node) {
  if (node->prev) {
    node->prev->next = node->next;
  } else {
    ql->head = node->next;
  }
  if (node->next) {
    node->next->prev = node->prev;
  } else {
    ql->tail = node->prev;
  }
  ql->len--;
  quicklist_node_free(node);
}

quicklist *quicklist_create(int fill) {
  quicklist *ql = zmalloc(sizeof(*ql));
  ql->head = ql->tail = NULL;
  ql->count = 0;
  ql->len = 0;
  ql->fill = fill == 0 ? -2 : fill;
  return ql;
}

void quicklist_set_fill(quicklist *ql, int fill) {
  ql->fill = fill == 0 ? -2 : fill;
}

void quicklist_release(quicklist *ql) {
  if (ql == NULL) {
    return;
  }
  quicklist_node *node = ql->head;
  while (node) {
    quicklist_node *next = node->next;
    quicklist_node_free(node);
    node = next;
  }
  zfree(ql);
}

quicklist *quicklist_dup(const quicklist *ql) {
  quicklist *copy = quicklist_create(ql->fill);
  for (quicklist_node *node = ql->head; node; node = node->next) {
    quicklist_node *n = zmalloc(sizeof(*n));
    n->entry = quicklist_node_is_plain(node)
                   ? (unsigned char *)sds_dup((sds)node->entry)
                   : lp_dup(node->entry);
    n->count = node->count;
    n->container = node->container;
    n->prev = n->next = NULL;
    quicklist_link_after(copy, copy->tail, n);
  }
  copy->count = ql->count;
  return copy;
}

void quicklist_push(quicklist *ql, const void *s, size_t len, int where) {
  if (quicklist_is_large(len)) {
    quicklist_node *node = quicklist_plain_node_create(sds_new_len(s, len));
    if (where == QUICKLIST_HEAD) {
      quicklist_link_before(ql, ql->head, node);
    } else {
      quicklist_link_after(ql, ql->tail, node);
    }
    ql->count++;
    return;
  }
  if (where == QUICKLIST_HEAD) {
    if (!quicklist_node_allows(ql, ql->head, len)) {
      quicklist_link_before(ql, ql->head, quicklist_node_create());
    }
    ql->head->entry = lp_prepend(ql->head->entry, s, (uint32_t)len);
    ql->head->count++;
  } else {
    if (!quicklist_node_allows(ql, ql->tail, len)) {
      quicklist_link_after(ql, ql->tail, quicklist_node_create());
    }
    ql->tail->entry = lp_append(ql->tail->entry, s, (uint32_t)len);
    ql->tail->count++;
  }
  ql->count++;
}

/* quicklist_entry_fill decodes the entry at p of node. */
static void quicklist_entry_fill(quicklist_entry *entry, quicklist_node *node,
                                 unsigned char *p) {
  entry->node = node;
  entry->p = p;
  if (quicklist_node_is_plain(node)) {
    entry->sval = node->entry;
    entry->slen = sds_len((sds)node->entry);
    entry->lval = 0;
    return;
  }
  uint32_t slen = 0;
  long long lval = 0;
  unsigned char *sval = lp_get_value(p, &slen, &lval);
  entry->sval = sval;
  entry->slen = sval ? slen : 0;
  entry->lval = sval ? 0 : lval;
}

/* quicklist_delete_at removes the entry at p of node; unlinks the node when
 * it becomes empty (returns 1 then). *newp gets the following entry. */
static int quicklist_delete_at(quicklist *ql, quicklist_node *node,
                               unsigned char *p, unsigned char **newp) {
  ql->count--;
  if (quicklist_node_is_plain(node)) {
    quicklist_unlink_node(ql, node);
    if (newp) {
      *newp = NULL;
    }
    return 1;
  }
  node->entry = lp_delete(node->entry, p, newp);
  node->count--;
  if (node->count == 0) {
    quicklist_unlink_node(ql, node);
    if (newp) {
      *newp = NULL;
    }
    return 1;
  }
  return 0;
}

int quicklist_pop(quicklist *ql, int where, char **out_s, size_t *out_len,
                  long long *out_ll) {
  if (ql->count == 0) {
    return 0;
  }
  quicklist_node *node = where == QUICKLIST_HEAD ? ql->head : ql->tail;
  if (quicklist_node_is_plain(node)) {
    /* The element moves to the caller: no copy of a huge string. */
    *out_s = (char *)node->entry;
    *out_len = sds_len((sds)node->entry);
    node->entry = NULL;
    ql->count--;
    quicklist_unlink_node(ql, node);
    return 1;
  }
  unsigned char *p =
      where == QUICKLIST_HEAD ? lp_first(node->entry) : lp_last(node->entry);
  quicklist_entry e;
  quicklist_entry_fill(&e, node, p);
  if (e.sval) {
    *out_s = sds_new_len(e.sval, e.slen);
    *out_len = e.slen;
  } else {
    *out_s = NULL;
    *out_len = 0;
    *out_ll = e.lval;
  }
  quicklist_delete_at(ql, node, p, NULL);
  return 1;
}

/* quicklist_locate finds the node holding index (>= 0) and the offset in
 * it, walking from the closer end. */
static quicklist_node *quicklist_locate(quicklist *ql, unsigned long index,
                                        unsigned long *out_offset) {
  if (index >= ql->count) {
    return NULL;
  }
  if (index < ql->count / 2) {
    unsigned long seen = 0;
    for (quicklist_node *n = ql->head; n; n = n->next) {
      if (index < seen + n->count) {
        *out_offset = index - seen;
        return n;
      }
      seen += n->count;
    }
  } else {
    unsigned long seen = ql->count;
    for (quicklist_node *n = ql->tail; n; n = n->prev) {
      seen -= n->count;
      if (index >= seen) {
        *out_offset = index - seen;
        return n;
      }
    }
  }
  return NULL;
}

static int quicklist_normalize_index(const quicklist *ql, long index,
                                     unsigned long *out) {
  if (index < 0) {
    if ((unsigned long)(-(index + 1)) >= ql->count) {
      return 0;
    }
    *out = ql->count - (unsigned long)(-(index + 1)) - 1;
    return 1;
  }
  if ((unsigned long)index >= ql->count) {
    return 0;
  }
  *out = (unsigned long)index;
  return 1;
}

int quicklist_index(quicklist *ql, long index, quicklist_entry *entry) {
  unsigned long idx, offset = 0;
  if (!quicklist_normalize_index(ql, index, &idx)) {
    return 0;
  }
  quicklist_node *node = quicklist_locate(ql, idx, &offset);
  if (node == NULL) {
    return 0;
  }
  unsigned char *p;
  if (quicklist_node_is_plain(node)) {
    p = node->entry;
  } else if (offset < node->count / 2) {
    p = lp_seek(node->entry, (long)offset);
  } else {
    p = lp_seek(node->entry, (long)offset - (long)node->count);
  }
  quicklist_entry_fill(entry, node, p);
  return 1;
}

/* quicklist_split_node moves the entries of PACKED |node| from index |keep|
 * on (0 < keep < count) into a new node linked after it, and returns it. */
static quicklist_node *quicklist_split_node(quicklist *ql, quicklist_node *node,
                                            unsigned int keep) {
  unsigned int move = node->count - keep;
  quicklist_node *right = zmalloc(sizeof(*right));
  right->entry = lp_dup(node->entry);
  right->entry = lp_delete_range(right->entry, 0, keep);
  right->count = move;
  right->container = QUICKLIST_NODE_CONTAINER_PACKED;
  right->prev = right->next = NULL;
  node->entry = lp_delete_range(node->entry, (long)keep, move);
  node->entry = lp_shrink_to_fit(node->entry);
  node->count = keep;
  quicklist_link_after(ql, node, right);
  return right;
}

/* quicklist_split_if_needed splits a PACKED node grown past its limit into
 * two halves (inserts in the middle of a full node). */
static void quicklist_split_if_needed(quicklist *ql, quicklist_node *node) {
  if (quicklist_node_is_plain(node)) {
    return;
  }
  size_t max = quicklist_node_max_bytes(ql->fill);
  int over = lp_bytes(node->entry) > max ||
             (ql->fill > 0 && node->count > (unsigned int)ql->fill) ||
             node->count >= 65535;
  if (!over || node->count < 2) {
    return;
  }
  quicklist_node *right = quicklist_split_node(ql, node, node->count / 2);
  /* Halves may still be too big (huge elements): split again. */
  quicklist_split_if_needed(ql, node);
  quicklist_split_if_needed(ql, right);
}

/* quicklist_node_offset: the index of the entry at p in PACKED node. */
static unsigned int quicklist_node_offset(quicklist_node *node,
                                          unsigned char *p) {
  unsigned int offset = 0;
  for (unsigned char *q = lp_first(node->entry); q != NULL && q != p;
       q = lp_next(node->entry, q)) {
    offset++;
  }
  return offset;
}

/* quicklist_insert_large puts an element of at least the packed threshold
 * in a PLAIN node next to |entry|: beside its node when the entry is at the
 * node's edge on that side (or the node is PLAIN), else between the two
 * halves of the PACKED node split around the entry. */
static void quicklist_insert_large(quicklist *ql, quicklist_entry *entry,
                                   const void *s, size_t len, int after) {
  quicklist_node *node = entry->node;
  quicklist_node *plain = quicklist_plain_node_create(sds_new_len(s, len));
  if (!quicklist_node_is_plain(node)) {
    unsigned int offset = quicklist_node_offset(node, entry->p);
    unsigned int keep = after ? offset + 1 : offset;
    if (keep > 0 && keep < node->count) {
      quicklist_split_node(ql, node, keep);
      after = 1; /* node now ends where the new element goes */
    }
  }
  if (after) {
    quicklist_link_after(ql, node, plain);
  } else {
    quicklist_link_before(ql, node, plain);
  }
  ql->count++;
}

static void quicklist_insert(quicklist *ql, quicklist_entry *entry,
                             const void *s, size_t len, int after) {
  if (quicklist_is_large(len)) {
    quicklist_insert_large(ql, entry, s, len, after);
    return;
  }
  quicklist_node *node = entry->node;
  unsigned char *p = entry->p;
  int plain = quicklist_node_is_plain(node);
  int at_head_edge = !after && (plain || p == lp_first(node->entry));
  int at_tail_edge = after && (plain || p == lp_last(node->entry));
  if (!quicklist_node_allows(ql, node, len)) {
    /* At an edge of a full node (a PLAIN node is all edge), use or create
     * the neighbour instead of splitting. */
    if (at_tail_edge) {
      quicklist_node *next = node->next;
      if (!quicklist_node_allows(ql, next, len)) {
        next = quicklist_node_create();
        quicklist_link_after(ql, node, next);
      }
      next->entry = lp_prepend(next->entry, s, (uint32_t)len);
      next->count++;
      ql->count++;
      return;
    }
    if (at_head_edge) {
      quicklist_node *prev = node->prev;
      if (!quicklist_node_allows(ql, prev, len)) {
        prev = quicklist_node_create();
        quicklist_link_before(ql, node, prev);
      }
      prev->entry = lp_append(prev->entry, s, (uint32_t)len);
      prev->count++;
      ql->count++;
      return;
    }
  }
  server_assert(!plain);
  node->entry = lp_insert_string(node->entry, s, (uint32_t)len, p,
                                 after ? LP_AFTER : LP_BEFORE, NULL);
  node->count++;
  ql->count++;
  quicklist_split_if_needed(ql, node);
}

void quicklist_insert_before(quicklist *ql, quicklist_entry *entry,
                             const void *s, size_t len) {
  quicklist_insert(ql, entry, s, len, 0);
}

void quicklist_insert_after(quicklist *ql, quicklist_entry *entry,
                            const void *s, size_t len) {
  quicklist_insert(ql, entry, s, len, 1);
}

int quicklist_replace_at_index(quicklist *ql, long index, const void *s,
                               size_t len) {
  quicklist_entry e;
  if (!quicklist_index(ql, index, &e)) {
    return 0;
  }
  quicklist_node *node = e.node;
  if (quicklist_node_is_plain(node)) {
    if (quicklist_is_large(len)) {
      sds_free((sds)node->entry);
      node->entry = (unsigned char *)sds_new_len(s, len);
      return 1;
    }
    /* A small element leaves the PLAIN node for a packed neighbour. */
    quicklist_insert(ql, &e, s, len, 1);
    quicklist_delete_at(ql, node, node->entry, NULL);
    return 1;
  }
  if (quicklist_is_large(len)) {
    /* The new PLAIN node goes after the entry, which stays the last one of
     * its (possibly split) node; then the entry goes. */
    quicklist_insert(ql, &e, s, len, 1);
    quicklist_delete_at(ql, node, lp_last(node->entry), NULL);
    return 1;
  }
  unsigned char *p = e.p;
  node->entry = lp_replace(node->entry, &p, s, (uint32_t)len);
  quicklist_split_if_needed(ql, node);
  return 1;
}

unsigned long quicklist_del_range(quicklist *ql, long start,
                                  unsigned long count) {
  unsigned long idx, offset = 0;
  if (count == 0 || !quicklist_normalize_index(ql, start, &idx)) {
    return 0;
  }
  quicklist_node *node = quicklist_locate(ql, idx, &offset);
  unsigned long removed = 0;
  while (node != NULL && removed < count) {
    quicklist_node *next = node->next;
    unsigned long avail = node->count - offset;
    unsigned long n = count - removed < avail ? count - removed : avail;
    if (offset == 0 && n == node->count) {
      /* Whole node (every PLAIN node deleted ends here). */
      ql->count -= node->count;
      quicklist_unlink_node(ql, node);
    } else {
      node->entry = lp_delete_range(node->entry, (long)offset, n);
      node->count -= (unsigned int)n;
      ql->count -= n;
    }
    removed += n;
    offset = 0;
    node = next;
  }
  return removed;
}

void quicklist_iter_init(quicklist_iter *it, quicklist *ql, int direction) {
  it->ql = ql;
  it->direction = direction;
  it->node = direction == QUICKLIST_ITER_FORWARD ? ql->head : ql->tail;
  it->p = NULL;
  it->started = 0;
}

int quicklist_iter_init_at_index(quicklist_iter *it, quicklist *ql,
                                 int direction, long index) {
  quicklist_entry e;
  quicklist_iter_init(it, ql, direction);
  if (!quicklist_index(ql, index, &e)) {
    it->node = NULL;
    return 0;
  }
  it->node = e.node;
  it->p = e.p;
  it->started = 1;
  return 1;
}

int quicklist_next(quicklist_iter *it, quicklist_entry *entry) {
  int forward = it->direction == QUICKLIST_ITER_FORWARD;
  while (it->node != NULL) {
    if (!it->started) {
      it->p = forward ? quicklist_node_first(it->node)
                      : quicklist_node_last(it->node);
      it->started = 1;
    }
    if (it->p != NULL) {
      quicklist_entry_fill(entry, it->node, it->p);
      it->p = forward ? quicklist_node_next(it->node, it->p)
                      : quicklist_node_prev(it->node, it->p);
      return 1;
    }
    it->node = forward ? it->node->next : it->node->prev;
    it->started = 0;
  }
  return 0;
}

void quicklist_iter_delete(quicklist_iter *it, quicklist_entry *entry) {
  quicklist_node *node = entry->node;
  int forward = it->direction == QUICKLIST_ITER_FORWARD;
  quicklist_node *neighbour = forward ? node->next : node->prev;
  /* The entry before p keeps its offset: deletion moves only later bytes. */
  unsigned char *prevp = quicklist_node_prev(node, entry->p);
  size_t prev_offset = prevp ? (size_t)(prevp - node->entry) : 0;
  unsigned char *newp = NULL;
  if (quicklist_delete_at(it->ql, node, entry->p, &newp)) {
    it->node = neighbour;
    it->p = NULL;
    it->started = 0;
    return;
  }
  it->node = node;
  it->started = 1;
  if (forward) {
    it->p = newp;
  } else {
    it->p = prevp ? node->entry + prev_offset : NULL;
  }
}

int quicklist_entry_equals(const quicklist_entry *entry, const void *s,
                           size_t len) {
  if (entry->sval) {
    return entry->slen == len && memcmp(entry->sval, s, len) == 0;
  }
  char buf[LP_INTBUF_SIZE];
  int n = ll2string(buf, sizeof(buf), entry->lval);
  return (size_t)n == len && memcmp(buf, s, len) == 0;
}

const unsigned char *quicklist_entry_string(const quicklist_entry *entry,
                                            unsigned char *buf,
                                            size_t *out_len) {
  if (entry->sval) {
    *out_len = entry->slen;
    return entry->sval;
  }
  *out_len = (size_t)ll2string((char *)buf, LP_INTBUF_SIZE, entry->lval);
  return buf;
}

size_t quicklist_bytes(const quicklist *ql) {
  size_t total = sizeof(*ql);
  for (quicklist_node *n = ql->head; n; n = n->next) {
    total += sizeof(*n) + quicklist_node_bytes(n);
  }
  return total;
}
