// Unit tests for server/ds/idtree.c: the B+ tree keyed by 128-bit IDs.
// Random insert/remove/seek sequences against a std::map model (with the
// tree's invariants checked along the way), append-only fill (the uneven
// split), head removal (how streams are trimmed), and every seek op.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <utility>
#include <vector>

extern "C" {
#include "server/ds/idtree.h"
}

namespace {

using Key = std::pair<uint64_t, uint64_t>;

idtree_key K(uint64_t ms, uint64_t seq) { return idtree_key{ms, seq}; }
Key P(idtree_key k) { return Key(k.ms, k.seq); }
void *V(uint64_t v) { return reinterpret_cast<void *>(v + 1); }

void CheckAgainstModel(idtree *t, const std::map<Key, void *> &m) {
  ASSERT_TRUE(idtree_check(t));
  ASSERT_EQ(idtree_size(t), m.size());
  idtree_iter it;
  int ok = idtree_seek(&it, t, IDTREE_FIRST, K(0, 0));
  for (const auto &kv : m) {
    ASSERT_TRUE(ok);
    ASSERT_EQ(P(idtree_iter_key(&it)), kv.first);
    ASSERT_EQ(*idtree_iter_value(&it), kv.second);
    ok = idtree_iter_next(&it);
  }
  ASSERT_FALSE(ok);
  ok = idtree_seek(&it, t, IDTREE_LAST, K(0, 0));
  for (auto r = m.rbegin(); r != m.rend(); ++r) {
    ASSERT_TRUE(ok);
    ASSERT_EQ(P(idtree_iter_key(&it)), r->first);
    ok = idtree_iter_prev(&it);
  }
  ASSERT_FALSE(ok);
}

// Checks every seek op around `probe` against the model.
void CheckSeeks(idtree *t, const std::map<Key, void *> &m, Key probe) {
  idtree_key k = K(probe.first, probe.second);
  idtree_iter it;
  auto ge = m.lower_bound(probe);
  ASSERT_EQ(idtree_seek(&it, t, IDTREE_GE, k), ge != m.end());
  if (ge != m.end()) {
    ASSERT_EQ(P(idtree_iter_key(&it)), ge->first);
  }
  auto gt = m.upper_bound(probe);
  ASSERT_EQ(idtree_seek(&it, t, IDTREE_GT, k), gt != m.end());
  if (gt != m.end()) {
    ASSERT_EQ(P(idtree_iter_key(&it)), gt->first);
  }
  // LE: the element before upper_bound; LT: before lower_bound.
  bool has_le = gt != m.begin();
  ASSERT_EQ(idtree_seek(&it, t, IDTREE_LE, k), has_le);
  if (has_le) {
    ASSERT_EQ(P(idtree_iter_key(&it)), std::prev(gt)->first);
  }
  bool has_lt = ge != m.begin();
  ASSERT_EQ(idtree_seek(&it, t, IDTREE_LT, k), has_lt);
  if (has_lt) {
    ASSERT_EQ(P(idtree_iter_key(&it)), std::prev(ge)->first);
  }
  bool has_eq = m.count(probe) > 0;
  ASSERT_EQ(idtree_seek(&it, t, IDTREE_EQ, k), has_eq);
  ASSERT_EQ(idtree_find(t, k) != nullptr, has_eq);
}

TEST(IdTree, EmptyTree) {
  idtree *t = idtree_create();
  std::map<Key, void *> m;
  CheckAgainstModel(t, m);
  CheckSeeks(t, m, Key(5, 5));
  EXPECT_EQ(idtree_remove(t, K(1, 1), nullptr), 0);
  idtree_release(t, nullptr);
}

TEST(IdTree, KeyOrderIsMsThenSeq) {
  idtree *t = idtree_create();
  ASSERT_EQ(idtree_insert(t, K(2, 0), V(1)), 1);
  ASSERT_EQ(idtree_insert(t, K(1, UINT64_MAX), V(2)), 1);
  ASSERT_EQ(idtree_insert(t, K(UINT64_MAX, UINT64_MAX), V(3)), 1);
  ASSERT_EQ(idtree_insert(t, K(0, 0), V(4)), 1);
  ASSERT_EQ(idtree_insert(t, K(2, 0), V(9)), 0);  // already there
  std::map<Key, void *> m = {{Key(2, 0), V(1)},
                             {Key(1, UINT64_MAX), V(2)},
                             {Key(UINT64_MAX, UINT64_MAX), V(3)},
                             {Key(0, 0), V(4)}};
  CheckAgainstModel(t, m);
  idtree_release(t, nullptr);
}

TEST(IdTree, AppendsFillNodes) {
  idtree *t = idtree_create();
  std::map<Key, void *> m;
  for (uint64_t i = 0; i < 100000; i++) {
    ASSERT_EQ(idtree_insert(t, K(i / 3, i % 3), V(i)), 1);
    m[Key(i / 3, i % 3)] = V(i);
  }
  CheckAgainstModel(t, m);
  // Full leaves: about 24 bytes per entry plus the inner levels.
  EXPECT_LT(idtree_memory(t), 100000u * 28);
  // Trim from the head, the way streams are trimmed.
  for (uint64_t i = 0; i < 99990; i++) {
    void *v = nullptr;
    ASSERT_EQ(idtree_remove(t, K(i / 3, i % 3), &v), 1);
    ASSERT_EQ(v, V(i));
    m.erase(Key(i / 3, i % 3));
    if (i % 9973 == 0) CheckAgainstModel(t, m);
  }
  CheckAgainstModel(t, m);
  idtree_release(t, nullptr);
}

// A small tree (a consumer group's PEL of a few entries) has a small first
// leaf that grows as keys arrive, in any order, until it splits.
TEST(IdTree, SmallTreesStaySmallAndGrow) {
  idtree *t = idtree_create();
  std::map<Key, void *> m;
  ASSERT_EQ(idtree_insert(t, K(7, 0), V(7)), 1);
  m[Key(7, 0)] = V(7);
  EXPECT_LT(idtree_memory(t), 200u);
  for (uint64_t i = 0; i < 100; i++) {
    uint64_t ms = (i * 37) % 101;  // not in order
    if (m.count(Key(ms, 0))) continue;
    ASSERT_EQ(idtree_insert(t, K(ms, 0), V(ms)), 1);
    m[Key(ms, 0)] = V(ms);
    CheckAgainstModel(t, m);
    CheckSeeks(t, m, Key(ms, 0));
  }
  for (auto &kv : std::map<Key, void *>(m)) {
    ASSERT_EQ(idtree_remove(t, K(kv.first.first, kv.first.second), nullptr), 1);
    m.erase(kv.first);
    CheckAgainstModel(t, m);
  }
  idtree_release(t, nullptr);
}

TEST(IdTree, RandomOperationsMatchModel) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 20; round++) {
    idtree *t = idtree_create();
    std::map<Key, void *> m;
    uint64_t space = round % 2 ? 50 : 5000;  // dense or sparse keys
    for (int op = 0; op < 20000; op++) {
      Key k(rng() % space, rng() % 4);
      int what = static_cast<int>(rng() % 10);
      if (what < 5) {
        int added = idtree_insert(t, K(k.first, k.second), V(op));
        ASSERT_EQ(added, m.count(k) ? 0 : 1);
        if (added) m[k] = V(op);
      } else if (what < 9) {
        void *v = nullptr;
        int removed = idtree_remove(t, K(k.first, k.second), &v);
        ASSERT_EQ(removed, m.count(k) ? 1 : 0);
        if (removed) {
          ASSERT_EQ(v, m[k]);
          m.erase(k);
        }
      } else {
        CheckSeeks(t, m, k);
      }
      if (op % 1000 == 0) CheckAgainstModel(t, m);
    }
    CheckAgainstModel(t, m);
    // Drain in random order down to empty.
    std::vector<Key> keys;
    for (const auto &kv : m) keys.push_back(kv.first);
    std::shuffle(keys.begin(), keys.end(), rng);
    for (const Key &k : keys) {
      ASSERT_EQ(idtree_remove(t, K(k.first, k.second), nullptr), 1);
      m.erase(k);
      if (m.size() % 500 == 0) CheckAgainstModel(t, m);
    }
    CheckAgainstModel(t, m);
    idtree_release(t, nullptr);
  }
}

TEST(IdTree, ValueSlotCanBeReplaced) {
  idtree *t = idtree_create();
  for (uint64_t i = 0; i < 1000; i++) idtree_insert(t, K(i, 0), V(i));
  void **slot = idtree_find(t, K(500, 0));
  ASSERT_NE(slot, nullptr);
  *slot = V(12345);
  idtree_iter it;
  ASSERT_TRUE(idtree_seek(&it, t, IDTREE_EQ, K(500, 0)));
  EXPECT_EQ(*idtree_iter_value(&it), V(12345));
  *idtree_iter_value(&it) = V(7);
  EXPECT_EQ(*idtree_find(t, K(500, 0)), V(7));
  idtree_release(t, nullptr);
}

int freed = 0;
void CountFree(void *) { freed++; }

TEST(IdTree, ReleaseFreesEveryValue) {
  idtree *t = idtree_create();
  for (uint64_t i = 0; i < 5000; i++)
    idtree_insert(t, K(i * 7 % 5000, i), V(i));
  freed = 0;
  idtree_release(t, CountFree);
  EXPECT_EQ(freed, 5000);
}

}  // namespace
