// Unit tests for the keyspace's expiry (server/db.c) and eviction
// (server/evict.c), driven with a fake clock: cached_mstime is set by the
// test instead of the server's cron.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

extern "C" {
#include "server/base/zmalloc.h"
#include "server/core/server.h"
}

namespace {

dict_type kTestDbType = {dict_sds_hash,
                         nullptr,
                         nullptr,
                         dict_sds_key_compare,
                         dict_sds_destructor,
                         dict_object_destructor,
                         nullptr};
dict_type kTestExpiresType = {
    dict_sds_hash, nullptr, nullptr, dict_sds_key_compare,
    nullptr,       nullptr, nullptr};

const long long kNow = 1700000000000LL;

class KeyspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_db_ = server.db;
    saved_dbnum_ = server.dbnum;
    server.dbnum = 2;
    server.db = static_cast<redis_db *>(calloc(2, sizeof(redis_db)));
    for (int j = 0; j < 2; j++) {
      server.db[j].dict = dict_create(&kTestDbType);
      server.db[j].expires = dict_create(&kTestExpiresType);
      server.db[j].id = j;
    }
    server.hz = 10;
    server.active_expire_effort = 1;
    server.loading = 0;
    server.client_pause_type = 0;
    server.maxmemory = 0;
    server.maxmemory_policy = MAXMEMORY_NO_EVICTION;
    server.maxmemory_samples = 5;
    server.maxmemory_eviction_tenacity = 10;
    server.notify_keyspace_events = 0;
    server.stat_expiredkeys = 0;
    server.stat_evictedkeys = 0;
    server.stat_keyspace_hits = 0;
    server.stat_keyspace_misses = 0;
    server.stat_expired_stale_perc = 0;
    cached_mstime = kNow;
    cached_unixtime = kNow / 1000;
  }

  void TearDown() override {
    for (int j = 0; j < 2; j++) {
      dict_release(server.db[j].expires);
      dict_release(server.db[j].dict);
    }
    free(server.db);
    server.db = saved_db_;
    server.dbnum = saved_dbnum_;
  }

  static robj *Str(const std::string &s) {
    return create_string_object(s.data(), s.size());
  }

  // Adds key -> value to db 0 (the keyspace takes the value's reference).
  void Add(const std::string &key, const std::string &val,
           long long expire_at = -1, int dbid = 0) {
    robj *k = Str(key);
    db_add(&server.db[dbid], k, Str(val));
    if (expire_at >= 0) {
      set_expire(nullptr, &server.db[dbid], k, expire_at);
    }
    decr_ref_count(k);
  }

  redis_db *db0() { return &server.db[0]; }

  redis_db *saved_db_ = nullptr;
  int saved_dbnum_ = 0;
};

TEST_F(KeyspaceTest, SetGetRemoveExpire) {
  Add("k", "v");
  robj *k = Str("k");
  EXPECT_EQ(get_expire(db0(), k), -1);
  set_expire(nullptr, db0(), k, kNow + 5000);
  EXPECT_EQ(get_expire(db0(), k), kNow + 5000);
  // The expires dict shares the key's sds with the main dict.
  dict_entry *kde = dict_find(db0()->dict, k->ptr);
  dict_entry *ede = dict_find(db0()->expires, k->ptr);
  ASSERT_NE(kde, nullptr);
  ASSERT_NE(ede, nullptr);
  EXPECT_EQ(kde->key, ede->key);
  set_expire(nullptr, db0(), k, kNow + 9000);  // update in place
  EXPECT_EQ(get_expire(db0(), k), kNow + 9000);
  EXPECT_EQ(dict_size(db0()->expires), 1u);
  EXPECT_EQ(remove_expire(db0(), k), 1);
  EXPECT_EQ(remove_expire(db0(), k), 0);
  EXPECT_EQ(get_expire(db0(), k), -1);
  decr_ref_count(k);
}

