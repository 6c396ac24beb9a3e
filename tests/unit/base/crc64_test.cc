// crc64_test: crc64 gives Redis's CRC-64 (the check value, Redis's own test
// vectors, the checksum Redis wrote at the end of a real RDB file), agrees
// with a bit-at-a-time reference on every length and alignment, and can be
// computed in pieces.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <thread>
#include <vector>

extern "C" {
#include "server/base/crc64.h"
}

namespace {

// The bit-at-a-time definition, written the textbook way (most significant
// bit first, with explicit reflection), so that it shares nothing with the
// table-driven code under test.
uint64_t ReflectBits(uint64_t v, int bits) {
  uint64_t r = 0;
  for (int i = 0; i < bits; i++) {
    r = (r << 1) | ((v >> i) & 1);
  }
  return r;
}

uint64_t ReferenceCrc64(uint64_t crc, const unsigned char *p, size_t len) {
  const uint64_t poly = UINT64_C(0xad93d23594c935a9);
  uint64_t reg = ReflectBits(crc, 64);
  for (size_t i = 0; i < len; i++) {
    reg ^= ReflectBits(p[i], 8) << 56;
    for (int bit = 0; bit < 8; bit++) {
      reg = (reg & (UINT64_C(1) << 63)) ? (reg << 1) ^ poly : reg << 1;
    }
  }
  return ReflectBits(reg, 64);
}

std::vector<unsigned char> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> v(n);
  for (auto &b : v) {
    b = static_cast<unsigned char>(rng());
  }
  return v;
}

// Runs first (tests run in file order): the tables are built on the first
// call, here from several threads at once.
TEST(Crc64Test, ConcurrentFirstUse) {
  std::vector<uint64_t> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); i++) {
    threads.emplace_back(
        [&results, i] { results[i] = crc64(0, "123456789", 9); });
  }
  for (auto &t : threads) {
    t.join();
  }
  for (uint64_t r : results) {
    EXPECT_EQ(r, UINT64_C(0xe9c6d914c4b8d9ca));
  }
}

TEST(Crc64Test, CheckValue) {
  EXPECT_EQ(crc64(0, "123456789", 9), UINT64_C(0xe9c6d914c4b8d9ca));
  EXPECT_EQ(ReferenceCrc64(0, (const unsigned char *)"123456789", 9),
            UINT64_C(0xe9c6d914c4b8d9ca));
}

// Redis's crc64Test (src/crc64.c): the text with its terminating NUL.
TEST(Crc64Test, RedisLoremIpsumVector) {
  const char li[] =
      "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed "
      "do eiusmod tempor incididunt ut labore et dolore magna "
      "aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
      "ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis "
      "aute irure dolor in reprehenderit in voluptate velit esse "
      "cillum dolore eu fugiat nulla pariatur. Excepteur sint "
      "occaecat cupidatat non proident, sunt in culpa qui officia "
      "deserunt mollit anim id est laborum.";
  EXPECT_EQ(crc64(0, li, sizeof(li)), UINT64_C(0xc7794709e69683b3));
}

// A dump.rdb written by Debian's redis-server 7.0.15 (SET of three strings,
// then SAVE; the same file lzf_test takes its LZF blobs from). Its last 8
// bytes are the little-endian CRC-64 of everything before them.
const unsigned char kRedisDumpRdb[] = {
    0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x30, 0xfa, 0x09, 0x72,
    0x65, 0x64, 0x69, 0x73, 0x2d, 0x76, 0x65, 0x72, 0x06, 0x37, 0x2e, 0x30,
    0x2e, 0x31, 0x35, 0xfa, 0x0a, 0x72, 0x65, 0x64, 0x69, 0x73, 0x2d, 0x62,
    0x69, 0x74, 0x73, 0xc0, 0x40, 0xfa, 0x05, 0x63, 0x74, 0x69, 0x6d, 0x65,
    0xc2, 0xf7, 0x2d, 0x17, 0x6b, 0xfa, 0x08, 0x75, 0x73, 0x65, 0x64, 0x2d,
    0x6d, 0x65, 0x6d, 0xc2, 0xf8, 0x59, 0x0e, 0x00, 0xfa, 0x08, 0x61, 0x6f,
    0x66, 0x2d, 0x62, 0x61, 0x73, 0x65, 0xc0, 0x00, 0xfe, 0x00, 0xfb, 0x03,
    0x00, 0x00, 0x02, 0x6b, 0x33, 0xc3, 0x3a, 0x42, 0x1c, 0x1f, 0x54, 0x68,
    0x65, 0x20, 0x71, 0x75, 0x69, 0x63, 0x6b, 0x20, 0x62, 0x72, 0x6f, 0x77,
    0x6e, 0x20, 0x66, 0x6f, 0x78, 0x20, 0x6a, 0x75, 0x6d, 0x70, 0x73, 0x20,
    0x6f, 0x76, 0x65, 0x72, 0x20, 0x74, 0x20, 0x1e, 0x0a, 0x6c, 0x61, 0x7a,
    0x79, 0x20, 0x64, 0x6f, 0x67, 0x2e, 0x20, 0x54, 0x20, 0x0d, 0xe0, 0xff,
    0x2c, 0xe1, 0xd8, 0x0d, 0x01, 0x2e, 0x20, 0x00, 0x02, 0x6b, 0x32, 0xc3,
    0x40, 0x79, 0x41, 0x0b, 0x0f, 0x5b, 0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a,
    0x20, 0x30, 0x2c, 0x20, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x20, 0x0a, 0x06,
    0x22, 0x75, 0x73, 0x65, 0x72, 0x30, 0x22, 0x20, 0x10, 0x04, 0x61, 0x63,
    0x74, 0x69, 0x76, 0x40, 0x12, 0x06, 0x74, 0x72, 0x75, 0x65, 0x7d, 0x2c,
    0x20, 0xa0, 0x2b, 0x00, 0x31, 0x20, 0x1a, 0xe0, 0x03, 0x2b, 0x00, 0x31,
    0xe0, 0x04, 0x2b, 0x03, 0x66, 0x61, 0x6c, 0x73, 0xe0, 0x02, 0x2c, 0x00,
    0x32, 0xe0, 0x06, 0x2c, 0x00, 0x32, 0xe0, 0x04, 0x2c, 0xe0, 0x05, 0x58,
    0x00, 0x33, 0xe0, 0x06, 0x2b, 0x00, 0x33, 0xe0, 0x04, 0x2b, 0xe0, 0x06,
    0x58, 0x00, 0x34, 0xe0, 0x06, 0x2c, 0x00, 0x34, 0xe0, 0x04, 0x2c, 0xe0,
    0x05, 0x58, 0x00, 0x35, 0xe0, 0x06, 0x2b, 0x00, 0x35, 0xe0, 0x04, 0x2b,
    0x60, 0x58, 0x01, 0x7d, 0x5d, 0x00, 0x02, 0x6b, 0x31, 0xc3, 0x39, 0x40,
    0x7b, 0x01, 0x61, 0x61, 0xc0, 0x00, 0x00, 0x62, 0x40, 0x00, 0xc0, 0x0c,
    0x0e, 0x61, 0x61, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
    0x39, 0x61, 0x62, 0x63, 0xe0, 0x01, 0x02, 0xe0, 0x00, 0x00, 0x40, 0x2d,
    0xe0, 0x18, 0x2e, 0x0b, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x77, 0x6f,
    0x72, 0x6c, 0x64, 0x20, 0xe0, 0x06, 0x0b, 0x01, 0x6c, 0x6f, 0xff, 0xd3,
    0xf3, 0x3e, 0x66, 0x28, 0x33, 0x53, 0xed,
};

