// Unit tests for server/dict.c: CRUD under incremental rehashing, the scan
// guarantee across growth and shrinking, iterators, and random sampling.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

extern "C" {
#include "server/ds/dict.h"
#include "server/ds/sds.h"
}

namespace {

// sds keys owned by the dict; values are plain integers in v.u64.
dict_type kSdsType = {
    dict_sds_hash,       nullptr, nullptr, dict_sds_key_compare,
    dict_sds_destructor, nullptr, nullptr};

std::string Key(int i) { return "key:" + std::to_string(i); }

sds NewKey(int i) {
  std::string k = Key(i);
  return sds_new_len(k.data(), k.size());
}

bool Has(dict *d, int i) {
  sds k = NewKey(i);
  bool found = dict_find(d, k) != nullptr;
  sds_free(k);
  return found;
}

bool Delete(dict *d, int i) {
  sds k = NewKey(i);
  bool ok = dict_delete(d, k) == DICT_OK;
  sds_free(k);
  return ok;
}

void AddRange(dict *d, int from, int to) {
  for (int i = from; i < to; i++) {
    sds k = NewKey(i);
    ASSERT_EQ(dict_add(d, k, (void *)(uintptr_t)i), DICT_OK);
  }
}

TEST(DictTest, AddFindDeleteWhileRehashing) {
  dict *d = dict_create(&kSdsType);
  bool saw_rehashing = false;
  for (int i = 0; i < 5000; i++) {
    sds k = NewKey(i);
    ASSERT_EQ(dict_add(d, k, (void *)(uintptr_t)i), DICT_OK);
    saw_rehashing |= dict_is_rehashing(d);
    // Every key added so far is findable even mid-rehash.
    if (i % 97 == 0) {
      for (int j = 0; j <= i; j += 13) {
        ASSERT_TRUE(Has(d, j)) << j;
      }
    }
  }
  EXPECT_TRUE(saw_rehashing);
  EXPECT_EQ(dict_size(d), 5000u);

  // Duplicate add fails and leaves the value alone.
  sds dup = NewKey(7);
  EXPECT_EQ(dict_add(d, dup, nullptr), DICT_ERR);
  dict_entry *existing = nullptr;
  EXPECT_EQ(dict_add_raw(d, dup, &existing), nullptr);
  ASSERT_NE(existing, nullptr);
  EXPECT_EQ((uintptr_t)dict_get_val(existing), 7u);
  sds_free(dup);

  // Delete half, while a shrink rehash is in progress.
  for (int i = 0; i < 5000; i += 2) {
    ASSERT_TRUE(Delete(d, i));
  }
  EXPECT_FALSE(Delete(d, 0));
  EXPECT_EQ(dict_resize(d), DICT_OK);
  EXPECT_TRUE(dict_is_rehashing(d));
  for (int i = 0; i < 5000; i++) {
    ASSERT_EQ(Has(d, i), i % 2 == 1) << i;
  }
  while (dict_rehash(d, 100)) {
  }
  EXPECT_FALSE(dict_is_rehashing(d));
  EXPECT_EQ(dict_size(d), 2500u);
  EXPECT_LE(dict_slots(d), 4096u);
  dict_release(d);
}

TEST(DictTest, ReplaceAndUnlink) {
  dict *d = dict_create(&kSdsType);
  EXPECT_EQ(dict_replace(d, NewKey(1), (void *)1), 1);
  sds k = NewKey(1);
  EXPECT_EQ(dict_replace(d, k, (void *)2), 0);
  sds_free(k);  // not stored: the key existed
  k = NewKey(1);
  EXPECT_EQ((uintptr_t)dict_fetch_value(d, k), 2u);
  dict_entry *de = dict_unlink(d, k);
  ASSERT_NE(de, nullptr);
  EXPECT_EQ(dict_size(d), 0u);
  EXPECT_EQ(dict_find(d, k), nullptr);
  dict_free_unlinked_entry(d, de);
  sds_free(k);
  dict_entry *e = dict_add_or_find(d, NewKey(5));
  e->v.s64 = -5;
  k = NewKey(5);
  EXPECT_EQ(dict_add_or_find(d, k), e);  // k not stored
  sds_free(k);
  dict_release(d);
}

TEST(DictTest, SafeIteratorAllowsDeleteAndVisitsAll) {
  dict *d = dict_create(&kSdsType);
  AddRange(d, 0, 1000);
  dict_iterator it;
  dict_init_safe_iterator(&it, d);
  std::set<std::string> seen;
  dict_entry *de;
  while ((de = dict_next(&it)) != nullptr) {
    sds k = (sds)dict_get_key(de);
    seen.insert(std::string(k, sds_len(k)));
    ASSERT_EQ(dict_delete(d, k), DICT_OK);  // deleting the current entry
  }
  dict_reset_iterator(&it);
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(dict_size(d), 0u);
  EXPECT_EQ(d->pause_rehash, 0);
  dict_release(d);
}

TEST(DictTest, UnsafeIteratorCountsEverything) {
  dict *d = dict_create(&kSdsType);
  AddRange(d, 0, 777);
  dict_iterator *it = dict_get_iterator(d);
  size_t n = 0;
  while (dict_next(it) != nullptr) {
    n++;
  }
  dict_release_iterator(it);
  EXPECT_EQ(n, 777u);
  dict_release(d);
}

struct ScanState {
  std::multiset<std::string> seen;
};

void ScanCollect(void *privdata, const dict_entry *de) {
  auto *st = static_cast<ScanState *>(privdata);
  sds k = (sds)de->key;
  st->seen.insert(std::string(k, sds_len(k)));
}

// Keys present for the whole scan must be returned at least once, whatever
// resizing happens between calls.
TEST(DictTest, ScanGuaranteeAcrossExpand) {
  dict *d = dict_create(&kSdsType);
  AddRange(d, 0, 500);  // the reference set
  ScanState st;
  unsigned long cursor = 0;
  int calls = 0;
  int next_new = 100000;
  do {
    cursor = dict_scan(d, cursor, ScanCollect, &st);
    // Grow the table a lot between calls (several expansions).
    if (calls < 40) {
      AddRange(d, next_new, next_new + 200);
      next_new += 200;
    }
    calls++;
  } while (cursor != 0 && calls < 1000000);
  ASSERT_EQ(cursor, 0u);
  for (int i = 0; i < 500; i++) {
    EXPECT_GE(st.seen.count(Key(i)), 1u) << Key(i);
  }
  dict_release(d);
}

TEST(DictTest, ScanGuaranteeAcrossShrink) {
  dict *d = dict_create(&kSdsType);
  AddRange(d, 0, 200);              // the reference set, never deleted
  AddRange(d, 1000, 1000 + 20000);  // filler, deleted mid-scan
  ScanState st;
  unsigned long cursor = 0;
  int calls = 0;
  bool shrunk = false;
  do {
    cursor = dict_scan(d, cursor, ScanCollect, &st);
    calls++;
    if (calls == 50) {
      for (int i = 1000; i < 1000 + 20000; i++) {
        ASSERT_TRUE(Delete(d, i));
      }
      ASSERT_EQ(dict_resize(d), DICT_OK);
      shrunk = true;
    }
    if (calls == 60) {
      while (dict_rehash(d, 100)) {
      }
    }
  } while (cursor != 0);
  ASSERT_TRUE(shrunk);
  for (int i = 0; i < 200; i++) {
    EXPECT_GE(st.seen.count(Key(i)), 1u) << Key(i);
  }
  dict_release(d);
}

TEST(DictTest, ScanWhileRehashingInProgress) {
  dict *d = dict_create(&kSdsType);
  AddRange(d, 0, 64);
  ASSERT_EQ(dict_expand(d, 4096), DICT_OK);  // start a big rehash
  ASSERT_TRUE(dict_is_rehashing(d));
  ScanState st;
  unsigned long cursor = 0;
  int calls = 0;
  do {
    cursor = dict_scan(d, cursor, ScanCollect, &st);
    if (++calls % 3 == 0) {
      dict_rehash(d, 1);
    }
  } while (cursor != 0);
  for (int i = 0; i < 64; i++) {
    EXPECT_GE(st.seen.count(Key(i)), 1u);
  }
  dict_release(d);
}

TEST(DictTest, EmptyScanReturnsZero) {
  dict *d = dict_create(&kSdsType);
  ScanState st;
  EXPECT_EQ(dict_scan(d, 0, ScanCollect, &st), 0u);
  EXPECT_TRUE(st.seen.empty());
  dict_release(d);
}

TEST(DictTest, RandomKeyCoversAllKeys) {
  dict *d = dict_create(&kSdsType);
  EXPECT_EQ(dict_get_random_key(d), nullptr);
  AddRange(d, 0, 20);
  std::map<std::string, int> hits;
  for (int i = 0; i < 4000; i++) {
    dict_entry *de =
        (i % 2) ? dict_get_random_key(d) : dict_get_fair_random_key(d);
    ASSERT_NE(de, nullptr);
    sds k = (sds)de->key;
    hits[std::string(k, sds_len(k))]++;
  }
  EXPECT_EQ(hits.size(), 20u);
  for (auto &kv : hits) {
    EXPECT_GT(kv.second, 40) << kv.first;  // expected ~200 each
  }
  dict_release(d);
}

TEST(DictTest, GetSomeKeysReturnsValidDistinctEntries) {
  dict *d = dict_create(&kSdsType);
  AddRange(d, 0, 1000);
  dict_entry *des[16];
  for (int round = 0; round < 100; round++) {
    unsigned int n = dict_get_some_keys(d, des, 16);
    ASSERT_GT(n, 0u);
    ASSERT_LE(n, 16u);
    std::set<dict_entry *> distinct(des, des + n);
    EXPECT_EQ(distinct.size(), n);  // one pass collects each bucket once
    for (unsigned int j = 0; j < n; j++) {
      ASSERT_EQ(dict_find(d, des[j]->key), des[j]);
    }
  }
  // Fewer keys than asked for: at most dict_size.
  dict *small = dict_create(&kSdsType);
  AddRange(small, 0, 3);
  EXPECT_LE(dict_get_some_keys(small, des, 16), 3u);
  dict_release(small);
  dict_release(d);
}

int g_empty_callbacks = 0;
void CountCallback(dict *) { g_empty_callbacks++; }

TEST(DictTest, EmptyCallsBackAndResets) {
  dict *d = dict_create(&kSdsType);
  AddRange(d, 0, 100);
  g_empty_callbacks = 0;
  dict_empty(d, CountCallback);
  EXPECT_GE(g_empty_callbacks, 1);
  EXPECT_EQ(dict_size(d), 0u);
  EXPECT_EQ(dict_slots(d), 0u);
  AddRange(d, 0, 10);  // usable again
  EXPECT_EQ(dict_size(d), 10u);
  dict_release(d);
}

TEST(DictTest, CaseInsensitiveHash) {
  sds a = sds_new("Hello"), b = sds_new("hELLO");
  EXPECT_EQ(dict_sds_case_hash(a), dict_sds_case_hash(b));
  EXPECT_NE(dict_sds_hash(a), dict_sds_hash(b));
  EXPECT_TRUE(dict_sds_key_case_compare(a, b));
  EXPECT_FALSE(dict_sds_key_compare(a, b));
  // Same seed, same input, same hash; lengths beyond one block work.
  std::string longs(100, 'Q');
  EXPECT_EQ(dict_gen_hash_function(longs.data(), longs.size()),
            dict_gen_hash_function(longs.data(), longs.size()));
  EXPECT_EQ(dict_gen_case_hash_function((const unsigned char *)longs.data(),
                                        longs.size()),
            dict_gen_case_hash_function(
                (const unsigned char *)std::string(100, 'q').data(), 100));
  sds_free(a);
  sds_free(b);
}

TEST(DictTest, ResizeDisabledWaitsForHighLoadFactor) {
  dict *d = dict_create(&kSdsType);
  dict_set_resize_enabled(0);
  AddRange(d, 0, 24);
  // 4 buckets hold 24 keys: growth waits until the load factor passes 5.
  EXPECT_EQ(dict_slots(d), 4u);
  AddRange(d, 24, 26);
  EXPECT_GT(dict_slots(d), 4u);
  dict_set_resize_enabled(1);
  for (int i = 0; i < 26; i++) {
    ASSERT_TRUE(Has(d, i));
  }
  dict_release(d);
}

}  // namespace
