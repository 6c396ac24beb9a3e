/* debug.c: the DEBUG command, limited to the subcommands the test suites
 * use: SLEEP, SET-ACTIVE-EXPIRE, OBJECT, POPULATE, PROTOCOL, LOG, ERROR,
 * ASSERT, PANIC, LISTPACK, QUICKLIST, QUICKLIST-PACKED-THRESHOLD,
 * STRINGMATCH-TEST and HELP here; RELOAD, DIGEST, DIGEST-VALUE,
 * SET-SKIP-CHECKSUM-VALIDATION (persistence) and CHANGE-REPL-ID
 * (replication) in the modules registered with debug_add_extension. Texts
 * and reply shapes are Redis 7.0's.
 *
 * DEBUG is an admin, "protected" command: Redis refuses it unless
 * enable-debug-command allows it, and the dispatcher is where that is
 * enforced. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "server/base/util.h"
#include "server/cmds/cmds.h"
#include "server/core/server.h"
#include "server/ds/intset.h"
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "tls/tls.h"

/* DEBUG POPULATE creates at most this many keys per call: the loop runs
 * inside one command, so it needs a ceiling even for an admin. */
#define DEBUG_POPULATE_MAX_KEYS (1L << 30)
/* DEBUG SLEEP never sleeps longer than a day (a typo should not need a
 * SIGKILL to recover from). */
#define DEBUG_SLEEP_MAX_SECONDS (24.0 * 3600.0)
/* DEBUG STRINGMATCH-TEST: Redis's cycle count and buffer sizes. */
#define DEBUG_STRINGMATCH_CYCLES 10000000
#define DEBUG_STRINGMATCH_MAX_LEN 32
/* DEBUG LISTPACK / QUICKLIST print at most this many bytes of a listpack
 * value (as Redis's lpRepr), of an entry's encoding (hex), and of a PLAIN
 * node's element (Redis prints it whole: a huge one would flood the log). */
#define DEBUG_REPR_MAX_VALUE 40
#define DEBUG_REPR_MAX_HEX 64
#define DEBUG_REPR_MAX_PLAIN (64 * 1024)

/* The subcommands this server has, with Redis 7.0's help texts, in Redis's
 * order; LISTENERS is Redoubt's. */
static const char *debug_help[] = {
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication "
    "subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for "
    "clients",
    "    unit tests to simulate Redis errors.",
    "LISTENERS",
    "    Return one line per listening socket: tcp or tls, port, fd, and",
    "    deferred=1 if the event loop serves it in its second pass (Redoubt).",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified "
    "then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to "
    "the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: "
    "string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, "
    "verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> "
    "values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, "
    "but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and "
    "reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the "
    "contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing "
    "RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are "
    "not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables "
    "back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed "
    "nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores "
    "to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's "
    "payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    NULL};

/* RDB length-prefix size for a length (1, 2, 5 or 9 bytes). */
static size_t debug_rdb_len_size(unsigned long long len) {
  if (len < (1 << 6)) {
    return 1;
  }
  if (len < (1 << 14)) {
    return 2;
  }
  if (len <= UINT32_MAX) {
    return 5;
  }
  return 9;
}

/* RDB size of an integer saved in the compact integer encoding, or 0 if it
 * does not fit in 32 bits. */
static size_t debug_rdb_int_size(long long v) {
  if (v >= INT8_MIN && v <= INT8_MAX) {
    return 2;
  }
  if (v >= INT16_MIN && v <= INT16_MAX) {
    return 3;
  }
  if (v >= INT32_MIN && v <= INT32_MAX) {
    return 5;
  }
  return 0;
}

/* debug_serialized_length computes Redis's rdbSavedObjectLen for what it
 * can: strings, lists (quicklist of listpack and plain nodes) and the
 * single-blob encodings (listpack, intset) are exact with rdbcompression
 * off, or as long as no blob is longer than 20 bytes: this estimate does
 * not LZF-compress longer ones, so for those the uncompressed size is
 * reported. Hash tables and skiplists report their in-memory size. */
static size_t debug_rdb_blob_size(size_t len) {
  return debug_rdb_len_size(len) + len;
}

static size_t debug_serialized_length(robj *o) {
  if (o->type == OBJ_STRING) {
    if (o->encoding == OBJ_ENCODING_INT) {
      long long v = (long)o->ptr;
      size_t n = debug_rdb_int_size(v);
      if (n != 0) {
        return n;
      }
      char buf[LONG_STR_SIZE];
      return debug_rdb_blob_size((size_t)ll2string(buf, sizeof(buf), v));
    }
    size_t len = sds_len(o->ptr);
    long long v;
    if (len <= 11 && string2ll(o->ptr, len, &v)) {
      size_t n = debug_rdb_int_size(v);
      if (n != 0) {
        return n;
      }
    }
    return debug_rdb_blob_size(len);
  }
  if (o->encoding == OBJ_ENCODING_QUICKLIST) {
    /* Node count, then per node its container and its listpack or (PLAIN)
     * its element. */
    quicklist *ql = o->ptr;
    size_t total = debug_rdb_len_size(ql->len);
    for (quicklist_node *node = ql->head; node != NULL; node = node->next) {
      total += 1 + debug_rdb_blob_size(quicklist_node_bytes(node));
    }
    return total;
  }
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    return debug_rdb_blob_size(lp_bytes(o->ptr));
  }
  if (o->encoding == OBJ_ENCODING_INTSET) {
    return debug_rdb_blob_size(intset_blob_len(o->ptr));
  }
  return object_compute_size(o, 5);
}

