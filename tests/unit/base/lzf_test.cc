// lzf_test: lzf_decompress_buf reads what Redis's liblzf wrote;
// lzf_compress_buf output round-trips and is about the size Redis makes; the
// decompressor rejects truncated, corrupt and oversized streams without
// touching memory outside its two buffers (run under --config=asan).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include "server/base/lzf.h"
}

namespace {

typedef std::vector<unsigned char> Bytes;

// Known answers from the real liblzf. Produced with Debian's redis-server
// 7.0.15 (rdbcompression yes):
//   redis-server --port 0 --unixsocket /tmp/lzfgen.sock --dir /tmp/lzfgen
//     --save ''   (one command line)
//   redis-cli -s /tmp/lzfgen.sock SET k1 "$(Value1())"   (k2, k3 likewise)
//   redis-cli -s /tmp/lzfgen.sock SAVE
// then cut out of dump.rdb: each value is stored as 0xC3, the RDB length of
// the compressed data, the RDB length of the original, and the LZF bytes
// below. (The whole dump.rdb is in crc64_test.cc.)
const unsigned char kRedisLzf1[] = {
    0x01, 0x61, 0x61, 0xc0, 0x00, 0x00, 0x62, 0x40, 0x00, 0xc0, 0x0c, 0x0e,
    0x61, 0x61, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x61, 0x62, 0x63, 0xe0, 0x01, 0x02, 0xe0, 0x00, 0x00, 0x40, 0x2d, 0xe0,
    0x18, 0x2e, 0x0b, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x77, 0x6f, 0x72,
    0x6c, 0x64, 0x20, 0xe0, 0x06, 0x0b, 0x01, 0x6c, 0x6f,
};
const unsigned char kRedisLzf2[] = {
    0x0f, 0x5b, 0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x20, 0x30, 0x2c,
    0x20, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x20, 0x0a, 0x06, 0x22, 0x75,
    0x73, 0x65, 0x72, 0x30, 0x22, 0x20, 0x10, 0x04, 0x61, 0x63, 0x74,
    0x69, 0x76, 0x40, 0x12, 0x06, 0x74, 0x72, 0x75, 0x65, 0x7d, 0x2c,
    0x20, 0xa0, 0x2b, 0x00, 0x31, 0x20, 0x1a, 0xe0, 0x03, 0x2b, 0x00,
    0x31, 0xe0, 0x04, 0x2b, 0x03, 0x66, 0x61, 0x6c, 0x73, 0xe0, 0x02,
    0x2c, 0x00, 0x32, 0xe0, 0x06, 0x2c, 0x00, 0x32, 0xe0, 0x04, 0x2c,
    0xe0, 0x05, 0x58, 0x00, 0x33, 0xe0, 0x06, 0x2b, 0x00, 0x33, 0xe0,
    0x04, 0x2b, 0xe0, 0x06, 0x58, 0x00, 0x34, 0xe0, 0x06, 0x2c, 0x00,
    0x34, 0xe0, 0x04, 0x2c, 0xe0, 0x05, 0x58, 0x00, 0x35, 0xe0, 0x06,
    0x2b, 0x00, 0x35, 0xe0, 0x04, 0x2b, 0x60, 0x58, 0x01, 0x7d, 0x5d,
};
const unsigned char kRedisLzf3[] = {
    0x1f, 0x54, 0x68, 0x65, 0x20, 0x71, 0x75, 0x69, 0x63, 0x6b, 0x20, 0x62,
    0x72, 0x6f, 0x77, 0x6e, 0x20, 0x66, 0x6f, 0x78, 0x20, 0x6a, 0x75, 0x6d,
    0x70, 0x73, 0x20, 0x6f, 0x76, 0x65, 0x72, 0x20, 0x74, 0x20, 0x1e, 0x0a,
    0x6c, 0x61, 0x7a, 0x79, 0x20, 0x64, 0x6f, 0x67, 0x2e, 0x20, 0x54, 0x20,
    0x0d, 0xe0, 0xff, 0x2c, 0xe1, 0xd8, 0x0d, 0x01, 0x2e, 0x20,
};

std::string Value1() {
  std::string unit =
      "aaaaaaaaaabbbbbaaaaaaaaaa0123456789abcabcabcabc";  // 47 bytes
  return unit + unit + "hello world hello world hello";   // 123 bytes
}

std::string Value2() {
  std::string s = "[";
  for (int i = 0; i < 6; i++) {
    if (i > 0) {
      s += ", ";
    }
    s += "{\"id\": " + std::to_string(i) + ", \"name\": \"user" +
         std::to_string(i) + "\", \"active\": " + (i % 2 ? "false" : "true") +
         "}";
  }
  return s + "]";  // 267 bytes
}

std::string Value3() {
  std::string s;
  for (int i = 0; i < 12; i++) {
    s += "The quick brown fox jumps over the lazy dog. ";
  }
  return s;  // 540 bytes
}

struct RedisSample {
  const unsigned char *lzf;
  size_t lzf_len;
  std::string value;
};

std::vector<RedisSample> RedisSamples() {
  return {{kRedisLzf1, sizeof(kRedisLzf1), Value1()},
          {kRedisLzf2, sizeof(kRedisLzf2), Value2()},
          {kRedisLzf3, sizeof(kRedisLzf3), Value3()}};
}

// Worst case of the format (all literals): one control byte per 32 bytes.
size_t Bound(size_t n) { return n + n / 32 + 1; }

// Decompresses into a heap buffer of exactly |cap| bytes (so ASan sees any
// write past it) from a heap copy of exactly the input (likewise reads).
size_t DecompressExact(const Bytes &in, size_t cap, Bytes *out) {
  std::unique_ptr<unsigned char[]> src(new unsigned char[in.size() + 1]);
  if (!in.empty()) {
    memcpy(src.get(), in.data(), in.size());
  }
  std::unique_ptr<unsigned char[]> dst(new unsigned char[cap + 1]);
  size_t n = lzf_decompress_buf(in.empty() ? nullptr : src.get(), in.size(),
                                cap ? dst.get() : nullptr, cap);
  EXPECT_LE(n, cap);
  out->assign(dst.get(), dst.get() + n);
  return n;
}

// Compresses with |cap| bytes of output; the buffer has 16 guard bytes after
// |cap| that must stay untouched.
size_t CompressGuarded(const Bytes &in, size_t cap, Bytes *out) {
  Bytes buf(cap + 16, 0xa5);
  size_t n = lzf_compress_buf(in.data(), in.size(), buf.data(), cap);
  for (size_t i = cap; i < buf.size(); i++) {
    EXPECT_EQ(buf[i], 0xa5) << "write past out_cap " << cap;
  }
  EXPECT_LE(n, cap);
  out->assign(buf.begin(), buf.begin() + n);
  return n;
}

Bytes RoundTrip(const Bytes &in) {
  Bytes compressed, back;
  size_t c = CompressGuarded(in, Bound(in.size()), &compressed);
  if (in.empty()) {
    EXPECT_EQ(c, 0u);
    return in;
  }
  EXPECT_GT(c, 0u) << "size " << in.size();
  EXPECT_EQ(DecompressExact(compressed, in.size(), &back), in.size());
  return back;
}

Bytes ToBytes(const std::string &s) { return Bytes(s.begin(), s.end()); }

// Kinds of data: random, text-like with repeats, runs of one byte, and
// a small alphabet (matches of every length and distance).
Bytes MakeData(size_t n, int kind, std::mt19937 *rng) {
  Bytes v(n);
  static const char kWords[][8] = {"redis", "key", "value", " ",
                                   "lzf",   "\n",  "0123",  "{\"a\":"};
  size_t i = 0;
  while (i < n) {
    switch (kind) {
      case 0:
        v[i++] = static_cast<unsigned char>((*rng)());
        break;
      case 1: {
        const char *w = kWords[(*rng)() % 8];
        for (size_t k = 0; w[k] != '\0' && i < n; k++) {
          v[i++] = static_cast<unsigned char>(w[k]);
        }
        break;
      }
      case 2: {
        unsigned char b = static_cast<unsigned char>((*rng)());
        size_t run = 1 + (*rng)() % 600;
        for (size_t k = 0; k < run && i < n; k++) {
          v[i++] = b;
        }
        break;
      }
      default:
        v[i++] = static_cast<unsigned char>('a' + (*rng)() % 3);
        break;
    }
  }
  return v;
}

TEST(LzfTest, DecompressesRedisOutput) {
  for (const RedisSample &s : RedisSamples()) {
    Bytes in(s.lzf, s.lzf + s.lzf_len), out;
    ASSERT_EQ(DecompressExact(in, s.value.size(), &out), s.value.size());
    EXPECT_EQ(std::string(out.begin(), out.end()), s.value);
    // One byte less room than the value: refused.
    EXPECT_EQ(DecompressExact(in, s.value.size() - 1, &out), 0u);
  }
}

// Our output decompresses to the value and is no larger than ~110% of what
// Redis stored for it (RDB size parity), with Redis's out_cap of len - 4.
TEST(LzfTest, CompressesAboutAsWellAsRedis) {
  for (const RedisSample &s : RedisSamples()) {
    Bytes value = ToBytes(s.value), compressed, back;
    size_t c = CompressGuarded(value, value.size() - 4, &compressed);
    ASSERT_GT(c, 0u);
    EXPECT_LE(c * 10, s.lzf_len * 11)
        << "ours " << c << " bytes, Redis " << s.lzf_len;
    ASSERT_EQ(DecompressExact(compressed, value.size(), &back), value.size());
    EXPECT_EQ(back, value);
  }
}

TEST(LzfTest, EmptyInput) {
  unsigned char out[8];
  EXPECT_EQ(lzf_compress_buf("", 0, out, sizeof(out)), 0u);
  EXPECT_EQ(lzf_decompress_buf("", 0, out, sizeof(out)), 0u);
  EXPECT_EQ(lzf_compress_buf(nullptr, 0, nullptr, 0), 0u);
  EXPECT_EQ(lzf_decompress_buf(nullptr, 0, nullptr, 0), 0u);
}

TEST(LzfTest, RoundTripsEverySmallSize) {
  std::mt19937 rng(1);
  for (int kind = 0; kind < 4; kind++) {
    for (size_t n = 0; n <= 300; n++) {
      Bytes in = MakeData(n, kind, &rng);
      ASSERT_EQ(RoundTrip(in), in) << "kind " << kind << " size " << n;
    }
  }
}

TEST(LzfTest, RoundTripsLargeSizes) {
  std::mt19937 rng(2);
  std::vector<size_t> sizes = {511,   512,   1000,  4095,  4096,  8191,
                               8192,  8193,  8194,  16384, 32767, 32768,
                               32769, 65535, 65536, 65537, 100000};
  for (int i = 0; i < 8; i++) {
    sizes.push_back(rng() % 100001);
  }
  for (int kind = 0; kind < 4; kind++) {
    for (size_t n : sizes) {
      Bytes in = MakeData(n, kind, &rng);
      ASSERT_EQ(RoundTrip(in), in) << "kind " << kind << " size " << n;
    }
  }
}

// The longest match (264 bytes) and the farthest offset (8192) are used,
// and one byte further is not (it would not be encodable).
TEST(LzfTest, RoundTripsAtFormatLimits) {
  std::mt19937 rng(3);
  for (size_t distance : {8191u, 8192u, 8193u, 8194u}) {
    Bytes block = MakeData(distance, 0, &rng);
    Bytes in = block;
    in.insert(in.end(), block.begin(), block.begin() + 1000);
    Bytes compressed;
    ASSERT_GT(CompressGuarded(in, Bound(in.size()), &compressed), 0u);
    Bytes back;
    ASSERT_EQ(DecompressExact(compressed, in.size(), &back), in.size());
    EXPECT_EQ(back, in) << "distance " << distance;
    if (distance <= 8192) {
      // The repeated 1000 bytes cost a few back-references, not literals.
      EXPECT_LT(compressed.size(), Bound(distance) + 30);
    }
  }
  Bytes zeros(100000, 0), compressed;
  ASSERT_GT(CompressGuarded(zeros, Bound(zeros.size()), &compressed), 0u);
  // 2 bytes of literal, then 3 bytes per 264 (at most) of the rest.
  EXPECT_LE(compressed.size(), 2 + 3 * (zeros.size() / 264 + 1));
  EXPECT_EQ(RoundTrip(zeros), zeros);
}

// Every capacity below the compressed size is refused, with no write past
// it; the exact size is accepted and gives the same bytes.
TEST(LzfTest, CompressRefusesSmallOutCap) {
  std::mt19937 rng(4);
  for (int kind = 0; kind < 4; kind++) {
    Bytes in = MakeData(700, kind, &rng), full, out;
    size_t c = CompressGuarded(in, Bound(in.size()), &full);
    ASSERT_GT(c, 0u);
    for (size_t cap = 0; cap < c; cap++) {
      ASSERT_EQ(CompressGuarded(in, cap, &out), 0u) << "cap " << cap;
    }
    ASSERT_EQ(CompressGuarded(in, c, &out), c);
    EXPECT_EQ(out, full);
  }
}

TEST(LzfTest, DecompressRefusesSmallOutCap) {
  std::mt19937 rng(5);
  for (int kind = 0; kind < 4; kind++) {
    Bytes in = MakeData(700, kind, &rng), compressed, out;
    ASSERT_GT(CompressGuarded(in, Bound(in.size()), &compressed), 0u);
    for (size_t cap = 0; cap < in.size(); cap++) {
      ASSERT_EQ(DecompressExact(compressed, cap, &out), 0u) << "cap " << cap;
    }
  }
}

// A truncated stream is either refused or, when cut between two items, is a
// shorter valid stream: then it gives a prefix of the data.
TEST(LzfTest, TruncationsGiveZeroOrAPrefix) {
  std::mt19937 rng(6);
  std::vector<Bytes> streams;
  for (const RedisSample &s : RedisSamples()) {
    streams.emplace_back(s.lzf, s.lzf + s.lzf_len);
  }
  for (int kind = 0; kind < 4; kind++) {
    Bytes in = MakeData(2000, kind, &rng), compressed;
    ASSERT_GT(CompressGuarded(in, Bound(in.size()), &compressed), 0u);
    streams.push_back(compressed);
  }
  for (const Bytes &stream : streams) {
    Bytes full;
    size_t full_len = DecompressExact(stream, 1 << 16, &full);
    ASSERT_GT(full_len, 0u);
    size_t accepted = 0;
    for (size_t k = 0; k < stream.size(); k++) {
      Bytes prefix(stream.begin(), stream.begin() + k), out;
      size_t n = DecompressExact(prefix, full_len, &out);
      ASSERT_LT(n, full_len) << "cut at " << k;
      ASSERT_TRUE(std::equal(out.begin(), out.end(), full.begin()))
          << "cut at " << k;
      accepted += n > 0;
    }
    EXPECT_GT(accepted, 0u);  // some cuts do fall between items
  }
}

TEST(LzfTest, HandWrittenStreams) {
  struct Case {
    Bytes in;
    std::string want;  // "" means: refused
  };
  const std::vector<Case> cases = {
      // literal "a", then 3 bytes from 1 back: runs are byte by byte
      {{0x00, 'a', 0x20, 0x00}, "aaaa"},
      // literal "ab", then 7 + 3 + 2 = 12 bytes from 2 back (overlapping)
      {{0x01, 'a', 'b', 0xe0, 0x03, 0x01}, "ababababababab"},
      // the same as separate items
      {{0x01, 'a', 'b', 0x20, 0x01, 0x00, 'c'}, "ababac"},
      // a full 32-byte literal run
      {[] {
         Bytes b = {0x1f};
         for (int i = 0; i < 32; i++) {
           b.push_back(static_cast<unsigned char>('0' + i % 10));
         }
         return b;
       }(),
       "01234567890123456789012345678901"},
      // back-reference with no output before it
      {{0x20, 0x00}, ""},
      // offset 2 with 1 byte of output
      {{0x00, 'a', 0x20, 0x01}, ""},
      // offset 8192 with 1 byte of output
      {{0x00, 'a', 0x3f, 0xff}, ""},
      // offset byte missing
      {{0x00, 'a', 0x20}, ""},
      // long length byte and offset byte missing
      {{0x00, 'a', 0xe0}, ""},
      // long length present, offset byte missing
      {{0x00, 'a', 0xe0, 0x05}, ""},
      // literal run longer than what is left
      {{0x05, 'a', 'b'}, ""},
      // a lone literal control byte
      {{0x00}, ""},
  };
  for (size_t i = 0; i < cases.size(); i++) {
    Bytes out;
    size_t n = DecompressExact(cases[i].in, 64, &out);
    EXPECT_EQ(std::string(out.begin(), out.end()), cases[i].want)
        << "case " << i;
    EXPECT_EQ(n, cases[i].want.size()) << "case " << i;
  }
}

// Random bytes, and valid streams with random bytes flipped: never a crash
// or an access out of bounds (ASan), and a result that fits the buffer.
TEST(LzfTest, GarbageIsHandledSafely) {
  std::mt19937 rng(7);
  Bytes out;
  for (int i = 0; i < 20000; i++) {
    Bytes in(rng() % 64);
    for (auto &b : in) {
      b = static_cast<unsigned char>(rng());
    }
    DecompressExact(in, rng() % 300, &out);
  }
  Bytes data = MakeData(3000, 1, &rng), compressed;
  ASSERT_GT(CompressGuarded(data, Bound(data.size()), &compressed), 0u);
  for (int i = 0; i < 5000; i++) {
    Bytes corrupt = compressed;
    for (int k = 0; k < 3; k++) {
      corrupt[rng() % corrupt.size()] = static_cast<unsigned char>(rng());
    }
    DecompressExact(corrupt, data.size() + rng() % 50, &out);
  }
}

}  // namespace
