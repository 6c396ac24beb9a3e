// Unit tests for server/intset.c: width upgrades, sorted order, Redis byte
// layout, random add/remove sequences against a std::set model, and
// validation of corrupt input.
#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <random>
#include <set>
#include <vector>

extern "C" {
#include "server/ds/intset.h"
}

namespace {

void CheckAgainstModel(intset *is, const std::set<int64_t> &m) {
  ASSERT_EQ(intset_len(is), m.size());
  uint32_t i = 0;
  for (int64_t want : m) {
    int64_t got = 0;
    ASSERT_EQ(intset_get(is, i, &got), 1);
    ASSERT_EQ(got, want) << "pos " << i;
    i++;
  }
  int64_t dummy;
  ASSERT_EQ(intset_get(is, i, &dummy), 0);
  ASSERT_EQ(intset_validate(reinterpret_cast<unsigned char *>(is),
                            intset_blob_len(is)),
            m.empty() ? 0 : 1);
  if (!m.empty()) {
    ASSERT_EQ(intset_min(is), *m.begin());
    ASSERT_EQ(intset_max(is), *m.rbegin());
  }
}

int64_t RandomValue(std::mt19937_64 &rng, int width) {
  switch (width) {
    case 0:
      return static_cast<int64_t>(rng() % 200) - 100;
    case 1:
      return static_cast<int16_t>(rng());
    case 2:
      return static_cast<int32_t>(rng());
    default:
      return static_cast<int64_t>(rng());
  }
}

TEST(Intset, UpgradesKeepOrder) {
  intset *is = intset_new();
  uint8_t ok = 0;
  is = intset_add(is, 5, &ok);
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(is->encoding, INTSET_ENC_INT16);
  is = intset_add(is, 5, &ok);
  EXPECT_EQ(ok, 0);
  is = intset_add(is, 70000, &ok);
  EXPECT_EQ(is->encoding, INTSET_ENC_INT32);
  is = intset_add(is, -70000, &ok);
  is = intset_add(is, LLONG_MIN, &ok);
  EXPECT_EQ(is->encoding, INTSET_ENC_INT64);
  is = intset_add(is, LLONG_MAX, &ok);
  CheckAgainstModel(is, {LLONG_MIN, -70000, 5, 70000, LLONG_MAX});
  EXPECT_TRUE(intset_find(is, LLONG_MIN));
  EXPECT_FALSE(intset_find(is, 6));
  intset_free(is);
}

TEST(Intset, RedisByteLayout) {
  intset *is = intset_new();
  is = intset_add(is, 2, nullptr);
  is = intset_add(is, -1, nullptr);
  const unsigned char want[] = {2, 0, 0, 0, 2, 0, 0, 0, 0xFF, 0xFF, 2, 0};
  ASSERT_EQ(intset_blob_len(is), sizeof(want));
  EXPECT_EQ(0, memcmp(is, want, sizeof(want)));
  intset_free(is);
}

TEST(Intset, RemoveAndNarrowCheck) {
  intset *is = intset_new();
  int removed = 7;
  is = intset_remove(is, 1, &removed);
  EXPECT_EQ(removed, 0);
  is = intset_add(is, 1, nullptr);
  // A value wider than the encoding can never be a member.
  is = intset_remove(is, 1LL << 40, &removed);
  EXPECT_EQ(removed, 0);
  is = intset_remove(is, 1, &removed);
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(intset_len(is), 0u);
  intset_free(is);
}

TEST(Intset, RandomOpsAgainstModel) {
  std::mt19937_64 rng(2024);
  for (int round = 0; round < 30; round++) {
    intset *is = intset_new();
    std::set<int64_t> model;
    int maxwidth = round % 4;
    for (int step = 0; step < 600; step++) {
      int64_t v = RandomValue(rng, static_cast<int>(rng() % (maxwidth + 1)));
      if (rng() % 3 != 0) {
        uint8_t added = 0;
        is = intset_add(is, v, &added);
        ASSERT_EQ(added, model.insert(v).second ? 1 : 0);
      } else {
        if (!model.empty() && rng() % 2 == 0) {
          v = intset_random(is);
          ASSERT_TRUE(model.count(v));
        }
        int removed = 0;
        is = intset_remove(is, v, &removed);
        ASSERT_EQ(removed, static_cast<int>(model.erase(v)));
      }
      ASSERT_EQ(intset_find(is, v), model.count(v) ? 1 : 0);
      if (step % 50 == 0) {
        CheckAgainstModel(is, model);
      }
    }
    CheckAgainstModel(is, model);
    intset *copy = intset_dup(is);
    CheckAgainstModel(copy, model);
    intset_free(copy);
    intset_free(is);
  }
}

TEST(Intset, ValidateRejectsCorruption) {
  intset *is = intset_new();
  for (int i = 0; i < 20; i++) {
    is = intset_add(is, i * 1000, nullptr);
  }
  size_t n = intset_blob_len(is);
  std::vector<unsigned char> buf(reinterpret_cast<unsigned char *>(is),
                                 reinterpret_cast<unsigned char *>(is) + n);
  ASSERT_EQ(intset_validate(buf.data(), n), 1);
  EXPECT_EQ(intset_validate(buf.data(), n - 1), 0);
  EXPECT_EQ(intset_validate(buf.data(), 4), 0);
  std::vector<unsigned char> bad = buf;
  bad[0] = 3;  // unknown encoding
  EXPECT_EQ(intset_validate(bad.data(), n), 0);
  bad = buf;
  std::swap(bad[8], bad[10]);  // breaks ascending order
  std::swap(bad[9], bad[11]);
  EXPECT_EQ(intset_validate(bad.data(), n), 0);
  // Unaligned input is fine.
  std::vector<unsigned char> shifted(n + 1);
  memcpy(shifted.data() + 1, buf.data(), n);
  EXPECT_EQ(intset_validate(shifted.data() + 1, n), 1);
  intset_free(is);
}

}  // namespace
