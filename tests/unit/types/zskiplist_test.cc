// zskiplist_test.cc: the sorted-set skiplist (server/zskiplist.c) checked
// against a std::set reference under random operation sequences: inserts,
// deletes, score updates, rank lookups, score and lex ranges, and range
// deletions; the skiplist's spans and backward links are verified too.
#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "server/ds/sds.h"
#include "server/ds/zskiplist.h"
}

namespace {

using Entry = std::pair<double, std::string>;
using Ref = std::set<Entry>;

std::string node_str(const zskiplist_node *n) {
  return std::string(n->ele, sds_len(n->ele));
}

// Structural invariants: level-0 order, backward links, tail, length and
// the span sums of every level.
void check_structure(zskiplist *zsl) {
  unsigned long count = 0;
  zskiplist_node *prev = nullptr;
  for (zskiplist_node *x = zsl->header->level[0].forward; x;
       x = x->level[0].forward) {
    ASSERT_EQ(x->backward, prev);
    if (prev) {
      ASSERT_TRUE(prev->score < x->score ||
                  (prev->score == x->score && sds_cmp(prev->ele, x->ele) < 0));
    }
    prev = x;
    count++;
  }
  ASSERT_EQ(zsl->tail, prev);
  ASSERT_EQ(zsl->length, count);
  for (int i = 0; i < zsl->level; i++) {
    unsigned long total = 0;
    zskiplist_node *x = zsl->header;
    while (x->level[i].forward) {
      total += x->level[i].span;
      x = x->level[i].forward;
    }
    ASSERT_LE(total, count);
  }
}

std::string random_member(std::mt19937 &rng) {
  std::uniform_int_distribution<int> len(0, 4), ch(0, 5);
  std::string s;
  int n = len(rng);
  for (int i = 0; i < n; i++) {
    s.push_back(static_cast<char>('a' + ch(rng)));
  }
  return s;
}

double random_score(std::mt19937 &rng) {
  std::uniform_int_distribution<int> pick(0, 20);
  int v = pick(rng);
  if (v == 0) {
    return -INFINITY;
  }
  if (v == 20) {
    return INFINITY;
  }
  return (v - 10) / 2.0;
}

// Rank (1-based) of an entry in the reference.
unsigned long ref_rank(const Ref &ref, const Entry &e) {
  return static_cast<unsigned long>(std::distance(ref.begin(), ref.find(e))) +
         1;
}

bool in_score_range(double v, const zrangespec &r) {
  bool gte = r.minex ? v > r.min : v >= r.min;
  bool lte = r.maxex ? v < r.max : v <= r.max;
  return gte && lte;
}

}  // namespace

TEST(ZSkiplist, EmptyList) {
  zskiplist *zsl = zsl_create();
  EXPECT_EQ(zsl->length, 0u);
  EXPECT_EQ(zsl->tail, nullptr);
  EXPECT_EQ(zsl_get_element_by_rank(zsl, 1), nullptr);
  zrangespec r = {0, 10, 0, 0};
  EXPECT_EQ(zsl_first_in_range(zsl, &r), nullptr);
  EXPECT_EQ(zsl_last_in_range(zsl, &r), nullptr);
  sds e = sds_new("x");
  EXPECT_EQ(zsl_get_rank(zsl, 1, e), 0u);
  EXPECT_EQ(zsl_delete(zsl, 1, e, nullptr), 0);
  sds_free(e);
  zsl_free(zsl);
}

TEST(ZSkiplist, OrderByScoreThenMember) {
  zskiplist *zsl = zsl_create();
  zsl_insert(zsl, 2, sds_new("b"));
  zsl_insert(zsl, 1, sds_new("z"));
  zsl_insert(zsl, 2, sds_new("a"));
  zsl_insert(zsl, -INFINITY, sds_new("m"));
  std::vector<std::string> got;
  for (zskiplist_node *x = zsl->header->level[0].forward; x;
       x = x->level[0].forward) {
    got.push_back(node_str(x));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"m", "z", "a", "b"}));
  sds b = sds_new("b");
  EXPECT_EQ(zsl_get_rank(zsl, 2, b), 4u);
  sds_free(b);
  check_structure(zsl);
  zsl_free(zsl);
}

