/* quicklist.h: the list type's encoding: a doubly linked list of nodes, as
 * in Redis 7.0, where OBJECT ENCODING reports "quicklist" for every list.
 * A node is either
 *   PACKED: a listpack of up to list-max-listpack-size entries (positive
 *           fill) or bytes (negative fill: -1 = 4 KB ... -5 = 64 KB), or
 *   PLAIN:  one element stored as it is, for an element of at least the
 *           packed threshold (1 GB unless DEBUG QUICKLIST-PACKED-THRESHOLD
 *           changed it); RDB files and DUMP payloads keep the distinction
 *           (RDB_TYPE_LIST_QUICKLIST_2 container 1 = PLAIN, 2 = PACKED).
 *
 * Not implemented: list-compress-depth (LZF compression of inner nodes);
 * nodes are never compressed. A packed element bigger than the node limit
 * but under the packed threshold gets a packed node of its own.
 *
 * Entry positions (quicklist_entry) point into a node and are invalidated
 * by any change to the list, except through the iterator functions that
 * say otherwise. */
#ifndef REDOUBT_QUICKLIST_H
#define REDOUBT_QUICKLIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUICKLIST_HEAD 0
#define QUICKLIST_TAIL 1

/* Iteration directions. */
#define QUICKLIST_ITER_FORWARD 0  /* head to tail */
#define QUICKLIST_ITER_BACKWARD 1 /* tail to head */

/* Elements of at most this many bytes count toward a node with a positive
 * fill; a node never grows past it (Redis's SIZE_SAFETY_LIMIT). */
#define QUICKLIST_SIZE_SAFETY_LIMIT 8192
/* Node containers (the values RDB_TYPE_LIST_QUICKLIST_2 stores). */
#define QUICKLIST_NODE_CONTAINER_PLAIN 1
#define QUICKLIST_NODE_CONTAINER_PACKED 2

/* The packed threshold: an element of at least this many bytes goes into a
 * PLAIN node. The default is Redis's; the maximum keeps every packed
 * element below the listpack's 4 GB entry limit. */
#define QUICKLIST_PACKED_THRESHOLD_DEFAULT ((size_t)1 << 30)
#define QUICKLIST_PACKED_THRESHOLD_MAX (((size_t)1 << 32) - ((size_t)1 << 20))

typedef struct quicklist_node {
  struct quicklist_node *prev;
  struct quicklist_node *next;
  /* PACKED: a listpack. PLAIN: an sds holding the one element. */
  unsigned char *entry;
  unsigned int count; /* entries: lp_length(entry), or 1 when PLAIN */
  int container;      /* QUICKLIST_NODE_CONTAINER_* */
} quicklist_node;

typedef struct quicklist {
  quicklist_node *head;
  quicklist_node *tail;
  unsigned long count; /* entries in all nodes */
  unsigned long len;   /* nodes */
  int fill;            /* list-max-listpack-size */
} quicklist;

/* One entry: a string (sval != NULL, pointing into the node) or an
 * integer (sval == NULL, lval; packed nodes only). node and p locate it
 * (for a PLAIN node p is the node's entry). */
typedef struct quicklist_entry {
  quicklist_node *node;
  unsigned char *p;
  const unsigned char *sval;
  size_t slen;
  long long lval;
} quicklist_entry;

typedef struct quicklist_iter {
  quicklist *ql;
  quicklist_node *node; /* node of the next entry, NULL at the end */
  unsigned char *p;     /* next entry in node (see quicklist_entry.p) */
  int started;          /* 0: p is not positioned in node yet */
  int direction;
} quicklist_iter;

/* quicklist_create returns an empty list with the given fill. */
quicklist *quicklist_create(int fill);
/* quicklist_release frees ql and its nodes; NULL is a no-op. */
void quicklist_release(quicklist *ql);
/* quicklist_dup returns a deep copy. */
quicklist *quicklist_dup(const quicklist *ql);
/* quicklist_set_fill changes the fill used by later inserts. */
void quicklist_set_fill(quicklist *ql, int fill);