/* debug_quicklist_extra appends the quicklist fields Redis adds to DEBUG
 * OBJECT for lists. */
static sds debug_quicklist_extra(sds s, robj *val) {
  quicklist *ql = val->ptr;
  unsigned long uncompressed = 0;
  for (quicklist_node *node = ql->head; node != NULL; node = node->next) {
    uncompressed += (unsigned long)quicklist_node_bytes(node);
  }
  double avg = ql->len ? (double)ql->count / (double)ql->len : 0;
  return sds_cat_printf(s,
                        " ql_nodes:%lu ql_avg_node:%.2f ql_listpack_max:%d "
                        "ql_compressed:%d ql_uncompressed_size:%lu",
                        ql->len, avg, ql->fill, server.list_compress_depth != 0,
                        uncompressed);
}

static void debug_object(client *c) {
  dict_entry *de = dict_find(c->db->dict, c->argv[2]->ptr);
  if (de == NULL) {
    add_reply_error_object(c, shared.nokeyerr);
    return;
  }
  robj *val = dict_get_val(de);
  sds s = sds_cat_printf(
      sds_empty(),
      "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%d "
      "lru_seconds_idle:%llu",
      (void *)val, val->refcount, str_encoding(val->encoding),
      debug_serialized_length(val), (int)val->lru,
      estimate_object_idle_time(val) / 1000);
  if (val->encoding == OBJ_ENCODING_QUICKLIST) {
    s = debug_quicklist_extra(s, val);
  }
  add_reply_status_length(c, s, sds_len(s));
  sds_free(s);
}

static void debug_sleep(client *c) {
  double seconds = strtod(c->argv[2]->ptr, NULL);
  if (!(seconds > 0)) {
    add_reply(c, shared.ok); /* also NaN and negatives: nothing to do */
    return;
  }
  if (seconds > DEBUG_SLEEP_MAX_SECONDS) {
    seconds = DEBUG_SLEEP_MAX_SECONDS;
  }
  long long usec = (long long)(seconds * 1000000);
  struct timespec ts = {.tv_sec = usec / 1000000,
                        .tv_nsec = (usec % 1000000) * 1000};
  while (nanosleep(&ts, &ts) == -1) {
    /* Interrupted by a signal: sleep the rest. */
  }
  add_reply(c, shared.ok);
}

