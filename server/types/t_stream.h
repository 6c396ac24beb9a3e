/* t_stream.h: the stream type (XADD, XREAD, consumer groups...).
 *
 * Encoding (the same bytes as Redis 7.0, so RDB files and DUMP payloads
 * carry the listpacks as they are): a stream is an ordered map (idtree,
 * server/ds/idtree.h) from the ID of each node's first entry (its "master
 * ID") to a listpack node holding up to stream-node-max-entries entries
 * and stream-node-max-bytes bytes. A node starts with a master entry
 *
 *   count | deleted | num-fields | field_1 ... field_N | 0
 *
 * then the entries, each
 *
 *   flags | ms-diff | seq-diff | [num-fields | field_1] value_1 ... | lp-count
 *
 * where the IDs are differences from the master ID, the field names are
 * left out when the entry has the master's fields (STREAM_ITEM_FLAG_SAMEFIELDS)
 * and lp-count (the number of listpack elements of the entry before it)
 * lets the node be walked backwards. Deleted entries stay in place,
 * flagged STREAM_ITEM_FLAG_DELETED, until their whole node goes.
 *
 * Consumer groups and their consumers are kept sorted by name (byte
 * order, as Redis's radix tree sorts them); each group has a PEL (pending
 * ID -> stream_nack) and each consumer a PEL of the same nacks. Files:
 * t_stream_ds.c (the encoding, iteration, trimming, validation),
 * t_stream_cg.c (groups, consumers, PELs; XGROUP XACK XPENDING XCLAIM
 * XAUTOCLAIM), t_stream_read.c (replies with ranges, XREAD XREADGROUP and
 * their blocking), t_stream_info.c (XINFO), t_stream.c (XADD XRANGE
 * XREVRANGE XLEN XDEL XTRIM XSETID, the type and command table). */
#ifndef REDOUBT_TYPES_T_STREAM_H
#define REDOUBT_TYPES_T_STREAM_H

#include "server/core/server.h"
#include "server/ds/idtree.h"
#include "server/ds/listpack.h"

/* A stream entry ID: milliseconds and sequence number. */
typedef idtree_key stream_id;

#define STREAM_ITEM_FLAG_NONE 0
#define STREAM_ITEM_FLAG_DELETED (1 << 0)
#define STREAM_ITEM_FLAG_SAMEFIELDS (1 << 1)

/* Longest stream ID text: two 20-digit numbers and a dash. */
#define STREAM_ID_STR_LEN 44

/* stream_map: named objects (groups, consumers) sorted by name in byte
 * order. The name belongs to the object. */
typedef struct stream_map_entry {
  sds name;
  void *value;
} stream_map_entry;

typedef struct stream_map {
  stream_map_entry *entries;
  size_t len, cap;
} stream_map;

typedef struct stream {
  idtree *index; /* master ID -> listpack node */
  uint64_t length;
  stream_id last_id;
  stream_id first_id; /* first live entry, 0-0 when empty */
  stream_id max_deleted_entry_id;
  uint64_t entries_added;
  stream_map *groups; /* NULL until the first group */
  /* XINFO's radix-tree-nodes, kept up to date on appends once asked for
   * (NULL: not computed, or a node was removed since). t_stream_ds.c. */
  struct stream_trie_state *trie;
} stream;

typedef struct stream_consumer {
  sds name;
  long long seen_time; /* ms */
  idtree *pel;         /* ID -> stream_nack*, shared with the group PEL */
} stream_consumer;

/* SCG_INVALID_ENTRIES_READ: a group whose read counter is unknown. */
#define SCG_INVALID_ENTRIES_READ -1

typedef struct stream_cg {
  sds name;
  stream_id last_id;
  long long entries_read;
  idtree *pel; /* ID -> stream_nack* (owned) */
  stream_map consumers;
} stream_cg;

typedef struct stream_nack {
  long long delivery_time; /* ms */
  uint64_t delivery_count;
  stream_consumer *consumer; /* NULL only while loading */
} stream_nack;

/* stream_ms_diff: a - b as Redis computes it on long long, wrapping (clocks
 * and counters may come from a file or a client). */
static inline long long stream_ms_diff(long long a, long long b) {
  return (long long)((unsigned long long)a - (unsigned long long)b);
}

/* ---- IDs (t_stream_ds.c) ------------------------------------------ */
static inline int stream_id_cmp(const stream_id *a, const stream_id *b) {
  return idtree_key_cmp(a, b);
}
static inline int stream_id_is_zero(const stream_id *id) {
  return id->ms == 0 && id->seq == 0;
}
/* stream_id_incr / stream_id_decr: the next / previous ID; C_ERR (and a
 * wrap around) past the last / first possible one. */