TEST_F(KeyspaceTest, LazyExpiryDeletesOnLookup) {
  Add("soon", "v", kNow + 100);
  Add("never", "v");
  robj *k = Str("soon");
  EXPECT_NE(lookup_key_read(db0(), k), nullptr);
  EXPECT_EQ(server.stat_keyspace_hits, 1);
  cached_mstime = kNow + 100;  // expiry is strictly after "when"
  EXPECT_NE(lookup_key_read(db0(), k), nullptr);
  cached_mstime = kNow + 101;
  EXPECT_EQ(lookup_key_read(db0(), k), nullptr);
  EXPECT_EQ(server.stat_keyspace_misses, 1);
  EXPECT_EQ(server.stat_expiredkeys, 1);
  EXPECT_EQ(dict_size(db0()->dict), 1u);
  EXPECT_EQ(dict_size(db0()->expires), 0u);
  EXPECT_FALSE(db_exists(db0(), k));
  decr_ref_count(k);
}

TEST_F(KeyspaceTest, WriteLookupExpiresWithoutStats) {
  Add("w", "v", kNow + 10);
  cached_mstime = kNow + 11;
  robj *k = Str("w");
  EXPECT_EQ(lookup_key_write(db0(), k), nullptr);
  EXPECT_EQ(server.stat_keyspace_misses, 0);
  EXPECT_EQ(server.stat_expiredkeys, 1);
  decr_ref_count(k);
}

TEST_F(KeyspaceTest, NoExpiryWhileLoadingOrPaused) {
  Add("k", "v", kNow + 10);
  cached_mstime = kNow + 20;
  robj *k = Str("k");
  server.loading = 1;
  EXPECT_NE(lookup_key_read(db0(), k), nullptr);
  server.loading = 0;
  server.client_pause_type = 1;
  server.clients_pause_end_time = LLONG_MAX;
  // Reported as expired, but kept while clients are paused.
  EXPECT_EQ(lookup_key_read(db0(), k), nullptr);
  EXPECT_EQ(dict_size(db0()->dict), 1u);
  server.client_pause_type = 0;
  EXPECT_EQ(expire_if_needed(db0(), k), 1);
  EXPECT_EQ(dict_size(db0()->dict), 0u);
  decr_ref_count(k);
}

TEST_F(KeyspaceTest, NoExpireLookupHidesButKeepsKey) {
  Add("k", "v", kNow + 10);
  cached_mstime = kNow + 20;
  robj *k = Str("k");
  EXPECT_EQ(lookup_key_read_with_flags(db0(), k, LOOKUP_NOEXPIRE), nullptr);
  EXPECT_EQ(dict_size(db0()->dict), 1u);
  EXPECT_EQ(lookup_key_read(db0(), k), nullptr);
  EXPECT_EQ(dict_size(db0()->dict), 0u);
  decr_ref_count(k);
}

TEST_F(KeyspaceTest, ExpandAllowedByMaxmemory) {
  server.maxmemory = 0;
  EXPECT_TRUE(dict_expand_allowed_by_maxmemory(1ULL << 40, 1.0));
  server.maxmemory = used_memory() + 1000;
  EXPECT_TRUE(dict_expand_allowed_by_maxmemory(500, 1.0));
  EXPECT_FALSE(dict_expand_allowed_by_maxmemory(5000, 1.0));
  EXPECT_TRUE(dict_expand_allowed_by_maxmemory(5000, 2.0));  // chains too long
  server.maxmemory = 0;
}

TEST_F(KeyspaceTest, SetKeyDropsTtlUnlessKeepTtl) {
  Add("k", "v1", kNow + 1000);
  robj *k = Str("k");
  robj *v = Str("v2");
  set_key(nullptr, db0(), k, v, SETKEY_KEEPTTL);
  EXPECT_EQ(get_expire(db0(), k), kNow + 1000);
  EXPECT_EQ(v->refcount, 2);  // ours + the keyspace's
  robj *v3 = Str("v3");
  set_key(nullptr, db0(), k, v3, 0);
  EXPECT_EQ(get_expire(db0(), k), -1);
  EXPECT_EQ(lookup_key_read(db0(), k), v3);
  EXPECT_EQ(v->refcount, 1);  // the keyspace released the old value
  decr_ref_count(v);
  decr_ref_count(v3);
  decr_ref_count(k);
}

TEST_F(KeyspaceTest, DeleteRemovesTtlAndKey) {
  Add("k", "v", kNow + 1000);
  robj *k = Str("k");
  EXPECT_EQ(db_delete(db0(), k), 1);
  EXPECT_EQ(db_delete(db0(), k), 0);
  EXPECT_EQ(dict_size(db0()->expires), 0u);
  decr_ref_count(k);
}

