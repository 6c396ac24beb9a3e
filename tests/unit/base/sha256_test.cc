// sha256_test.cc: server/sha256.c against FIPS 180-4 / NIST example vectors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

extern "C" {
#include "server/base/sha256.h"
}

namespace {

std::string Hex(const std::string &in) {
  char hex[SHA256_HEX_LEN + 1];
  sha256_hex(in.data(), in.size(), hex);
  return hex;
}

TEST(Sha256, FipsOneBlockAbc) {
  EXPECT_EQ(Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Empty) {
  EXPECT_EQ(Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, FipsTwoBlock) {
  EXPECT_EQ(Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, FipsLong896Bits) {
  EXPECT_EQ(Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionA) {
  EXPECT_EQ(Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Padding edges: 55, 56, 63, 64 bytes (one or two final blocks).
TEST(Sha256, PaddingBoundaries) {
  EXPECT_EQ(Hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

// Streaming in odd pieces gives the one-shot digest.
TEST(Sha256, IncrementalEqualsOneShot) {
  std::string msg;
  for (int i = 0; i < 1000; i++) {
    msg.push_back(static_cast<char>(i * 7));
  }
  unsigned char a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];
  sha256_digest(msg.data(), msg.size(), a);
  sha256_ctx ctx;
  sha256_init(&ctx);
  size_t pos = 0, step = 1;
  while (pos < msg.size()) {
    size_t n = std::min(step, msg.size() - pos);
    sha256_update(&ctx, msg.data() + pos, n);
    pos += n;
    step = step * 3 % 97 + 1;
  }
  sha256_final(&ctx, b);
  EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
}

}  // namespace
