// Unit tests for server/listpack.c: byte layout compatible with Redis,
// random operation sequences checked against a std::vector model, forward
// and backward walks, seek, find, validation of corrupt input.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include "server/ds/listpack.h"
}

namespace {

std::string EntryString(unsigned char *p) {
  unsigned char buf[LP_INTBUF_SIZE];
  uint32_t len = 0;
  unsigned char *s = lp_get_string(p, &len, buf);
  return std::string(reinterpret_cast<char *>(s), len);
}

void CheckAgainstModel(unsigned char *lp, const std::vector<std::string> &m) {
  ASSERT_EQ(lp_length(lp), m.size());
  ASSERT_EQ(lp_validate(lp, lp_bytes(lp)), 1);
  size_t i = 0;
  for (unsigned char *p = lp_first(lp); p != nullptr; p = lp_next(lp, p)) {
    ASSERT_LT(i, m.size());
    ASSERT_EQ(EntryString(p), m[i]) << "index " << i;
    i++;
  }
  ASSERT_EQ(i, m.size());
  i = m.size();
  for (unsigned char *p = lp_last(lp); p != nullptr; p = lp_prev(lp, p)) {
    ASSERT_GT(i, 0u);
    i--;
    ASSERT_EQ(EntryString(p), m[i]) << "backward index " << i;
  }
  ASSERT_EQ(i, 0u);
}

std::string RandomValue(std::mt19937 &rng) {
  switch (rng() % 10) {
    case 0:
      return std::to_string(static_cast<long long>(rng() % 128));
    case 1:
      return std::to_string(static_cast<long long>(rng() % 8192) - 4096);
    case 2:
      return std::to_string(static_cast<long long>(rng()) -
                            static_cast<long long>(1LL << 31));
    case 3: {
      long long v = static_cast<long long>(
          (static_cast<unsigned long long>(rng()) << 32) | rng());
      return std::to_string(v);
    }
    case 4:
      return "0" + std::to_string(rng() % 100);  // not canonical: a string
    case 5:
      return std::string(64 + rng() % 200, 'a' + rng() % 26);
    case 6:
      if (rng() % 8 == 0) {
        return std::string(4096 + rng() % 3000, 'x');
      }
      return "";
    default: {
      std::string s;
      size_t n = rng() % 20;
      for (size_t k = 0; k < n; k++) {
        s.push_back(static_cast<char>(rng() % 256));
      }
      return s;
    }
  }
}

const unsigned char *U(const std::string &s) {
  return reinterpret_cast<const unsigned char *>(s.data());
}

TEST(Listpack, EmptyLayout) {
  unsigned char *lp = lp_new(0);
  ASSERT_EQ(lp_bytes(lp), 7u);
  EXPECT_EQ(lp[0], 7);
  EXPECT_EQ(lp[4], 0);
  EXPECT_EQ(lp[6], 0xFF);
  EXPECT_EQ(lp_first(lp), nullptr);
  EXPECT_EQ(lp_last(lp), nullptr);
  EXPECT_EQ(lp_seek(lp, 0), nullptr);
  lp_free(lp);
}

TEST(Listpack, RedisByteLayout) {
  unsigned char *lp = lp_new(0);
  lp = lp_append(lp, U("hello"), 5);
  lp = lp_append(lp, U("127"), 3);
  lp = lp_append(lp, U("-1"), 2);
  lp = lp_append_integer(lp, 1000000);
  const unsigned char want[] = {
      0x18, 0,    0,    0,    4,    0,          // header: 24 bytes, 4 entries
      0x85, 'h',  'e',  'l',  'l',  'o', 0x06,  // 6-bit string + backlen
      0x7F, 0x01,                               // 7-bit uint 127
      0xDF, 0xFF, 0x02,                         // 13-bit int -1
      0xF2, 0x40, 0x42, 0x0F, 0x04,             // 24-bit int 1000000
      0xFF};
  ASSERT_EQ(lp_bytes(lp), sizeof(want));
  EXPECT_EQ(0, memcmp(lp, want, sizeof(want)));
  lp_free(lp);
}

TEST(Listpack, IntegersRoundTrip) {
  const long long values[] = {0,
                              1,
                              127,
                              128,
                              -1,
                              -4096,
                              4095,
                              4096,
                              -4097,
                              32767,
                              -32768,
                              32768,
                              8388607,
                              -8388608,
                              8388608,
                              2147483647,
                              -2147483648LL,
                              2147483648LL,
                              LLONG_MAX,
                              LLONG_MIN};
  unsigned char *lp = lp_new(0);
  for (long long v : values) {
    lp = lp_append_integer(lp, v);
  }
  size_t i = 0;
  for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p), i++) {
    long long got = 0;
    uint32_t slen = 0;
    ASSERT_EQ(lp_get_value(p, &slen, &got), nullptr);
    EXPECT_EQ(got, values[i]);
    ASSERT_EQ(lp_get_integer(p, &got), 1);
    EXPECT_EQ(EntryString(p), std::to_string(values[i]));
  }
  EXPECT_EQ(i, sizeof(values) / sizeof(values[0]));
  EXPECT_EQ(lp_validate(lp, lp_bytes(lp)), 1);
  lp_free(lp);
}

