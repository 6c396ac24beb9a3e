// Unit tests for server/persist/legacy.c: hand-built ziplists and zipmaps in
// every encoding Redis wrote, read back element by element; corrupted
// variants (truncations, wrong headers, lengths past the end) rejected with
// fn never called. Every blob is passed in an allocation of exactly its size
// so ASan catches any read past it.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

extern "C" {
#include "server/persist/legacy.h"
}

namespace {

// One element as the readers report it.
struct Elem {
  bool is_int;
  std::string s;
  long long v;
  bool operator==(const Elem &o) const {
    return is_int == o.is_int && s == o.s && v == o.v;
  }
};

std::ostream &operator<<(std::ostream &os, const Elem &e) {
  if (e.is_int) {
    return os << "int(" << e.v << ")";
  }
  return os << "str(" << e.s.size() << ":" << e.s.substr(0, 16) << ")";
}

Elem Str(const std::string &s) { return Elem{false, s, 0}; }
Elem Int(long long v) { return Elem{true, "", v}; }

struct Collector {
  std::vector<Elem> got;
  size_t stop_after = SIZE_MAX;  // return non-zero after this many calls
};

int Collect(void *pd, const unsigned char *s, size_t slen, long long ival) {
  auto *c = static_cast<Collector *>(pd);
  if (s != nullptr) {
    EXPECT_EQ(ival, 0);
    c->got.push_back(Str(std::string(reinterpret_cast<const char *>(s), slen)));
  } else {
    EXPECT_EQ(slen, 0u);
    c->got.push_back(Int(ival));
  }
  return c->got.size() >= c->stop_after ? 1 : 0;
}

// Exact-size heap copies, so a read one byte past the blob is an ASan error.
long ZiplistRun(const std::string &blob, Collector *c) {
  std::unique_ptr<unsigned char[]> exact(new unsigned char[blob.size()]);
  if (!blob.empty()) {
    memcpy(exact.get(), blob.data(), blob.size());
  }
  return ziplist_foreach(exact.get(), blob.size(), Collect, c);
}

long ZipmapRun(const std::string &blob, Collector *c) {
  std::unique_ptr<unsigned char[]> exact(new unsigned char[blob.size()]);
  if (!blob.empty()) {
    memcpy(exact.get(), blob.data(), blob.size());
  }
  return zipmap_foreach(exact.get(), blob.size(), Collect, c);
}

std::string Le(uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; i++) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  return out;
}

std::string Be32(uint32_t v) {
  std::string out;
  for (int i = 3; i >= 0; i--) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  return out;
}

std::string Byte(int b) { return std::string(1, static_cast<char>(b)); }

// ---- ziplist builder --------------------------------------------------

// The encoding and data of one ziplist entry (no prevlen) and what it reads
// back as.
struct ZlBody {
  std::string bytes;
  Elem elem;
};

// String with its length in the 6-bit (width 6), 14-bit or 32-bit form.
ZlBody ZlStr(const std::string &s, int width) {
  std::string b;
  if (width == 6) {
    b = Byte(static_cast<int>(s.size()));
  } else if (width == 14) {
    b = Byte(0x40 | static_cast<int>(s.size() >> 8)) +
        Byte(static_cast<int>(s.size() & 0xFF));
  } else {
    b = Byte(0x80) + Be32(static_cast<uint32_t>(s.size()));
  }
  return ZlBody{b + s, Str(s)};
}

ZlBody ZlInt(int enc, long long v) {
  int width = 0;
  switch (enc) {
    case 0xFE:
      width = 1;
      break;
    case 0xC0:
      width = 2;
      break;
    case 0xF0:
      width = 3;
      break;
    case 0xD0:
      width = 4;
      break;
    case 0xE0:
      width = 8;
      break;
  }
  return ZlBody{Byte(enc) + Le(static_cast<uint64_t>(v), width), Int(v)};
}

ZlBody ZlImm(int v) { return ZlBody{Byte(0xF1 + v), Int(v)}; }

