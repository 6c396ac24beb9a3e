/* crc64.h: Redis's CRC-64 (server/base), the checksum at the end of RDB files
 * and DUMP payloads.
 *
 * The "Jones" polynomial 0xad93d23594c935a9, input and output reflected, no
 * final xor; the caller passes the initial value (0 for a new checksum). Same
 * results as Redis's crc64(), so RDB files and DUMP payloads are checked the
 * same way on both sides. */
#ifndef REDOUBT_CRC64_H
#define REDOUBT_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* crc64 returns the checksum of |len| bytes at |p| continued from |crc|:
 * start with 0, and crc64(crc64(0, a, n), b, m) == crc64(0, a || b, n + m).
 * Thread-safe; |p| may be NULL when |len| is 0. */
uint64_t crc64(uint64_t crc, const void *p, size_t len);

#endif