int stream_id_incr(stream_id *id);
int stream_id_decr(stream_id *id);
/* stream_id_format writes "<ms>-<seq>" into out_buf (STREAM_ID_STR_LEN
 * bytes) and returns its length. */
int stream_id_format(char *out_buf, const stream_id *id);
sds stream_id_to_sds(const stream_id *id);
robj *stream_id_to_object(const stream_id *id);
void add_reply_stream_id(client *c, const stream_id *id);
/* stream_parse_id parses o as Redis does: "-" and "+" (unless strict),
 * "<ms>", "<ms>-<seq>", and with out_seq_given non-NULL "<ms>-*" (then
 * *out_seq_given = 0). A missing sequence is missing_seq. On error it replies
 * "Invalid stream ID ..." when c is not NULL and returns C_ERR. */
int stream_parse_id(client *c, robj *o, stream_id *out_id, uint64_t missing_seq,
                    int strict, int *out_seq_given);
/* stream_parse_interval_id: stream_parse_id for range bounds, where a "("
 * prefix (*out_exclude set) makes the bound exclusive (and strict). */
int stream_parse_interval_id(client *c, robj *o, stream_id *out_id,
                             int *out_exclude, uint64_t missing_seq);

/* ---- the stream (t_stream_ds.c) ------------------------------------ */
stream *stream_new(void);
void stream_free(stream *s);
robj *stream_create_object(void);
/* stream_dup: a deep copy (COPY), groups and PELs included. */
robj *stream_dup(robj *o);
/* stream_append adds an entry of numfields field/value pairs (argv holds
 * field, value, field, value... as string objects). With use_id it is the
 * ID (seq_given 0: its sequence is chosen); otherwise a new one. Returns
 * C_OK with *out_added_id, or C_ERR with errno EDOM (ID not above the top
 * item) or ERANGE (elements too large). */
int stream_append(stream *s, robj **argv, int64_t numfields,
                  stream_id *out_added_id, const stream_id *use_id,
                  int seq_given);
/* stream_delete_item flags one entry deleted. Returns 1 if it existed. */
int stream_delete_item(stream *s, const stream_id *id);
int stream_entry_exists(stream *s, const stream_id *id);
/* stream_get_edge_id: the first (or last) entry's ID, tombstones included
 * unless skip_tombstones; max (first) / 0-0 (last) when there is none. */
void stream_get_edge_id(stream *s, int first, int skip_tombstones,
                        stream_id *out_edge_id);
/* stream_last_valid_id: the last live entry's ID (the stream must not be
 * empty). */
void stream_last_valid_id(stream *s, stream_id *out_maxid);

/* Trimming (XADD/XTRIM MAXLEN/MINID). */
#define TRIM_STRATEGY_NONE 0
#define TRIM_STRATEGY_MAXLEN 1
#define TRIM_STRATEGY_MINID 2
typedef struct stream_trim_args {
  int strategy;
  int approx;      /* only whole nodes */
  long long limit; /* max entries to remove, 0 = no limit */
  long long maxlen;
  stream_id minid;
} stream_trim_args;
/* stream_trim returns the number of entries removed. */
int64_t stream_trim(stream *s, const stream_trim_args *args);

/* stream_iter: walks the live entries (or all with skip_tombstones 0)
 * between two IDs, forward or backward:
 *
 *   stream_iter si;
 *   stream_iter_start(&si, s, &start, &end, rev);
 *   while (stream_iter_get_id(&si, &id, &numfields)) {
 *     while (numfields--) stream_iter_get_field(&si, &f, &v, &flen, &vlen);
 *   }
 *
 * Every field of an entry must be read before the next entry is asked for.
 * Field pointers stay valid until the next call. */
typedef struct stream_iter {
  stream *s;
  stream_id master_id;
  uint64_t master_fields_count;
  unsigned char *master_fields_start;
  unsigned char *master_fields_ptr;
  int entry_flags;
  int rev;
  int skip_tombstones;
  stream_id start, end;
  idtree_iter node;
  int node_pending; /* node is positioned on the next node to read */
  unsigned char *lp, *lp_ele, *lp_flags;
  unsigned char field_buf[LP_INTBUF_SIZE];
  unsigned char value_buf[LP_INTBUF_SIZE];
} stream_iter;
/* start / end NULL: from the first / to the last entry. */
void stream_iter_start(stream_iter *si, stream *s, const stream_id *start,
                       const stream_id *end, int rev);
int stream_iter_get_id(stream_iter *si, stream_id *out_id,
                       int64_t *out_numfields);
void stream_iter_get_field(stream_iter *si, unsigned char **out_field,
                           unsigned char **out_value, int64_t *out_field_len,
                           int64_t *out_value_len);
/* stream_iter_remove_entry deletes the entry just returned (its ID is
 * current) and repositions the iterator after it. */