struct ZlOptions {
  int count = -1;             // header count; -1: the real one
  bool big_prevlens = false;  // 5-byte prevlen even for small sizes
};

std::string PrevlenBytes(size_t prev, bool big) {
  if (prev < 254 && !big) {
    return Byte(static_cast<int>(prev));
  }
  return Byte(0xFE) + Le(prev, 4);
}

std::string BuildZiplist(const std::vector<ZlBody> &bodies,
                         ZlOptions opt = ZlOptions()) {
  std::string entries;
  size_t prev = 0;
  size_t tail = 10;
  for (const ZlBody &b : bodies) {
    std::string e = PrevlenBytes(prev, opt.big_prevlens) + b.bytes;
    tail = 10 + entries.size();
    entries += e;
    prev = e.size();
  }
  size_t total = 10 + entries.size() + 1;
  int count = opt.count >= 0 ? opt.count : static_cast<int>(bodies.size());
  return Le(total, 4) + Le(tail, 4) + Le(static_cast<uint64_t>(count), 2) +
         entries + Byte(0xFF);
}

std::vector<Elem> Elems(const std::vector<ZlBody> &bodies) {
  std::vector<Elem> out;
  for (const ZlBody &b : bodies) {
    out.push_back(b.elem);
  }
  return out;
}

// Every encoding: 6/14/32-bit strings (one of 300 bytes, so the next entry
// has a 5-byte prevlen), all integer widths at their limits, immediates.
std::vector<ZlBody> AllEncodings() {
  return {
      ZlStr("", 6),
      ZlStr("hello", 6),
      ZlStr(std::string(63, 'a'), 6),
      ZlStr(std::string(64, 'b'), 14),
      ZlStr(std::string(300, 'c'), 14),
      ZlStr("after-big", 6),
      ZlStr(std::string(16383, 'd'), 14),
      ZlStr(std::string(16384, 'e'), 32),
      ZlStr("x", 32),
      ZlInt(0xFE, -128),
      ZlInt(0xFE, 127),
      ZlInt(0xC0, INT16_MIN),
      ZlInt(0xC0, INT16_MAX),
      ZlInt(0xF0, -8388608),
      ZlInt(0xF0, 8388607),
      ZlInt(0xF0, -1),
      ZlInt(0xD0, INT32_MIN),
      ZlInt(0xD0, INT32_MAX),
      ZlInt(0xE0, LLONG_MIN),
      ZlInt(0xE0, LLONG_MAX),
      ZlInt(0xE0, -2),
      ZlImm(0),
      ZlImm(7),
      ZlImm(12),
      ZlStr(std::string("\0\xff\xfe", 3), 6),
  };
}

TEST(Ziplist, RedisDocumentedExample) {
  // From ziplist.c's comment: the list "2", "5".
  const std::string zl(
      "\x0f\x00\x00\x00\x0c\x00\x00\x00\x02\x00\x00\xf3\x02\xf6\xff", 15);
  Collector c;
  EXPECT_EQ(ZiplistRun(zl, &c), 2);
  EXPECT_EQ(c.got, (std::vector<Elem>{Int(2), Int(5)}));
}

TEST(Ziplist, Empty) {
  Collector c;
  EXPECT_EQ(ZiplistRun(BuildZiplist({}), &c), 0);
  EXPECT_TRUE(c.got.empty());
}

TEST(Ziplist, EveryEncoding) {
  std::vector<ZlBody> bodies = AllEncodings();
  std::string zl = BuildZiplist(bodies);
  // The 300-byte string (1-byte prevlen, 2-byte length) makes its successor
  // carry a 5-byte prevlen.
  ASSERT_NE(zl.find(std::string("\xfe") + Le(1 + 2 + 300, 4)),
            std::string::npos);
  Collector c;
  EXPECT_EQ(ZiplistRun(zl, &c), static_cast<long>(bodies.size()));
  EXPECT_EQ(c.got, Elems(bodies));
}

