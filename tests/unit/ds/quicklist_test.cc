// Unit tests for server/quicklist.c: random operation sequences (push, pop,
// insert, replace, delete ranges, deletion while iterating both ways)
// checked against a std::deque model, for several fill settings, plus the
// node-size invariants.
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

void CheckNodes(quicklist *ql) {
  unsigned long total = 0, nodes = 0;
  quicklist_node *prev = nullptr;
  for (quicklist_node *n = ql->head; n != nullptr; n = n->next) {
    ASSERT_EQ(n->prev, prev);
    ASSERT_GT(n->count, 0u) << "empty node kept";
    ASSERT_EQ(lp_length(n->lp), n->count);
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
