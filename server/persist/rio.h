/* rio.h: the byte streams RDB code reads and writes: a file descriptor
 * (buffered, with optional fsync every N bytes) or a memory buffer (DUMP
 * payloads, RESTORE, replication later). Each stream counts the bytes it
 * moved (the offset error messages print) and can keep a running CRC64
 * of them (the RDB trailer, the DUMP footer). */
#ifndef REDOUBT_PERSIST_RIO_H
#define REDOUBT_PERSIST_RIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/ds/sds.h"

#define RIO_FILE 1
#define RIO_BUFFER 2

typedef struct rio {
  int kind;
  int update_cksum; /* 1: cksum follows every byte moved */
  uint64_t cksum;
  size_t processed; /* bytes read or written so far */
  int failed;       /* a read hit the end or an I/O error; a write failed */
  int err_no;       /* errno of the failure (0: end of input) */
  /* RIO_FILE */
  int fd;
  unsigned char *buf;
  size_t buf_len; /* write: bytes pending; read: bytes available */
  size_t buf_pos; /* read: next byte */
  size_t ck_from; /* read: first consumed byte not yet in cksum */
  size_t buf_cap;
  int writing;
  size_t autosync_bytes; /* 0: never fsync while writing */
  size_t since_sync;
  /* RIO_FILE through a function (rio_init_fn_reader) */
  ssize_t (*read_fn)(void *ctx, void *buf, size_t len);
  void *read_ctx;
  size_t read_left; /* bytes the function may still be asked for */
  /* RIO_BUFFER */
  sds out; /* write target */
  const unsigned char *in;
  size_t in_len;
} rio;

/* rio_init_file_writer / _reader wrap |fd| (not owned: the caller closes
 * it after rio_release). */
void rio_init_file_writer(rio *r, int fd, size_t autosync_bytes);
void rio_init_file_reader(rio *r, int fd);
/* rio_init_fn_reader reads through |read_fn| (read(2)'s convention: bytes
 * read, 0 at the end, -1 with errno), buffered, never asking for more than
 * |limit| bytes in all (SIZE_MAX: no limit): a replica loading the RDB
 * straight from its master's connection. */
void rio_init_fn_reader(rio *r,
                        ssize_t (*read_fn)(void *ctx, void *buf, size_t len),
                        void *ctx, size_t limit);
/* rio_buffered: bytes a reader took from its source but has not handed out
 * (what came after the end of an RDB). */
size_t rio_buffered(const rio *r);
/* rio_init_buffer_writer appends to a new sds (rio_take_buffer). */
void rio_init_buffer_writer(rio *r);
/* rio_init_buffer_reader reads |len| bytes at |p| (not copied). */
void rio_init_buffer_reader(rio *r, const void *p, size_t len);
/* rio_release frees the stream's buffers (not the fd). */
void rio_release(rio *r);
/* rio_take_buffer returns the written sds (the caller owns it). */
sds rio_take_buffer(rio *r);

/* rio_write: 1 on success, 0 on failure (r->failed, r->err_no set). */
int rio_write(rio *r, const void *p, size_t len);
/* rio_read: 1 with |len| bytes in |p|, 0 at the end of input or on an
 * error (r->err_no 0 means the input ended). */
int rio_read(rio *r, void *p, size_t len);
/* rio_set_update_cksum turns the running CRC64 on or off from here on;
 * rio_cksum returns it. File readers fold whole consumed stretches into
 * the CRC at once (not byte by byte): use these, not the fields. */
void rio_set_update_cksum(rio *r, int on);
uint64_t rio_cksum(rio *r);
/* rio_flush writes pending bytes out (no fsync); 1 on success. */
int rio_flush(rio *r);
/* rio_tell is the byte offset of the stream. */
static inline size_t rio_tell(const rio *r) { return r->processed; }
/* rio_remaining: bytes left in a buffer reader (files: SIZE_MAX). */
size_t rio_remaining(const rio *r);

#endif