/* quicklist_set_packed_threshold sets the process-wide packed threshold
 * (DEBUG QUICKLIST-PACKED-THRESHOLD): 0 restores the default. Returns 1, or
 * 0 (nothing changed) when |sz| exceeds QUICKLIST_PACKED_THRESHOLD_MAX. It
 * applies to later inserts; existing nodes stay as they are. */
int quicklist_set_packed_threshold(size_t sz);
/* quicklist_packed_threshold returns the current threshold. */
size_t quicklist_packed_threshold(void);

/* quicklist_push adds an element at the head or the tail. */
void quicklist_push(quicklist *ql, const void *s, size_t len, int where);
/* quicklist_append_listpack adds |lp| (a valid, non-empty listpack the
 * caller validated; ownership moves to the list) as a new tail node, as
 * the RDB loader does with a node read from a file. */
void quicklist_append_listpack(quicklist *ql, unsigned char *lp);
/* quicklist_append_plain adds |element| (an sds of at least one byte;
 * ownership moves to the list) as a new PLAIN tail node, whatever its size:
 * the RDB loader keeps the container the file names, as Redis does. */
void quicklist_append_plain(quicklist *ql, char *element);
/* quicklist_pop removes the head or tail element. Returns 0 when empty.
 * Otherwise sets *out_s to a new sds copy (string entries), or *out_s to
 * NULL and *out_ll (integer entries); the caller frees *out_s. */
int quicklist_pop(quicklist *ql, int where, char **out_s, size_t *out_len,
                  long long *out_ll);

/* quicklist_index finds the element at index (negative: from the tail).
 * Returns 1 and fills *entry, or 0 when out of range. */
int quicklist_index(quicklist *ql, long index, quicklist_entry *entry);
/* quicklist_replace_at_index replaces the element at index. Returns 1, or
 * 0 when out of range. */
int quicklist_replace_at_index(quicklist *ql, long index, const void *s,
                               size_t len);
/* quicklist_insert inserts s before or after the element of |entry|
 * (from quicklist_index or the iterator); iterators are invalidated. */
void quicklist_insert_before(quicklist *ql, quicklist_entry *entry,
                             const void *s, size_t len);
void quicklist_insert_after(quicklist *ql, quicklist_entry *entry,
                            const void *s, size_t len);
/* quicklist_del_range removes count elements from index start (negative
 * allowed); stops at the end. Returns the number removed. */
unsigned long quicklist_del_range(quicklist *ql, long start,
                                  unsigned long count);

/* Iteration. quicklist_next returns 1 and fills *entry, 0 at the end. */
void quicklist_iter_init(quicklist_iter *it, quicklist *ql, int direction);
/* quicklist_iter_init_at_index starts at index (negative: from the tail);
 * returns 0 if out of range. */
int quicklist_iter_init_at_index(quicklist_iter *it, quicklist *ql,
                                 int direction, long index);
int quicklist_next(quicklist_iter *it, quicklist_entry *entry);
/* quicklist_iter_delete removes the entry last returned by quicklist_next;
 * the iteration continues with the element after it. */
void quicklist_iter_delete(quicklist_iter *it, quicklist_entry *entry);

/* quicklist_entry_equals compares an entry with bytes. */
int quicklist_entry_equals(const quicklist_entry *entry, const void *s,
                           size_t len);
/* quicklist_entry_string yields the entry as bytes: integers are printed
 * into buf (at least 21 bytes). */
const unsigned char *quicklist_entry_string(const quicklist_entry *entry,
                                            unsigned char *buf,
                                            size_t *out_len);

/* quicklist_node_bytes: the bytes of a node's entry (the listpack's size,
 * or the PLAIN element's length), what Redis keeps as node->sz. */
size_t quicklist_node_bytes(const quicklist_node *node);
/* quicklist_bytes returns the memory used by nodes and entries (about). */
size_t quicklist_bytes(const quicklist *ql);

#ifdef __cplusplus
}
#endif

#endif
