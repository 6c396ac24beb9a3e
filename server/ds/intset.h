/* intset.h: a sorted array of distinct integers stored with the smallest
 * width (16, 32 or 64 bit) that fits every member; the encoding of small
 * sets of integers (SADD of integers below set-max-intset-entries).
 *
 * Memory layout matches Redis (u32 encoding, u32 length, little-endian
 * members) so that RDB can store it as is; this code assumes a
 * little-endian host. Every mutator returns the (possibly moved) intset.
 * Memory is zmalloc'd. */
#ifndef REDOUBT_INTSET_H
#define REDOUBT_INTSET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INTSET_ENC_INT16 ((uint32_t)sizeof(int16_t))
#define INTSET_ENC_INT32 ((uint32_t)sizeof(int32_t))
#define INTSET_ENC_INT64 ((uint32_t)sizeof(int64_t))
/* Members an intset may hold; callers convert far earlier. */
#define INTSET_MAX_LENGTH ((uint32_t)1 << 28)

typedef struct intset {
  uint32_t encoding;
  uint32_t length;
  int8_t contents[];
} intset;

intset *intset_new(void);
void intset_free(intset *is); /* NULL is a no-op */
intset *intset_dup(const intset *is);
/* intset_add inserts value; *success (if not NULL) is 1 if it was added,
 * 0 if already present. */
intset *intset_add(intset *is, int64_t value, uint8_t *success);
/* intset_remove deletes value; *success (if not NULL) says if it was there. */
intset *intset_remove(intset *is, int64_t value, int *success);
/* intset_find returns 1 if value is a member. */
uint8_t intset_find(const intset *is, int64_t value);
/* intset_random returns a random member (the set must not be empty). */
int64_t intset_random(const intset *is);
/* intset_get stores the member at pos (0-based, ascending) in *value and
 * returns 1, or returns 0 when pos is out of range. */
uint8_t intset_get(const intset *is, uint32_t pos, int64_t *value);
uint32_t intset_len(const intset *is);
/* intset_blob_len is the size in bytes of the whole structure. */
size_t intset_blob_len(const intset *is);
int64_t intset_min(const intset *is); /* set must not be empty */
int64_t intset_max(const intset *is);
/* intset_validate checks bytes from outside (RDB, RESTORE): size matches
 * the header, valid encoding, strictly ascending members. 1 if valid. */
int intset_validate(const unsigned char *p, size_t size);

#ifdef __cplusplus
}
#endif

#endif