TEST(Listpack, FindWithSkip) {
  unsigned char *lp = lp_new(0);
  const char *kv[] = {"a", "1", "1", "b", "b", "x", "100000", "y"};
  for (const char *s : kv) {
    lp = lp_append(lp, U(s), static_cast<uint32_t>(strlen(s)));
  }
  unsigned char *p = lp_find(lp, lp_first(lp), U("b"), 1, 1);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(EntryString(lp_next(lp, p)), "x");
  p = lp_find(lp, lp_first(lp), U("1"), 1, 1);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(EntryString(lp_next(lp, p)), "b");
  p = lp_find(lp, lp_first(lp), U("100000"), 6, 1);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(EntryString(lp_next(lp, p)), "y");
  EXPECT_EQ(lp_find(lp, lp_first(lp), U("y"), 1, 1), nullptr);
  EXPECT_EQ(lp_find(lp, lp_first(lp), U("01"), 2, 0), nullptr);
  EXPECT_TRUE(lp_compare(lp_first(lp), U("a"), 1));
  EXPECT_FALSE(lp_compare(lp_first(lp), U("ab"), 2));
  lp_free(lp);
}

TEST(Listpack, RandomOpsAgainstModel) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; round++) {
    unsigned char *lp = lp_new(0);
    std::vector<std::string> model;
    for (int step = 0; step < 400; step++) {
      std::string v = RandomValue(rng);
      uint32_t vl = static_cast<uint32_t>(v.size());
      int op = static_cast<int>(rng() % 8);
      if (model.empty() && op >= 2) {
        op = 0;
      }
      switch (op) {
        case 0:
          lp = lp_append(lp, U(v), vl);
          model.push_back(v);
          break;
        case 1:
          lp = lp_prepend(lp, U(v), vl);
          model.insert(model.begin(), v);
          break;
        case 2:
        case 3: {
          size_t idx = rng() % model.size();
          unsigned char *p = lp_seek(lp, static_cast<long>(idx));
          ASSERT_NE(p, nullptr);
          int where = (op == 2) ? LP_BEFORE : LP_AFTER;
          unsigned char *np = nullptr;
          lp = lp_insert_string(lp, U(v), vl, p, where, &np);
          size_t at = (op == 2) ? idx : idx + 1;
          model.insert(model.begin() + static_cast<long>(at), v);
          ASSERT_EQ(EntryString(np), v);
          break;
        }
        case 4: {
          size_t idx = rng() % model.size();
          unsigned char *p = lp_seek(lp, -static_cast<long>(idx) - 1);
          lp = lp_replace(lp, &p, U(v), vl);
          model[model.size() - 1 - idx] = v;
          ASSERT_EQ(EntryString(p), v);
          break;
        }
        case 5: {
          size_t idx = rng() % model.size();
          unsigned char *p = lp_seek(lp, static_cast<long>(idx));
          unsigned char *np = nullptr;
          lp = lp_delete(lp, p, &np);
          model.erase(model.begin() + static_cast<long>(idx));
          if (idx < model.size()) {
            ASSERT_NE(np, nullptr);
            ASSERT_EQ(EntryString(np), model[idx]);
          } else {
            ASSERT_EQ(np, nullptr);
          }
          break;
        }
        case 6: {
          size_t idx = rng() % model.size();
          size_t num = rng() % 5;
          lp = lp_delete_range(lp, static_cast<long>(idx), num);
          size_t end = std::min(model.size(), idx + num);
          model.erase(model.begin() + static_cast<long>(idx),
                      model.begin() + static_cast<long>(end));
          break;
        }
        case 7: {
          // Copy an entry that lives inside the listpack itself.
          size_t idx = rng() % model.size();
          unsigned char *p = lp_seek(lp, static_cast<long>(idx));
          uint32_t len = 0;
          long long iv = 0;
          unsigned char *s = lp_get_value(p, &len, &iv);
          if (s != nullptr) {
            lp = lp_append(lp, s, len);
          } else {
            lp = lp_append_integer(lp, iv);
          }
          model.push_back(model[idx]);
          break;
        }
      }
      CheckAgainstModel(lp, model);
      if (!model.empty()) {
        size_t idx = rng() % model.size();
        ASSERT_EQ(EntryString(lp_seek(lp, static_cast<long>(idx))), model[idx]);
        const std::string &want = model[idx];
        unsigned char *f = lp_find(lp, lp_first(lp), U(want),
                                   static_cast<uint32_t>(want.size()), 0);
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(EntryString(f), want);
      }
    }
    unsigned char *copy = lp_dup(lp);
    CheckAgainstModel(copy, model);
    lp_free(copy);
    lp_free(lp);
  }
}

