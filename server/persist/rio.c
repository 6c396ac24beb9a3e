/* rio.c: buffered file and memory streams for RDB code (see rio.h). */
#include "server/persist/rio.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/base/crc64.h"
#include "server/base/zmalloc.h"

#define RIO_FILE_BUF (64 * 1024)

static void rio_init(rio *r, int kind) {
  memset(r, 0, sizeof(*r));
  r->kind = kind;
  r->fd = -1;
}

void rio_init_file_writer(rio *r, int fd, size_t autosync_bytes) {
  rio_init(r, RIO_FILE);
  r->fd = fd;
  r->writing = 1;
  r->buf_cap = RIO_FILE_BUF;
  r->buf = zmalloc(r->buf_cap);
  r->autosync_bytes = autosync_bytes;
}

void rio_init_file_reader(rio *r, int fd) {
  rio_init(r, RIO_FILE);
  r->fd = fd;
  /* A regular file knows its size: declared lengths are checked against
   * what is left (rio_remaining) before anything is allocated. */
  struct stat st;
  off_t pos = lseek(fd, 0, SEEK_CUR);
  r->in_len = SIZE_MAX;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && pos != (off_t)-1) {
    r->in_len = (size_t)(st.st_size - pos);
  }
  r->buf_cap = RIO_FILE_BUF;
  r->buf = zmalloc(r->buf_cap);
}

void rio_init_fn_reader(rio *r,
                        ssize_t (*read_fn)(void *ctx, void *buf, size_t len),
                        void *ctx, size_t limit) {
  rio_init(r, RIO_FILE);
  r->read_fn = read_fn;
  r->read_ctx = ctx;
  r->read_left = limit;
  r->in_len = limit; /* declared lengths are checked against it */
  r->buf_cap = RIO_FILE_BUF;
  r->buf = zmalloc(r->buf_cap);
}

size_t rio_buffered(const rio *r) {
  return r->kind == RIO_FILE && !r->writing ? r->buf_len - r->buf_pos : 0;
}

void rio_init_buffer_writer(rio *r) {
  rio_init(r, RIO_BUFFER);
  r->writing = 1;
  r->out = sds_empty();
}

void rio_init_buffer_reader(rio *r, const void *p, size_t len) {
  rio_init(r, RIO_BUFFER);
  r->in = p;
  r->in_len = len;
}

void rio_release(rio *r) {
  zfree(r->buf);
  r->buf = NULL;
  if (r->out) {
    sds_free(r->out);
    r->out = NULL;
  }
}

sds rio_take_buffer(rio *r) {
  sds s = r->out;
  r->out = NULL;
  return s;
}

static int rio_fail(rio *r, int err_no) {
  r->failed = 1;
  r->err_no = err_no;
  return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return 0;
    }
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

int rio_flush(rio *r) {
  if (r->kind != RIO_FILE || !r->writing || r->failed) {
    return !r->failed;
  }
  if (r->buf_len > 0) {
    if (!write_all(r->fd, r->buf, r->buf_len)) {
      return rio_fail(r, errno ? errno : EIO);
    }
    r->since_sync += r->buf_len;
    r->buf_len = 0;
  }
  if (r->autosync_bytes && r->since_sync >= r->autosync_bytes) {
    if (fdatasync(r->fd) == -1) {
      return rio_fail(r, errno);
    }
    r->since_sync = 0;
  }
  return 1;
}

int rio_write(rio *r, const void *p, size_t len) {
  if (r->failed) {
    return 0;
  }
  if (r->update_cksum) {
    r->cksum = crc64(r->cksum, p, len);
  }
  r->processed += len;
  if (r->kind == RIO_BUFFER) {
    r->out = sds_cat_len(r->out, p, len);
    return 1;
  }
  const unsigned char *src = p;
  if (len >= r->buf_cap) {
    if (!rio_flush(r)) {
      return 0;
    }
    if (!write_all(r->fd, src, len)) {
      return rio_fail(r, errno ? errno : EIO);
    }
    r->since_sync += len;
    return rio_flush(r);
  }
  if (r->buf_len + len > r->buf_cap && !rio_flush(r)) {
    return 0;
  }
  memcpy(r->buf + r->buf_len, src, len);
  r->buf_len += len;
  return 1;
}

/* Folds the consumed, not yet checksummed bytes of a file reader's buffer
 * into the CRC. */
static void rio_cksum_sync(rio *r) {
  if (r->kind == RIO_FILE && !r->writing) {
    if (r->update_cksum && r->buf_pos > r->ck_from) {
      r->cksum = crc64(r->cksum, r->buf + r->ck_from, r->buf_pos - r->ck_from);
    }
    r->ck_from = r->buf_pos;
  }
}

void rio_set_update_cksum(rio *r, int on) {
  rio_cksum_sync(r);
  r->update_cksum = on;
}

uint64_t rio_cksum(rio *r) {
  rio_cksum_sync(r);
  return r->cksum;
}

/* Fills the read buffer; 0 at EOF or on error. */
static int rio_fill(rio *r) {
  for (;;) {
    ssize_t n;
    if (r->read_fn != NULL) {
      size_t want = r->buf_cap < r->read_left ? r->buf_cap : r->read_left;
      if (want == 0) {
        return rio_fail(r, 0);
      }
      n = r->read_fn(r->read_ctx, r->buf, want);
      if (n > 0) {
        r->read_left -= (size_t)n;
      }
    } else {
      n = read(r->fd, r->buf, r->buf_cap);
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return rio_fail(r, errno);
    }
    if (n == 0) {
      return rio_fail(r, 0);
    }
    r->buf_len = (size_t)n;
    r->buf_pos = 0;
    r->ck_from = 0;
    return 1;
  }
}

int rio_read(rio *r, void *p, size_t len) {
  if (r->failed) {
    return 0;
  }
  unsigned char *dst = p;
  if (r->kind == RIO_BUFFER) {
    if (len > r->in_len - r->processed) {
      return rio_fail(r, 0);
    }
    memcpy(dst, r->in + r->processed, len);
    if (r->update_cksum) {
      r->cksum = crc64(r->cksum, dst, len);
    }
  } else {
    size_t done = 0;
    while (done < len) {
      if (r->buf_pos == r->buf_len) {
        rio_cksum_sync(r); /* the whole buffer, once */
        if (!rio_fill(r)) {
          return 0;
        }
      }
      size_t n = r->buf_len - r->buf_pos;
      if (n > len - done) {
        n = len - done;
      }
      memcpy(dst + done, r->buf + r->buf_pos, n);
      r->buf_pos += n;
      done += n;
    }
    if (!r->update_cksum) {
      r->ck_from = r->buf_pos;
    }
  }
  r->processed += len;
  return 1;
}

size_t rio_remaining(const rio *r) {
  if (r->in_len == SIZE_MAX) {
    return SIZE_MAX;
  }
  return r->processed <= r->in_len ? r->in_len - r->processed : 0;
}
