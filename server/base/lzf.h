/* lzf.h: the LZF compression format of liblzf (server/base), as Redis stores
 * compressed strings in RDB files and DUMP payloads.
 *
 * The stream is a sequence of items, each starting with a control byte c:
 *
 *   c < 32   literal run: the next c + 1 bytes are copied as they are
 *   c >= 32  back-reference: len = c >> 5 (7 means: add the next byte),
 *            then one more byte o; copy len + 2 bytes from
 *            ((c & 0x1f) << 8) + o + 1 bytes back in the output, one byte at
 *            a time (the source may overlap what is being written)
 *
 * Our own code: streams from liblzf (Redis) decompress here and ours
 * decompress there; the compressed bytes may differ, not the data. */
#ifndef REDOUBT_LZF_H
#define REDOUBT_LZF_H

#include <stddef.h>

/* lzf_compress_buf compresses |in_len| bytes at |in| into |out| (|out_cap|
 * bytes) and returns the compressed length. It returns 0 when the result
 * would not fit in |out_cap|, when |in_len| is 0 and when |in_len| is 4 GiB
 * or more: the caller then stores the data uncompressed (RDB writers pass
 * out_cap = in_len - 4 so that compression must save something). An out_cap
 * of in_len + in_len / 32 + 1 always suffices. Any byte of out[0, out_cap)
 * may be written, even when 0 is returned. Thread-safe; its hash table takes
 * 256 KiB of stack (small inputs touch only part of it). */
size_t lzf_compress_buf(const void *in, size_t in_len, void *out,
                        size_t out_cap);

/* lzf_decompress_buf decompresses the LZF stream of |in_len| bytes at |in|
 * into |out| (|out_cap| bytes) and returns the decompressed length. It
 * returns 0 on any error: |in_len| of 0, a truncated item, a back-reference
 * to before the start of the output, or output longer than |out_cap|. Safe
 * on untrusted bytes (RDB files, RESTORE payloads): it never reads outside
 * in[0, in_len) nor writes outside out[0, out_cap). On error, out may hold a
 * partial result. */
size_t lzf_decompress_buf(const void *in, size_t in_len, void *out,
                          size_t out_cap);

#endif