TEST(ZSkiplist, RandomOperationsMatchReference) {
  for (unsigned seed = 1; seed <= 12; seed++) {
    std::mt19937 rng(seed);
    zskiplist *zsl = zsl_create();
    Ref ref;
    std::uniform_int_distribution<int> op(0, 9);
    for (int step = 0; step < 3000; step++) {
      int o = op(rng);
      if (o <= 3) {  // insert a new pair
        Entry e{random_score(rng), random_member(rng)};
        if (ref.count(e) == 0) {
          zsl_insert(zsl, e.first,
                     sds_new_len(e.second.data(), e.second.size()));
          ref.insert(e);
        }
      } else if (o == 4 && !ref.empty()) {  // delete an existing pair
        auto it = ref.begin();
        std::advance(it, rng() % ref.size());
        sds ele = sds_new_len(it->second.data(), it->second.size());
        ASSERT_EQ(zsl_delete(zsl, it->first, ele, nullptr), 1);
        sds_free(ele);
        ref.erase(it);
      } else if (o == 5) {  // delete a probably-missing pair
        Entry e{random_score(rng), random_member(rng)};
        sds ele = sds_new_len(e.second.data(), e.second.size());
        ASSERT_EQ(zsl_delete(zsl, e.first, ele, nullptr), (int)ref.erase(e));
        sds_free(ele);
      } else if (o == 6 && !ref.empty()) {  // update a score
        auto it = ref.begin();
        std::advance(it, rng() % ref.size());
        Entry old = *it;
        double ns = random_score(rng);
        if (ref.count(Entry{ns, old.second}) == 0) {
          sds ele = sds_new_len(old.second.data(), old.second.size());
          zskiplist_node *n = zsl_update_score(zsl, old.first, ele, ns);
          sds_free(ele);
          ASSERT_NE(n, nullptr);
          ASSERT_EQ(n->score, ns);
          ASSERT_EQ(node_str(n), old.second);
          ref.erase(old);
          ref.insert(Entry{ns, old.second});
        }
      } else if (o == 7 && !ref.empty()) {  // rank queries both ways
        unsigned long rank = 1 + rng() % ref.size();
        zskiplist_node *n = zsl_get_element_by_rank(zsl, rank);
        ASSERT_NE(n, nullptr);
        auto it = ref.begin();
        std::advance(it, rank - 1);
        ASSERT_EQ(n->score, it->first);
        ASSERT_EQ(node_str(n), it->second);
        ASSERT_EQ(zsl_get_rank(zsl, n->score, n->ele), rank);
        ASSERT_EQ(zsl_get_element_by_rank(zsl, ref.size() + 1), nullptr);
      } else if (o == 8) {  // score range first/last
        zrangespec r;
        r.min = random_score(rng);
        r.max = random_score(rng);
        r.minex = rng() % 2;
        r.maxex = rng() % 2;
        const Entry *first = nullptr, *last = nullptr;
        for (const Entry &e : ref) {
          if (in_score_range(e.first, r)) {
            if (!first) first = &e;
            last = &e;
          }
        }
        zskiplist_node *f = zsl_first_in_range(zsl, &r);
        zskiplist_node *l = zsl_last_in_range(zsl, &r);
        if (first == nullptr) {
          ASSERT_EQ(f, nullptr);
          ASSERT_EQ(l, nullptr);
        } else {
          ASSERT_NE(f, nullptr);
          ASSERT_NE(l, nullptr);
          ASSERT_EQ(node_str(f), first->second);
          ASSERT_EQ(node_str(l), last->second);
          ASSERT_EQ(zsl_get_rank(zsl, f->score, f->ele), ref_rank(ref, *first));
        }
      } else if (o == 9 && !ref.empty() &&
                 rng() % 4 == 0) {  // rank range delete
        unsigned long a = 1 + rng() % ref.size();
        unsigned long b = a + rng() % 3;
        if (b > ref.size()) b = ref.size();
        unsigned long removed = zsl_delete_range_by_rank(zsl, a, b, nullptr);
        ASSERT_EQ(removed, b - a + 1);
        auto it = ref.begin();
        std::advance(it, a - 1);
        auto end = it;
        std::advance(end, b - a + 1);
        ref.erase(it, end);
      }
      ASSERT_EQ(zsl->length, ref.size());
    }
    check_structure(zsl);
    // Full walk equals the reference.
    auto it = ref.begin();
    for (zskiplist_node *x = zsl->header->level[0].forward; x;
         x = x->level[0].forward, ++it) {
      ASSERT_EQ(x->score, it->first);
      ASSERT_EQ(node_str(x), it->second);
    }
    zsl_free(zsl);
  }
}

