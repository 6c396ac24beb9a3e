// sha1_test.cc: server/base/sha1.c against the FIPS 180 / NIST example
// vectors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

extern "C" {
#include "server/base/sha1.h"
}

namespace {

std::string Hex(const std::string &in) {
  char hex[SHA1_HEX_LEN + 1];
  sha1_hex(in.data(), in.size(), hex);
  return hex;
}

TEST(Sha1, FipsOneBlockAbc) {
  EXPECT_EQ(Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha1, Empty) {
  EXPECT_EQ(Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(Sha1, FipsTwoBlock) {
  EXPECT_EQ(Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(Sha1, FipsLong896Bits) {
  EXPECT_EQ(Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "a49b2446a02c645bf419f995b67091253a04a259");
}

TEST(Sha1, OneMillionA) {
  EXPECT_EQ(Hex(std::string(1000000, 'a')),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

// Padding edges: 55, 56, 63, 64 bytes (one or two final blocks).
TEST(Sha1, PaddingBoundaries) {
  EXPECT_EQ(Hex(std::string(55, 'a')),
            "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(Hex(std::string(56, 'a')),
            "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(Hex(std::string(63, 'a')),
            "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
  EXPECT_EQ(Hex(std::string(64, 'a')),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

// Streaming in odd pieces gives the one-shot digest.
TEST(Sha1, IncrementalEqualsOneShot) {
  std::string msg;
  for (int i = 0; i < 1000; i++) {
    msg.push_back(static_cast<char>(i * 7));
  }
  unsigned char a[SHA1_DIGEST_LEN], b[SHA1_DIGEST_LEN];
  sha1_digest(msg.data(), msg.size(), a);
  sha1_ctx ctx;
  sha1_init(&ctx);
  size_t pos = 0, step = 1;
  while (pos < msg.size()) {
    size_t n = std::min(step, msg.size() - pos);
    sha1_update(&ctx, msg.data() + pos, n);
    pos += n;
    step = step * 3 % 97 + 1;
  }
  sha1_final(&ctx, b);
  EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
}

}  // namespace
