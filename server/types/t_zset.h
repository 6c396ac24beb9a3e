/* t_zset.h: sorted-set internals shared by t_zset.c (single-key commands),
 * t_zset_ops.c (ZUNION/ZINTER/ZDIFF family) and t_zset_block.c.
 *
 * Representation (see t_zset_lp.c): OBJ_ENCODING_SKIPLIST -> ptr is a
 * `zset` (dict + skiplist); OBJ_ENCODING_LISTPACK -> ptr is a listpack of
 * member, score pairs like Redis's, except while a sorted-set command runs:
 * zset_ptr() then opens it into a zset, and the command table wrappers
 * call zset_compact_opened() when the command ends. Encodings follow
 * Redis's conversion rules (zset-max-listpack-entries/-value), so OBJECT
 * ENCODING prints what Redis prints. */
#ifndef REDOUBT_T_ZSET_H
#define REDOUBT_T_ZSET_H

#include "server/core/server.h"
#include "server/ds/listpack.h"
#include "server/ds/zskiplist.h"

#define ZSET_MIN 0
#define ZSET_MAX 1

robj *zset_create_object(void); /* empty, "listpack", opened */
/* zset_create_compact_object: empty, "listpack", not opened (ZADD). */
robj *zset_create_compact_object(void);
unsigned long zset_length(robj *o);
/* zset_propagate_pop propagates ZPOPMIN/ZPOPMAX key [n] for a pop of up to
 * |count| members (-1: no count) of |o| at |key| instead of the command
 * that popped (BZPOPMIN, BZMPOP, ZMPOP), as Redis 7.0 (t_zset_block.c). */
void zset_propagate_pop(client *c, redis_db *db, robj *key, robj *o, int where,
                        long count);
/* zset_ptr returns the zset form of a zset object (opening a listpack). */
zset *zset_ptr(robj *o);
/* Listpack-native access to a compact (listpack, not opened) object's
 * listpack; see t_zset_lp.c. zset_lp_find returns the member's entry (and
 * its score) or NULL; zset_lp_insert adds an absent member in order;
 * zset_lp_delete removes the member at ep and its score; zset_lp_rank is
 * the member's 0-based rank by (score, member), or -1. */
int zset_is_compact(const robj *o);
unsigned char *zset_lp_find(unsigned char *lp, const char *ele, size_t len,
                            double *score);
unsigned char *zset_lp_insert(unsigned char *lp, const char *ele, size_t len,
                              double score);
unsigned char *zset_lp_delete(unsigned char *lp, unsigned char *ep);
long zset_lp_rank(unsigned char *lp, const char *ele, size_t len);
/* zset_lp_score reads the score entry that follows a member entry. */
double zset_lp_score(unsigned char *score_entry);
/* zset_lp_step: the next member entry (previous if |reverse|) or NULL;
 * zset_lp_edge: the first member in the score range |score| or the lex
 * range |lex| (the other NULL), the last if |reverse|, or NULL;
 * zset_lp_inside: the member at ep is within that range's far bound (its
 * max, or its min if |reverse|). */
unsigned char *zset_lp_step(unsigned char *lp, unsigned char *ep, int reverse);
unsigned char *zset_lp_edge(unsigned char *lp, const zrangespec *score,
                            const zlexrangespec *lex, int reverse);
int zset_lp_inside(unsigned char *lp, unsigned char *ep,
                   const zrangespec *score, const zlexrangespec *lex,
                   int reverse);
/* zset_copy_compact: a new zset holding a compact object's members (the
 * caller releases it; the object is left as it is). */
zset *zset_copy_compact(const robj *o);
/* zset_lp_ref_score: the score held by a listpack entry reference. */
double zset_lp_ref_score(const lp_entry_ref *r);
/* zset_compact_opened writes opened listpack objects back (command end). */
void zset_compact_opened(void);
/* zset_score_as_integer: Redis stores such listpack scores as integers. */
int zset_score_as_integer(double score, long long *out);
/* zset_prepare_add converts to skiplist before adding a member of
 * ele_len when the listpack limits would be passed (as Redis does). */
void zset_prepare_add(robj *o, size_t ele_len);
/* zset_stored_score: the score as the current encoding keeps it. */
double zset_stored_score(const robj *o, double score);
/* zset_convert_to_listpack_if_small: after building a result in zset form
 * (STORE commands), make it a listpack when Redis would. */
void zset_convert_to_listpack_if_small(robj *o, size_t maxelelen);

/* Range parsing: C_OK / C_ERR. Lex specs must be freed with
 * zfree_lex_range. */
int zset_parse_range(robj *min, robj *max, zrangespec *spec);
int zset_parse_lex_range(robj *min, robj *max, zlexrangespec *spec);

/* Generic pop (ZPOPMIN/ZPOPMAX/ZMPOP/BZ*): see t_zset.c. */
void zset_generic_pop(client *c, robj **keyv, int keyc, int where, int emitkey,
                      long count, int use_nested_array,
                      int reply_nil_when_empty, int *deleted);

/* zset_parse_mpop_args parses "numkeys key... MIN|MAX [COUNT n]" with
 * numkeys at c->argv[numkeys_idx] (ZMPOP, BZMPOP); replies on error. */
int zset_parse_mpop_args(client *c, int numkeys_idx, long *numkeys, int *where,
                         long *count);

/* zadd_command is ZADD itself (GEOADD runs it after rewriting its
 * arguments into ZADD's); the caller compacts opened sets afterwards. */
void zadd_command(client *c);

/* Commands of t_zset_block.c */
void bzpopmin_command(client *c);
void bzpopmax_command(client *c);
void bzmpop_command(client *c);
int bzmpop_get_keys(struct redis_command *cmd, robj **argv, int argc,
                    get_keys_result *result);

/* zset_reply_all_reversed replies the whole set from the highest rank
 * down (ZRANDMEMBER with a count covering it). */
void zset_reply_all_reversed(client *c, robj *zobj, int withscores);

void zscan_command(client *c);       /* t_zset_scan.c */
void zrandmember_command(client *c); /* t_zset_rand.c */

/* Commands of t_zset_ops.c */
void zunionstore_command(client *c);
void zinterstore_command(client *c);
void zdiffstore_command(client *c);
void zunion_command(client *c);
void zinter_command(client *c);
void zdiff_command(client *c);
void zintercard_command(client *c);
int zunion_inter_diff_get_keys(struct redis_command *cmd, robj **argv, int argc,
                               get_keys_result *result);
int zmpop_get_keys(struct redis_command *cmd, robj **argv, int argc,
                   get_keys_result *result);
int zunion_inter_diff_store_get_keys(struct redis_command *cmd, robj **argv,
                                     int argc, get_keys_result *result);

/* zset_type_dup returns a deep copy of a sorted set (COPY; the object
 * type operations' dup). */
robj *zset_type_dup(robj *o);

#endif
