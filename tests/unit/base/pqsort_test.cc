// Unit tests for server/base/pqsort.c: the wanted ranks hold what a full
// sort puts there, the rest stays on the right side, nothing is lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

extern "C" {
#include "server/base/pqsort.h"
}

namespace {

struct Item {
  int key;
  int id;  // tells equal keys apart
};

int CompareKeys(const void *a, const void *b) {
  const Item *x = static_cast<const Item *>(a);
  const Item *y = static_cast<const Item *>(b);
  return x->key < y->key ? -1 : x->key > y->key ? 1 : 0;
}

std::vector<Item> RandomItems(std::mt19937 *rng, size_t n, int distinct) {
  std::uniform_int_distribution<int> key(0, distinct - 1);
  std::vector<Item> v(n);
  for (size_t i = 0; i < n; i++) {
    v[i] = {key(*rng), static_cast<int>(i)};
  }
  return v;
}

void CheckPartialSort(std::vector<Item> v, size_t first, size_t last) {
  std::vector<int> sorted;
  for (const Item &it : v) {
    sorted.push_back(it.key);
  }
  std::sort(sorted.begin(), sorted.end());
  pqsort(v.data(), v.size(), sizeof(Item), CompareKeys, first, last);
  for (size_t i = first; i <= last; i++) {
    ASSERT_EQ(v[i].key, sorted[i]) << "rank " << i;
  }
  for (size_t i = 0; i < first; i++) {
    ASSERT_LE(v[i].key, v[first].key) << "left of the range at " << i;
  }
  for (size_t i = last + 1; i < v.size(); i++) {
    ASSERT_GE(v[i].key, v[last].key) << "right of the range at " << i;
  }
  std::vector<int> ids;
  for (const Item &it : v) {
    ids.push_back(it.id);
  }
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); i++) {
    ASSERT_EQ(ids[i], static_cast<int>(i)) << "an element was lost or copied";
  }
}

TEST(PqsortTest, WantedRanksMatchAFullSort) {
  std::mt19937 rng(1234);
  for (size_t n : {1u, 2u, 6u, 7u, 8u, 40u, 41u, 100u, 1000u, 5000u}) {
    for (int distinct : {1, 3, 50, 1000000}) {
      for (int round = 0; round < 20; round++) {
        std::uniform_int_distribution<size_t> pos(0, n - 1);
        size_t a = pos(rng), b = pos(rng);
        CheckPartialSort(RandomItems(&rng, n, distinct), std::min(a, b),
                         std::max(a, b));
      }
    }
  }
}

TEST(PqsortTest, WholeRangeSortsEverything) {
  std::mt19937 rng(99);
  std::vector<Item> v = RandomItems(&rng, 3000, 100);
  pqsort(v.data(), v.size(), sizeof(Item), CompareKeys, 0, v.size() - 1);
  for (size_t i = 1; i < v.size(); i++) {
    ASSERT_LE(v[i - 1].key, v[i].key);
  }
}

TEST(PqsortTest, SortedAndReversedInputs) {
  std::vector<Item> up(500), down(500);
  for (int i = 0; i < 500; i++) {
    up[i] = {i, i};
    down[i] = {500 - i, i};
  }
  CheckPartialSort(up, 10, 20);
  CheckPartialSort(down, 0, 9);
  CheckPartialSort(down, 490, 499);
}

TEST(PqsortTest, EmptyArrayIsFine) {
  pqsort(nullptr, 0, sizeof(Item), CompareKeys, 0, 0);
}

}  // namespace