TEST(Ziplist, BigPrevlenForSmallEntries) {
  // Redis's cascade update leaves 5-byte prevlens holding small sizes.
  std::vector<ZlBody> bodies = {ZlStr("a", 6), ZlImm(3), ZlInt(0xC0, 1000)};
  ZlOptions opt;
  opt.big_prevlens = true;
  Collector c;
  EXPECT_EQ(ZiplistRun(BuildZiplist(bodies, opt), &c), 3);
  EXPECT_EQ(c.got, Elems(bodies));
}

TEST(Ziplist, UnknownCountIsCounted) {
  std::vector<ZlBody> bodies = {ZlStr("a", 6), ZlStr("b", 6), ZlImm(1)};
  ZlOptions opt;
  opt.count = 65535;
  Collector c;
  EXPECT_EQ(ZiplistRun(BuildZiplist(bodies, opt), &c), 3);
  EXPECT_EQ(c.got, Elems(bodies));
}

TEST(Ziplist, NullCallbackOnlyValidates) {
  std::string zl = BuildZiplist(AllEncodings());
  EXPECT_EQ(ziplist_foreach(reinterpret_cast<const unsigned char *>(zl.data()),
                            zl.size(), nullptr, nullptr),
            static_cast<long>(AllEncodings().size()));
}

TEST(Ziplist, CallbackStops) {
  std::vector<ZlBody> bodies = AllEncodings();
  Collector c;
  c.stop_after = 4;
  EXPECT_EQ(ZiplistRun(BuildZiplist(bodies), &c), LEGACY_STOPPED);
  EXPECT_EQ(c.got.size(), 4u);
}

TEST(Ziplist, EveryTruncationRejected) {
  std::string zl = BuildZiplist(AllEncodings());
  for (size_t n = 0; n < zl.size(); n++) {
    Collector c;
    ASSERT_EQ(ZiplistRun(zl.substr(0, n), &c), LEGACY_INVALID) << "n=" << n;
    ASSERT_TRUE(c.got.empty());
  }
}

// Truncated, then the header and end byte made to agree with the new size:
// the entries themselves must be caught running past the end.
TEST(Ziplist, EveryTruncationWithFixedHeaderRejected) {
  std::vector<ZlBody> bodies = {
      ZlStr("abc", 6),   ZlStr(std::string(300, 'z'), 14),
      ZlInt(0xE0, 1),    ZlInt(0xF0, -5),
      ZlStr("tail", 32), ZlImm(9)};
  for (int count : {-1, 65535}) {
    ZlOptions opt;
    opt.count = count;
    std::string zl = BuildZiplist(bodies, opt);
    for (size_t n = 11; n < zl.size(); n++) {
      std::string t = zl.substr(0, n);
      t.replace(0, 4, Le(n, 4));
      t[n - 1] = '\xff';
      Collector c;
      ASSERT_EQ(ZiplistRun(t, &c), LEGACY_INVALID) << "n=" << n;
      ASSERT_TRUE(c.got.empty());
    }
  }
}

TEST(Ziplist, WrongHeaderRejected) {
  std::vector<ZlBody> bodies = {ZlStr("a", 6), ZlStr("bb", 6), ZlImm(2)};
  const std::string good = BuildZiplist(bodies);
  Collector ok;
  ASSERT_EQ(ZiplistRun(good, &ok), 3);

  for (long delta : {-1L, 1L, 1000L}) {
    std::string zl = good;
    zl.replace(0, 4, Le(good.size() + delta, 4));
    Collector c;
    EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID) << "zlbytes delta " << delta;
  }
  // zlbytes right, but the blob carries one more byte.
  {
    std::string zl = good + Byte(0xFF);
    Collector c;
    EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID);
  }
  // zltail: out of range, and in range but not the last entry.
  for (uint32_t tail :
       {0u, 10u, 12u, static_cast<uint32_t>(good.size()), 0xFFFFFFFFu}) {
    std::string zl = good;
    zl.replace(4, 4, Le(tail, 4));
    Collector c;
    EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID) << "zltail " << tail;
  }
  // Count: too small, too large (not the 65535 wildcard).
  for (int count : {0, 2, 4, 65534}) {
    ZlOptions opt;
    opt.count = count;
    Collector c;
    EXPECT_EQ(ZiplistRun(BuildZiplist(bodies, opt), &c), LEGACY_INVALID)
        << "count " << count;
    EXPECT_TRUE(c.got.empty());
  }
  // Shorter than a header plus the end byte.
  for (size_t n : {0, 1, 10}) {
    std::string zl = Le(n, 4) + std::string(n > 4 ? n - 4 : 0, '\0');
    zl.resize(n);
    if (n > 0) {
      zl[n - 1] = '\xff';
    }
    Collector c;
    EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID);
  }
}