TEST(Crc64Test, RedisRdbChecksum) {
  const size_t body = sizeof(kRedisDumpRdb) - 8;
  uint64_t stored = 0;
  for (int i = 7; i >= 0; i--) {
    stored = (stored << 8) | kRedisDumpRdb[body + i];
  }
  EXPECT_EQ(stored, UINT64_C(0xed533328663ef3d3));
  EXPECT_EQ(crc64(0, kRedisDumpRdb, body), stored);
}

TEST(Crc64Test, EmptyInputLeavesCrcUnchanged) {
  EXPECT_EQ(crc64(0, nullptr, 0), UINT64_C(0));
  EXPECT_EQ(crc64(UINT64_C(0x0123456789abcdef), nullptr, 0),
            UINT64_C(0x0123456789abcdef));
}

// Every length up to 200 at every alignment 0..15, and a few large ones:
// covers the 16-byte, 8-byte and byte-at-a-time paths and their seams.
TEST(Crc64Test, MatchesReferenceAtEveryLengthAndAlignment) {
  std::vector<unsigned char> data = RandomBytes(200 + 16, 1);
  for (size_t align = 0; align < 16; align++) {
    for (size_t len = 0; len <= 200; len++) {
      const unsigned char *p = data.data() + align;
      ASSERT_EQ(crc64(0, p, len), ReferenceCrc64(0, p, len))
          << "len " << len << " align " << align;
    }
  }
  for (size_t len : {4096u, 65536u + 7u, 100000u}) {
    std::vector<unsigned char> big = RandomBytes(len, 2);
    EXPECT_EQ(crc64(0, big.data(), len), ReferenceCrc64(0, big.data(), len))
        << "len " << len;
  }
}

TEST(Crc64Test, NonZeroStartMatchesReference) {
  std::vector<unsigned char> data = RandomBytes(77, 3);
  for (uint64_t start : {UINT64_C(1), UINT64_C(0xffffffffffffffff),
                         UINT64_C(0xe9c6d914c4b8d9ca)}) {
    EXPECT_EQ(crc64(start, data.data(), data.size()),
              ReferenceCrc64(start, data.data(), data.size()));
  }
}

TEST(Crc64Test, IncrementalEqualsOneShot) {
  std::vector<unsigned char> data = RandomBytes(300, 4);
  const uint64_t whole = crc64(0, data.data(), data.size());
  for (size_t split = 0; split <= data.size(); split++) {
    uint64_t crc = crc64(0, data.data(), split);
    crc = crc64(crc, data.data() + split, data.size() - split);
    ASSERT_EQ(crc, whole) << "split at " << split;
  }
  // Many uneven pieces of a larger buffer.
  std::vector<unsigned char> big = RandomBytes(1 << 20, 5);
  std::mt19937 rng(6);
  uint64_t crc = 0;
  size_t pos = 0;
  while (pos < big.size()) {
    size_t n = std::min<size_t>(rng() % 5000, big.size() - pos);
    crc = crc64(crc, big.data() + pos, n);
    pos += n;
  }
  EXPECT_EQ(crc, crc64(0, big.data(), big.size()));
}

}  // namespace
