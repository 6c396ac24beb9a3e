// Unit tests for server/sds.c: growth, editing, repr, and the argument
// splitter used by redis.conf and inline commands.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

extern "C" {
#include "server/ds/sds.h"
}

namespace {

std::string S(const sds s) { return std::string(s, sds_len(s)); }

TEST(SdsTest, NewLenIsBinarySafe) {
  sds s = sds_new_len("a\0b", 3);
  EXPECT_EQ(sds_len(s), 3u);
  EXPECT_EQ(S(s), std::string("a\0b", 3));
  EXPECT_EQ(s[3], '\0');
  sds_free(s);
}

TEST(SdsTest, NullInitZeroes) {
  sds s = sds_new_len(NULL, 16);
  for (int i = 0; i < 16; i++) {
    EXPECT_EQ(s[i], 0);
  }
  sds_free(s);
  sds_free(NULL);  // no-op
}

TEST(SdsTest, CatGrowsAndKeepsContent) {
  sds s = sds_empty();
  std::string ref;
  for (int i = 0; i < 5000; i++) {
    s = sds_cat(s, "xy");
    ref += "xy";
  }
  EXPECT_EQ(S(s), ref);
  EXPECT_GE(sds_alloc(s), sds_len(s));
  s = sds_remove_free_space(s);
  EXPECT_EQ(S(s), ref);
  EXPECT_LT(sds_avail(s), 16u);
  sds_free(s);
}

// The two header layouts (sds.h): 3 bytes below a capacity of 256, 9 above.
// Growing across the boundary, shrinking back and embedding keep content,
// length and a NUL terminator, and the small layout is what short strings get.
TEST(SdsTest, HeaderLayoutsSwitchAcrossCapacity256) {
  sds s = sds_new("key:123456");
  EXPECT_EQ(sds_type(s), SDS_TYPE_8);
  EXPECT_LE(sds_alloc_size(s), 16u + 8u);  // 3 + 10 + 1 bytes requested
  std::string ref = "key:123456";
  for (int i = 0; i < 300; i++) {
    s = sds_cat_len(s, "\0z", 2);
    ref.append("\0z", 2);
    ASSERT_EQ(S(s), ref);
    ASSERT_EQ(s[sds_len(s)], '\0');
    ASSERT_GE(sds_alloc(s), sds_len(s));
    ASSERT_EQ(sds_type(s), sds_alloc(s) < 256 ? SDS_TYPE_8 : SDS_TYPE_32);
  }
  EXPECT_EQ(sds_type(s), SDS_TYPE_32);
  sds_range(s, 0, 99);
  ref.resize(100);
  EXPECT_EQ(S(s), ref);
  s = sds_remove_free_space(s);  // back to the 3-byte layout
  EXPECT_EQ(sds_type(s), SDS_TYPE_8);
  EXPECT_EQ(S(s), ref);
  EXPECT_EQ(sds_avail(s), sds_alloc(s) - 100u);
  s = sds_make_room_for_exact(s, 200);  // 300 bytes: the 9-byte layout
  EXPECT_EQ(sds_type(s), SDS_TYPE_32);
  EXPECT_GE(sds_avail(s), 200u);
  EXPECT_EQ(S(s), ref);
  sds_incr_len(s, 200);
  EXPECT_EQ(sds_len(s), 300u);
  sds_free(s);

  s = sds_new_len(NULL, 255);
  EXPECT_EQ(sds_type(s), SDS_TYPE_8);
  EXPECT_EQ(sds_len(s), 255u);
  EXPECT_EQ(sds_alloc(s), 255u);
  s = sds_cat(s, "x");
  EXPECT_EQ(sds_type(s), SDS_TYPE_32);
  EXPECT_EQ(sds_len(s), 256u);
  EXPECT_EQ(s[255], 'x');
  EXPECT_EQ(s[254], 0);
  sds_free(s);

  alignas(8) char mem[64];
  sds e = sds_embed(mem, "v000000000000001", 16);
  EXPECT_EQ(sds_embedded_size(16), 3u + 16u + 1u);
  EXPECT_EQ(S(e), "v000000000000001");
  EXPECT_EQ(sds_avail(e), 0u);
  EXPECT_EQ(e[16], '\0');
  sds d = sds_dup(e);
  EXPECT_EQ(S(d), "v000000000000001");
  sds_free(d);
}

TEST(SdsTest, MakeRoomThenIncrLen) {
  sds s = sds_new("abc");
  s = sds_make_room_for(s, 10);
  ASSERT_GE(sds_avail(s), 10u);
  memcpy(s + 3, "defg", 4);
  sds_incr_len(s, 4);
  EXPECT_EQ(S(s), "abcdefg");
  sds_incr_len(s, -2);
  EXPECT_EQ(S(s), "abcde");
  EXPECT_EQ(s[5], '\0');
  sds_free(s);
}

TEST(SdsTest, PrintfAndFromLongLong) {
  sds s = sds_cat_printf(sds_new("v="), "%d-%s", 42, "x");
  EXPECT_EQ(S(s), "v=42-x");
  std::string big(3000, 'z');
  s = sds_cat_printf(s, "%s", big.c_str());
  EXPECT_EQ(sds_len(s), 6u + 3000u);
  sds_free(s);
  sds n = sds_from_longlong(LLONG_MIN);
  EXPECT_EQ(S(n), "-9223372036854775808");
  sds_free(n);
}

TEST(SdsTest, RangeLikeRedis) {
  sds s = sds_new("Hello World");
  sds_range(s, 1, -1);
  EXPECT_EQ(S(s), "ello World");
  sds_range(s, -5, -1);
  EXPECT_EQ(S(s), "World");
  sds_range(s, 2, 100);
  EXPECT_EQ(S(s), "rld");
  sds_range(s, 5, 10);
  EXPECT_EQ(S(s), "");
  sds_free(s);
  s = sds_new("ciao");
  sds_range(s, 2, 1);
  EXPECT_EQ(S(s), "");
  sds_free(s);
}

TEST(SdsTest, TrimCmpCase) {
  sds s = sds_new("xxciaoyyy");
  s = sds_trim(s, "xy");
  EXPECT_EQ(S(s), "ciao");
  sds_to_upper(s);
  EXPECT_EQ(S(s), "CIAO");
  sds_to_lower(s);
  sds a = sds_new("ciao"), b = sds_new("ciaoo"), c = sds_new("ciap");
  EXPECT_EQ(sds_cmp(s, a), 0);
  EXPECT_LT(sds_cmp(a, b), 0);
  EXPECT_GT(sds_cmp(c, a), 0);
  sds_free(s);
  sds_free(a);
  sds_free(b);
  sds_free(c);
  s = sds_trim(sds_new("xxx"), "x");
  EXPECT_EQ(sds_len(s), 0u);
  sds_free(s);
}

TEST(SdsTest, CpyGrowZeroClear) {
  sds s = sds_new("a");
  s = sds_cpy(s, "a much longer string than before");
  EXPECT_EQ(S(s), "a much longer string than before");
  s = sds_grow_zero(s, 40);
  EXPECT_EQ(sds_len(s), 40u);
  EXPECT_EQ(s[39], 0);
  sds_clear(s);
  EXPECT_EQ(sds_len(s), 0u);
  EXPECT_EQ(s[0], '\0');
  sds_free(s);
}

TEST(SdsTest, CatReprEscapes) {
  sds r = sds_cat_repr(sds_empty(), "a\0b\n\"\\\x01\x7f", 8);
  EXPECT_EQ(S(r), "\"a\\x00b\\n\\\"\\\\\\x01\\x7f\"");
  sds_free(r);
}

std::vector<std::string> Split(const char *line, bool *ok) {
  int argc = 0;
  sds *v = sds_split_args(line, &argc);
  std::vector<std::string> out;
  *ok = v != NULL;
  if (v == NULL) {
    return out;
  }
  for (int i = 0; i < argc; i++) {
    out.push_back(S(v[i]));
  }
  sds_free_split(v, argc);
  return out;
}

TEST(SdsTest, SplitArgsPlainAndQuoted) {
  bool ok;
  auto v = Split("  set  key   value  ", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, (std::vector<std::string>{"set", "key", "value"}));

  v = Split("set \"a b\" 'c d'", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, (std::vector<std::string>{"set", "a b", "c d"}));

  v = Split("\"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\\z\"", &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "AJ\n\r\t\b\a\\\"z");

  v = Split("'it\\'s' 'no\\nescape'", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, (std::vector<std::string>{"it's", "no\\nescape"}));

  v = Split("\"\\x00\"", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v[0], std::string("\0", 1));

  v = Split("\"\"", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, (std::vector<std::string>{""}));

  // An invalid \x sequence is taken literally ('x' then the rest).
  v = Split("\"\\xZZ\"", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v[0], "xZZ");

  v = Split("a\"b c\"", &ok);  // a quote in the middle opens quoting
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, (std::vector<std::string>{"ab c"}));
}

