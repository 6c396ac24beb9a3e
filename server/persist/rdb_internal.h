/* rdb_internal.h: what rdb.c (writing, DUMP) and rdb_load.c (reading)
 * share: the format's length and string encodings, and the error helper. */
#ifndef REDOUBT_PERSIST_RDB_INTERNAL_H
#define REDOUBT_PERSIST_RDB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "server/persist/rdb.h"

/* Length encodings (the two top bits of the first byte). */
#define RDB_6BITLEN 0
#define RDB_14BITLEN 1
#define RDB_32BITLEN 0x80
#define RDB_64BITLEN 0x81
#define RDB_ENCVAL 3
/* Special string encodings (RDB_ENCVAL). */
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* Quicklist 2 node containers: QUICKLIST_NODE_CONTAINER_* (quicklist.h). */

/* LZF cannot expand more than this (a 3-byte back-reference yields 264
 * bytes): a declared length above it is a lie, refused before allocating. */
#define LZF_MAX_RATIO 100

/* rdb_set_err formats into |err| unless it already holds a message (the
 * first, innermost error is kept). */
void rdb_set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the value readers and writers other files share (streams) ---- */

/* rdb_loader: the reading state rdb_load.c passes from reader to reader;
 * the first failure's message (with the offset) goes to err. */
typedef struct rdb_loader {
  rio *r;
  char *err;
  size_t err_len;
} rdb_loader;
/* Each returns 1 on success, 0 (message set) on failure. */
int rdb_loader_len(rdb_loader *l, uint64_t *out_len);
int rdb_loader_bytes(rdb_loader *l, void *p, size_t n);
int rdb_loader_le64(rdb_loader *l, uint64_t *out_v);
/* rdb_loader_string: any string encoding, as a new sds (NULL on failure). */
sds rdb_loader_string(rdb_loader *l);
/* rdb_loader_blob: a string into a zmalloc'd buffer (NULL on failure). */
unsigned char *rdb_loader_blob(rdb_loader *l, size_t *out_len);
/* rdb_loader_fail records |msg| (with the offset) unless a message is set. */
void rdb_loader_fail(rdb_loader *l, const char *msg);
int rdb_write_len(rio *r, uint64_t len);
/* rdb_write_raw_string: a string as Redis writes it (integer or LZF
 * encoded when that applies). */
int rdb_write_raw_string(rio *r, const void *p, size_t len);
int rdb_write_le64(rio *r, uint64_t v);

/* Streams (rdb_stream.c): the body of an RDB_TYPE_STREAM_LISTPACKS_2 value,
 * reading types 15, 19 and 21 (validated in depth), and the commands an
 * AOF rewrite writes for one. */
int rdb_save_stream(rio *r, robj *o);
robj *rdb_load_stream(rdb_loader *l, int type);
int aof_rewrite_stream(rio *r, robj *key, robj *o);

#endif
