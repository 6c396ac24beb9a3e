// Unit tests for server/util.c: the conversions and glob matching whose
// outputs are reply bytes, checked against Redis 7.0.15's.
#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <string>

extern "C" {
#include "server/base/util.h"
}

namespace {

bool Ll(const std::string &s, long long *v) {
  return string2ll(s.data(), s.size(), v) == 1;
}

TEST(UtilTest, String2llAccepts) {
  long long v;
  ASSERT_TRUE(Ll("0", &v));
  EXPECT_EQ(v, 0);
  ASSERT_TRUE(Ll("-1", &v));
  EXPECT_EQ(v, -1);
  ASSERT_TRUE(Ll("9223372036854775807", &v));
  EXPECT_EQ(v, LLONG_MAX);
  ASSERT_TRUE(Ll("-9223372036854775808", &v));
  EXPECT_EQ(v, LLONG_MIN);
  ASSERT_TRUE(Ll("1234567890", &v));
  EXPECT_EQ(v, 1234567890);
}

TEST(UtilTest, String2llRejects) {
  long long v;
  for (const char *bad :
       {"", "-", "+1", " 1", "1 ", "01", "-0", "00", "1a", "0x10",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "99999999999999999999999", "1.0"}) {
    EXPECT_FALSE(Ll(bad, &v)) << bad;
  }
  // Length is explicit: bytes after slen are ignored, embedded NULs fail.
  EXPECT_TRUE(string2ll("12x", 2, &v));
  EXPECT_EQ(v, 12);
  EXPECT_FALSE(
      string2ll("1\0"
                "2",
                3, &v));
}

TEST(UtilTest, String2lAndUll) {
  long l;
  EXPECT_TRUE(string2l("-42", 3, &l));
  EXPECT_EQ(l, -42);
  unsigned long long u;
  EXPECT_TRUE(string2ull("18446744073709551615", &u));
  EXPECT_EQ(u, ULLONG_MAX);
  EXPECT_FALSE(string2ull("18446744073709551616", &u));
  EXPECT_FALSE(string2ull("-1", &u));
  EXPECT_FALSE(string2ull(" 1", &u));
}

TEST(UtilTest, Ll2String) {
  char buf[LONG_STR_SIZE];
  EXPECT_EQ(ll2string(buf, sizeof(buf), LLONG_MIN), 20);
  EXPECT_STREQ(buf, "-9223372036854775808");
  EXPECT_EQ(ll2string(buf, sizeof(buf), 0), 1);
  EXPECT_STREQ(buf, "0");
  EXPECT_EQ(ll2string(buf, sizeof(buf), 100), 3);
  EXPECT_STREQ(buf, "100");
  char small[3];
  EXPECT_EQ(ll2string(small, sizeof(small), 1000), 0);
  EXPECT_EQ(ull2string(buf, sizeof(buf), ULLONG_MAX), 20);
  EXPECT_STREQ(buf, "18446744073709551615");
}

std::string D(double d) {
  char buf[MAX_D2STRING_CHARS];
  int n = d2string(buf, sizeof(buf), d);
  return std::string(buf, n);
}

TEST(UtilTest, D2StringMatchesRedis) {
  EXPECT_EQ(D(3.0e3), "3000");
  EXPECT_EQ(D(0.1), "0.10000000000000001");  // ZADD 0.1 in a listpack zset
  EXPECT_EQ(D(1.5), "1.5");
  EXPECT_EQ(D(1e20), "1e+20");
  EXPECT_EQ(D(4503599627370496.0), "4503599627370496");
  EXPECT_EQ(D(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(D(-7.0), "-7");
  EXPECT_EQ(D(0.0), "0");
  EXPECT_EQ(D(-0.0), "-0");
  EXPECT_EQ(D(INFINITY), "inf");
  EXPECT_EQ(D(-INFINITY), "-inf");
  EXPECT_EQ(D(NAN), "nan");
}

std::string Ld(long double d, ld2string_mode mode = LD_STR_HUMAN) {
  char buf[MAX_LONG_DOUBLE_CHARS];
  int n = ld2string(buf, sizeof(buf), d, mode);
  return std::string(buf, n);
}

TEST(UtilTest, Ld2StringHumanMatchesIncrbyfloat) {
  long double a, b;
  ASSERT_TRUE(string2ld("10.5", 4, &a));
  ASSERT_TRUE(string2ld("0.1", 3, &b));
  EXPECT_EQ(Ld(a + b), "10.6");  // INCRBYFLOAT 10.5 by 0.1
  ASSERT_TRUE(string2ld("5.0e3", 5, &a));
  EXPECT_EQ(Ld(a), "5000");
  ASSERT_TRUE(string2ld("3.0e3", 5, &a));
  EXPECT_EQ(Ld(a), "3000");
  ASSERT_TRUE(string2ld("1e30", 4, &a));
  EXPECT_EQ(Ld(a), "1000000000000000000024696061952");  // Redis 7.0.15
  ASSERT_TRUE(string2ld("-0.0", 4, &a));
  EXPECT_EQ(Ld(a), "0");
  EXPECT_EQ(Ld(-1.25L), "-1.25");
  EXPECT_EQ(Ld(INFINITY), "inf");
  EXPECT_EQ(Ld(-INFINITY), "-inf");
  EXPECT_EQ(Ld(1.5L, LD_STR_AUTO), "1.5");
}

TEST(UtilTest, String2dRules) {
  double d;
  EXPECT_TRUE(string2d("1.5", 3, &d));
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(string2d("-inf", 4, &d));
  EXPECT_TRUE(std::isinf(d));
  EXPECT_FALSE(string2d("nan", 3, &d));
  EXPECT_FALSE(string2d(" 1", 2, &d));
  EXPECT_FALSE(string2d("1 ", 2, &d));
  EXPECT_FALSE(string2d("", 0, &d));
  EXPECT_FALSE(string2d("1e999", 5, &d));  // overflow
  EXPECT_FALSE(string2d("abc", 3, &d));
  long double ld;
  EXPECT_FALSE(string2ld("1.5x", 4, &ld));
  EXPECT_TRUE(string2ld("1.5x", 3, &ld));
}

bool M(const char *pat, const char *str, int nocase = 0) {
  return string_match(pat, str, nocase) == 1;
}

TEST(UtilTest, GlobBasics) {
  // As in Redis, a pattern never matches the empty string (KEYS * and SCAN
  // without MATCH bypass the matcher, so the empty key is still listed).
  EXPECT_FALSE(M("*", ""));
  EXPECT_FALSE(M("**", ""));
  EXPECT_TRUE(M("*", "anything"));
  EXPECT_TRUE(M("h?llo", "hello"));
  EXPECT_FALSE(M("h?llo", "hllo"));
  EXPECT_TRUE(M("h*llo", "heeeello"));
  EXPECT_TRUE(M("h[ae]llo", "hallo"));
  EXPECT_FALSE(M("h[ae]llo", "hillo"));
  EXPECT_TRUE(M("h[^e]llo", "hallo"));
  EXPECT_FALSE(M("h[^e]llo", "hello"));
  EXPECT_TRUE(M("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(M("h[b-a]llo", "hallo"));  // reversed range
  EXPECT_FALSE(M("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(M("h\\*llo", "h*llo"));
  EXPECT_FALSE(M("h\\*llo", "hello"));
  EXPECT_TRUE(M("[\\]]", "]"));
  EXPECT_TRUE(M("a*b*c", "axxbyyc"));
  EXPECT_FALSE(M("a*b*c", "axxbyy"));
  EXPECT_TRUE(M("HELLO", "hello", 1));
  EXPECT_FALSE(M("HELLO", "hello", 0));
  EXPECT_TRUE(M("[A-C]x", "bx", 1));
  EXPECT_TRUE(M("a**", "a"));
  EXPECT_FALSE(M("", "a"));
  EXPECT_TRUE(M("", ""));
  // Unterminated class: matches as if closed at the end.
  EXPECT_TRUE(M("[abc", "a"));
  // A trailing backslash matches itself.
  EXPECT_TRUE(M("a\\", "a\\"));
}

TEST(UtilTest, GlobExplicitLengths) {
  // The pattern and string lengths are explicit: no reading past them.
  EXPECT_TRUE(string_match_len("abc*", 3, "abc", 3, 0));
  EXPECT_TRUE(string_match_len("a\0c", 3, "a\0c", 3, 0));
  EXPECT_FALSE(string_match_len("a\0c", 3, "abc", 3, 0));
  EXPECT_TRUE(string_match_len("[ab", 3, "b", 1, 0));
}

TEST(UtilTest, GlobNestedStarsAreFast) {
  // Without the "skip longer matches" guard this takes exponential time.
  std::string pat;
  for (int i = 0; i < 30; i++) {
    pat += "*a";
  }
  pat += "*b";
  std::string str(200, 'a');
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(M(pat.c_str(), str.c_str()));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  EXPECT_LT(ms, 1000);
  // Thousands of stars: refused by the nesting limit, not a stack overflow.
  std::string deep;
  for (int i = 0; i < 5000; i++) {
    deep += "a*";
  }
  std::string s2(6000, 'a');
  EXPECT_FALSE(M(deep.c_str(), s2.c_str()));
}

TEST(UtilTest, Memtoull) {
  int err;
  EXPECT_EQ(memtoull("100", &err), 100u);
  EXPECT_EQ(err, 0);
  EXPECT_EQ(memtoull("1k", &err), 1000u);
  EXPECT_EQ(memtoull("1KB", &err), 1024u);
  EXPECT_EQ(memtoull("2mb", &err), 2u * 1024 * 1024);
  EXPECT_EQ(memtoull("1g", &err), 1000000000u);
  EXPECT_EQ(memtoull("1gb", &err), 1073741824u);
  memtoull("-1", &err);
  EXPECT_EQ(err, 1);
  memtoull("10xb", &err);
  EXPECT_EQ(err, 1);
  memtoull("99999999999999999999gb", &err);
  EXPECT_EQ(err, 1);
}

TEST(UtilTest, RandomHex) {
  char a[40], b[40];
  get_random_hex_chars(a, sizeof(a));
  get_random_hex_chars(b, sizeof(b));
  EXPECT_NE(std::string(a, 40), std::string(b, 40));
  for (char ch : std::string(a, 40)) {
    EXPECT_TRUE(isxdigit(static_cast<unsigned char>(ch)));
  }
}

}  // namespace

namespace {
std::vector<std::string> Split(const std::string &line, bool *ok) {
  char *data = nullptr;
  size_t *offsets = nullptr;
  int argc = 0;
  std::vector<std::string> out;
  *ok = util_split_args(line.data(), line.size(), &data, &offsets, &argc);
  if (*ok) {
    for (int i = 0; i < argc; i++) {
      out.emplace_back(data + offsets[i], offsets[i + 1] - offsets[i]);
    }
    free(data);
    free(offsets);
  }
  return out;
}
}  // namespace

// The one argument splitter (inline RESP, redis.conf, sds_split_args).
TEST(UtilSplitArgs, QuotesEscapesAndErrors) {
  bool ok;
  EXPECT_EQ(Split("  set  k  v ", &ok),
            (std::vector<std::string>{"set", "k", "v"}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(Split("a \"b c\\n\\x41\\\"\" 'd\\'e'", &ok),
            (std::vector<std::string>{"a", "b c\nA\"", "d'e"}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(Split("", &ok), std::vector<std::string>{});
  EXPECT_TRUE(ok);
  Split("\"unterminated", &ok);
  EXPECT_FALSE(ok);
  Split("\"closed\"x", &ok);  // a closing quote must be followed by a space
  EXPECT_FALSE(ok);
  Split("'a'b", &ok);
  EXPECT_FALSE(ok);
  // Read up to the first NUL, as a C string would be.
  EXPECT_EQ(Split(std::string("a b\0c", 5), &ok),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ok);
}