TEST(ZSkiplist, DeleteRangeByScoreAndLex) {
  std::mt19937 rng(99);
  for (int round = 0; round < 200; round++) {
    zset *zs = zset_new();
    Ref ref;
    for (int i = 0; i < 60; i++) {
      std::string m = random_member(rng);
      sds probe = sds_new_len(m.data(), m.size());
      if (zset_find(zs, probe) == nullptr) {
        double sc = (round % 2) ? 0 : random_score(rng);
        zset_insert_new(zs, sc, m.data(), m.size());
        ref.insert(Entry{sc, m});
      }
      sds_free(probe);
    }
    if (round % 2) {
      // All scores equal: lex range deletion.
      zlexrangespec r = {};
      std::string a = random_member(rng), b = random_member(rng);
      r.min = sds_new_len(a.data(), a.size());
      r.max = sds_new_len(b.data(), b.size());
      r.minkind = rng() % 5 == 0 ? ZLEX_MINUS_INF : ZLEX_VALUE;
      r.maxkind = rng() % 5 == 0 ? ZLEX_PLUS_INF : ZLEX_VALUE;
      r.minex = rng() % 2;
      r.maxex = rng() % 2;
      unsigned long expect = 0;
      for (auto it = ref.begin(); it != ref.end();) {
        bool gte = r.minkind == ZLEX_MINUS_INF ||
                   (r.minex ? it->second > a : it->second >= a);
        bool lte = r.maxkind == ZLEX_PLUS_INF ||
                   (r.maxex ? it->second < b : it->second <= b);
        if (gte && lte) {
          it = ref.erase(it);
          expect++;
        } else {
          ++it;
        }
      }
      ASSERT_EQ(zsl_delete_range_by_lex(zs->zsl, &r, zs->dict), expect);
      zfree_lex_range(&r);
    } else {
      zrangespec r = {random_score(rng), random_score(rng), (int)(rng() % 2),
                      (int)(rng() % 2)};
      unsigned long expect = 0;
      for (auto it = ref.begin(); it != ref.end();) {
        if (in_score_range(it->first, r)) {
          it = ref.erase(it);
          expect++;
        } else {
          ++it;
        }
      }
      ASSERT_EQ(zsl_delete_range_by_score(zs->zsl, &r, zs->dict), expect);
    }
    ASSERT_EQ(zs->zsl->length, ref.size());
    ASSERT_EQ(dict_size(zs->dict), ref.size());
    for (const Entry &e : ref) {
      sds probe = sds_new_len(e.second.data(), e.second.size());
      zskiplist_node *n = zset_find(zs, probe);
      ASSERT_NE(n, nullptr);
      ASSERT_EQ(n->score, e.first);
      sds_free(probe);
    }
    check_structure(zs->zsl);
    zset_release(zs);
  }
}

TEST(ZSet, SetScoreKeepsDictInSync) {
  zset *zs = zset_new();
  for (int i = 0; i < 200; i++) {
    std::string m = "m" + std::to_string(i);
    zset_insert_new(zs, i, m.data(), m.size());
  }
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; i++) {
    std::string m = "m" + std::to_string(rng() % 200);
    sds probe = sds_new_len(m.data(), m.size());
    zskiplist_node *n = zset_find(zs, probe);
    ASSERT_NE(n, nullptr);
    double ns = static_cast<double>(rng() % 1000) - 500;
    zset_set_score(zs, n, ns);
    zskiplist_node *again = zset_find(zs, probe);
    ASSERT_NE(again, nullptr);
    ASSERT_EQ(again->score, ns);
    ASSERT_EQ(again->ele, dict_get_key(dict_find(zs->dict, probe)));
    sds_free(probe);
  }
  check_structure(zs->zsl);
  for (int i = 0; i < 200; i += 2) {
    std::string m = "m" + std::to_string(i);
    sds probe = sds_new_len(m.data(), m.size());
    ASSERT_EQ(zset_remove(zs, probe), 1);
    ASSERT_EQ(zset_remove(zs, probe), 0);
    sds_free(probe);
  }
  ASSERT_EQ(zs->zsl->length, 100u);
  ASSERT_EQ(dict_size(zs->dict), 100u);
  check_structure(zs->zsl);
  zset_release(zs);
}

