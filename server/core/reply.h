/* reply.h: the reply API (reply.c) and the shared reply objects. */
#ifndef REDOUBT_CORE_REPLY_H
#define REDOUBT_CORE_REPLY_H

#include "server/core/client.h"

/* ------------------------------------------------------------------ */
/* Reply API (networking.c). All functions append to c's output; errors   */
/* get "-ERR " prepended unless the text starts with '-'.                */
/* ------------------------------------------------------------------ */
void add_reply(client *c, robj *obj);
void add_reply_sds(client *c, sds s); /* takes ownership of s */
void add_reply_proto(client *c, const char *s, size_t len);
void add_reply_bulk(client *c, robj *obj);
void add_reply_bulk_cbuffer(client *c, const void *p, size_t len);
void add_reply_bulk_sds(client *c, sds s);             /* takes ownership */
void add_reply_bulk_cstring(client *c, const char *s); /* NULL => null */
void add_reply_bulk_long_long(client *c, long long ll);
void add_reply_long_long(client *c, long long ll);
void add_reply_double(client *c, double d); /* RESP3 ',' or bulk */
void add_reply_human_long_double(client *c, long double d);
void add_reply_null(client *c);        /* $-1 / _ */
void add_reply_null_array(client *c);  /* *-1 / _ */
void add_reply_bool(client *c, int b); /* :1/:0 or #t/#f */
void add_reply_array_len(client *c, long length);
void add_reply_map_len(client *c, long length); /* *2n in RESP2 */
void add_reply_set_len(client *c, long length); /* * in RESP2 */
void add_reply_attribute_len(client *c, long length);
void add_reply_push_len(client *c, long length);      /* * in RESP2 */
void add_reply_status(client *c, const char *status); /* +status */
void add_reply_status_length(client *c, const char *s, size_t len);
void add_reply_error(client *c, const char *err);
void add_reply_error_length(client *c, const char *s, size_t len);
void add_reply_error_sds(client *c, sds err); /* takes ownership */
void add_reply_error_format(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void add_reply_error_object(client *c, robj *err);
/* add_reply_error_sds_ex replies |err| (taken) with trailing newlines
 * trimmed and inner ones made spaces; with ERR_REPLY_FLAG_NO_STATS_UPDATE
 * the error is not counted again in the error stats (a script's error that
 * was counted when its command failed) but c's command still fails. */
#define ERR_REPLY_FLAG_NO_STATS_UPDATE (1 << 0)
void add_reply_error_sds_ex(client *c, sds err, int flags);
void add_reply_error_arity(client *c); /* wrong number of arguments */
void add_reply_error_expire_time(client *c);
void add_reply_verbatim(client *c, const char *s, size_t len, const char *ext);
void add_reply_help(client *c, const char **help); /* NULL terminated */
void add_reply_subcommand_syntax_error(client *c);
void add_reply_big_num(client *c, const char *num, size_t len);
/* Deferred lengths: reserve a slot, fill it later. */
void *add_reply_deferred_len(client *c);
void set_deferred_array_len(client *c, void *node, long length);
void set_deferred_map_len(client *c, void *node, long length);
void set_deferred_set_len(client *c, void *node, long length);
void set_deferred_push_len(client *c, void *node, long length);
void set_deferred_attribute_len(client *c, void *node, long length);
void set_deferred_reply_status(client *c, void *node, const char *s);
void set_deferred_reply_bulk(client *c, void *node, const char *s, size_t len);
/* Count of error replies (INFO errorstats / total_error_replies). */
void after_error_reply(client *c, const char *s, size_t len);
/* reply_push_begin lifts CLIENT REPLY OFF/SKIP while an out-of-band message
 * is written (pub/sub messages and (un)subscribe confirmations, in RESP2
 * and RESP3: Redis 7.0's CLIENT_PUSHING). It returns the silencing flags to
 * hand back to reply_push_end once the message is complete. */
uint64_t reply_push_begin(client *c);
void reply_push_end(client *c, uint64_t saved);

/* Shared objects (server.c creates them at startup). */
struct shared_objects {
  robj *crlf, *ok, *err, *emptybulk, *czero, *cone, *pong, *space, *queued,
      *null[4], *nullarray[4], *emptymap[4], *emptyset[4], *emptyarray,
      *wrongtypeerr, *nokeyerr, *syntaxerr, *sameobjecterr, *outofrangeerr,
      *noscripterr, *loadingerr, *slowevalerr, *slowscripterr, *bgsaveerr,
      *masterdownerr, *roslaveerr, *execaborterr, *noautherr, *noreplicaserr,
      *busykeyerr, *oomerr, *plus, *messagebulk, *pmessagebulk, *subscribebulk,
      *unsubscribebulk, *psubscribebulk, *punsubscribebulk, *del, *unlink,
      *rpop, *lpop, *lpush, *rpush, *rpoplpush, *lmove, *blmove, *zpopmin,
      *zpopmax, *emptyscan, *multi, *exec, *left, *right, *hset, *srem, *xgroup,
      *xclaim, *script, *replconf, *eval, *persist, *set, *pexpireat, *pexpire,
      *time, *pxat, *absttl, *retrycount, *force, *justid, *entriesread,
      *lastid, *ping, *setid, *keepttl, *load, *createconsumer, *getack,
      *special_asterick, *special_equals, *default_username, *redacted,
      *ssubscribebulk, *sunsubscribebulk, *smessagebulk, *select[10],
      *integers[OBJ_SHARED_INTEGERS], *mbulkhdr[32], /* "*<n>\r\n" */
      *bulkhdr[32],                                  /* "$<n>\r\n" */
      *maphdr[32],                                   /* "%<n>\r\n" */
      *sethdr[32];                                   /* "~<n>\r\n" */
  sds minstring, maxstring;
};
extern struct shared_objects shared;

#endif