TEST(Ziplist, BadEndByteRejected) {
  std::string zl = BuildZiplist({ZlStr("a", 6), ZlImm(2)});
  for (int b : {0x00, 0xFE, 0x7F}) {
    zl.back() = static_cast<char>(b);
    Collector c;
    EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID) << "end byte " << b;
  }
  // An end byte in the middle: the walk stops short of len - 1.
  std::string early = BuildZiplist({ZlStr("a", 6), ZlImm(2)});
  early[10] = '\xff';
  Collector c;
  EXPECT_EQ(ZiplistRun(early, &c), LEGACY_INVALID);
}

TEST(Ziplist, BadPrevlenRejected) {
  std::vector<ZlBody> bodies = {ZlStr("abc", 6), ZlStr("de", 6)};
  std::string good = BuildZiplist(bodies);
  // First entry must say 0; second must say 5 (1 + 1 + 3).
  std::string first = good;
  first[10] = 1;
  std::string second = good;
  second[15] = 4;
  // With 5-byte prevlens the second entry starts at 10 + 9; its prevlen
  // value says 4 GiB.
  ZlOptions big;
  big.big_prevlens = true;
  std::string huge = BuildZiplist(bodies, big);
  huge.replace(19 + 1, 4, Le(0xFFFFFFFFu, 4));
  for (const std::string &zl : {first, second, huge}) {
    Collector c;
    EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID);
    EXPECT_TRUE(c.got.empty());
  }
}

TEST(Ziplist, BadEncodingRejected) {
  // A one-entry list whose encoding byte is enc, followed by 0..8 data
  // bytes: were enc taken for an integer of some width, one of them would be
  // a well-formed list.
  for (int enc : {0xC1, 0xC8, 0xCF, 0xD1, 0xE1, 0xEF, 0xFF}) {
    for (size_t pad = 0; pad <= 8; pad++) {
      std::string entries = Byte(0) + Byte(enc) + std::string(pad, '\x01');
      size_t total = 10 + entries.size() + 1;
      std::string zl =
          Le(total, 4) + Le(10, 4) + Le(1, 2) + entries + Byte(0xFF);
      Collector c;
      EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID)
          << "encoding " << enc << " pad " << pad;
    }
  }
  // The same shape with a known encoding is accepted.
  std::string ok = Byte(0) + Byte(0xD0) + std::string(4, '\x01');
  Collector c;
  EXPECT_EQ(ZiplistRun(Le(10 + ok.size() + 1, 4) + Le(10, 4) + Le(1, 2) + ok +
                           Byte(0xFF),
                       &c),
            1);
  EXPECT_EQ(c.got, (std::vector<Elem>{Int(0x01010101)}));
}