void stream_iter_remove_entry(stream_iter *si, const stream_id *current);
void stream_iter_stop(stream_iter *si);

/* stream_index_node_count: how many nodes Redis's radix tree would have
 * for this stream's node keys (XINFO STREAM radix-tree-nodes). */
long long stream_index_node_count(stream *s);
/* stream_validate_listpack checks a node read from outside (RDB,
 * RESTORE) of size bytes, deeply: the listpack, the master entry, every
 * entry's shape, flags, lp-count and the live / deleted counts. On
 * success *out_first and *out_last get its first and last entry IDs
 * (tombstones included), *out_live its live count. Returns 1 if valid. */
int stream_validate_listpack(unsigned char *lp, size_t size,
                             const stream_id *master, stream_id *out_first,
                             stream_id *out_last, uint64_t *out_live);
size_t stream_compute_size(robj *o, size_t samples);

/* ---- maps, groups, consumers, PELs (t_stream_cg.c) ----------------- */
stream_map_entry *stream_map_find(const stream_map *m, const char *name,
                                  size_t len);
/* stream_map_add: 0 (nothing done) when the name exists. */
int stream_map_add(stream_map *m, sds name, void *value);
int stream_map_remove(stream_map *m, const char *name, size_t len);
void stream_map_clear(stream_map *m);

/* stream_create_cg: NULL when a group of that name exists. */
stream_cg *stream_create_cg(stream *s, const char *name, size_t len,
                            const stream_id *id, long long entries_read);
stream_cg *stream_lookup_cg(stream *s, sds name);
void stream_free_cg(stream_cg *cg);
/* Flags of stream_create_consumer. */
#define SCC_DEFAULT 0
#define SCC_NO_NOTIFY (1 << 0)
#define SCC_NO_DIRTIFY (1 << 1)
/* stream_create_consumer: NULL when it exists. Notifies
 * xgroup-createconsumer on key/dbid and counts a change unless flagged. */
stream_consumer *stream_create_consumer(stream_cg *cg, sds name, robj *key,
                                        int dbid, int flags);
#define SLC_DEFAULT 0
#define SLC_NO_REFRESH (1 << 0)
stream_consumer *stream_lookup_consumer(stream_cg *cg, sds name, int flags);
stream_nack *stream_create_nack(stream_consumer *consumer);
/* stream_estimate_distance_from_first_ever_entry: the logical read
 * counter of id, or SCG_INVALID_ENTRIES_READ when it cannot be known. */
long long stream_estimate_distance_from_first_ever_entry(stream *s,
                                                         const stream_id *id);
int stream_range_has_tombstones(stream *s, const stream_id *start,
                                const stream_id *end);
/* Propagation of consumer-group changes, as Redis 7.0 emits them. */
void stream_propagate_xclaim(client *c, robj *key, stream_cg *group,
                             robj *groupname, robj *id, stream_nack *nack);
void stream_propagate_group_id(client *c, robj *key, stream_cg *group,
                               robj *groupname);
void stream_propagate_consumer_creation(client *c, robj *key, robj *groupname,
                                        sds consumername);
/* stream_must_obey: the client is the master or the AOF loader, whose
 * commands are applied as they come. */
int stream_must_obey(client *c);
/* stream_prevent_propagation: the command propagated its effects itself. */
void stream_prevent_propagation(client *c);

/* ---- replies (t_stream_read.c) ------------------------------------- */
#define STREAM_RWR_NOACK (1 << 0)
#define STREAM_RWR_RAWENTRIES (1 << 1)
#define STREAM_RWR_HISTORY (1 << 2)
typedef struct stream_prop_info {
  robj *keyname;
  robj *groupname;
} stream_prop_info;
size_t stream_reply_with_range(client *c, stream *s, stream_id *start,
                               stream_id *end, size_t count, int rev,
                               stream_cg *group, stream_consumer *consumer,
                               int flags, stream_prop_info *spi);
void stream_reply_with_cg_lag(client *c, stream *s, stream_cg *cg);

/* ---- commands ------------------------------------------------------ */
void xadd_command(client *c);
void xrange_command(client *c);
void xrevrange_command(client *c);
void xlen_command(client *c);
void xdel_command(client *c);
void xtrim_command(client *c);
void xsetid_command(client *c);
void xread_command(client *c);
void xgroup_command(client *c);
void xack_command(client *c);
void xpending_command(client *c);
void xclaim_command(client *c);
void xautoclaim_command(client *c);
void xinfo_command(client *c);
int xread_get_keys(struct redis_command *cmd, robj **argv, int argc,
                   get_keys_result *result);
/* stream_blocking_register: the keyspace hook that wakes XREADGROUP
 * clients when their stream goes away (FLUSHDB, SWAPDB). */
void stream_blocking_register(void);

#endif