TEST(ZSkiplist, LexRangeBounds) {
  zskiplist *zsl = zsl_create();
  for (const char *m : {"a", "b", "c", "d"}) {
    zsl_insert(zsl, 0, sds_new(m));
  }
  zlexrangespec r = {};
  r.minkind = ZLEX_MINUS_INF;
  r.maxkind = ZLEX_PLUS_INF;
  r.minex = r.maxex = 1;
  EXPECT_EQ(node_str(zsl_first_in_lex_range(zsl, &r)), "a");
  EXPECT_EQ(node_str(zsl_last_in_lex_range(zsl, &r)), "d");
  // "-" .. "-" and "+" .. "+" are always empty; "+" .. "-" too.
  r.maxkind = ZLEX_MINUS_INF;
  EXPECT_EQ(zsl_first_in_lex_range(zsl, &r), nullptr);
  r.minkind = ZLEX_PLUS_INF;
  r.maxkind = ZLEX_PLUS_INF;
  EXPECT_EQ(zsl_first_in_lex_range(zsl, &r), nullptr);
  r.maxkind = ZLEX_MINUS_INF;
  EXPECT_EQ(zsl_first_in_lex_range(zsl, &r), nullptr);
  // [b .. (d
  r.minkind = r.maxkind = ZLEX_VALUE;
  r.min = sds_new("b");
  r.max = sds_new("d");
  r.minex = 0;
  r.maxex = 1;
  EXPECT_EQ(node_str(zsl_first_in_lex_range(zsl, &r)), "b");
  EXPECT_EQ(node_str(zsl_last_in_lex_range(zsl, &r)), "c");
  // [c .. (c is empty
  sds_free(r.max);
  r.max = sds_new("c");
  sds_free(r.min);
  r.min = sds_new("c");
  EXPECT_EQ(zsl_first_in_lex_range(zsl, &r), nullptr);
  zfree_lex_range(&r);
  zsl_free(zsl);
}

