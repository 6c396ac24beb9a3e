/* idtree.h: an ordered map from 128-bit keys to pointers, as a B+ tree.
 *
 * Streams keep three maps of this kind: entry IDs -> listpack nodes (the
 * stream itself), and pending IDs -> pending entries (a consumer group's
 * PEL, each consumer's PEL). Keys are (ms, seq) pairs ordered by ms, then
 * seq: a stream ID, or any 128-bit number split in two halves.
 *
 * Why a B+ tree rather than a radix tree (Redis's rax): lookups compare two
 * integers instead of walking 16 key bytes one node per branching byte,
 * leaves hold 30 keys and values contiguously (a seek touches
 * ~log30(n) nodes), and in-order iteration walks linked leaves. Appends at
 * the end of the map (the common case for stream IDs, which only grow)
 * split the rightmost node unevenly, so nodes filled by appends stay full
 * instead of half full.
 *
 * Values are opaque pointers; the map never frees them unless
 * idtree_release is given a callback. Lookups return a pointer to the
 * value's slot, which stays valid until the map is next modified, so a
 * caller can replace a value (a reallocated listpack) in place. */
#ifndef REDOUBT_DS_IDTREE_H
#define REDOUBT_DS_IDTREE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct idtree_key {
  uint64_t ms;
  uint64_t seq;
} idtree_key;

/* idtree_key_cmp returns <0, 0 or >0 as a is smaller, equal or greater. */
static inline int idtree_key_cmp(const idtree_key *a, const idtree_key *b) {
  if (a->ms != b->ms) {
    return a->ms < b->ms ? -1 : 1;
  }
  if (a->seq != b->seq) {
    return a->seq < b->seq ? -1 : 1;
  }
  return 0;
}

typedef struct idtree idtree;
typedef struct idtree_leaf idtree_leaf;

/* idtree_iter: a position on one entry of a tree, or past either end
 * (leaf NULL). Any insertion or removal invalidates every iterator of the
 * tree except where a function says otherwise; seek again afterwards. */
typedef struct idtree_iter {
  idtree *tree;
  idtree_leaf *leaf;
  int pos;
} idtree_iter;

/* idtree_create returns an empty tree. */
idtree *idtree_create(void);
/* idtree_release frees the tree, calling free_value (may be NULL) on every
 * value. NULL is a no-op. */
void idtree_release(idtree *t, void (*free_value)(void *value));
/* idtree_size returns the number of keys. */
size_t idtree_size(const idtree *t);
/* idtree_memory returns the bytes allocated by the tree's nodes (values
 * not included). */
size_t idtree_memory(const idtree *t);

/* idtree_insert adds key -> value. Returns 1, or 0 (and changes nothing)
 * when the key is already present. */
int idtree_insert(idtree *t, idtree_key key, void *value);
/* idtree_find returns the slot holding key's value, or NULL. */
void **idtree_find(idtree *t, idtree_key key);
/* idtree_remove removes key; its value goes to *out_value (may be NULL).
 * Returns 1, or 0 when the key is absent. */
int idtree_remove(idtree *t, idtree_key key, void **out_value);

/* Seek operations. */
#define IDTREE_FIRST 0 /* the smallest key (key ignored) */
#define IDTREE_LAST 1  /* the largest key (key ignored) */
#define IDTREE_GE 2    /* the smallest key >= key */
#define IDTREE_GT 3    /* the smallest key > key */
#define IDTREE_LE 4    /* the largest key <= key */
#define IDTREE_LT 5    /* the largest key < key */
#define IDTREE_EQ 6    /* key itself */

/* idtree_seek positions it on the entry |op| selects. Returns 1 if there
 * is one, 0 otherwise (it is then past the end). */
int idtree_seek(idtree_iter *it, idtree *t, int op, idtree_key key);
/* idtree_iter_next / idtree_iter_prev move to the following / preceding
 * entry. Return 1 if there is one. Moving from past the end stays there. */
int idtree_iter_next(idtree_iter *it);
int idtree_iter_prev(idtree_iter *it);
/* idtree_iter_valid: is it on an entry? */
static inline int idtree_iter_valid(const idtree_iter *it) {
  return it->leaf != NULL;
}
/* idtree_iter_key / idtree_iter_value: the current entry (it must be
 * valid). The value slot may be assigned to replace the value. */
idtree_key idtree_iter_key(const idtree_iter *it);
void **idtree_iter_value(const idtree_iter *it);

/* idtree_check verifies the tree's invariants (key order, node fill, leaf
 * links, counts). Returns 1 if they hold. For tests. */
int idtree_check(const idtree *t);

#ifdef __cplusplus
}
#endif

#endif
