/* rdb_internal.h: what rdb.c (writing, DUMP) and rdb_load.c (reading)
 * share: the format's length and string encodings, and the error helper. */
#ifndef REDOUBT_PERSIST_RDB_INTERNAL_H
#define REDOUBT_PERSIST_RDB_INTERNAL_H

#include <stddef.h>

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

/* Quicklist 2 node containers. */
#define QUICKLIST_NODE_CONTAINER_PLAIN 1
#define QUICKLIST_NODE_CONTAINER_PACKED 2

/* LZF cannot expand more than this (a 3-byte back-reference yields 264
 * bytes): a declared length above it is a lie, refused before allocating. */
#define LZF_MAX_RATIO 100

/* rdb_set_err formats into |err| unless it already holds a message (the
 * first, innermost error is kept). */
void rdb_set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