TEST_F(KeyspaceTest, CheckAlreadyExpiredUsesCachedClock) {
  EXPECT_TRUE(check_already_expired(kNow));
  EXPECT_TRUE(check_already_expired(kNow - 1));
  EXPECT_FALSE(check_already_expired(kNow + 1));
}

TEST_F(KeyspaceTest, ActiveExpiryRemovesKeysWithinBoundedCycles) {
  const int kVolatile = 20000, kPersistent = 2000, kFuture = 500;
  for (int i = 0; i < kVolatile; i++) {
    Add("v:" + std::to_string(i), "x", kNow + 1 + (i % 50));
  }
  for (int i = 0; i < kPersistent; i++) {
    Add("p:" + std::to_string(i), "x");
  }
  for (int i = 0; i < kFuture; i++) {
    Add("f:" + std::to_string(i), "x", kNow + 3600 * 1000);
  }
  // Nothing expired yet: a cycle samples a few keys and stops.
  active_expire_cycle(ACTIVE_EXPIRE_CYCLE_SLOW);
  EXPECT_EQ(dict_size(db0()->expires), (unsigned long)(kVolatile + kFuture));

  cached_mstime = kNow + 100;
  int cycles = 0;
  while (dict_size(db0()->expires) > (unsigned long)kFuture && cycles < 500) {
    active_expire_cycle(ACTIVE_EXPIRE_CYCLE_SLOW);
    cycles++;
  }
  EXPECT_EQ(dict_size(db0()->expires), (unsigned long)kFuture);
  EXPECT_LT(cycles, 500);
  EXPECT_EQ(dict_size(db0()->dict), (unsigned long)(kPersistent + kFuture));
  EXPECT_EQ(server.stat_expiredkeys, kVolatile);
  // Remaining volatile keys were sampled for the average TTL.
  EXPECT_GT(db0()->avg_ttl, 0);
}

TEST_F(KeyspaceTest, ActiveExpiryCycleIsIncremental) {
  // With a tiny time budget (hz 500: 0.5 ms), one slow cycle must stop
  // early instead of scanning 60k expired keys in one go.
  for (int i = 0; i < 60000; i++) {
    Add("v:" + std::to_string(i), "x", kNow + 1);
  }
  cached_mstime = kNow + 10;
  server.hz = 500;
  auto start = std::chrono::steady_clock::now();
  active_expire_cycle(ACTIVE_EXPIRE_CYCLE_SLOW);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  EXPECT_GT(dict_size(db0()->expires), 0u);
  EXPECT_LT(dict_size(db0()->expires), 60000u);
  // Budget checks happen every 16 rounds of ~20 keys: allow slack for
  // sanitizer builds, but it must be far below a full pass.
  EXPECT_LT(us, 200000);
}

TEST_F(KeyspaceTest, FastCycleRunsOnlyWhenStale) {
  // A slow cycle that finishes in time clears "last cycle hit the time
  // limit" (module state shared with earlier tests).
  active_expire_cycle(ACTIVE_EXPIRE_CYCLE_SLOW);
  for (int i = 0; i < 1000; i++) {
    Add("v:" + std::to_string(i), "x", kNow + 1);
  }
  cached_mstime = kNow + 10;
  server.stat_expired_stale_perc = 0;
  active_expire_cycle(ACTIVE_EXPIRE_CYCLE_FAST);
  EXPECT_EQ(dict_size(db0()->expires), 1000u);  // not stale: skipped
  server.stat_expired_stale_perc = 0.5;
  active_expire_cycle(ACTIVE_EXPIRE_CYCLE_FAST);
  EXPECT_LT(dict_size(db0()->expires), 1000u);
}