static void debug_populate(client *c) {
  long keys;
  long valsize = 0;
  if (get_positive_long_from_object_or_reply(c, c->argv[2], &keys, NULL) !=
      C_OK) {
    return;
  }
  if (c->argc == 5 && get_positive_long_from_object_or_reply(
                          c, c->argv[4], &valsize, NULL) != C_OK) {
    return;
  }
  if (keys > DEBUG_POPULATE_MAX_KEYS) {
    add_reply_error(c, "count is too large");
    return;
  }
  if (valsize > server.proto_max_bulk_len) {
    add_reply_error(c,
                    "string exceeds maximum allowed size (proto-max-bulk-len)");
    return;
  }
  const char *prefix = c->argc == 3 ? "key" : (const char *)c->argv[3]->ptr;
  dict_expand(c->db->dict, (unsigned long)keys);
  char buf[128];
  for (long j = 0; j < keys; j++) {
    int klen = snprintf(buf, sizeof(buf), "%s:%lu", prefix, (unsigned long)j);
    if (klen < 0) {
      break;
    }
    if ((size_t)klen >= sizeof(buf)) {
      klen = (int)sizeof(buf) - 1; /* snprintf truncated, as Redis */
    }
    robj *key = create_string_object(buf, (size_t)klen);
    if (lookup_key_write(c->db, key) != NULL) {
      decr_ref_count(key);
      continue;
    }
    int vlen = snprintf(buf, sizeof(buf), "value:%lu", (unsigned long)j);
    robj *val;
    if (valsize == 0) {
      val = create_string_object(buf, (size_t)vlen);
    } else if (valsize <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) {
      char small[OBJ_ENCODING_EMBSTR_SIZE_LIMIT] = {0};
      memcpy(small, buf, valsize <= vlen ? (size_t)valsize : (size_t)vlen);
      val = create_string_object(small, (size_t)valsize);
    } else {
      sds s = sds_new_len(NULL, (size_t)valsize);
      memcpy(s, buf, (size_t)vlen);
      val = create_object(OBJ_STRING, s);
    }
    set_key(c, c->db, key, val, SETKEY_DOESNT_EXIST);
    decr_ref_count(val);
    decr_ref_count(key);
  }
  add_reply(c, shared.ok);
}

static void debug_protocol(client *c) {
  const char *name = c->argv[2]->ptr;
  if (!strcasecmp(name, "string")) {
    add_reply_bulk_cstring(c, "Hello World");
  } else if (!strcasecmp(name, "integer")) {
    add_reply_long_long(c, 12345);
  } else if (!strcasecmp(name, "double")) {
    add_reply_double(c, 3.141);
  } else if (!strcasecmp(name, "bignum")) {
    add_reply_big_num(c, "1234567999999999999999999999999999999", 37);
  } else if (!strcasecmp(name, "null")) {
    add_reply_null(c);
  } else if (!strcasecmp(name, "array")) {
    add_reply_array_len(c, 3);
    for (int j = 0; j < 3; j++) {
      add_reply_long_long(c, j);
    }
  } else if (!strcasecmp(name, "set")) {
    add_reply_set_len(c, 3);
    for (int j = 0; j < 3; j++) {
      add_reply_long_long(c, j);
    }
  } else if (!strcasecmp(name, "map")) {
    add_reply_map_len(c, 3);
    for (int j = 0; j < 3; j++) {
      add_reply_long_long(c, j);
      add_reply_bool(c, j == 1);
    }
  } else if (!strcasecmp(name, "attrib")) {
    if (c->resp >= 3) {
      add_reply_attribute_len(c, 1);
      add_reply_bulk_cstring(c, "key-popularity");
      add_reply_array_len(c, 2);
      add_reply_bulk_cstring(c, "key:123");
      add_reply_long_long(c, 90);
    }
    add_reply_bulk_cstring(c, "Some real reply following the attribute");
  } else if (!strcasecmp(name, "push")) {
    if (c->resp < 3) {
      add_reply_error(c, "RESP2 is not supported by this command");
      return;
    }
    add_reply_push_len(c, 2);
    add_reply_bulk_cstring(c, "server-cpu-usage");
    add_reply_long_long(c, 42);
    add_reply_bulk_cstring(c, "Some real reply following the push reply");
  } else if (!strcasecmp(name, "true")) {
    add_reply_bool(c, 1);
  } else if (!strcasecmp(name, "false")) {
    add_reply_bool(c, 0);
  } else if (!strcasecmp(name, "verbatim")) {
    add_reply_verbatim(c, "This is a verbatim\nstring", 25, "txt");
  } else {
    add_reply_error(c,
                    "Wrong protocol type name. Please use one of the "
                    "following: string|integer|double|bignum|null|array|"
                    "set|map|attrib|push|verbatim|true|false");
  }
}

