// Unit tests for server/quicklist.c: random operation sequences (push, pop,
// insert, replace, delete ranges, deletion while iterating both ways)
// checked against a std::deque model, for several fill settings and packed
// thresholds (elements at or above the threshold live in PLAIN nodes), plus
// the node-size invariants.
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

extern "C" {
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "server/ds/sds.h"
}

namespace {

std::string EntryString(const quicklist_entry &e) {
  unsigned char buf[32];
  size_t len = 0;
  const unsigned char *s = quicklist_entry_string(&e, buf, &len);
  return std::string(reinterpret_cast<const char *>(s), len);
}

// Restores the default packed threshold when a test ends.
struct ThresholdGuard {
  explicit ThresholdGuard(size_t sz) {
    EXPECT_EQ(quicklist_set_packed_threshold(sz), 1);
  }
  ~ThresholdGuard() { quicklist_set_packed_threshold(0); }
};

// Every element of at least the threshold is in a PLAIN node and every
// PLAIN node holds one (the threshold does not change during a run).
void CheckNodes(quicklist *ql) {
  unsigned long total = 0, nodes = 0;
  quicklist_node *prev = nullptr;
  size_t threshold = quicklist_packed_threshold();
  for (quicklist_node *n = ql->head; n != nullptr; n = n->next) {
    ASSERT_EQ(n->prev, prev);
    ASSERT_GT(n->count, 0u) << "empty node kept";
    if (n->container == QUICKLIST_NODE_CONTAINER_PLAIN) {
      ASSERT_EQ(n->count, 1u);
      ASSERT_GE(quicklist_node_bytes(n), threshold);
    } else {
      ASSERT_EQ(n->container, QUICKLIST_NODE_CONTAINER_PACKED);
      ASSERT_EQ(lp_length(n->entry), n->count);
      ASSERT_EQ(lp_bytes(n->entry), quicklist_node_bytes(n));
      for (unsigned char *p = lp_first(n->entry); p != nullptr;
           p = lp_next(n->entry, p)) {
        unsigned char buf[LP_INTBUF_SIZE];
        uint32_t len = 0;
        lp_get_string(p, &len, buf);
        ASSERT_LT(len, threshold) << "a large element in a packed node";
      }
    }
    if (ql->fill > 0 && n->count > 1) {
      ASSERT_LE(n->count, (unsigned int)ql->fill);
    }
    total += n->count;
    nodes++;
    prev = n;
  }
  ASSERT_EQ(ql->tail, prev);
  ASSERT_EQ(total, ql->count);
  ASSERT_EQ(nodes, ql->len);
}

void CheckAgainstModel(quicklist *ql, const std::deque<std::string> &m) {
  CheckNodes(ql);
  ASSERT_EQ(ql->count, m.size());
  quicklist_iter it;
  quicklist_entry e;
  size_t i = 0;
  quicklist_iter_init(&it, ql, QUICKLIST_ITER_FORWARD);
  while (quicklist_next(&it, &e)) {
    ASSERT_LT(i, m.size());
    ASSERT_EQ(EntryString(e), m[i]) << "index " << i;
    i++;
  }
  ASSERT_EQ(i, m.size());
  quicklist_iter_init(&it, ql, QUICKLIST_ITER_BACKWARD);
  while (quicklist_next(&it, &e)) {
    ASSERT_GT(i, 0u);
    i--;
    ASSERT_EQ(EntryString(e), m[i]);
  }
  ASSERT_EQ(i, 0u);
}

std::string RandomValue(std::mt19937 &rng) {
  switch (rng() % 5) {
    case 0:
      return std::to_string((long long)(rng() % 2000) - 1000);
    case 1:
      return std::string(1 + rng() % 300, 'a' + rng() % 26);
    case 2:
      return "v" + std::to_string(rng() % 10);
    case 3:
      return "";
    default:
      return std::to_string(rng());
  }
}

void RunRandom(int fill, unsigned seed, int steps) {
  std::mt19937 rng(seed);
  quicklist *ql = quicklist_create(fill);
  std::deque<std::string> m;
  unsigned long max_nodes = 0;
  for (int step = 0; step < steps; step++) {
    // Pushes are favoured so that lists grow over many nodes.
    int op = rng() % 16;
    if (op >= 12) {
      op %= 4;
    }
    std::string v = RandomValue(rng);
    long n = (long)m.size();
    switch (op) {
      case 0:
      case 1:
        quicklist_push(ql, v.data(), v.size(), QUICKLIST_HEAD);
        m.push_front(v);
        break;
      case 2:
      case 3:
        quicklist_push(ql, v.data(), v.size(), QUICKLIST_TAIL);
        m.push_back(v);
        break;
      case 4: {
        int where = rng() % 2 ? QUICKLIST_HEAD : QUICKLIST_TAIL;
        char *s = nullptr;
        size_t len = 0;
        long long ll = 0;
        int ok = quicklist_pop(ql, where, &s, &len, &ll);
        ASSERT_EQ(ok, m.empty() ? 0 : 1);
        if (ok) {
          std::string got = s ? std::string(s, len) : std::to_string(ll);
          if (s) {
            sds_free(s);
          }
          if (where == QUICKLIST_HEAD) {
            ASSERT_EQ(got, m.front());
            m.pop_front();
          } else {
            ASSERT_EQ(got, m.back());
            m.pop_back();
          }
        }
        break;
      }
      case 5: {
        if (n == 0) break;
        long idx = (long)(rng() % n) - (rng() % 2 ? n : 0);
        quicklist_entry e;
        ASSERT_EQ(quicklist_index(ql, idx, &e), 1);
        long pos = idx < 0 ? n + idx : idx;
        ASSERT_EQ(EntryString(e), m[pos]);
        if (rng() % 2) {
          quicklist_insert_after(ql, &e, v.data(), v.size());
          m.insert(m.begin() + pos + 1, v);
        } else {
          quicklist_insert_before(ql, &e, v.data(), v.size());
          m.insert(m.begin() + pos, v);
        }
        break;
      }
      case 6: {
        if (n == 0) break;
        long idx = (long)(rng() % n);
        ASSERT_EQ(quicklist_replace_at_index(ql, idx, v.data(), v.size()), 1);
        m[idx] = v;
        break;
      }
      case 7: {
        long start = n ? (long)(rng() % (n + 2)) - 1 : 0;
        unsigned long count = rng() % 6;
        unsigned long removed = quicklist_del_range(ql, start, count);
        long pos = start < 0 ? n + start : start;
        if (n == 0 || pos < 0 || pos >= n || count == 0) {
          ASSERT_EQ(removed, 0u);
        } else {
          unsigned long expect =
              std::min<unsigned long>(count, (unsigned long)(n - pos));
          ASSERT_EQ(removed, expect);
          m.erase(m.begin() + pos, m.begin() + pos + expect);
        }
        break;
      }
      case 8:
      case 9: {
        // Delete every entry equal to a value, forward or backward, up to a
        // limit, as LREM does.
        if (n == 0 || rng() % 4 != 0) break;
        std::string target = m[rng() % n];
        int backward = op == 9;
        unsigned long limit = rng() % 3;
        quicklist_iter it;
        quicklist_entry e;
        quicklist_iter_init(
            &it, ql,
            backward ? QUICKLIST_ITER_BACKWARD : QUICKLIST_ITER_FORWARD);
        unsigned long removed = 0;
        while (quicklist_next(&it, &e)) {
          if (quicklist_entry_equals(&e, target.data(), target.size())) {
            quicklist_iter_delete(&it, &e);
            removed++;
            if (limit && removed == limit) break;
          }
        }
        unsigned long mremoved = 0;
        if (!backward) {
          for (auto i = m.begin(); i != m.end();) {
            if (*i == target && (!limit || mremoved < limit)) {
              i = m.erase(i);
              mremoved++;
            } else {
              ++i;
            }
          }
        } else {
          for (long i = (long)m.size() - 1; i >= 0; i--) {
            if (m[i] == target && (!limit || mremoved < limit)) {
              m.erase(m.begin() + i);
              mremoved++;
            }
          }
        }
        ASSERT_EQ(removed, mremoved);
        break;
      }
      case 10: {
        // Iterate a range from an index, as LRANGE does.
        if (n == 0) break;
        long start = (long)(rng() % n);
        int backward = rng() % 2;
        quicklist_iter it;
        quicklist_entry e;
        ASSERT_EQ(
            quicklist_iter_init_at_index(
                &it, ql,
                backward ? QUICKLIST_ITER_BACKWARD : QUICKLIST_ITER_FORWARD,
                start),
            1);
        long pos = start;
        int budget = 20;
        while (budget-- > 0 && quicklist_next(&it, &e)) {
          ASSERT_EQ(EntryString(e), m[pos]);
          pos += backward ? -1 : 1;
        }
        break;
      }
      default: {
        quicklist *copy = quicklist_dup(ql);
        CheckAgainstModel(copy, m);
        quicklist_release(copy);
        break;
      }
    }
    if (ql->len > max_nodes) {
      max_nodes = ql->len;
    }
    if (step % 50 == 0) {
      CheckAgainstModel(ql, m);
    }
  }
  CheckAgainstModel(ql, m);
  // The walk must have reached lists spanning many nodes.
  EXPECT_GT(max_nodes, 2u);
  quicklist_release(ql);
}

TEST(QuicklistTest, RandomOpsDefaultFill) { RunRandom(-2, 1, 10000); }
TEST(QuicklistTest, RandomOpsSmallCountFill) { RunRandom(3, 2, 10000); }
TEST(QuicklistTest, RandomOpsCountFillOne) { RunRandom(1, 3, 2000); }
TEST(QuicklistTest, RandomOpsSmallestBytes) { RunRandom(-1, 4, 10000); }
TEST(QuicklistTest, RandomOpsLargestBytes) { RunRandom(-5, 5, 10000); }

// With a low packed threshold, the long values of the random walk get PLAIN
// nodes among the packed ones; with 1 byte every non-empty one does.
TEST(QuicklistTest, RandomOpsPlainNodesDefaultFill) {
  ThresholdGuard g(100);
  RunRandom(-2, 6, 10000);
}
TEST(QuicklistTest, RandomOpsPlainNodesCountFill) {
  ThresholdGuard g(100);
  RunRandom(3, 7, 10000);
}
TEST(QuicklistTest, RandomOpsPlainNodesCountFillOne) {
  ThresholdGuard g(50);
  RunRandom(1, 8, 3000);
}
TEST(QuicklistTest, RandomOpsAlmostEverythingPlain) {
  ThresholdGuard g(1);
  RunRandom(-2, 9, 5000);
}

std::string Containers(quicklist *ql) {
  std::string out;
  for (quicklist_node *n = ql->head; n != nullptr; n = n->next) {
    out += n->container == QUICKLIST_NODE_CONTAINER_PLAIN
               ? "P"
               : "K" + std::to_string(n->count);
    out += n->next ? " " : "";
  }
  return out;
}

std::deque<std::string> Elements(quicklist *ql) {
  std::deque<std::string> out;
  quicklist_iter it;
  quicklist_entry e;
  quicklist_iter_init(&it, ql, QUICKLIST_ITER_FORWARD);
  while (quicklist_next(&it, &e)) {
    out.push_back(EntryString(e));
  }
  return out;
}

TEST(QuicklistTest, PackedThresholdLimits) {
  EXPECT_EQ(quicklist_packed_threshold(), QUICKLIST_PACKED_THRESHOLD_DEFAULT);
  EXPECT_EQ(quicklist_set_packed_threshold(QUICKLIST_PACKED_THRESHOLD_MAX + 1),
            0);
  EXPECT_EQ(quicklist_packed_threshold(), QUICKLIST_PACKED_THRESHOLD_DEFAULT);
  EXPECT_EQ(quicklist_set_packed_threshold(QUICKLIST_PACKED_THRESHOLD_MAX), 1);
  EXPECT_EQ(quicklist_packed_threshold(), QUICKLIST_PACKED_THRESHOLD_MAX);
  EXPECT_EQ(quicklist_set_packed_threshold(0), 1);
  EXPECT_EQ(quicklist_packed_threshold(), QUICKLIST_PACKED_THRESHOLD_DEFAULT);
}

TEST(QuicklistTest, LargeElementInTheMiddleSplitsThePackedNode) {
  ThresholdGuard g(10);
  quicklist *ql = quicklist_create(-2);
  for (const char *v : {"a", "b", "c", "d"}) {
    quicklist_push(ql, v, 1, QUICKLIST_TAIL);
  }
  EXPECT_EQ(Containers(ql), "K4");
  std::string big(10, 'x');
  quicklist_entry e;
  ASSERT_EQ(quicklist_index(ql, 1, &e), 1);
  quicklist_insert_after(ql, &e, big.data(), big.size());  // after "b"
  EXPECT_EQ(Containers(ql), "K2 P K2");
  ASSERT_EQ(quicklist_index(ql, 0, &e), 1);
  quicklist_insert_before(ql, &e, big.data(), big.size());  // head edge
  ASSERT_EQ(quicklist_index(ql, -1, &e), 1);
  quicklist_insert_after(ql, &e, big.data(), big.size());  // tail edge
  EXPECT_EQ(Containers(ql), "P K2 P K2 P");
  EXPECT_EQ(Elements(ql),
            (std::deque<std::string>{big, "a", "b", big, "c", "d", big}));
  // A small element next to a PLAIN node goes into a packed neighbour.
  ASSERT_EQ(quicklist_index(ql, 3, &e), 1);
  quicklist_insert_after(ql, &e, "y", 1);
  ASSERT_EQ(quicklist_index(ql, 3, &e), 1);
  quicklist_insert_before(ql, &e, "z", 1);
  EXPECT_EQ(Containers(ql), "P K3 P K3 P");
  EXPECT_EQ(Elements(ql), (std::deque<std::string>{big, "a", "b", "z", big, "y",
                                                   "c", "d", big}));
  CheckNodes(ql);
  quicklist_release(ql);
}

TEST(QuicklistTest, ReplaceMovesElementsBetweenPlainAndPacked) {
  ThresholdGuard g(5);
  quicklist *ql = quicklist_create(-2);
  for (const char *v : {"aa", "bb", "cc", "dd", "ee"}) {
    quicklist_push(ql, v, 2, QUICKLIST_TAIL);
  }
  std::string e10(10, 'e');
  // packed -> plain, in the middle of a node (Redis's "LSET with packed is
  // split in the middle").
  ASSERT_EQ(quicklist_replace_at_index(ql, 2, e10.data(), e10.size()), 1);
  EXPECT_EQ(Containers(ql), "K2 P K2");
  EXPECT_EQ(Elements(ql),
            (std::deque<std::string>{"aa", "bb", e10, "dd", "ee"}));
  // plain -> plain (in place), plain -> packed.
  std::string f7(7, 'f');
  ASSERT_EQ(quicklist_replace_at_index(ql, 2, f7.data(), f7.size()), 1);
  EXPECT_EQ(Containers(ql), "K2 P K2");
  ASSERT_EQ(quicklist_replace_at_index(ql, 2, "cc", 2), 1);
  EXPECT_EQ(Elements(ql),
            (std::deque<std::string>{"aa", "bb", "cc", "dd", "ee"}));
  EXPECT_EQ(ql->len, 2u);
  CheckNodes(ql);
  // Redis's "Crash due to split quicklist node wrongly": [bb aa], set -2
  // (the head of the node) to a large value, pop the tail.
  quicklist_release(ql);
  ThresholdGuard g10(10);
  ql = quicklist_create(-2);
  quicklist_push(ql, "aa", 2, QUICKLIST_HEAD);
  quicklist_push(ql, "bb", 2, QUICKLIST_HEAD);
  std::string x10(10, 'x');
  ASSERT_EQ(quicklist_replace_at_index(ql, -2, x10.data(), x10.size()), 1);
  char *s = nullptr;
  size_t len = 0;
  long long ll = 0;
  ASSERT_EQ(quicklist_pop(ql, QUICKLIST_TAIL, &s, &len, &ll), 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(std::string(s, len), "aa");
  sds_free(s);
  EXPECT_EQ(Elements(ql), (std::deque<std::string>{x10}));
  EXPECT_EQ(Containers(ql), "P");
  // Popping a PLAIN node hands its element over.
  ASSERT_EQ(quicklist_pop(ql, QUICKLIST_HEAD, &s, &len, &ll), 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(std::string(s, len), x10);
  EXPECT_EQ(sds_len(s), len);
  sds_free(s);
  EXPECT_EQ(ql->count, 0u);
  EXPECT_EQ(ql->len, 0u);
  EXPECT_EQ(ql->head, nullptr);
  quicklist_release(ql);
}

TEST(QuicklistTest, AppendPlainKeepsSmallElementsPlain) {
  // The RDB loader keeps a file's PLAIN nodes whatever the threshold.
  quicklist *ql = quicklist_create(-2);
  quicklist_push(ql, "a", 1, QUICKLIST_TAIL);
  quicklist_append_plain(ql, sds_new("plain"));
  quicklist_push(ql, "b", 1, QUICKLIST_TAIL);
  EXPECT_EQ(Containers(ql), "K1 P K1");
  EXPECT_EQ(Elements(ql), (std::deque<std::string>{"a", "plain", "b"}));
  EXPECT_EQ(quicklist_node_bytes(ql->head->next), 5u);
  quicklist *copy = quicklist_dup(ql);
  EXPECT_EQ(Containers(copy), "K1 P K1");
  EXPECT_EQ(Elements(copy), Elements(ql));
  // LREM-style deletion of the PLAIN node while iterating backwards.
  quicklist_iter it;
  quicklist_entry e;
  quicklist_iter_init(&it, copy, QUICKLIST_ITER_BACKWARD);
  std::deque<std::string> seen;
  while (quicklist_next(&it, &e)) {
    seen.push_front(EntryString(e));
    if (quicklist_entry_equals(&e, "plain", 5)) {
      quicklist_iter_delete(&it, &e);
    }
  }
  EXPECT_EQ(seen, (std::deque<std::string>{"a", "plain", "b"}));
  EXPECT_EQ(Elements(copy), (std::deque<std::string>{"a", "b"}));
  EXPECT_EQ(quicklist_del_range(ql, 0, 3), 3u);
  EXPECT_EQ(ql->len, 0u);
  quicklist_release(copy);
  quicklist_release(ql);
}

TEST(QuicklistTest, NodesRespectCountFill) {
  quicklist *ql = quicklist_create(4);
  for (int i = 0; i < 100; i++) {
    std::string v = std::to_string(i);
    quicklist_push(ql, v.data(), v.size(), QUICKLIST_TAIL);
  }
  EXPECT_EQ(ql->count, 100u);
  EXPECT_EQ(ql->len, 25u);
  quicklist_entry e;
  ASSERT_EQ(quicklist_index(ql, -1, &e), 1);
  EXPECT_EQ(e.sval, nullptr);
  EXPECT_EQ(e.lval, 99);
  EXPECT_EQ(quicklist_index(ql, 100, &e), 0);
  EXPECT_EQ(quicklist_index(ql, -101, &e), 0);
  quicklist_release(ql);
}

TEST(QuicklistTest, BigElementsGetTheirOwnNode) {
  quicklist *ql = quicklist_create(-2);
  std::string big(20000, 'x');
  quicklist_push(ql, "a", 1, QUICKLIST_TAIL);
  quicklist_push(ql, big.data(), big.size(), QUICKLIST_TAIL);
  quicklist_push(ql, "b", 1, QUICKLIST_TAIL);
  EXPECT_EQ(ql->len, 3u);
  quicklist_entry e;
  ASSERT_EQ(quicklist_index(ql, 1, &e), 1);
  EXPECT_EQ(EntryString(e), big);
  quicklist_release(ql);
}

}  // namespace
