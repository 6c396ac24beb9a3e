/* idtree.c: the B+ tree of idtree.h.
 *
 * Shape: leaves hold up to IDTREE_ORDER sorted (key, value) pairs and are
 * linked both ways; inner nodes hold up to IDTREE_ORDER children and one
 * separator key less: every key under children[i + 1] is >= keys[i], every
 * key under children[i] is < keys[i]. All leaves are at the same depth
 * (t->height inner levels above them). No node is ever empty: a leaf (or
 * inner node) that loses its last entry is unlinked at once, and a root
 * with a single child is replaced by that child.
 *
 * Splits: a full node splits in two halves, except the rightmost node of
 * its level when the new entry goes at its end (appends): then the full
 * node stays as it is and the new entry starts a new node, so a tree
 * filled by appends has full nodes. Removals merge a node that falls under
 * IDTREE_MIN_FILL with a sibling when both fit in one node, and otherwise
 * move entries over from the sibling. */
#include "server/ds/idtree.h"

#include <string.h>

#include "server/base/zmalloc.h"

/* 30 entries make a full leaf 40 + 30 * 24 = 760 bytes and an inner node
 * 8 + 29 * 16 + 30 * 8 = 712 bytes: both in jemalloc's 768-byte class. */
#define IDTREE_ORDER 30
#define IDTREE_MIN_FILL (IDTREE_ORDER / 4)
/* A tree's first leaf starts with room for this many keys and doubles up
 * to IDTREE_ORDER: most streams' consumer groups and PELs hold a few
 * entries, and a full leaf for each would cost 768 bytes. Only a root leaf
 * is ever smaller than full (a leaf splits only when full). */
#define IDTREE_FIRST_CAP 2

struct idtree_leaf {
  int count;
  int cap; /* keys and values have room for cap entries */
  idtree_leaf *prev, *next;
  idtree_key *keys; /* both arrays follow the header in one allocation */
  void **values;
};

static size_t leaf_bytes(int cap) {
  return sizeof(idtree_leaf) +
         (size_t)cap * (sizeof(idtree_key) + sizeof(void *));
}

static void leaf_set_arrays(idtree_leaf *leaf) {
  leaf->keys = (idtree_key *)(leaf + 1);
  leaf->values = (void **)(leaf->keys + leaf->cap);
}

typedef struct idtree_inner {
  int count; /* children */
  idtree_key keys[IDTREE_ORDER - 1];
  void *children[IDTREE_ORDER];
} idtree_inner;

struct idtree {
  void *root; /* NULL when empty */
  int height; /* inner levels above the leaves */
  size_t size;
  size_t leaves, inners;
  idtree_leaf *first, *last;
};

idtree *idtree_create(void) { return zcalloc(sizeof(idtree)); }

static void free_node(void *node, int height, void (*free_value)(void *)) {
  if (height == 0) {
    idtree_leaf *leaf = node;
    if (free_value != NULL) {
      for (int i = 0; i < leaf->count; i++) {
        free_value(leaf->values[i]);
      }
    }
    zfree(leaf);
    return;
  }
  idtree_inner *in = node;
  for (int i = 0; i < in->count; i++) {
    free_node(in->children[i], height - 1, free_value);
  }
  zfree(in);
}

void idtree_release(idtree *t, void (*free_value)(void *value)) {
  if (t == NULL) {
    return;
  }
  if (t->root != NULL) {
    free_node(t->root, t->height, free_value);
  }
  zfree(t);
}

size_t idtree_size(const idtree *t) { return t->size; }

size_t idtree_memory(const idtree *t) {
  size_t leaves = t->height == 0 && t->root != NULL
                      ? leaf_bytes(((idtree_leaf *)t->root)->cap)
                      : t->leaves * leaf_bytes(IDTREE_ORDER);
  return sizeof(*t) + leaves + t->inners * sizeof(idtree_inner);
}

/* ------------------------------------------------------------------ */
/* Searching inside a node                                              */
/* ------------------------------------------------------------------ */