TEST_F(KeyspaceTest, RandomKeySkipsExpired) {
  for (int i = 0; i < 50; i++) {
    Add("dead:" + std::to_string(i), "x", kNow + 1);
  }
  Add("alive", "x");
  cached_mstime = kNow + 5;
  robj *k = db_random_key(db0());
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(std::string((char *)k->ptr, sds_len((sds)k->ptr)), "alive");
  decr_ref_count(k);
  // Only expired keys: deleted one by one, then NULL.
  Add("dead2", "x", kNow + 1);
  robj *alive = Str("alive");
  db_delete(db0(), alive);
  decr_ref_count(alive);
  for (int i = 0; i < 5 && dict_size(db0()->dict) > 0; i++) {
    robj *r = db_random_key(db0());
    if (r != nullptr) {
      decr_ref_count(r);
    }
  }
  EXPECT_EQ(dict_size(db0()->dict), 0u);
}

TEST_F(KeyspaceTest, EmptyDataFlushesAll) {
  Add("a", "1", kNow + 1000);
  Add("b", "2");
  Add("c", "3", -1, 1);
  EXPECT_EQ(db_total_server_key_count(), 3);
  EXPECT_EQ(empty_data(0, 0, nullptr), 2);
  EXPECT_EQ(dict_size(db0()->expires), 0u);
  EXPECT_EQ(empty_data(-1, 0, nullptr), 1);
  EXPECT_EQ(db_total_server_key_count(), 0);
  EXPECT_EQ(empty_data(7, 0, nullptr), -1);
}

TEST_F(KeyspaceTest, EvictionAllKeysLruFreesToLimit) {
  std::string big(1000, 'x');
  for (int i = 0; i < 2000; i++) {
    Add("k:" + std::to_string(i), big);
  }
  size_t used = used_memory();
  server.maxmemory = used - 500 * 1024;  // must free ~500 KB
  server.maxmemory_policy = MAXMEMORY_ALLKEYS_LRU;
  eviction_pool_alloc();
  // Reserve a budget large enough to finish in one call.
  server.maxmemory_eviction_tenacity = 100;
  EXPECT_EQ(perform_evictions(), EVICT_OK);
  EXPECT_LE(used_memory(), server.maxmemory);
  EXPECT_GT(server.stat_evictedkeys, 300);
  EXPECT_LT(dict_size(db0()->dict), 2000u);
  server.maxmemory = 0;
}

TEST_F(KeyspaceTest, EvictionVolatileOnlyTouchesVolatileKeys) {
  std::string big(1000, 'x');
  for (int i = 0; i < 500; i++) {
    Add("p:" + std::to_string(i), big);
  }
  for (int i = 0; i < 100; i++) {
    Add("v:" + std::to_string(i), big, kNow + 1000000 + i);
  }
  server.maxmemory = used_memory() - 1;
  server.maxmemory_eviction_tenacity = 100;
  for (int policy : {MAXMEMORY_VOLATILE_TTL, MAXMEMORY_VOLATILE_RANDOM,
                     MAXMEMORY_VOLATILE_LRU}) {
    server.maxmemory_policy = policy;
    perform_evictions();
  }
  EXPECT_EQ(dict_size(db0()->dict) - dict_size(db0()->expires), 500u);
  // Drive it until no volatile key is left: then eviction fails.
  server.maxmemory = 1;
  server.maxmemory_policy = MAXMEMORY_VOLATILE_TTL;
  EXPECT_EQ(perform_evictions(), EVICT_FAIL);
  EXPECT_EQ(dict_size(db0()->expires), 0u);
  EXPECT_EQ(dict_size(db0()->dict), 500u);
  server.maxmemory_policy = MAXMEMORY_NO_EVICTION;
  EXPECT_EQ(perform_evictions(), EVICT_FAIL);
  server.maxmemory = 0;
  EXPECT_EQ(perform_evictions(), EVICT_OK);
}

TEST_F(KeyspaceTest, KeyspaceEventFlags) {
  EXPECT_EQ(keyspace_events_string_to_flags("KEA"),
            NOTIFY_KEYSPACE | NOTIFY_KEYEVENT | NOTIFY_ALL);
  EXPECT_EQ(keyspace_events_string_to_flags("Kq"), -1);
  sds s =
      keyspace_events_flags_to_string(keyspace_events_string_to_flags("Kx$gn"));
  EXPECT_STREQ(s, "g$xnK");
  sds_free(s);
  s = keyspace_events_flags_to_string(keyspace_events_string_to_flags("AKEm"));
  EXPECT_STREQ(s, "AKEm");
  sds_free(s);
}

}  // namespace