static void debug_error(client *c) {
  /* The text goes out verbatim as an error line: no newlines in it. */
  sds err = sds_new("-");
  err = sds_cat_sds(err, c->argv[2]->ptr);
  for (size_t j = 0; j < sds_len(err); j++) {
    if (err[j] == '\r' || err[j] == '\n') {
      err[j] = ' ';
    }
  }
  err = sds_cat_len(err, "\r\n", 2);
  add_reply_sds(c, err);
}

/* debug_repr_value appends at most |max| bytes of a value, then "..." if
 * it is longer (as Redis's lpRepr). */
static sds debug_repr_value(sds s, const unsigned char *v, size_t len,
                            size_t max) {
  if (len > max) {
    s = sds_cat_len(s, v, max);
    return sds_cat(s, "...");
  }
  return sds_cat_len(s, v, len);
}

/* debug_listpack_repr appends Redis's lpRepr description of |lp|: totals,
 * then per entry its address, index, offset, encoded size (header, data
 * and backlen together: this server does not split them) and bytes (at
 * most DEBUG_REPR_MAX_HEX in hex), and its value. */
static sds debug_listpack_repr(sds s, unsigned char *lp) {
  size_t total = lp_bytes(lp);
  s = sds_cat_printf(s, "{total bytes %zu} {num entries %lu}\n", total,
                     lp_length(lp));
  int index = 0;
  for (unsigned char *p = lp_first(lp); p != NULL; index++) {
    unsigned char *next = lp_next(lp, p);
    /* The last entry ends at the EOF byte. */
    size_t size = (size_t)((next ? next : lp + total - 1) - p);
    s = sds_cat_printf(s,
                       "{\n\taddr: 0x%08lx,\n\tindex: %2d,\n\toffset: %1lu,\n"
                       "\thdr+entrylen+backlen: %2lu,\n\tbytes: ",
                       (unsigned long)p, index, (unsigned long)(p - lp),
                       (unsigned long)size);
    for (size_t i = 0; i < size && i < DEBUG_REPR_MAX_HEX; i++) {
      s = sds_cat_printf(s, "%02x|", p[i]);
    }
    if (size > DEBUG_REPR_MAX_HEX) {
      s = sds_cat(s, "...");
    }
    unsigned char buf[LP_INTBUF_SIZE];
    uint32_t vlen = 0;
    unsigned char *v = lp_get_string(p, &vlen, buf);
    s = sds_cat(s, "\n\t[str]");
    s = debug_repr_value(s, v, vlen, DEBUG_REPR_MAX_VALUE);
    s = sds_cat(s, "\n}\n");
    p = next;
  }
  return sds_cat(s, "{end}\n\n");
}

/* debug_quicklist_repr appends Redis's quicklistRepr description: the
 * list's fields, then per node its container and size, and with |full| the
 * node's listpack or (PLAIN) its element. Nodes are never compressed. */
static sds debug_quicklist_repr(sds s, quicklist *ql, int full) {
  s = sds_cat_printf(s,
                     "{count : %ld}\n{len : %ld}\n{fill : %d}\n"
                     "{compress : %d}\n{bookmark_count : %d}\n",
                     (long)ql->count, (long)ql->len, ql->fill,
                     server.list_compress_depth, 0);
  int i = 0;
  for (quicklist_node *node = ql->head; node != NULL; node = node->next) {
    int plain = node->container == QUICKLIST_NODE_CONTAINER_PLAIN;
    s = sds_cat_printf(s,
                       "{quicklist node(%d)\n{container : %s, encoding: RAW, "
                       "size: %zu, count: %d, recompress: 0, "
                       "attempted_compress: 0}\n",
                       i++, plain ? "PLAIN" : "PACKED",
                       quicklist_node_bytes(node), (int)node->count);
    if (!full) {
      continue;
    }
    if (plain) {
      s = sds_cat(s, "{ entry : ");
      s = debug_repr_value(s, node->entry, quicklist_node_bytes(node),
                           DEBUG_REPR_MAX_PLAIN);
      s = sds_cat(s, " }\n");
    } else {
      s = sds_cat(s, "{ listpack:\n");
      s = debug_listpack_repr(s, node->entry);
      s = sds_cat(s, "}\n");
    }
    s = sds_cat(s, "}\n");
  }
  return s;
}

/* debug_print_stdout writes |s| to standard output, where Redis prints
 * these descriptions (the server log when no logfile is set). */
