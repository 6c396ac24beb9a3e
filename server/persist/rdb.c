/* rdb.c: writing Redis 7.0's RDB format (see rdb.h): values, whole files
 * (atomically replaced) and DUMP payloads; reading is in rdb_load.c. The
 * format facts (length encodings, type bytes, opcodes, what Redis 7.0
 * writes for each encoding) come from Redis's rdb.h/rdb.c; the code is
 * ours. */
#include "server/persist/rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/base/crc64.h"
#include "server/base/lzf.h"
#include "server/base/zmalloc.h"
#include "server/ds/intset.h"
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "server/ds/zskiplist.h"
#include "server/persist/legacy.h"
#include "server/persist/rdb_internal.h"
#include "server/types/t_hash.h"
#include "server/types/t_list.h"
#include "server/types/t_set.h"
#include "server/types/t_zset.h"

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */
void rdb_set_err(char *err, size_t err_len, const char *fmt, ...) {
  if (err == NULL || err_len == 0 || err[0] != '\0') {
    return; /* keep the first (innermost) message */
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Low-level writing                                                    */
/* ------------------------------------------------------------------ */
static int save_byte(rio *r, unsigned char b) { return rio_write(r, &b, 1); }

static int save_len(rio *r, uint64_t len) {
  unsigned char buf[9];
  if (len < (1 << 6)) {
    buf[0] = (unsigned char)((len & 0xFF) | (RDB_6BITLEN << 6));
    return rio_write(r, buf, 1);
  }
  if (len < (1 << 14)) {
    buf[0] = (unsigned char)(((len >> 8) & 0xFF) | (RDB_14BITLEN << 6));
    buf[1] = (unsigned char)(len & 0xFF);
    return rio_write(r, buf, 2);
  }
  if (len <= UINT32_MAX) {
    buf[0] = RDB_32BITLEN;
    for (int i = 0; i < 4; i++) {
      buf[1 + i] = (unsigned char)(len >> (24 - 8 * i));
    }
    return rio_write(r, buf, 5);
  }
  buf[0] = RDB_64BITLEN;
  for (int i = 0; i < 8; i++) {
    buf[1 + i] = (unsigned char)(len >> (56 - 8 * i));
  }
  return rio_write(r, buf, 9);
}

static int save_le64(rio *r, uint64_t v) {
  unsigned char buf[8];
  for (int i = 0; i < 8; i++) {
    buf[i] = (unsigned char)(v >> (8 * i));
  }
  return rio_write(r, buf, 8);
}

/* The integer encodings Redis uses for strings that are canonical decimal
 * integers within 32 bits. Returns the bytes written into enc, or 0. */
static int encode_integer(long long v, unsigned char enc[5]) {
  if (v >= -(1 << 7) && v <= (1 << 7) - 1) {
    enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
    enc[1] = (unsigned char)(v & 0xFF);
    return 2;
  }
  if (v >= -(1 << 15) && v <= (1 << 15) - 1) {
    enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
    enc[1] = (unsigned char)(v & 0xFF);
    enc[2] = (unsigned char)((v >> 8) & 0xFF);
    return 3;
  }
  if (v >= -((long long)1 << 31) && v <= ((long long)1 << 31) - 1) {
    enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
    for (int i = 0; i < 4; i++) {
      enc[1 + i] = (unsigned char)((v >> (8 * i)) & 0xFF);
    }
    return 5;
  }
  return 0;
}

static int save_lzf_string(rio *r, const unsigned char *s, size_t len,
                           int *done) {
  *done = 0;
  size_t cap = len - 4;
  unsigned char *out = zmalloc(cap + 1);
  size_t clen = lzf_compress_buf(s, len, out, cap);
  if (clen == 0) {
    zfree(out);
    return 1;
  }
  int ok = save_byte(r, (RDB_ENCVAL << 6) | RDB_ENC_LZF) && save_len(r, clen) &&
           save_len(r, len) && rio_write(r, out, clen);
  zfree(out);
  *done = 1;
  return ok;
}

/* save_raw_string: as Redis's rdbSaveRawString: an integer encoding for
 * short canonical integers, LZF for longer strings when rdbcompression is
 * on and it pays, the plain bytes otherwise. */
static int save_raw_string(rio *r, const void *p, size_t len) {
  const unsigned char *s = p;
  if (len <= 11 && len > 0) {
    long long v;
    unsigned char enc[5];
    char buf[32];
    if (string2ll((const char *)s, len, &v)) {
      int n = ll2string(buf, sizeof(buf), v);
      int elen;
      if ((size_t)n == len && memcmp(buf, s, len) == 0 &&
          (elen = encode_integer(v, enc)) > 0) {
        return rio_write(r, enc, (size_t)elen);
      }
    }
  }
  if (server.rdb_compression && len > 20) {
    int done;
    if (!save_lzf_string(r, s, len, &done)) {
      return 0;
    }
    if (done) {
      return 1;
    }
  }
  return save_len(r, len) && (len == 0 || rio_write(r, s, len));
}

static int save_ll_as_string(rio *r, long long v) {
  unsigned char enc[5];
  int elen = encode_integer(v, enc);
  if (elen > 0) {
    return rio_write(r, enc, (size_t)elen);
  }
  char buf[32];
  int n = ll2string(buf, sizeof(buf), v);
  return save_len(r, (uint64_t)n) && rio_write(r, buf, (size_t)n);
}

static int save_string_object(rio *r, robj *o) {
  if (o->encoding == OBJ_ENCODING_INT) {
    return save_ll_as_string(r, (long)o->ptr);
  }
  return save_raw_string(r, o->ptr, sds_len(o->ptr));
}

static int save_binary_double(rio *r, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof(bits));
  return save_le64(r, bits);
}

static int save_aux(rio *r, const char *key, const char *val, size_t vlen) {
  return save_byte(r, RDB_OPCODE_AUX) && save_raw_string(r, key, strlen(key)) &&
         save_raw_string(r, val, vlen);
}

static int save_aux_ll(rio *r, const char *key, long long v) {
  char buf[32];
  int n = ll2string(buf, sizeof(buf), v);
  return save_aux(r, key, buf, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Writing values                                                       */
/* ------------------------------------------------------------------ */
int rdb_save_object_type(rio *r, robj *o) {
  switch (o->type) {
    case OBJ_STRING:
      return save_byte(r, RDB_TYPE_STRING);
    case OBJ_LIST:
      return save_byte(r, RDB_TYPE_LIST_QUICKLIST_2);
    case OBJ_SET:
      return save_byte(r, o->encoding == OBJ_ENCODING_INTSET
                              ? RDB_TYPE_SET_INTSET
                              : RDB_TYPE_SET);
    case OBJ_ZSET:
      return save_byte(r, o->encoding == OBJ_ENCODING_LISTPACK
                              ? RDB_TYPE_ZSET_LISTPACK
                              : RDB_TYPE_ZSET_2);
    case OBJ_HASH:
      return save_byte(r, o->encoding == OBJ_ENCODING_LISTPACK
                              ? RDB_TYPE_HASH_LISTPACK
                              : RDB_TYPE_HASH);
    case OBJ_STREAM:
      return save_byte(r, RDB_TYPE_STREAM_LISTPACKS_2); /* as Redis 7.0 */
    default:
      server_panic("rdb: unknown object type %d", o->type);
  }
  return 0;
}

typedef struct set_save_ctx {
  rio *r;
  int ok;
} set_save_ctx;

static void save_set_member(void *pd, const char *ele, size_t len) {
  set_save_ctx *ctx = pd;
  if (ctx->ok) {
    ctx->ok = save_raw_string(ctx->r, ele, len);
  }
}

static int save_hash_pair(void *pd, const char *f, size_t flen, const char *v,
                          size_t vlen) {
  set_save_ctx *ctx = pd;
  if (ctx->ok) {
    ctx->ok =
        save_raw_string(ctx->r, f, flen) && save_raw_string(ctx->r, v, vlen);
  }
  return ctx->ok; /* 0 stops hash_type_foreach */
}

int rdb_save_object(rio *r, robj *o) {
  switch (o->type) {
    case OBJ_STRING:
      return save_string_object(r, o);
    case OBJ_LIST: {
      quicklist *ql = o->ptr;
      if (!save_len(r, ql->len)) {
        return 0;
      }
      /* Per node its container (PLAIN or PACKED, as Redis 7.0 writes
       * RDB_TYPE_LIST_QUICKLIST_2), then the element or the listpack. */
      for (quicklist_node *n = ql->head; n; n = n->next) {
        if (!save_len(r, (uint64_t)n->container) ||
            !save_raw_string(r, n->entry, quicklist_node_bytes(n))) {
          return 0;
        }
      }
      return 1;
    }
    case OBJ_SET: {
      if (o->encoding == OBJ_ENCODING_INTSET) {
        return save_raw_string(r, o->ptr, intset_blob_len(o->ptr));
      }
      set_save_ctx ctx = {r, 1};
      if (!save_len(r, set_type_size(o))) {
        return 0;
      }
      set_type_foreach(o, save_set_member, &ctx);
      return ctx.ok;
    }
    case OBJ_ZSET: {
      if (o->encoding == OBJ_ENCODING_LISTPACK) {
        return save_raw_string(r, o->ptr, lp_bytes(o->ptr));
      }
      zset *zs = o->ptr;
      if (!save_len(r, zs->zsl->length)) {
        return 0;
      }
      /* From the tail, as Redis: loading then inserts at the head. */
      for (zskiplist_node *n = zs->zsl->tail; n; n = n->backward) {
        if (!save_raw_string(r, n->ele, sds_len(n->ele)) ||
            !save_binary_double(r, n->score)) {
          return 0;
        }
      }
      return 1;
    }
    case OBJ_HASH: {
      if (o->encoding == OBJ_ENCODING_LISTPACK) {
        return save_raw_string(r, o->ptr, lp_bytes(o->ptr));
      }
      set_save_ctx ctx = {r, 1};
      if (!save_len(r, hash_type_length(o))) {
        return 0;
      }
      hash_type_foreach(o, save_hash_pair, &ctx);
      return ctx.ok;
    }
    case OBJ_STREAM:
      return rdb_save_stream(r, o);
    default:
      server_panic("rdb: unknown object type %d", o->type);
  }
  return 0;
}

/* For the other value writers (rdb_internal.h). */
int rdb_write_len(rio *r, uint64_t len) { return save_len(r, len); }
int rdb_write_raw_string(rio *r, const void *p, size_t len) {
  return save_raw_string(r, p, len);
}
int rdb_write_le64(rio *r, uint64_t v) { return save_le64(r, v); }

/* One key with its expiry and LRU/LFU data, as rdbSaveKeyValuePair. */
static int save_key_value(rio *r, sds key, robj *val, long long expire) {
  if (expire != -1 &&
      (!save_byte(r, RDB_OPCODE_EXPIRETIME_MS) || !save_le64(r, expire))) {
    return 0;
  }
  if (server.maxmemory_policy & MAXMEMORY_FLAG_LRU) {
    unsigned long long idle = estimate_object_idle_time(val) / 1000;
    if (!save_byte(r, RDB_OPCODE_IDLE) || !save_len(r, idle)) {
      return 0;
    }
  } else if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
    unsigned char freq = (unsigned char)lfu_decr_and_return(val);
    if (!save_byte(r, RDB_OPCODE_FREQ) || !save_byte(r, freq)) {
      return 0;
    }
  }
  return rdb_save_object_type(r, val) &&
         save_raw_string(r, key, sds_len(key)) && rdb_save_object(r, val);
}

/* ------------------------------------------------------------------ */
/* Function libraries                                                   */
/* ------------------------------------------------------------------ */
static const rdb_functions_ops *functions_ops;

void rdb_set_functions_ops(const rdb_functions_ops *ops) {
  functions_ops = ops;
}

const rdb_functions_ops *rdb_functions(void) { return functions_ops; }

int rdb_save_function(rio *r, const char *code, size_t len) {
  return save_byte(r, RDB_OPCODE_FUNCTION2) && save_raw_string(r, code, len);
}

static int save_function_cb(void *ctx, const char *code, size_t len) {
  return rdb_save_function(ctx, code, len);
}

int rdb_save_functions(rio *r) {
  if (functions_ops == NULL) {
    return 1;
  }
  return functions_ops->for_each(save_function_cb, r);
}

/* A library as the command that loads it (FUNCTION LOAD <code>). */
static int save_function_command(void *ctx, const char *code, size_t len) {
  sds s = sds_new("*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n");
  s = sds_cat_printf(s, "$%zu\r\n", len);
  s = sds_cat_len(s, code, len);
  s = sds_cat_len(s, "\r\n", 2);
  int ok = rio_write(ctx, s, sds_len(s));
  sds_free(s);
  return ok;
}

int rdb_save_functions_as_commands(rio *r) {
  if (functions_ops == NULL) {
    return 1;
  }
  return functions_ops->for_each(save_function_command, r);
}

int rdb_save_rio(rio *r, int rdbflags) {
  return rdb_save_rio_info(r, rdbflags, NULL);
}

int rdb_save_rio_info(rio *r, int rdbflags, const rdb_save_info *rsi) {
  char magic[10];
  snprintf(magic, sizeof(magic), "REDIS%04d", RDB_VERSION);
  r->update_cksum = server.rdb_checksum;
  r->cksum = 0;
  zset_compact_opened(); /* every listpack zset in listpack form */
  if (!rio_write(r, magic, 9) ||
      !save_aux(r, "redis-ver", REDOUBT_VERSION, strlen(REDOUBT_VERSION)) ||
      !save_aux_ll(r, "redis-bits", sizeof(void *) == 8 ? 64 : 32) ||
      !save_aux_ll(r, "ctime", (long long)time(NULL)) ||
      !save_aux_ll(r, "used-mem", (long long)used_memory()) ||
      (rsi && (!save_aux_ll(r, "repl-stream-db", rsi->repl_stream_db) ||
               !save_aux(r, "repl-id", rsi->repl_id, strlen(rsi->repl_id)) ||
               !save_aux_ll(r, "repl-offset", rsi->repl_offset))) ||
      !save_aux_ll(r, "aof-base", (rdbflags & RDBFLAGS_AOF_PREAMBLE) != 0)) {
    return 0;
  }
  /* The libraries come before the data, as Redis writes them. */
  if (!rdb_save_functions(r)) {
    return 0;
  }
  for (int j = 0; j < server.dbnum; j++) {
    redis_db *db = &server.db[j];
    if (dict_size(db->dict) == 0) {
      continue;
    }
    if (!save_byte(r, RDB_OPCODE_SELECTDB) || !save_len(r, (uint64_t)j) ||
        !save_byte(r, RDB_OPCODE_RESIZEDB) ||
        !save_len(r, dict_size(db->dict)) ||
        !save_len(r, dict_size(db->expires))) {
      return 0;
    }
    dict_iterator it;
    dict_init_safe_iterator(&it, db->dict);
    dict_entry *de;
    int ok = 1;
    while (ok && (de = dict_next(&it)) != NULL) {
      sds key = dict_get_key(de);
      robj *val = dict_get_val(de);
      long long expire = -1;
      dict_entry *ee =
          dict_size(db->expires) ? dict_find(db->expires, key) : NULL;
      if (ee) {
        expire = dict_get_signed_integer_val(ee);
      }
      ok = save_key_value(r, key, val, expire);
      if (ok && server.rdb_key_save_delay) {
        usleep((useconds_t)server.rdb_key_save_delay);
      }
    }
    dict_reset_iterator(&it);
    if (!ok) {
      return 0;
    }
  }
  if (!save_byte(r, RDB_OPCODE_EOF)) {
    return 0;
  }
  uint64_t cksum = r->update_cksum ? r->cksum : 0;
  r->update_cksum = 0;
  return save_le64(r, cksum) && rio_flush(r);
}

static int fsync_dir_of(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    snprintf(dir, sizeof(dir), ".");
  } else if (slash == path) {
    snprintf(dir, sizeof(dir), "/");
  } else {
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) {
    return -1;
  }
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

static int (*save_info_provider)(rdb_save_info *rsi);

void rdb_set_save_info_provider(int (*fn)(rdb_save_info *rsi)) {
  save_info_provider = fn;
}

int rdb_save_file(const char *path, char *err, size_t err_len) {
  char tmp[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (slash) {
    snprintf(tmp, sizeof(tmp), "%.*stemp-%d.rdb", (int)(slash - path + 1), path,
             (int)getpid());
  } else {
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)getpid());
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1) {
    char cwd[PATH_MAX];
    rdb_set_err(
        err, err_len,
        "Failed opening the temp RDB file %s (in server root dir %s) for "
        "saving: %s",
        tmp, getcwd(cwd, sizeof(cwd)) ? cwd : "unknown", strerror(errno));
    return C_ERR;
  }
  rio r;
  rio_init_file_writer(&r, fd,
                       server.rdb_save_incremental_fsync ? 4 * 1024 * 1024 : 0);
  rdb_save_info rsi;
  int ok = save_info_provider && save_info_provider(&rsi)
               ? rdb_save_rio_info(&r, RDBFLAGS_NONE, &rsi)
               : rdb_save_rio(&r, RDBFLAGS_NONE);
  int saved = r.err_no;
  rio_release(&r);
  if (!ok) {
    rdb_set_err(err, err_len, "Write error saving DB on disk: %s",
                strerror(saved ? saved : EIO));
    close(fd);
    unlink(tmp);
    return C_ERR;
  }
  if (fsync(fd) == -1) {
    rdb_set_err(err, err_len, "Write error saving DB on disk (fsync): %s",
                strerror(errno));
    close(fd);
    unlink(tmp);
    return C_ERR;
  }
  if (close(fd) == -1) {
    rdb_set_err(err, err_len, "Write error saving DB on disk (close): %s",
                strerror(errno));
    unlink(tmp);
    return C_ERR;
  }
  if (rename(tmp, path) == -1) {
    char cwd[PATH_MAX];
    rdb_set_err(err, err_len,
                "Error moving temp DB file %s on the final destination %s (in "
                "server root dir %s): %s",
                tmp, path, getcwd(cwd, sizeof(cwd)) ? cwd : "unknown",
                strerror(errno));
    unlink(tmp);
    return C_ERR;
  }
  if (fsync_dir_of(path) == -1) {
    rdb_set_err(err, err_len, "Failed to fsync the directory of %s: %s", path,
                strerror(errno));
    return C_ERR;
  }
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* DUMP payloads                                                        */
/* ------------------------------------------------------------------ */
sds rdb_dump_footer(sds payload) {
  unsigned char footer[8];
  footer[0] = RDB_VERSION & 0xFF;
  footer[1] = (RDB_VERSION >> 8) & 0xFF;
  payload = sds_cat_len(payload, footer, 2);
  uint64_t crc = crc64(0, payload, sds_len(payload));
  for (int i = 0; i < 8; i++) {
    footer[i] = (unsigned char)(crc >> (8 * i));
  }
  return sds_cat_len(payload, footer, 8);
}

sds create_dump_payload(robj *o) {
  rio r;
  rio_init_buffer_writer(&r);
  zset_compact_opened();
  rdb_save_object_type(&r, o);
  rdb_save_object(&r, o);
  sds payload = rio_take_buffer(&r);
  rio_release(&r);
  return rdb_dump_footer(payload);
}

/* DEBUG SET-SKIP-CHECKSUM-VALIDATION: off unless a test turns it on. */
static int rdb_skip_checksum;

void rdb_set_skip_checksum_validation(int skip) { rdb_skip_checksum = skip; }

int rdb_skip_checksum_validation(void) { return rdb_skip_checksum; }

int verify_dump_payload(const unsigned char *p, size_t len) {
  if (len < 10) {
    return C_ERR;
  }
  const unsigned char *footer = p + len - 10;
  unsigned version = (unsigned)footer[0] | ((unsigned)footer[1] << 8);
  if (version > RDB_VERSION) {
    return C_ERR;
  }
  if (rdb_skip_checksum) {
    return C_OK;
  }
  uint64_t crc = crc64(0, p, len - 8);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; i--) {
    stored = (stored << 8) | footer[2 + i];
  }
  return crc == stored ? C_OK : C_ERR;
}
