/* digest.c: DEBUG DIGEST and DEBUG DIGEST-VALUE key... (see persist.h).
 *
 * The digest is Redis 7.0's, byte for byte, so a Redoubt and a Redis
 * holding the same data print the same hex:
 *
 *   xor(d, s):  d ^= SHA1(s)                  (unordered: sets, hashes, keys)
 *   mix(d, s):  d = SHA1(d ^ SHA1(s))         (ordered: lists, fields)
 *
 * A key's digest starts at zero, mixes the key bytes, the type as a 32-bit
 * big-endian number, then the value: a string mixes its bytes, a list
 * mixes each element head to tail, a set xors each member, a sorted set
 * and a hash xor one digest per element (mix member then score printed
 * with "%.17g"; mix field then value). A key with a TTL then xors the
 * constant "!!expire!!" (the time itself is not part of it). A stream mixes
 * each entry's ID ("<ms>.<seq>"), then its fields and values. The dataset
 * digest xors every key's digest, and before each non-empty db mixes the
 * db number (32-bit big-endian); no key at all gives twenty zero bytes.
 * Integers (INT strings, intset members, listpack integers) are hashed as
 * their decimal text, as Redis's decoded objects are. */
#include "server/persist/persist.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/base/sha1.h"
#include "server/base/util.h"
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "server/ds/zskiplist.h"
#include "server/types/t_hash.h"
#include "server/types/t_set.h"
#include "server/types/t_stream.h"
#include "server/types/t_zset.h"

static void digest_xor(unsigned char digest[SHA1_DIGEST_LEN], const void *data,
                       size_t len) {
  unsigned char hash[SHA1_DIGEST_LEN];
  sha1_digest(data, len, hash);
  for (int i = 0; i < SHA1_DIGEST_LEN; i++) {
    digest[i] ^= hash[i];
  }
}

static void digest_mix(unsigned char digest[SHA1_DIGEST_LEN], const void *data,
                       size_t len) {
  digest_xor(digest, data, len);
  sha1_digest(digest, SHA1_DIGEST_LEN, digest);
}

/* digest_mix_ll mixes an integer as its decimal text. */
static void digest_mix_ll(unsigned char digest[SHA1_DIGEST_LEN], long long v) {
  char buf[32];
  int len = ll2string(buf, sizeof(buf), v);
  digest_mix(digest, buf, (size_t)len);
}

/* digest_xor_member_score xors the digest of one sorted-set element. */
static void digest_xor_member_score(unsigned char digest[SHA1_DIGEST_LEN],
                                    const void *ele, size_t len, double score) {
  unsigned char element[SHA1_DIGEST_LEN] = {0};
  char buf[128];
  digest_mix(element, ele, len);
  int n = snprintf(buf, sizeof(buf), "%.17g", score);
  digest_mix(element, buf, (size_t)n);
  digest_xor(digest, element, SHA1_DIGEST_LEN);
}

static void digest_set_member(void *privdata, const char *ele, size_t len) {
  digest_xor(privdata, ele, len);
}

static int digest_hash_pair(void *privdata, const char *field, size_t field_len,
                            const char *value, size_t value_len) {
  unsigned char element[SHA1_DIGEST_LEN] = {0};
  digest_mix(element, field, field_len);
  digest_mix(element, value, value_len);
  digest_xor(privdata, element, SHA1_DIGEST_LEN);
  return 1;
}

static void digest_list(unsigned char digest[SHA1_DIGEST_LEN], robj *o) {
  quicklist_iter it;
  quicklist_entry entry;
  quicklist_iter_init(&it, o->ptr, QUICKLIST_ITER_FORWARD);
  while (quicklist_next(&it, &entry)) {
    if (entry.sval != NULL) {
      digest_mix(digest, entry.sval, entry.slen);
    } else {
      digest_mix_ll(digest, entry.lval);
    }
  }
}

static void digest_zset(unsigned char digest[SHA1_DIGEST_LEN], robj *o) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    unsigned char *lp = o->ptr;
    for (unsigned char *ep = lp_first(lp); ep != NULL;
         ep = zset_lp_step(lp, ep, 0)) {
      unsigned char buf[LP_INTBUF_SIZE];
      uint32_t len;
      unsigned char *ele = lp_get_string(ep, &len, buf);
      double score = zset_lp_score(lp_next(lp, ep));
      digest_xor_member_score(digest, ele, len, score);
    }
    return;
  }
  zset *zs = o->ptr;
  for (zskiplist_node *n = zs->zsl->tail; n != NULL; n = n->backward) {
    digest_xor_member_score(digest, n->ele, sds_len(n->ele), n->score);
  }
}