TEST(SdsTest, SplitArgsEmptyLine) {
  int argc = -1;
  sds *v = sds_split_args("   ", &argc);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(argc, 0);
  sds_free_split(v, argc);
}

TEST(SdsTest, SplitArgsErrors) {
  bool ok;
  Split("\"unterminated", &ok);
  EXPECT_FALSE(ok);
  Split("'unterminated", &ok);
  EXPECT_FALSE(ok);
  Split("\"closed\"glued", &ok);
  EXPECT_FALSE(ok);
  Split("'closed'glued", &ok);
  EXPECT_FALSE(ok);
  Split("\"trailing backslash\\", &ok);
  EXPECT_FALSE(ok);
}

TEST(SdsTest, SplitLenAndJoin) {
  int count = 0;
  sds *t = sds_split_len("a,b,,c", 6, ",", 1, &count);
  ASSERT_EQ(count, 4);
  EXPECT_EQ(S(t[0]), "a");
  EXPECT_EQ(S(t[2]), "");
  EXPECT_EQ(S(t[3]), "c");
  sds_free_split(t, count);
  t = sds_split_len("a--b", 4, "--", 2, &count);
  ASSERT_EQ(count, 2);
  EXPECT_EQ(S(t[1]), "b");
  sds_free_split(t, count);
  t = sds_split_len("", 0, ",", 1, &count);
  EXPECT_EQ(count, 0);
  sds_free_split(t, count);
  const char *argv[] = {"x", "y", "z"};
  sds j = sds_join((char **)argv, 3, ", ");
  EXPECT_EQ(S(j), "x, y, z");
  sds_free(j);
}

}  // namespace