// The byte-buffer comparisons (listpack members) order strings as sds_cmp
// does: bytes first (unsigned), then length; NUL bytes are ordinary bytes.
TEST(ZSkiplist, LexBufferComparisonsMatchSdsOrder) {
  const std::vector<std::string> values = {"",
                                           "a",
                                           "aa",
                                           "ab",
                                           "b",
                                           std::string("a\0", 2),
                                           std::string("a\0b", 3),
                                           "\xff",
                                           "a\xff",
                                           "1",
                                           "10",
                                           "2",
                                           "-5"};
  for (const std::string &lo : values) {
    for (const std::string &hi : values) {
      for (int ex = 0; ex < 4; ex++) {
        zlexrangespec r = {};
        r.minkind = r.maxkind = ZLEX_VALUE;
        r.min = sds_new_len(lo.data(), lo.size());
        r.max = sds_new_len(hi.data(), hi.size());
        r.minex = ex & 1;
        r.maxex = (ex >> 1) & 1;
        int cmp = sds_cmp(r.min, r.max);
        EXPECT_EQ(zsl_lex_range_is_empty(&r),
                  cmp > 0 || (cmp == 0 && (r.minex || r.maxex)));
        for (const std::string &v : values) {
          sds sv = sds_new_len(v.data(), v.size());
          EXPECT_EQ(zsl_lex_buf_gte_min(v.data(), v.size(), &r),
                    r.minex ? sds_cmp(sv, r.min) > 0 : sds_cmp(sv, r.min) >= 0)
              << v << " vs min " << lo;
          EXPECT_EQ(zsl_lex_buf_lte_max(v.data(), v.size(), &r),
                    r.maxex ? sds_cmp(sv, r.max) < 0 : sds_cmp(sv, r.max) <= 0)
              << v << " vs max " << hi;
          EXPECT_EQ(zsl_lex_value_gte_min(sv, &r),
                    zsl_lex_buf_gte_min(v.data(), v.size(), &r));
          sds_free(sv);
        }
        zfree_lex_range(&r);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The listpack form of sorted-set objects (server/t_zset_lp.c): open,
// modify, compact, reopen.
// ---------------------------------------------------------------------------
extern "C" {
#include "server/core/server.h"
#include "server/ds/listpack.h"
#include "server/types/t_zset.h"
#include "server/types/types.h"
}

namespace {

std::vector<Entry> zset_entries(zset *zs) {
  std::vector<Entry> out;
  for (zskiplist_node *n = zs->zsl->header->level[0].forward; n;
       n = n->level[0].forward) {
    out.emplace_back(n->score, node_str(n));
  }
  return out;
}

}  // namespace

TEST(ZSetListpack, RoundTripKeepsScoresAndOrder) {
  zset_type_register();  // objects are freed through the type table
  size_t saved_entries = server.zset_max_listpack_entries;
  size_t saved_value = server.zset_max_listpack_value;
  server.zset_max_listpack_entries = 128;
  server.zset_max_listpack_value = 64;
  const std::vector<Entry> input = {{-INFINITY, "ninf"},
                                    {INFINITY, "pinf"},
                                    {0.1, "tenth"},
                                    {1e-320, "tiny"},
                                    {4611686018427387904.0, "big"},
                                    {-3, "neg"},
                                    {2.5, "half"},
                                    {7, "123"},
                                    {7, ""},
                                    {1e300, "huge"},
                                    {-0.5, "x\x01y"}};
  robj *o = zset_create_object();
  zset *zs = zset_ptr(o);
  for (const Entry &e : input) {
    zset_prepare_add(o, e.second.size());
    zset_insert_new(zs, zset_stored_score(o, e.first), e.second.data(),
                    e.second.size());
  }
  ASSERT_EQ(o->encoding, (unsigned)OBJ_ENCODING_LISTPACK);
  std::vector<Entry> before = zset_entries(zs);
  zset_compact_opened();  // o is now a listpack of member, score pairs
  ASSERT_EQ(o->refcount, 1);
  ASSERT_EQ(lp_length(static_cast<unsigned char *>(o->ptr)), 2 * input.size());
  std::vector<Entry> after = zset_entries(zset_ptr(o));
  EXPECT_EQ(before, after);
  // A -0 score reads back as 0 in the listpack form, like Redis.
  zset_insert_new(zset_ptr(o), -0.0, "negzero", 7);
  zset_compact_opened();
  sds probe = sds_new("negzero");
  zskiplist_node *n = zset_find(zset_ptr(o), probe);
  ASSERT_NE(n, nullptr);
  EXPECT_FALSE(std::signbit(n->score));
  sds_free(probe);
  zset_compact_opened();
  // Dup of the compact form is a listpack too.
  robj *copy = zset_type_dup(o);
  EXPECT_EQ(copy->encoding, (unsigned)OBJ_ENCODING_LISTPACK);
  EXPECT_EQ(lp_bytes(static_cast<unsigned char *>(copy->ptr)),
            lp_bytes(static_cast<unsigned char *>(o->ptr)));
  decr_ref_count(copy);
  decr_ref_count(o);
  server.zset_max_listpack_entries = saved_entries;
  server.zset_max_listpack_value = saved_value;
}

TEST(ZSetListpack, ConvertsPastThresholds) {
  zset_type_register();  // objects are freed through the type table
  size_t saved_entries = server.zset_max_listpack_entries;
  size_t saved_value = server.zset_max_listpack_value;
  server.zset_max_listpack_entries = 3;
  server.zset_max_listpack_value = 8;
  robj *o = zset_create_object();
  zset *zs = zset_ptr(o);
  for (int i = 0; i < 3; i++) {
    std::string m = "m" + std::to_string(i);
    zset_prepare_add(o, m.size());
    zset_insert_new(zs, i, m.data(), m.size());
  }
  EXPECT_EQ(o->encoding, (unsigned)OBJ_ENCODING_LISTPACK);
  zset_prepare_add(o, 2);
  EXPECT_EQ(o->encoding, (unsigned)OBJ_ENCODING_SKIPLIST);
  zset_compact_opened();  // stays a zset
  EXPECT_EQ(zset_length(o), 3u);
  robj *small = zset_create_object();
  zset_prepare_add(small, 9);  // member longer than the value limit
  EXPECT_EQ(small->encoding, (unsigned)OBJ_ENCODING_SKIPLIST);
  zset_compact_opened();
  decr_ref_count(small);
  decr_ref_count(o);
  server.zset_max_listpack_entries = saved_entries;
  server.zset_max_listpack_value = saved_value;
}