TEST(Ziplist, LengthsPastTheEndRejected) {
  // Each: one entry whose declared length runs past the end byte.
  std::vector<std::string> entries = {
      Byte(0) + Byte(10) + "abc",                      // 6-bit: 10 > 3
      Byte(0) + Byte(0x43) + Byte(0xE8) + "abc",       // 14-bit: 1000
      Byte(0) + Byte(0x80) + Be32(0xFFFFFFFFu) + "a",  // 32-bit: 4 GiB
      Byte(0) + Byte(0x80) + Be32(2),                  // 32-bit, no data
      Byte(0) + Byte(0x80) + std::string(2, '\0'),     // 32-bit length cut
      Byte(0) + Byte(0x40),                            // 14-bit length cut
      Byte(0) + Byte(0xE0) + "\x01\x02\x03",           // int64 cut
      Byte(0) + Byte(0xF0) + "\x01\x02",               // int24 cut
      Byte(0) + Byte(0xFE),                            // int8 cut
      Byte(0xFE) + std::string(2, '\0'),               // prevlen cut
      Byte(0xFE) + Le(0, 4),                           // no encoding
  };
  for (size_t i = 0; i < entries.size(); i++) {
    size_t total = 10 + entries[i].size() + 1;
    std::string zl =
        Le(total, 4) + Le(10, 4) + Le(1, 2) + entries[i] + Byte(0xFF);
    Collector c;
    EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID) << "case " << i;
  }
}

TEST(Ziplist, StopsBeforeCallingFnOnLateCorruption) {
  // Valid up to the last entry, whose prevlen is wrong: fn is never called.
  std::vector<ZlBody> bodies = {ZlStr("a", 6), ZlStr("b", 6), ZlStr("c", 6)};
  std::string zl = BuildZiplist(bodies);
  zl[10 + 3 + 3] = 9;
  Collector c;
  EXPECT_EQ(ZiplistRun(zl, &c), LEGACY_INVALID);
  EXPECT_TRUE(c.got.empty());
}

// ---- zipmap -----------------------------------------------------------

std::string ZmLen(size_t n, bool big = false) {
  if (n < 254 && !big) {
    return Byte(static_cast<int>(n));
  }
  return Byte(0xFE) + Le(n, 4);
}

struct ZmPair {
  std::string field, value;
  int free = 0;
  bool big_lens = false;
};

std::string BuildZipmap(const std::vector<ZmPair> &pairs, int count = -1) {
  std::string out =
      Byte(count >= 0 ? count
                      : static_cast<int>(std::min<size_t>(pairs.size(), 254)));
  for (const ZmPair &p : pairs) {
    out += ZmLen(p.field.size(), p.big_lens) + p.field +
           ZmLen(p.value.size(), p.big_lens) + Byte(p.free) + p.value +
           std::string(static_cast<size_t>(p.free), '?');
  }
  return out + Byte(0xFF);
}

std::vector<Elem> PairElems(const std::vector<ZmPair> &pairs) {
  std::vector<Elem> out;
  for (const ZmPair &p : pairs) {
    out.push_back(Str(p.field));
    out.push_back(Str(p.value));
  }
  return out;
}

std::vector<ZmPair> SomePairs() {
  return {
      {"foo", "bar", 0, false},
      {"", "", 0, false},
      {"f", std::string(253, 'v'), 0, false},
      {std::string(254, 'k'), "v", 0, false},
      {"big", std::string(70000, 'w'), 0, false},
      {"freed", "hi", 3, false},
      {"small-in-big", "x", 0, true},
      {std::string("\0\xff", 2), std::string("\xfe\xff", 2), 0, false},
  };
}

TEST(Zipmap, RedisDocumentedExample) {
  const std::string zm(
      "\x02\x03"
      "foo\x03\x00"
      "bar\x05"
      "hello\x05\x00"
      "world\xff",
      24);
  Collector c;
  EXPECT_EQ(ZipmapRun(zm, &c), 4);
  EXPECT_EQ(c.got, (std::vector<Elem>{Str("foo"), Str("bar"), Str("hello"),
                                      Str("world")}));
}

TEST(Zipmap, EveryLengthForm) {
  std::vector<ZmPair> pairs = SomePairs();
  Collector c;
  EXPECT_EQ(ZipmapRun(BuildZipmap(pairs), &c),
            static_cast<long>(2 * pairs.size()));
  EXPECT_EQ(c.got, PairElems(pairs));
}

