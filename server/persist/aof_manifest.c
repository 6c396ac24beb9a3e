/* aof_manifest.c: the manifest of the multi-part AOF (see aof.h): the
 * list of base, incremental and history files, parsed (outside bytes:
 * fuzzed by aof_manifest_fuzz), edited and written back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server/base/zmalloc.h"
#include "server/persist/aof.h"

/* ------------------------------------------------------------------ */
/* The manifest                                                         */
/* ------------------------------------------------------------------ */
void aof_manifest_free(aof_manifest *m) {
  if (m == NULL) {
    return;
  }
  for (int i = 0; i < m->count; i++) {
    sds_free(m->files[i].name);
  }
  zfree(m->files);
  zfree(m);
}

aof_manifest *aof_manifest_new(void) { return zcalloc(sizeof(aof_manifest)); }

void aof_manifest_add(aof_manifest *m, const char *name, long long seq,
                      char type) {
  if (m->count == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 8;
    m->files = zrealloc(m->files, sizeof(*m->files) * (size_t)m->cap);
  }
  aof_file *f = &m->files[m->count++];
  f->name = sds_new(name);
  f->seq = seq;
  f->type = type;
  if (type == AOF_FILE_BASE && seq > m->base_seq) {
    m->base_seq = seq;
  }
  if (type == AOF_FILE_INCR && seq > m->incr_seq) {
    m->incr_seq = seq;
  }
}

aof_manifest *aof_manifest_dup(const aof_manifest *m) {
  aof_manifest *d = aof_manifest_new();
  for (int i = 0; i < m->count; i++) {
    aof_manifest_add(d, m->files[i].name, m->files[i].seq, m->files[i].type);
  }
  d->base_seq = m->base_seq;
  d->incr_seq = m->incr_seq;
  return d;
}

const aof_file *aof_manifest_base(const aof_manifest *m) {
  for (int i = 0; i < m->count; i++) {
    if (m->files[i].type == AOF_FILE_BASE) {
      return &m->files[i];
    }
  }
  return NULL;
}

int aof_manifest_incr_count(const aof_manifest *m) {
  int n = 0;
  for (int i = 0; i < m->count; i++) {
    n += m->files[i].type == AOF_FILE_INCR;
  }
  return n;
}

const aof_file *aof_manifest_last_incr(const aof_manifest *m) {
  const aof_file *last = NULL;
  for (int i = 0; i < m->count; i++) {
    if (m->files[i].type == AOF_FILE_INCR) {
      last = &m->files[i];
    }
  }
  return last;
}

static int name_is_safe(const char *name) {
  return name[0] != '\0' && strchr(name, '/') == NULL &&
         strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

aof_manifest *aof_manifest_parse(const char *text, size_t len,
                                 const char *source, char *err,
                                 size_t err_len) {
  aof_manifest *m = aof_manifest_new();
  int line = 0;
  size_t pos = 0;
  int bases = 0;
  while (pos < len) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - start) : len - pos;
    pos += n + (nl ? 1 : 0);
    line++;
    if (nl == NULL) {
      snprintf(err, err_len,
               "%s: line %d: the AOF manifest file is truncated (no newline)",
               source, line);
      goto fail;
    }
    if (n > 0 && start[n - 1] == '\r') {
      n--;
    }
    if (n == 0 || start[0] == '#') {
      continue;
    }
    if (n > 1024) {
      snprintf(err, err_len, "%s: line %d: line too long", source, line);
      goto fail;
    }
    char *buf = zmalloc(n + 1);
    memcpy(buf, start, n);
    buf[n] = '\0';
    int argc = 0;
    sds *argv = sds_split_args(buf, &argc);
    zfree(buf);
    if (argv == NULL) {
      snprintf(err, err_len, "%s: line %d: invalid quoting", source, line);
      goto fail;
    }
    const char *name = NULL;
    long long seq = -1;
    char type = 0;
    int bad = argc < 6 || argc % 2 != 0;
    for (int j = 0; !bad && j + 1 < argc; j += 2) {
      if (!strcmp(argv[j], "file")) {
        name = argv[j + 1];
      } else if (!strcmp(argv[j], "seq")) {
        bad = !string2ll(argv[j + 1], sds_len(argv[j + 1]), &seq) || seq < 1;
      } else if (!strcmp(argv[j], "type")) {
        type = sds_len(argv[j + 1]) == 1 ? argv[j + 1][0] : 0;
      }
    }
    if (bad || name == NULL || seq < 1 ||
        (type != AOF_FILE_BASE && type != AOF_FILE_INCR &&
         type != AOF_FILE_HISTORY)) {
      sds_free_split(argv, argc);
      snprintf(err, err_len,
               "%s: line %d: invalid AOF manifest line (expected 'file <name> "
               "seq <n> type <b|i|h>')",
               source, line);
      goto fail;
    }
    if (!name_is_safe(name)) {
      /* |name| points into argv: write the message before freeing it
       * (aof_manifest_fuzz: regress-unsafe-name-use-after-free). */
      snprintf(err, err_len,
               "%s: line %d: file name '%s' is not a plain file name", source,
               line, name);
      sds_free_split(argv, argc);
      goto fail;
    }
    if (type == AOF_FILE_BASE && ++bases > 1) {
      sds_free_split(argv, argc);
      snprintf(err, err_len,
               "%s: line %d: found duplicate base file information", source,
               line);
      goto fail;
    }
    aof_manifest_add(m, name, seq, type);
    sds_free_split(argv, argc);
  }
  if (m->count == 0) {
    snprintf(err, err_len, "%s: the AOF manifest file is empty", source);
    goto fail;
  }
  return m;
fail:
  aof_manifest_free(m);
  return NULL;
}

sds aof_manifest_format(const aof_manifest *m) {
  sds s = sds_empty();
  /* Base first, then history, then incremental files in order. */
  const char order[3] = {AOF_FILE_BASE, AOF_FILE_HISTORY, AOF_FILE_INCR};
  for (int k = 0; k < 3; k++) {
    for (int i = 0; i < m->count; i++) {
      const aof_file *f = &m->files[i];
      if (f->type != order[k]) {
        continue;
      }
      s = sds_cat_len(s, "file ", 5);
      int plain = 1;
      for (const char *p = f->name; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '\'' || *p == '\\' ||
            (unsigned char)*p >= 127) {
          plain = 0;
        }
      }
      if (plain) {
        s = sds_cat_len(s, f->name, sds_len(f->name));
      } else {
        s = sds_cat_repr(s, f->name, sds_len(f->name));
      }
      s = sds_cat_printf(s, " seq %lld type %c\n", f->seq, f->type);
    }
  }
  return s;
}

aof_manifest *aof_manifest_load_file(const char *path, char *err,
                                     size_t err_len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    snprintf(err, err_len, "%s", errno == ENOENT ? "" : strerror(errno));
    return NULL;
  }
  sds text = sds_empty();
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    text = sds_cat_len(text, buf, (size_t)n);
    if (sds_len(text) > 16 * 1024 * 1024) {
      break;
    }
  }
  close(fd);
  aof_manifest *m = aof_manifest_parse(text, sds_len(text), path, err, err_len);
  sds_free(text);
  return m;
}