/* lower_bound: the first index whose key is >= key (n if none). */
static int lower_bound(const idtree_key *keys, int n, const idtree_key *key) {
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (idtree_key_cmp(&keys[mid], key) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/* upper_bound: the first index whose key is > key (n if none). */
static int upper_bound(const idtree_key *keys, int n, const idtree_key *key) {
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (idtree_key_cmp(&keys[mid], key) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/* child_index: which child of |in| may hold key. */
static int child_index(const idtree_inner *in, const idtree_key *key) {
  return upper_bound(in->keys, in->count - 1, key);
}

static idtree_leaf *find_leaf(const idtree *t, const idtree_key *key) {
  void *node = t->root;
  for (int h = t->height; h > 0; h--) {
    idtree_inner *in = node;
    node = in->children[child_index(in, key)];
  }
  return node;
}

void **idtree_find(idtree *t, idtree_key key) {
  if (t->root == NULL) {
    return NULL;
  }
  idtree_leaf *leaf = find_leaf(t, &key);
  int pos = lower_bound(leaf->keys, leaf->count, &key);
  if (pos < leaf->count && idtree_key_cmp(&leaf->keys[pos], &key) == 0) {
    return &leaf->values[pos];
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Insertion                                                            */
/* ------------------------------------------------------------------ */

/* A split hands its parent the new right node and the smallest key under
 * it. */
typedef struct split_result {
  idtree_key key;
  void *right;
} split_result;

static idtree_leaf *leaf_new_cap(idtree *t, int cap) {
  idtree_leaf *leaf = zmalloc(leaf_bytes(cap));
  leaf->count = 0;
  leaf->cap = cap;
  leaf_set_arrays(leaf);
  leaf->prev = leaf->next = NULL;
  t->leaves++;
  return leaf;
}

static idtree_leaf *leaf_new(idtree *t) {
  return leaf_new_cap(t, IDTREE_ORDER);
}

/* leaf_grow doubles the room of the root leaf (the only one that can be
 * smaller than full) and returns it at its new address. */
static idtree_leaf *leaf_grow(idtree *t, idtree_leaf *leaf) {
  int old_cap = leaf->cap;
  int cap = old_cap * 2 < IDTREE_ORDER ? old_cap * 2 : IDTREE_ORDER;
  leaf = zrealloc(leaf, leaf_bytes(cap));
  leaf->cap = cap;
  leaf_set_arrays(leaf);
  /* The values sat right after old_cap keys: move them after cap. */
  memmove(leaf->values, (void **)(leaf->keys + old_cap),
          sizeof(void *) * (size_t)leaf->count);
  t->root = leaf;
  t->first = t->last = leaf;
  return leaf;
}

static idtree_inner *inner_new(idtree *t) {
  idtree_inner *in = zmalloc(sizeof(*in));
  in->count = 0;
  t->inners++;
  return in;
}

static void leaf_insert_at(idtree_leaf *leaf, int pos, idtree_key key,
                           void *value) {
  int tail = leaf->count - pos;
  memmove(&leaf->keys[pos + 1], &leaf->keys[pos],
          sizeof(idtree_key) * (size_t)tail);
  memmove(&leaf->values[pos + 1], &leaf->values[pos],
          sizeof(void *) * (size_t)tail);
  leaf->keys[pos] = key;
  leaf->values[pos] = value;
  leaf->count++;
}

/* Returns -1 if the key exists, 0 when inserted, 1 when inserted and the
 * leaf split (*out filled). */
static int leaf_insert(idtree *t, idtree_leaf *leaf, idtree_key key,
                       void *value, int rightmost, split_result *out) {
  int pos = lower_bound(leaf->keys, leaf->count, &key);
  if (pos < leaf->count && idtree_key_cmp(&leaf->keys[pos], &key) == 0) {
    return -1;
  }
  if (leaf->count < IDTREE_ORDER) {
    if (leaf->count == leaf->cap) {
      leaf = leaf_grow(t, leaf);
    }
    leaf_insert_at(leaf, pos, key, value);
    return 0;
  }
  int split_at =
      (rightmost && pos == leaf->count) ? leaf->count : leaf->count / 2;
  idtree_leaf *right = leaf_new(t);
  int moved = leaf->count - split_at;
  memcpy(right->keys, &leaf->keys[split_at], sizeof(idtree_key) * moved);
  memcpy(right->values, &leaf->values[split_at], sizeof(void *) * moved);
  right->count = moved;
  leaf->count = split_at;
  if (pos < split_at) {
    leaf_insert_at(leaf, pos, key, value);
  } else {
    leaf_insert_at(right, pos - split_at, key, value);
  }
  right->next = leaf->next;
  right->prev = leaf;
  if (leaf->next != NULL) {
    leaf->next->prev = right;
  } else {
    t->last = right;
  }
  leaf->next = right;
  out->key = right->keys[0];
  out->right = right;
  return 1;
}

/* inner_insert_child puts (sep, child) right after children[idx]; splits
 * like leaf_insert. */
static int inner_insert_child(idtree *t, idtree_inner *in, int idx,
                              const split_result *sr, int rightmost,
                              split_result *out) {
  if (in->count < IDTREE_ORDER) {
    int tail = in->count - 1 - idx;
    memmove(&in->keys[idx + 1], &in->keys[idx], sizeof(idtree_key) * tail);
    memmove(&in->children[idx + 2], &in->children[idx + 1],
            sizeof(void *) * tail);
    in->keys[idx] = sr->key;
    in->children[idx + 1] = sr->right;
    in->count++;
    return 0;
  }
  /* Lay the ORDER + 1 children out in order, then cut. */
  idtree_key keys[IDTREE_ORDER];
  void *children[IDTREE_ORDER + 1];
  int n = 0, k = 0;
  for (int i = 0; i < in->count; i++) {
    children[n++] = in->children[i];
    if (i == idx) {
      keys[k++] = sr->key;
      children[n++] = sr->right;
    }
    if (i < in->count - 1) {
      keys[k++] = in->keys[i];
    }
  }
  /* keys[i] separates children[i] and children[i + 1]. */
  int left_children = (rightmost && idx == in->count - 1)
                          ? IDTREE_ORDER
                          : (IDTREE_ORDER + 1) / 2;
  idtree_inner *right = inner_new(t);
  in->count = left_children;
  memcpy(in->children, children, sizeof(void *) * left_children);
  memcpy(in->keys, keys, sizeof(idtree_key) * (left_children - 1));
  right->count = IDTREE_ORDER + 1 - left_children;
  memcpy(right->children, &children[left_children],
         sizeof(void *) * right->count);
  memcpy(right->keys, &keys[left_children],
         sizeof(idtree_key) * (right->count - 1));
  out->key = keys[left_children - 1];
  out->right = right;
  return 1;
}

static int insert_rec(idtree *t, void *node, int height, idtree_key key,
                      void *value, int rightmost, split_result *out) {
  if (height == 0) {
    return leaf_insert(t, node, key, value, rightmost, out);
  }
  idtree_inner *in = node;
  int idx = child_index(in, &key);
  split_result sr;
  int rc = insert_rec(t, in->children[idx], height - 1, key, value,
                      rightmost && idx == in->count - 1, &sr);
  if (rc != 1) {
    return rc;
  }
  return inner_insert_child(t, in, idx, &sr, rightmost, out);
}

int idtree_insert(idtree *t, idtree_key key, void *value) {
  if (t->root == NULL) {
    idtree_leaf *leaf = leaf_new_cap(t, IDTREE_FIRST_CAP);
    leaf_insert_at(leaf, 0, key, value);
    t->root = leaf;
    t->height = 0;
    t->first = t->last = leaf;
    t->size = 1;
    return 1;
  }
  split_result sr;
  int rc = insert_rec(t, t->root, t->height, key, value, 1, &sr);
  if (rc < 0) {
    return 0;
  }
  if (rc == 1) {
    idtree_inner *root = inner_new(t);
    root->count = 2;
    root->children[0] = t->root;
    root->children[1] = sr.right;
    root->keys[0] = sr.key;
    t->root = root;
    t->height++;
  }
  t->size++;
  return 1;
}

/* ------------------------------------------------------------------ */
/* Removal                                                              */
/* ------------------------------------------------------------------ */

static int node_count(void *node, int height) {
  return height == 0 ? ((idtree_leaf *)node)->count
                     : ((idtree_inner *)node)->count;
}

/* inner_remove_child drops children[idx] (already freed or merged away)
 * and the separator that went with it. */
static void inner_remove_child(idtree_inner *in, int idx) {
  int sep = idx > 0 ? idx - 1 : 0;
  memmove(&in->keys[sep], &in->keys[sep + 1],
          sizeof(idtree_key) * (in->count - 2 - sep));
  memmove(&in->children[idx], &in->children[idx + 1],
          sizeof(void *) * (in->count - 1 - idx));
  in->count--;
}

static void leaf_unlink(idtree *t, idtree_leaf *leaf) {
  if (leaf->prev != NULL) {
    leaf->prev->next = leaf->next;
  } else {
    t->first = leaf->next;
  }
  if (leaf->next != NULL) {
    leaf->next->prev = leaf->prev;
  } else {
    t->last = leaf->prev;
  }
}

/* merge_children appends children[idx + 1] to children[idx] (they fit in
 * one node) and drops the right one. */
static void merge_children(idtree *t, idtree_inner *parent, int idx,
                           int height) {
  void *l = parent->children[idx], *r = parent->children[idx + 1];
  if (height == 0) {
    idtree_leaf *left = l, *right = r;
    memcpy(&left->keys[left->count], right->keys,
           sizeof(idtree_key) * right->count);
    memcpy(&left->values[left->count], right->values,
           sizeof(void *) * right->count);
    left->count += right->count;
    leaf_unlink(t, right);
    zfree(right);
    t->leaves--;
  } else {
    idtree_inner *left = l, *right = r;
    left->keys[left->count - 1] = parent->keys[idx];
    memcpy(&left->keys[left->count], right->keys,
           sizeof(idtree_key) * (right->count - 1));
    memcpy(&left->children[left->count], right->children,
           sizeof(void *) * right->count);
    left->count += right->count;
    zfree(right);
    t->inners--;
  }
  inner_remove_child(parent, idx + 1);
}

/* shift_one moves one entry between children[idx] and children[idx + 1]
 * (to the right when to_right), fixing the separator. */
static void shift_one(idtree_inner *parent, int idx, int height, int to_right) {
  if (height == 0) {
    idtree_leaf *left = parent->children[idx];
    idtree_leaf *right = parent->children[idx + 1];
    if (to_right) {
      leaf_insert_at(right, 0, left->keys[left->count - 1],
                     left->values[left->count - 1]);
      left->count--;
    } else {
      leaf_insert_at(left, left->count, right->keys[0], right->values[0]);
      memmove(right->keys, &right->keys[1],
              sizeof(idtree_key) * (right->count - 1));
      memmove(right->values, &right->values[1],
              sizeof(void *) * (right->count - 1));
      right->count--;
    }
    parent->keys[idx] = right->keys[0];
    return;
  }
  idtree_inner *left = parent->children[idx];
  idtree_inner *right = parent->children[idx + 1];
  if (to_right) {
    memmove(&right->keys[1], right->keys,
            sizeof(idtree_key) * (right->count - 1));
    memmove(&right->children[1], right->children,
            sizeof(void *) * right->count);
    right->keys[0] = parent->keys[idx];
    right->children[0] = left->children[left->count - 1];
    right->count++;
    parent->keys[idx] = left->keys[left->count - 2];
    left->count--;
  } else {
    left->keys[left->count - 1] = parent->keys[idx];
    left->children[left->count] = right->children[0];
    left->count++;
    parent->keys[idx] = right->keys[0];
    memmove(right->keys, &right->keys[1],
            sizeof(idtree_key) * (right->count - 2));
    memmove(right->children, &right->children[1],
            sizeof(void *) * (right->count - 1));
    right->count--;
  }
}

/* rebalance_child restores children[idx] after a removal under it. */
static void rebalance_child(idtree *t, idtree_inner *parent, int idx,
                            int height) {
  void *child = parent->children[idx];
  int count = node_count(child, height);
  if (count == 0) {
    if (height == 0) {
      leaf_unlink(t, child);
      t->leaves--;
    } else {
      t->inners--;
    }
    zfree(child);
    inner_remove_child(parent, idx);
    return;
  }
  if (count >= IDTREE_MIN_FILL || parent->count < 2) {
    return;
  }
  /* Pair with the right sibling, or the left one for the last child. */
  int left_idx = idx < parent->count - 1 ? idx : idx - 1;
  int lc = node_count(parent->children[left_idx], height);
  int rc = node_count(parent->children[left_idx + 1], height);
  if (lc + rc <= IDTREE_ORDER) {
    merge_children(t, parent, left_idx, height);
    return;
  }
  while (lc - rc > 1) {
    shift_one(parent, left_idx, height, 1);
    lc--;
    rc++;
  }
  while (rc - lc > 1) {
    shift_one(parent, left_idx, height, 0);
    rc--;
    lc++;
  }
}

static int remove_rec(idtree *t, void *node, int height, idtree_key key,
                      void **out_value) {
  if (height == 0) {
    idtree_leaf *leaf = node;
    int pos = lower_bound(leaf->keys, leaf->count, &key);
    if (pos >= leaf->count || idtree_key_cmp(&leaf->keys[pos], &key) != 0) {
      return 0;
    }
    if (out_value != NULL) {
      *out_value = leaf->values[pos];
    }
    int tail = leaf->count - pos - 1;
    memmove(&leaf->keys[pos], &leaf->keys[pos + 1], sizeof(idtree_key) * tail);
    memmove(&leaf->values[pos], &leaf->values[pos + 1], sizeof(void *) * tail);
    leaf->count--;
    return 1;
  }
  idtree_inner *in = node;
  int idx = child_index(in, &key);
  if (!remove_rec(t, in->children[idx], height - 1, key, out_value)) {
    return 0;
  }
  rebalance_child(t, in, idx, height - 1);
  return 1;
}

int idtree_remove(idtree *t, idtree_key key, void **out_value) {
  if (t->root == NULL || !remove_rec(t, t->root, t->height, key, out_value)) {
    return 0;
  }
  t->size--;
  /* Shrink the root: empty, or an inner node with one child. */
  while (t->root != NULL) {
    int count = node_count(t->root, t->height);
    if (count == 0) {
      if (t->height == 0) {
        t->leaves--;
        t->first = t->last = NULL;
      } else {
        t->inners--;
      }
      zfree(t->root);
      t->root = NULL;
      t->height = 0;
    } else if (t->height > 0 && count == 1) {
      idtree_inner *old = t->root;
      t->root = old->children[0];
      t->height--;
      zfree(old);
      t->inners--;
    } else {
      break;
    }
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Iteration                                                            */
/* ------------------------------------------------------------------ */
static int iter_set(idtree_iter *it, idtree_leaf *leaf, int pos) {
  /* Leaves are never empty: pos out of range means the neighbour. */
  if (leaf != NULL && pos >= leaf->count) {
    leaf = leaf->next;
    pos = 0;
  } else if (leaf != NULL && pos < 0) {
    leaf = leaf->prev;
    pos = leaf != NULL ? leaf->count - 1 : 0;
  }
  it->leaf = leaf;
  it->pos = pos;
  return leaf != NULL;
}

int idtree_seek(idtree_iter *it, idtree *t, int op, idtree_key key) {
  it->tree = t;
  it->leaf = NULL;
  it->pos = 0;
  if (t->root == NULL) {
    return 0;
  }
  if (op == IDTREE_FIRST) {
    return iter_set(it, t->first, 0);
  }
  if (op == IDTREE_LAST) {
    return iter_set(it, t->last, t->last->count - 1);
  }
  idtree_leaf *leaf = find_leaf(t, &key);
  switch (op) {
    case IDTREE_GE:
      return iter_set(it, leaf, lower_bound(leaf->keys, leaf->count, &key));
    case IDTREE_GT:
      return iter_set(it, leaf, upper_bound(leaf->keys, leaf->count, &key));
    case IDTREE_LE:
      return iter_set(it, leaf, upper_bound(leaf->keys, leaf->count, &key) - 1);
    case IDTREE_LT:
      return iter_set(it, leaf, lower_bound(leaf->keys, leaf->count, &key) - 1);
    case IDTREE_EQ: {
      int pos = lower_bound(leaf->keys, leaf->count, &key);
      if (pos < leaf->count && idtree_key_cmp(&leaf->keys[pos], &key) == 0) {
        return iter_set(it, leaf, pos);
      }
      return 0;
    }
    default:
      return 0;
  }
}

int idtree_iter_next(idtree_iter *it) {
  if (it->leaf == NULL) {
    return 0;
  }
  return iter_set(it, it->leaf, it->pos + 1);
}

int idtree_iter_prev(idtree_iter *it) {
  if (it->leaf == NULL) {
    return 0;
  }
  return iter_set(it, it->leaf, it->pos - 1);
}

idtree_key idtree_iter_key(const idtree_iter *it) {
  return it->leaf->keys[it->pos];
}

void **idtree_iter_value(const idtree_iter *it) {
  return &it->leaf->values[it->pos];
}

/* ------------------------------------------------------------------ */
/* Invariants                                                           */
/* ------------------------------------------------------------------ */
typedef struct check_state {
  const idtree *t;
  idtree_leaf *expect_next; /* the next leaf in key order */
  size_t keys, leaves, inners;
  int ok;
} check_state;

/* check_node: every key under node is in [lo, hi) (NULL: unbounded). */
static void check_node(check_state *cs, void *node, int height,
                       const idtree_key *lo, const idtree_key *hi,
                       int is_root) {
  int count = node_count(node, height);
  if (count < 1 || count > IDTREE_ORDER) {
    cs->ok = 0;
    return;
  }
  if (height == 0) {
    idtree_leaf *leaf = node;
    cs->leaves++;
    cs->keys += (size_t)leaf->count;
    if (leaf != cs->expect_next) {
      cs->ok = 0;
    }
    for (int i = 0; i < leaf->count; i++) {
      if ((i > 0 && idtree_key_cmp(&leaf->keys[i - 1], &leaf->keys[i]) >= 0) ||
          (lo && idtree_key_cmp(&leaf->keys[i], lo) < 0) ||
          (hi && idtree_key_cmp(&leaf->keys[i], hi) >= 0)) {
        cs->ok = 0;
      }
    }
    if (leaf->next != NULL && leaf->next->prev != leaf) {
      cs->ok = 0;
    }
    cs->expect_next = leaf->next;
    return;
  }
  idtree_inner *in = node;
  cs->inners++;
  if (!is_root && count < 1) {
    cs->ok = 0;
  }
  for (int i = 0; i < count; i++) {
    const idtree_key *clo = i == 0 ? lo : &in->keys[i - 1];
    const idtree_key *chi = i == count - 1 ? hi : &in->keys[i];
    if (i > 0 && i < count - 1 &&
        idtree_key_cmp(&in->keys[i - 1], &in->keys[i]) >= 0) {
      cs->ok = 0;
    }
    check_node(cs, in->children[i], height - 1, clo, chi, 0);
  }
}

int idtree_check(const idtree *t) {
  if (t->root == NULL) {
    return t->size == 0 && t->first == NULL && t->last == NULL &&
           t->leaves == 0 && t->inners == 0;
  }
  check_state cs = {t, t->first, 0, 0, 0, 1};
  if (t->first->prev != NULL || t->last->next != NULL) {
    return 0;
  }
  check_node(&cs, t->root, t->height, NULL, NULL, 1);
  if (t->height > 0 && node_count(t->root, t->height) < 2) {
    cs.ok = 0;
  }
  return cs.ok && cs.expect_next == NULL && cs.keys == t->size &&
         cs.leaves == t->leaves && cs.inners == t->inners;
}