/* digest_stream mixes each entry's ID as "<ms>.<seq>", then its fields and
 * values in order (consumer groups are not part of the digest, as in
 * Redis). */
static void digest_stream(unsigned char digest[SHA1_DIGEST_LEN], robj *o) {
  stream_iter si;
  stream_id id;
  int64_t numfields;
  stream_iter_start(&si, o->ptr, NULL, NULL, 0);
  while (stream_iter_get_id(&si, &id, &numfields)) {
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%llu.%llu", (unsigned long long)id.ms,
                     (unsigned long long)id.seq);
    digest_mix(digest, buf, (size_t)n);
    while (numfields--) {
      unsigned char *field, *value;
      int64_t field_len, value_len;
      stream_iter_get_field(&si, &field, &value, &field_len, &value_len);
      digest_mix(digest, field, (size_t)field_len);
      digest_mix(digest, value, (size_t)value_len);
    }
  }
  stream_iter_stop(&si);
}

/* digest_mix_value mixes the type and value of |o| (under |key| in |db|)
 * into |digest|, then the expire marker if the key has a TTL. */
static void digest_mix_value(unsigned char digest[SHA1_DIGEST_LEN],
                             redis_db *db, sds key, robj *o) {
  uint32_t type = htonl(o->type);
  digest_mix(digest, &type, sizeof(type));
  switch (o->type) {
    case OBJ_STRING:
      if (o->encoding == OBJ_ENCODING_INT) {
        digest_mix_ll(digest, (long)o->ptr);
      } else {
        digest_mix(digest, o->ptr, sds_len(o->ptr));
      }
      break;
    case OBJ_LIST:
      digest_list(digest, o);
      break;
    case OBJ_SET:
      set_type_foreach(o, digest_set_member, digest);
      break;
    case OBJ_ZSET:
      digest_zset(digest, o);
      break;
    case OBJ_HASH:
      hash_type_foreach(o, digest_hash_pair, digest);
      break;
    case OBJ_STREAM:
      digest_stream(digest, o);
      break;
    default:
      server_panic("DEBUG DIGEST: unknown object type %d", o->type);
  }
  if (dict_size(db->expires) != 0 && dict_find(db->expires, key) != NULL) {
    digest_xor(digest, "!!expire!!", 10);
  }
}

static void digest_dataset(unsigned char out[SHA1_DIGEST_LEN]) {
  memset(out, 0, SHA1_DIGEST_LEN);
  for (int j = 0; j < server.dbnum; j++) {
    redis_db *db = server.db + j;
    if (dict_size(db->dict) == 0) {
      continue;
    }
    /* The db number, so the same keys in another db digest differently. */
    uint32_t id = htonl((uint32_t)j);
    digest_mix(out, &id, sizeof(id));
    dict_iterator it;
    dict_init_iterator(&it, db->dict);
    dict_entry *de;
    while ((de = dict_next(&it)) != NULL) {
      sds key = dict_get_key(de);
      unsigned char key_digest[SHA1_DIGEST_LEN] = {0};
      digest_mix(key_digest, key, sds_len(key));
      digest_mix_value(key_digest, db, key, dict_get_val(de));
      digest_xor(out, key_digest, SHA1_DIGEST_LEN);
    }
    dict_reset_iterator(&it);
  }
}

static void digest_reply_hex(client *c,
                             const unsigned char digest[SHA1_DIGEST_LEN]) {
  static const char digits[] = "0123456789abcdef";
  char hex[SHA1_HEX_LEN + 1];
  for (int i = 0; i < SHA1_DIGEST_LEN; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 0xf];
  }
  hex[SHA1_HEX_LEN] = '\0';
  add_reply_status(c, hex);
}

int persist_debug_digest(client *c) {
  const char *sub = c->argv[1]->ptr;
  unsigned char digest[SHA1_DIGEST_LEN];
  if (c->argc == 2 && !strcasecmp(sub, "digest")) {
    /* Listpack sorted sets a script left in zset form are written back
     * first, so their scores are read as Redis keeps them. */
    zset_compact_opened();
    digest_dataset(digest);
    digest_reply_hex(c, digest);
    return 1;
  }
  if (!strcasecmp(sub, "digest-value")) {
    zset_compact_opened();
    add_reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
      memset(digest, 0, sizeof(digest));
      /* No lookup_key: a logically expired key is still digested, as in
       * Redis. A missing key gives zeros. */
      sds key = c->argv[j]->ptr;
      dict_entry *de = dict_find(c->db->dict, key);
      if (de != NULL) {
        digest_mix_value(digest, c->db, key, dict_get_val(de));
      }
      digest_reply_hex(c, digest);
    }
    return 1;
  }
  return 0;
}
