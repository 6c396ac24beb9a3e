// Unit tests for server/object.c: string encodings, number parsing and the
// LRU/LFU helpers.
#include <gtest/gtest.h>

#include <climits>
#include <string>

extern "C" {
#include "server/base/zmalloc.h"
#include "server/core/server.h"
}

namespace {

robj *Str(const std::string &s) {
  return create_string_object(s.data(), s.size());
}

class ObjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server.maxmemory = 0;
    server.maxmemory_policy = MAXMEMORY_NO_EVICTION;
    server.lfu_log_factor = 10;
    server.lfu_decay_time = 1;
  }
};

TEST_F(ObjectTest, EmbstrUpTo44Bytes) {
  robj *a = Str(std::string(44, 'a'));
  robj *b = Str(std::string(45, 'b'));
  EXPECT_EQ(a->encoding, OBJ_ENCODING_EMBSTR);
  EXPECT_EQ(b->encoding, OBJ_ENCODING_RAW);
  EXPECT_EQ(sds_len((sds)a->ptr), 44u);
  EXPECT_EQ(string_object_len(b), 45u);
  EXPECT_STREQ(str_encoding(a->encoding), "embstr");
  EXPECT_STREQ(str_encoding(b->encoding), "raw");
  robj *d = dup_string_object(a);
  EXPECT_TRUE(equal_string_objects(a, d));
  EXPECT_EQ(d->refcount, 1);
  decr_ref_count(d);
  decr_ref_count(a);
  decr_ref_count(b);
}

TEST_F(ObjectTest, EncodingNames) {
  EXPECT_STREQ(str_encoding(OBJ_ENCODING_INT), "int");
  EXPECT_STREQ(str_encoding(OBJ_ENCODING_HT), "hashtable");
  EXPECT_STREQ(str_encoding(OBJ_ENCODING_INTSET), "intset");
  EXPECT_STREQ(str_encoding(OBJ_ENCODING_SKIPLIST), "skiplist");
  EXPECT_STREQ(str_encoding(OBJ_ENCODING_QUICKLIST), "quicklist");
  EXPECT_STREQ(str_encoding(OBJ_ENCODING_LISTPACK), "listpack");
  robj o;
  o.type = OBJ_ZSET;
  EXPECT_STREQ(type_name(&o), "zset");
  EXPECT_STREQ(type_name(nullptr), "none");
}

TEST_F(ObjectTest, TryEncodingIntegers) {
  robj *o = try_object_encoding(Str("123456"));
  EXPECT_EQ(o->encoding, OBJ_ENCODING_INT);
  long long v;
  ASSERT_EQ(get_long_long_from_object(o, &v), C_OK);
  EXPECT_EQ(v, 123456);
  robj *dec = get_decoded_object(o);
  EXPECT_EQ(std::string((char *)dec->ptr, sds_len((sds)dec->ptr)), "123456");
  decr_ref_count(dec);
  decr_ref_count(o);
  // Not canonical integers: stay strings.
  for (const char *s :
       {"0123", " 1", "1 ", "+1", "-0", "9223372036854775808", "1.5"}) {
    robj *x = try_object_encoding(Str(s));
    EXPECT_EQ(x->encoding, OBJ_ENCODING_EMBSTR) << s;
    decr_ref_count(x);
  }
  // A long raw string is trimmed but kept raw.
  robj *raw = create_raw_string_object(std::string(100, 'z').data(), 100);
  raw->ptr = sds_make_room_for((sds)raw->ptr, 1000);
  raw = try_object_encoding(raw);
  EXPECT_EQ(raw->encoding, OBJ_ENCODING_RAW);
  EXPECT_LT(sds_avail((sds)raw->ptr), 20u);
  decr_ref_count(raw);
  // A shared object is left alone.
  robj *shared_obj = Str("42");
  incr_ref_count(shared_obj);
  EXPECT_EQ(try_object_encoding(shared_obj), shared_obj);
  EXPECT_EQ(shared_obj->encoding, OBJ_ENCODING_EMBSTR);
  decr_ref_count(shared_obj);
  decr_ref_count(shared_obj);
}

