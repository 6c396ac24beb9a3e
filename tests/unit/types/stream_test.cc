// stream_test.cc: the stream encoding (server/types/t_stream_ds.c) against a
// std::map model under random appends (explicit and ms-* IDs, same and
// different fields), deletions and trims (MAXLEN / MINID, exact and "~"):
// forward and backward iteration over random ranges, the length and first
// ID, every node passing the validation used for RDB input, and the radix
// tree node count checked against a brute-force count of Redis's tree.
// Then the validation itself: corrupted nodes are refused or still walk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "server/base/zmalloc.h"
#include "server/core/server.h"
#include "server/types/t_stream.h"
}

namespace {

using Id = std::pair<uint64_t, uint64_t>;
using Fields = std::vector<std::string>;  // field, value, field, value...
using Model = std::map<Id, Fields>;

stream_id SId(Id id) { return stream_id{id.first, id.second}; }
Id MId(stream_id id) { return Id(id.ms, id.seq); }

std::vector<robj *> MakeArgv(const Fields &f) {
  std::vector<robj *> argv;
  for (const std::string &s : f) {
    argv.push_back(create_string_object(s.data(), s.size()));
  }
  return argv;
}

void FreeArgv(std::vector<robj *> &argv) {
  for (robj *o : argv) decr_ref_count(o);
}

// Walks [start, end] in one direction and compares with the model.
void CheckRange(stream *s, const Model &m, Id start, Id end, bool rev) {
  stream_iter si;
  stream_id a = SId(start), b = SId(end);
  stream_iter_start(&si, s, &a, &b, rev ? 1 : 0);
  std::vector<std::pair<Id, Fields>> got;
  stream_id id;
  int64_t numfields;
  while (stream_iter_get_id(&si, &id, &numfields)) {
    Fields f;
    while (numfields--) {
      unsigned char *field, *value;
      int64_t flen, vlen;
      stream_iter_get_field(&si, &field, &value, &flen, &vlen);
      f.emplace_back(reinterpret_cast<char *>(field), flen);
      f.emplace_back(reinterpret_cast<char *>(value), vlen);
    }
    got.emplace_back(MId(id), f);
  }
  stream_iter_stop(&si);
  std::vector<std::pair<Id, Fields>> want;
  for (auto it = m.lower_bound(start); it != m.end() && it->first <= end;
       ++it) {
    want.push_back(*it);
  }
  if (rev) std::reverse(want.begin(), want.end());
  ASSERT_EQ(got, want);
}

// Redis's radix tree over 16-byte big-endian keys: its nodes are the root,
// the branching prefixes, their children and the leaves.
long long BruteForceRaxNodes(stream *s) {
  std::vector<std::string> keys;
  idtree_iter it;
  int ok = idtree_seek(&it, s->index, IDTREE_FIRST, idtree_key{0, 0});
  while (ok) {
    idtree_key k = idtree_iter_key(&it);
    std::string b(16, '\0');
    for (int i = 0; i < 8; i++) {
      b[i] = static_cast<char>(k.ms >> (56 - 8 * i));
      b[8 + i] = static_cast<char>(k.seq >> (56 - 8 * i));
    }
    keys.push_back(b);
    ok = idtree_iter_next(&it);
  }
  std::map<std::string, std::set<char>> next;
  for (const std::string &k : keys) {
    for (size_t d = 0; d < 16; d++) next[k.substr(0, d)].insert(k[d]);
  }
  std::set<std::string> nodes = {""};
  for (const auto &kv : next) {
    if (kv.second.size() >= 2) {
      nodes.insert(kv.first);
      for (char c : kv.second) nodes.insert(kv.first + c);
    }
  }
  for (const std::string &k : keys) nodes.insert(k);
  return static_cast<long long>(nodes.size());
}

void CheckStream(stream *s, const Model &m, std::mt19937_64 &rng) {
  ASSERT_EQ(s->length, m.size());
  CheckRange(s, m, Id(0, 0), Id(UINT64_MAX, UINT64_MAX), false);
  CheckRange(s, m, Id(0, 0), Id(UINT64_MAX, UINT64_MAX), true);
  if (!m.empty()) {
    ASSERT_EQ(MId(s->first_id), m.begin()->first);
    stream_id last;
    stream_last_valid_id(s, &last);
    ASSERT_EQ(MId(last), m.rbegin()->first);
  }
  for (int i = 0; i < 4 && !m.empty(); i++) {
    auto a = m.begin();
    std::advance(a, rng() % m.size());
    auto b = m.begin();
    std::advance(b, rng() % m.size());
    Id lo = std::min(a->first, b->first), hi = std::max(a->first, b->first);
    CheckRange(s, m, lo, hi, i % 2);
  }
  // Every node passes the validation RDB input goes through.
  idtree_iter it;
  int ok = idtree_seek(&it, s->index, IDTREE_FIRST, idtree_key{0, 0});
  uint64_t live = 0;
  while (ok) {
    unsigned char *lp = static_cast<unsigned char *>(*idtree_iter_value(&it));
    stream_id master = idtree_iter_key(&it), first, last;
    uint64_t n;
    ASSERT_TRUE(
        stream_validate_listpack(lp, lp_bytes(lp), &master, &first, &last, &n));
    ASSERT_EQ(MId(first), MId(master));
    live += n;
    ok = idtree_iter_next(&it);
  }
  ASSERT_EQ(live, m.size());
  ASSERT_EQ(stream_index_node_count(s), BruteForceRaxNodes(s));
}

Fields RandomFields(std::mt19937_64 &rng) {
  static const Fields shapes[] = {
      {"a", "1"}, {"a", "x", "b", "y"}, {"f", "123"}, {"a", "-7", "b", ""}};
  Fields f = shapes[rng() % 4];
  if (rng() % 5 == 0) f.back() = std::string(rng() % 200, 'v');
  return f;
}

class StreamTest : public ::testing::TestWithParam<int> {};

TEST_P(StreamTest, RandomOperationsMatchModel) {
  std::mt19937_64 rng(GetParam());
  server.stream_node_max_entries = 1 + GetParam() % 7;
  server.stream_node_max_bytes = GetParam() % 2 ? 4096 : 300;
  stream *s = stream_new();
  Model m;
  uint64_t ms = rng() % 1000;
  for (int op = 0; op < 3000; op++) {
    int what = static_cast<int>(rng() % 20);
    if (what < 11) {
      ms += (rng() % 3 == 0) ? 0 : (rng() % 2 ? 1 : (1ULL << (rng() % 40)));
      Fields f = RandomFields(rng);
      std::vector<robj *> argv = MakeArgv(f);
      stream_id use = {ms, 0}, added;
      int seq_given = rng() % 3 == 0;
      if (seq_given) use.seq = s->last_id.ms == ms ? s->last_id.seq + 1 : 0;
      ASSERT_EQ(
          stream_append(s, argv.data(), f.size() / 2, &added, &use, seq_given),
          C_OK);
      FreeArgv(argv);
      ASSERT_TRUE(m.emplace(MId(added), f).second);
      ASSERT_EQ(MId(s->last_id), MId(added));
    } else if (what < 15 && !m.empty()) {
      auto victim = m.begin();
      std::advance(victim, rng() % m.size());
      stream_id id = SId(victim->first);
      ASSERT_EQ(stream_delete_item(s, &id), 1);
      ASSERT_EQ(stream_delete_item(s, &id), 0);
      m.erase(victim);
      if (m.empty()) {
        s->first_id = stream_id{0, 0};
      } else {
        stream_get_edge_id(s, 1, 1, &s->first_id);
      }
    } else if (what < 18) {
      stream_trim_args args = {};
      args.approx = rng() % 2;
      if (rng() % 2) {
        args.strategy = TRIM_STRATEGY_MAXLEN;
        args.maxlen = static_cast<long long>(rng() % (m.size() + 2));
      } else {
        args.strategy = TRIM_STRATEGY_MINID;
        args.minid = stream_id{rng() % (ms + 2), rng() % 2};
      }
      int64_t removed = stream_trim(s, &args);
      // The model: exact trims remove exactly; approximate ones remove a
      // prefix of whole nodes, never more than the exact trim would.
      Model after;
      stream_iter si;
      stream_iter_start(&si, s, nullptr, nullptr, 0);
      stream_id id;
      int64_t nf;
      while (stream_iter_get_id(&si, &id, &nf)) {
        after[MId(id)] = m[MId(id)];
        while (nf--) {  // the iterator walks on through the fields
          unsigned char *f, *v;
          int64_t fl, vl;
          stream_iter_get_field(&si, &f, &v, &fl, &vl);
        }
      }
      stream_iter_stop(&si);
      ASSERT_EQ(static_cast<size_t>(removed), m.size() - after.size());
      for (const auto &kv : after) ASSERT_TRUE(m.count(kv.first));
      if (!after.empty()) {
        // Only the oldest entries go.
        ASSERT_EQ(after.rbegin()->first, m.rbegin()->first);
        size_t kept_from =
            std::distance(m.begin(), m.find(after.begin()->first));
        ASSERT_EQ(m.size() - kept_from, after.size());
      }
      if (!args.approx) {
        if (args.strategy == TRIM_STRATEGY_MAXLEN) {
          ASSERT_EQ(after.size(), std::min<size_t>(m.size(), args.maxlen));
        } else {
          for (const auto &kv : after) ASSERT_GE(kv.first, MId(args.minid));
          ASSERT_EQ(after.size(),
                    static_cast<size_t>(std::distance(
                        m.lower_bound(MId(args.minid)), m.end())));
        }
      }
      m = after;
    } else {
      CheckStream(s, m, rng);
    }
  }
  CheckStream(s, m, rng);
  stream_free(s);
  server.stream_node_max_entries = 100;
  server.stream_node_max_bytes = 4096;
}

INSTANTIATE_TEST_SUITE_P(Seeds, StreamTest, ::testing::Range(1, 9));

TEST(StreamIds, ParseFormatIncrDecr) {
  stream_id id = {5, UINT64_MAX};
  ASSERT_EQ(stream_id_incr(&id), C_OK);
  EXPECT_EQ(MId(id), Id(6, 0));
  ASSERT_EQ(stream_id_decr(&id), C_OK);
  EXPECT_EQ(MId(id), Id(5, UINT64_MAX));
  stream_id max = {UINT64_MAX, UINT64_MAX};
  EXPECT_EQ(stream_id_incr(&max), C_ERR);
  stream_id zero = {0, 0};
  EXPECT_EQ(stream_id_decr(&zero), C_ERR);
  char buf[STREAM_ID_STR_LEN];
  stream_id big = {UINT64_MAX, 12};
  int n = stream_id_format(buf, &big);
  EXPECT_EQ(std::string(buf, n), "18446744073709551615-12");
  struct Case {
    const char *text;
    int strict;
    bool ok;
    Id want;
  } cases[] = {
      {"1-2", 1, true, Id(1, 2)},  {"7", 1, true, Id(7, 0)},
      {"-", 0, true, Id(0, 0)},    {"+", 0, true, Id(UINT64_MAX, UINT64_MAX)},
      {"-", 1, false, Id(0, 0)},   {"01-4", 1, true, Id(1, 4)},
      {"1-+2", 1, true, Id(1, 2)}, {"1-", 1, false, Id(0, 0)},
      {"-1", 1, false, Id(0, 0)},  {"1--1", 1, false, Id(0, 0)},
      {"x", 1, false, Id(0, 0)},   {"18446744073709551616", 1, false, Id(0, 0)},
  };
  for (const Case &c : cases) {
    robj *o = create_string_object(c.text, strlen(c.text));
    stream_id got = {0, 0};
    int rc = stream_parse_id(nullptr, o, &got, 0, c.strict, nullptr);
    EXPECT_EQ(rc == C_OK, c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(MId(got), c.want) << c.text;
    }
    decr_ref_count(o);
  }
}

TEST(StreamValidation, CorruptNodesAreRefusedOrWalk) {
  server.stream_node_max_entries = 100;
  stream *s = stream_new();
  std::mt19937_64 rng(3);
  for (uint64_t i = 1; i <= 12; i++) {
    Fields f = RandomFields(rng);
    std::vector<robj *> argv = MakeArgv(f);
    stream_id use = {i, i % 3}, added;
    ASSERT_EQ(stream_append(s, argv.data(), f.size() / 2, &added, &use, 1),
              C_OK);
    FreeArgv(argv);
  }
  stream_id victim = {4, 1};
  ASSERT_EQ(stream_delete_item(s, &victim), 1);
  idtree_iter it;
  ASSERT_TRUE(idtree_seek(&it, s->index, IDTREE_FIRST, idtree_key{0, 0}));
  unsigned char *lp = static_cast<unsigned char *>(*idtree_iter_value(&it));
  stream_id master = idtree_iter_key(&it);
  std::string good(reinterpret_cast<char *>(lp), lp_bytes(lp));
  int accepted = 0;
  for (size_t pos = 0; pos < good.size(); pos++) {
    for (int delta : {1, 0x40, 0x80, 0xff}) {
      std::string bad = good;
      bad[pos] = static_cast<char>(bad[pos] + delta);
      std::vector<unsigned char> buf(bad.begin(), bad.end());
      stream_id first, last;
      uint64_t live;
      if (!stream_validate_listpack(buf.data(), buf.size(), &master, &first,
                                    &last, &live)) {
        continue;
      }
      accepted++;
      // Accepted: a stream made of it walks both ways with what it claims.
      stream *t = stream_new();
      unsigned char *copy = static_cast<unsigned char *>(zmalloc(buf.size()));
      memcpy(copy, buf.data(), buf.size());
      idtree_insert(t->index, master, copy);
      t->length = live;
      t->last_id = last;
      for (int rev = 0; rev < 2; rev++) {
        stream_iter si;
        stream_iter_start(&si, t, nullptr, nullptr, rev);
        stream_id id;
        int64_t nf;
        uint64_t seen = 0;
        while (stream_iter_get_id(&si, &id, &nf)) {
          while (nf--) {
            unsigned char *f, *v;
            int64_t fl, vl;
            stream_iter_get_field(&si, &f, &v, &fl, &vl);
          }
          seen++;
        }
        EXPECT_EQ(seen, live);
      }
      stream_free(t);
    }
  }
  // Changing a value's bytes keeps a valid node: some mutations pass.
  EXPECT_GT(accepted, 0);
  stream_free(s);
}

}  // namespace