TEST(Listpack, ValidateRejectsCorruption) {
  std::mt19937 rng(7);
  unsigned char *lp = lp_new(0);
  for (int i = 0; i < 50; i++) {
    std::string v = RandomValue(rng);
    lp = lp_append(lp, U(v), static_cast<uint32_t>(v.size()));
  }
  size_t n = lp_bytes(lp);
  ASSERT_EQ(lp_validate(lp, n), 1);
  EXPECT_EQ(lp_validate(lp, n - 1), 0);
  std::vector<unsigned char> buf(lp, lp + n);
  // Truncated copies must be rejected (header length mismatch).
  for (size_t cut = 0; cut < n; cut += 7) {
    EXPECT_EQ(lp_validate(buf.data(), cut), 0);
  }
  // Random byte flips must never crash the validator.
  for (int i = 0; i < 2000; i++) {
    std::vector<unsigned char> b = buf;
    size_t pos = LP_HDR_SIZE + rng() % (n - LP_HDR_SIZE);
    b[pos] = static_cast<unsigned char>(rng());
    (void)lp_validate(b.data(), b.size());
  }
  lp_free(lp);
}

TEST(Listpack, RandomPairs) {
  unsigned char *lp = lp_new(0);
  for (int i = 0; i < 10; i++) {
    std::string k = "k" + std::to_string(i);
    lp = lp_append(lp, U(k), static_cast<uint32_t>(k.size()));
    lp = lp_append_integer(lp, i);
  }
  lp_entry_ref keys[30], vals[30];
  lp_random_pairs(lp, 30, keys, vals);
  for (int i = 0; i < 30; i++) {
    ASSERT_NE(keys[i].sval, nullptr);
    std::string k(reinterpret_cast<char *>(keys[i].sval), keys[i].slen);
    EXPECT_EQ(k, "k" + std::to_string(vals[i].lval));
  }
  unsigned int got = lp_random_pairs_unique(lp, 30, keys, vals);
  EXPECT_EQ(got, 10u);
  got = lp_random_pairs_unique(lp, 4, keys, nullptr);
  EXPECT_EQ(got, 4u);
  lp_random_pair(lp, 10, &keys[0], &vals[0]);
  std::string k(reinterpret_cast<char *>(keys[0].sval), keys[0].slen);
  EXPECT_EQ(k, "k" + std::to_string(vals[0].lval));
  lp_free(lp);
}

}  // namespace