TEST(Zipmap, UnknownCountIsCounted) {
  std::vector<ZmPair> pairs;
  for (int i = 0; i < 300; i++) {
    pairs.push_back({"f" + std::to_string(i), std::to_string(i), 0, false});
  }
  Collector c;
  EXPECT_EQ(ZipmapRun(BuildZipmap(pairs, 254), &c), 600);
  EXPECT_EQ(c.got, PairElems(pairs));
  // A small map may say 254 too.
  Collector d;
  EXPECT_EQ(ZipmapRun(BuildZipmap({{"a", "b"}}, 254), &d), 2);
}

TEST(Zipmap, CallbackStopsAndNullCallback) {
  std::string zm = BuildZipmap(SomePairs());
  Collector c;
  c.stop_after = 3;
  EXPECT_EQ(ZipmapRun(zm, &c), LEGACY_STOPPED);
  EXPECT_EQ(c.got.size(), 3u);
  EXPECT_EQ(zipmap_foreach(reinterpret_cast<const unsigned char *>(zm.data()),
                           zm.size(), nullptr, nullptr),
            static_cast<long>(2 * SomePairs().size()));
}

TEST(Zipmap, EveryTruncationRejected) {
  std::string zm = BuildZipmap(SomePairs());
  for (size_t n = 0; n < zm.size(); n++) {
    Collector c;
    ASSERT_EQ(ZipmapRun(zm.substr(0, n), &c), LEGACY_INVALID) << "n=" << n;
    ASSERT_TRUE(c.got.empty());
  }
}

TEST(Zipmap, EveryTruncationWithEndByteRejected) {
  std::vector<ZmPair> pairs = {{"abc", "defg", 2, false},
                               {std::string(260, 'k'), "v", 0, false},
                               {"x", "y", 0, true}};
  std::string zm = BuildZipmap(pairs);
  for (size_t n = 2; n < zm.size(); n++) {
    std::string t = zm.substr(0, n);
    t[n - 1] = '\xff';
    Collector c;
    ASSERT_EQ(ZipmapRun(t, &c), LEGACY_INVALID) << "n=" << n;
    ASSERT_TRUE(c.got.empty());
  }
}

TEST(Zipmap, CorruptionRejected) {
  std::vector<ZmPair> pairs = {{"foo", "bar"}, {"hello", "world"}};
  Collector ok;
  ASSERT_EQ(ZipmapRun(BuildZipmap(pairs), &ok), 4);

  std::vector<std::string> bad = {
      "",                                          // nothing
      "\xff",                                      // no count byte
      std::string("\x00\xff", 2),                  // empty map
      BuildZipmap(pairs, 1),                       // count too small
      BuildZipmap(pairs, 3),                       // count too large
      BuildZipmap(pairs, 255),                     // 255 is not "unknown"
      BuildZipmap(pairs).substr(0, 23) + Byte(0),  // bad end byte
      BuildZipmap(pairs) + "\xff",                 // trailing bytes
      std::string("\x01\x03"
                  "foo\xff\x00"
                  "bar\xff",
                  11),  // value len 255
      std::string("\x01\x03"
                  "foo\x03\x09"
                  "bar\xff",
                  11),  // free past end
      std::string("\x01\x09"
                  "foo\x03\x00"
                  "bar\xff",
                  11),  // field past end
      std::string("\x01\x03"
                  "foo\x09\x00"
                  "bar\xff",
                  11),  // value past end
      std::string("\x01\xfe\xff\xff\xff\xff"
                  "foo\xff",
                  10),  // 4 GiB field
      std::string("\x01\x03"
                  "foo\xfe\xff\xff\xff\xff\x00\xff",
                  12),
      std::string("\x01\x03"
                  "foo\xff",
                  6),  // no value
      std::string("\x01\x03"
                  "foo\x03\xff",
                  7),                      // no free byte room
      std::string("\x01\xfe\x01\xff", 4),  // big length cut
  };
  for (size_t i = 0; i < bad.size(); i++) {
    Collector c;
    EXPECT_EQ(ZipmapRun(bad[i], &c), LEGACY_INVALID) << "case " << i;
    EXPECT_TRUE(c.got.empty()) << "case " << i;
  }
}

}  // namespace