static void debug_print_stdout(sds s) {
  fwrite(s, 1, sds_len(s), stdout);
  fflush(stdout);
}

/* debug_lookup: the key without touching it, as Redis's OBJECT lookup; on
 * a miss replies "no such key" and returns NULL. */
static robj *debug_lookup(client *c, robj *key) {
  robj *o =
      lookup_key_read_with_flags(c->db, key, LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
  if (o == NULL) {
    add_reply_error_object(c, shared.nokeyerr);
  }
  return o;
}

/* DEBUG LISTPACK <key>: a listpack-encoded hash or sorted set. */
static void debug_listpack(client *c) {
  robj *o = debug_lookup(c, c->argv[2]);
  if (o == NULL) {
    return;
  }
  if (o->encoding != OBJ_ENCODING_LISTPACK) {
    add_reply_error(c, "Not a listpack encoded object.");
    return;
  }
  sds s = debug_listpack_repr(sds_empty(), o->ptr);
  debug_print_stdout(s);
  sds_free(s);
  add_reply_status(c, "Listpack structure printed on stdout");
}

/* DEBUG QUICKLIST <key> [<0|1>]: a list. */
static void debug_quicklist(client *c) {
  robj *o = debug_lookup(c, c->argv[2]);
  if (o == NULL) {
    return;
  }
  int full = c->argc == 4 ? atoi(c->argv[3]->ptr) : 0;
  if (o->encoding != OBJ_ENCODING_QUICKLIST) {
    add_reply_error(c, "Not a quicklist encoded object.");
    return;
  }
  sds s = debug_quicklist_repr(sds_empty(), o->ptr, full);
  debug_print_stdout(s);
  sds_free(s);
  add_reply_status(c, "Quicklist structure printed on stdout");
}

/* DEBUG QUICKLIST-PACKED-THRESHOLD <size>: a memory value ("1k", "5b"). */
static void debug_packed_threshold(client *c) {
  int err = 0;
  unsigned long long sz = memtoull(c->argv[2]->ptr, &err);
  if (err || !quicklist_set_packed_threshold((size_t)sz)) {
    add_reply_error(c,
                    "argument must be a memory value bigger than 1 and "
                    "smaller than 4gb");
    return;
  }
  add_reply(c, shared.ok);
}

/* DEBUG STRINGMATCH-TEST: Redis's fuzz test of the glob matcher: random
 * patterns against random strings (bytes 0..127), which must not crash or
 * hang (the matcher bounds its nesting). */
static void debug_stringmatch_test(client *c) {
  char str[DEBUG_STRINGMATCH_MAX_LEN];
  char pat[DEBUG_STRINGMATCH_MAX_LEN];
  /* xorshift64: no shared rand() state is disturbed. */
  uint64_t x = (uint64_t)time(NULL) * 2654435761ULL + 1;
  long long matches = 0;
  for (int cycle = 0; cycle < DEBUG_STRINGMATCH_CYCLES; cycle++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int slen = (int)(x % DEBUG_STRINGMATCH_MAX_LEN);
    int plen = (int)((x >> 8) % DEBUG_STRINGMATCH_MAX_LEN);
    for (int j = 0; j < slen; j++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      str[j] = (char)(x % 128);
    }
    for (int j = 0; j < plen; j++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      pat[j] = (char)(x % 128);
    }
    matches += string_match_len(pat, plen, str, slen, 0);
  }
  server_log(LL_DEBUG, "DEBUG STRINGMATCH-TEST: %lld matches", matches);
  add_reply_status(c, "Apparently Redis did not crash: test passed");
}

#ifdef REDOUBT_TEST_HOOKS
/* DEBUG TLS-HANDSHAKER-SYSCALL <name> / TLS-HANDSHAKER-MISBEHAVE <kind>
 * (test builds only): replies with the pids of the handshakers asked. */
static void debug_tls_test_hook(client *c, const char *what) {
  int pids[64];
  char err[256];
  int n = tls_test_hook(what, c->argv[2]->ptr, pids, 64, err, sizeof(err));
  if (n < 0) {
    add_reply_error_format(c, "%s", err);
    return;
  }
  add_reply_array_len(c, n);
  for (int i = 0; i < n; i++) {
    add_reply_long_long(c, pids[i]);
  }
}
#endif

/* DEBUG LISTENERS: one "<tcp|tls> port=<p> fd=<n> deferred=<0|1>" line per
 * listening socket; deferred=1 means the loop dispatches it in its second
 * pass. TLS listeners must keep it after any CONFIG SET bind/port/tls-port
 * (storm isolation). */
static void debug_listeners(client *c) {
  add_reply_array_len(c, server.ipfd_count + server.tlsfd_count);
  for (int tls = 0; tls <= 1; tls++) {
    int *fds = tls ? server.tlsfd : server.ipfd;
    int count = tls ? server.tlsfd_count : server.ipfd_count;
    for (int j = 0; j < count; j++) {
      struct sockaddr_storage ss;
      socklen_t len = sizeof(ss);
      int port = 0;
      if (getsockname(fds[j], (struct sockaddr *)&ss, &len) == 0) {
        port = ss.ss_family == AF_INET6
                   ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
      }
      char line[96];
      snprintf(line, sizeof(line), "%s port=%d fd=%d deferred=%d",
               tls ? "tls" : "tcp", port, fds[j],
               ae_is_deferred(server.el, fds[j]));
      add_reply_status(c, line);
    }
  }
}

static debug_extension_proc *debug_extensions[DEBUG_MAX_EXTENSIONS];
static int debug_extension_count;

void debug_add_extension(debug_extension_proc *proc) {
  server_assert(debug_extension_count < DEBUG_MAX_EXTENSIONS);
  debug_extensions[debug_extension_count++] = proc;
}

static void debug_command(client *c) {
  const char *sub = c->argv[1]->ptr;
  for (int j = 0; j < debug_extension_count; j++) {
    if (debug_extensions[j](c)) {
      return;
    }
  }
  if (c->argc == 2 && !strcasecmp(sub, "help")) {
    add_reply_help(c, debug_help);
  } else if (c->argc == 3 && !strcasecmp(sub, "sleep")) {
    debug_sleep(c);
  } else if (c->argc == 3 && !strcasecmp(sub, "set-active-expire")) {
    server.active_expire_enabled = atoi(c->argv[2]->ptr);
    add_reply(c, shared.ok);
  } else if (c->argc == 3 && !strcasecmp(sub, "object")) {
    debug_object(c);
  } else if (c->argc >= 3 && c->argc <= 5 && !strcasecmp(sub, "populate")) {
    debug_populate(c);
  } else if (c->argc == 3 && !strcasecmp(sub, "protocol")) {
    debug_protocol(c);
  } else if (c->argc == 2 && !strcasecmp(sub, "listeners")) {
    debug_listeners(c);
  } else if (c->argc == 3 && !strcasecmp(sub, "log")) {
    server_log(LL_WARNING, "DEBUG LOG: %s", (const char *)c->argv[2]->ptr);
    add_reply(c, shared.ok);
  } else if (c->argc == 3 && !strcasecmp(sub, "error")) {
    debug_error(c);
  } else if (c->argc == 3 && !strcasecmp(sub, "listpack")) {
    debug_listpack(c);
  } else if ((c->argc == 3 || c->argc == 4) && !strcasecmp(sub, "quicklist")) {
    debug_quicklist(c);
  } else if (c->argc == 3 && !strcasecmp(sub, "quicklist-packed-threshold")) {
    debug_packed_threshold(c);
  } else if (c->argc == 2 && !strcasecmp(sub, "stringmatch-test")) {
    debug_stringmatch_test(c);
#ifdef REDOUBT_TEST_HOOKS
  } else if (c->argc == 3 && !strcasecmp(sub, "tls-handshaker-syscall")) {
    debug_tls_test_hook(c, "syscall");
  } else if (c->argc == 3 && !strcasecmp(sub, "tls-handshaker-misbehave")) {
    debug_tls_test_hook(c, "misbehave");
#endif
  } else if (!strcasecmp(sub, "assert")) {
    server_assert(1 == 2);
  } else if (!strcasecmp(sub, "panic")) {
    server_panic("DEBUG PANIC called at Unix time %lld", (long long)time(NULL));
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

redis_command debug_commands[] = {
    {.declared_name = "debug",
     .summary = "A container for debugging commands",
     .since = "1.0.0",
     .group = "server",
     .proc = debug_command,
     .arity = -2,
     .flags =
         CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_PROTECTED,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {0},
};