TEST_F(ObjectTest, NumbersFromObjects) {
  robj *o = Str("3.5");
  double d;
  ASSERT_EQ(get_double_from_object(o, &d), C_OK);
  EXPECT_EQ(d, 3.5);
  long long ll;
  EXPECT_EQ(get_long_long_from_object(o, &ll), C_ERR);
  long double ld;
  ASSERT_EQ(get_long_double_from_object(o, &ld), C_OK);
  EXPECT_EQ(ld, 3.5L);
  decr_ref_count(o);
  o = Str("nan");
  EXPECT_EQ(get_double_from_object(o, &d), C_ERR);
  decr_ref_count(o);
  ASSERT_EQ(get_long_long_from_object(nullptr, &ll), C_OK);
  EXPECT_EQ(ll, 0);
  robj *big = create_string_object_from_long_long(LLONG_MAX);
  ASSERT_EQ(get_long_long_from_object(big, &ll), C_OK);
  EXPECT_EQ(ll, LLONG_MAX);
  decr_ref_count(big);
  robj *f = create_string_object_from_long_double(10.6L, 1);
  EXPECT_EQ(std::string((char *)f->ptr, sds_len((sds)f->ptr)), "10.6");
  decr_ref_count(f);
}

TEST_F(ObjectTest, CompareStringObjects) {
  robj *a = Str("abc"), *b = Str("abd"), *c = Str("ab");
  robj *i10 = create_string_object_from_long_long_for_value(10);
  robj *s10 = Str("10");
  robj *s9 = Str("9");
  EXPECT_LT(compare_string_objects(a, b), 0);
  EXPECT_GT(compare_string_objects(a, c), 0);
  EXPECT_EQ(compare_string_objects(i10, s10), 0);
  EXPECT_TRUE(equal_string_objects(i10, s10));
  EXPECT_LT(compare_string_objects(i10, s9), 0);  // byte order, not numeric
  for (robj *o : {a, b, c, i10, s10, s9}) {
    decr_ref_count(o);
  }
}

TEST_F(ObjectTest, LfuCounterGrowsAndDecays) {
  server.maxmemory_policy = MAXMEMORY_ALLKEYS_LFU;
  cached_unixtime = 1700000000;
  robj *o = Str("x");
  EXPECT_EQ(o->lru & 255, 5u);  // LFU_INIT_VAL
  for (int i = 0; i < 1000; i++) {
    update_lfu(o);
  }
  unsigned long after = lfu_decr_and_return(o);
  EXPECT_GT(after, 5u);
  EXPECT_LT(after, 255u);     // logarithmic: 1000 hits stay far from 255
  cached_unixtime += 60 * 3;  // three decay periods of one minute
  EXPECT_EQ(lfu_decr_and_return(o), after - 3);
  decr_ref_count(o);
  server.maxmemory_policy = MAXMEMORY_NO_EVICTION;
}

TEST_F(ObjectTest, IdleTimeFromLruClock) {
  server.hz = 10;  // objects read the cron-cached clock, as in the server
  server.lruclock = lru_clock();
  robj *o = Str("x");
  EXPECT_EQ(o->lru, server.lruclock);
  EXPECT_LT(estimate_object_idle_time(o), 2000u);
  o->lru = (server.lruclock - 10) & LRU_CLOCK_MAX;
  EXPECT_EQ(estimate_object_idle_time(o) / 1000, 10u);
  decr_ref_count(o);
}

TEST_F(ObjectTest, ComputeSizeOfStrings) {
  robj *e = Str("hello");
  EXPECT_GE(object_compute_size(e, 5), sizeof(robj) + 6);
  robj *r = Str(std::string(100, 'r'));
  EXPECT_GE(object_compute_size(r, 5), sizeof(robj) + 100);
  decr_ref_count(e);
  decr_ref_count(r);
}

}  // namespace
