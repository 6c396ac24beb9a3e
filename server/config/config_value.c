/* config_value.c: typed access to the directive table: lookup by name or
 * alias, rendering values as CONFIG GET returns them, parsing and storing
 * values with Redis 7.0's validation texts. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/config/config.h"
#include "server/config/config_internal.h"
#include "server/core/server.h"
/* ------------------------------------------------------------------ */
/* Lookup                                                               */
/* ------------------------------------------------------------------ */
typedef struct config_name_index {
  const char *name;
  const config_entry *entry;
} config_name_index;

/* Sorted (case-insensitively) names and aliases, built once. */
static config_name_index *name_index;
static size_t name_index_len;

static int name_index_compare(const void *a, const void *b) {
  return strcasecmp(((const config_name_index *)a)->name,
                    ((const config_name_index *)b)->name);
}

static void build_name_index(void) {
  if (name_index != NULL) {
    return;
  }
  name_index = zmalloc(sizeof(*name_index) * config_table_len * 2);
  name_index_len = 0;
  for (size_t j = 0; j < config_table_len; j++) {
    name_index[name_index_len].name = config_table[j].name;
    name_index[name_index_len++].entry = &config_table[j];
    if (config_table[j].alias) {
      name_index[name_index_len].name = config_table[j].alias;
      name_index[name_index_len++].entry = &config_table[j];
    }
  }
  qsort(name_index, name_index_len, sizeof(*name_index), name_index_compare);
}

void config_free_name_index(void) {
  zfree(name_index);
  name_index = NULL;
  name_index_len = 0;
}

const config_entry *config_lookup(const char *name) {
  build_name_index();
  config_name_index key = {.name = name, .entry = NULL};
  config_name_index *found = bsearch(&key, name_index, name_index_len,
                                     sizeof(*name_index), name_index_compare);
  return found ? found->entry : NULL;
}

/* ------------------------------------------------------------------ */
/* Generic get / set                                                    */
/* ------------------------------------------------------------------ */
/* Numeric values of every type except ULL travel as long long (all their
 * bounds fit in it). */
static long long numeric_read(const config_entry *e) {
  switch (e->type) {
    case CONFIG_TYPE_INT:
      return *(int *)e->ptr;
    case CONFIG_TYPE_UINT:
      return *(unsigned int *)e->ptr;
    case CONFIG_TYPE_ULONG:
      return (long long)*(unsigned long *)e->ptr;
    case CONFIG_TYPE_LONG_LONG:
      return *(long long *)e->ptr;
    case CONFIG_TYPE_SIZE_T:
      return (long long)*(size_t *)e->ptr;
    case CONFIG_TYPE_SSIZE_T:
      return *(ssize_t *)e->ptr;
    case CONFIG_TYPE_TIME_T:
      return *(time_t *)e->ptr;
    case CONFIG_TYPE_OFF_T:
      return *(off_t *)e->ptr;
    default:
      return 0;
  }
}

void config_numeric_write(const config_entry *e, long long v) {
  switch (e->type) {
    case CONFIG_TYPE_INT:
      *(int *)e->ptr = (int)v;
      break;
    case CONFIG_TYPE_UINT:
      *(unsigned int *)e->ptr = (unsigned int)v;
      break;
    case CONFIG_TYPE_ULONG:
      *(unsigned long *)e->ptr = (unsigned long)v;
      break;
    case CONFIG_TYPE_LONG_LONG:
      *(long long *)e->ptr = v;
      break;
    case CONFIG_TYPE_SIZE_T:
      *(size_t *)e->ptr = (size_t)v;
      break;
    case CONFIG_TYPE_SSIZE_T:
      *(ssize_t *)e->ptr = (ssize_t)v;
      break;
    case CONFIG_TYPE_TIME_T:
      *(time_t *)e->ptr = (time_t)v;
      break;
    case CONFIG_TYPE_OFF_T:
      *(off_t *)e->ptr = (off_t)v;
      break;
    default:
      break;
  }
}

static int is_numeric(const config_entry *e) {
  return e->type >= CONFIG_TYPE_INT && e->type <= CONFIG_TYPE_OFF_T;
}

static const char *enum_name(const config_enum_item *items, int value) {
  for (const config_enum_item *it = items; it->name; it++) {
    if (it->value == value) {
      return it->name;
    }
  }
  return "unknown";
}

static sds flags_enum_render(const config_enum_item *items, int value) {
  if (value == 0) {
    return sds_new(items[0].name);
  }
  sds s = sds_empty();
  for (const config_enum_item *it = items; it->name; it++) {
    if (it->value && (value & it->value) == it->value) {
      if (sds_len(s)) {
        s = sds_cat(s, " ");
      }
      s = sds_cat(s, it->name);
    }
  }
  return s;
}

sds config_entry_get(const config_entry *e) {
  switch (e->type) {
    case CONFIG_TYPE_BOOL:
      return sds_new(*(int *)e->ptr ? "yes" : "no");
    case CONFIG_TYPE_ULL:
      return sds_cat_printf(sds_empty(), "%llu", *(unsigned long long *)e->ptr);
    case CONFIG_TYPE_ENUM:
      return sds_new(enum_name(e->enum_items, *(int *)e->ptr));
    case CONFIG_TYPE_FLAGS_ENUM:
      return flags_enum_render(e->enum_items, *(int *)e->ptr);
    case CONFIG_TYPE_STRING: {
      const char *v = *(char **)e->ptr;
      return sds_new(v ? v : "");
    }
    case CONFIG_TYPE_SPECIAL:
      return e->special_get();
    default: {
      long long v = numeric_read(e);
      if (e->flags & CONFIG_FLAG_OCTAL) {
        return sds_cat_printf(sds_empty(), "%llo", (unsigned long long)v);
      }
      if ((e->flags & CONFIG_FLAG_PERCENT) && v < 0) {
        return sds_cat_printf(sds_empty(), "%lld%%", -v);
      }
      return sds_from_longlong(v);
    }
  }
}

int config_entry_is_default(const config_entry *e) {
  if (e->flags & CONFIG_FLAG_ALWAYS_REWRITE) {
    return 0;
  }
  switch (e->type) {
    case CONFIG_TYPE_BOOL:
    case CONFIG_TYPE_ENUM:
    case CONFIG_TYPE_FLAGS_ENUM:
      return *(int *)e->ptr == e->default_number;
    case CONFIG_TYPE_ULL:
      return *(unsigned long long *)e->ptr ==
             (unsigned long long)e->default_number;
    case CONFIG_TYPE_STRING: {
      const char *v = *(char **)e->ptr;
      const char *d = e->default_string;
      return strcmp(v ? v : "", d ? d : "") == 0;
    }
    case CONFIG_TYPE_SPECIAL: {
      sds v = e->special_get();
      int same = strcmp(v, e->default_string ? e->default_string : "") == 0;
      sds_free(v);
      return same;
    }
    default:
      return numeric_read(e) == e->default_number;
  }
}

sds config_format_memory(sds s, unsigned long long bytes) {
  const unsigned long long gb = 1024ULL * 1024 * 1024, mb = 1024ULL * 1024,
                           kb = 1024ULL;
  if (bytes && bytes % gb == 0) {
    return sds_cat_printf(s, "%llugb", bytes / gb);
  }
  if (bytes && bytes % mb == 0) {
    return sds_cat_printf(s, "%llumb", bytes / mb);
  }
  if (bytes && bytes % kb == 0) {
    return sds_cat_printf(s, "%llukb", bytes / kb);
  }
  return sds_cat_printf(s, "%llu", bytes);
}

sds config_entry_rewrite_value(const config_entry *e) {
  if (e->type == CONFIG_TYPE_STRING) {
    const char *v = *(char **)e->ptr;
    if (v == NULL) {
      return NULL;
    }
    return sds_cat_repr(sds_empty(), v, strlen(v));
  }
  if (e->type == CONFIG_TYPE_ULL && (e->flags & CONFIG_FLAG_MEMORY)) {
    return config_format_memory(sds_empty(), *(unsigned long long *)e->ptr);
  }
  if (is_numeric(e) && (e->flags & CONFIG_FLAG_MEMORY)) {
    long long v = numeric_read(e);
    if (v < 0) {
      return sds_cat_printf(sds_empty(), "%lld%%", -v);
    }
    return config_format_memory(sds_empty(), (unsigned long long)v);
  }
  return config_entry_get(e);
}

/* Error texts with numbers need storage that outlives the call. */
static char numeric_error[160];

static const char *bounds_error(long long min, long long max) {
  snprintf(numeric_error, sizeof(numeric_error),
           "argument must be between %lld and %lld inclusive", min, max);
  return numeric_error;
}

static int set_ull(const config_entry *e, const char *v, const char **err) {
  int memerr = 0;
  unsigned long long val = memtoull(v, &memerr);
  if (memerr) {
    *err = "argument must be a memory value";
    return 0;
  }
  if (val < (unsigned long long)e->min || val > e->umax) {
    snprintf(numeric_error, sizeof(numeric_error),
             "argument must be between %llu and %llu inclusive",
             (unsigned long long)e->min, e->umax);
    *err = numeric_error;
    return 0;
  }
  unsigned long long *p = e->ptr;
  if (*p == val) {
    return 2;
  }
  *p = val;
  return 1;
}

static int set_numeric(const config_entry *e, const char *v, const char **err) {
  if (e->type == CONFIG_TYPE_ULL) {
    return set_ull(e, v, err);
  }
  long long val;
  size_t len = strlen(v);
  if ((e->flags & CONFIG_FLAG_PERCENT) && len > 1 && v[len - 1] == '%') {
    long long pct;
    if (!string2ll(v, len - 1, &pct) || pct < 0) {
      *err = "argument must be a memory or percent value";
      return 0;
    }
    if (pct > 100) {
      *err = "percentage argument must be less or equal to 100";
      return 0;
    }
    val = -pct;
  } else if (e->flags & CONFIG_FLAG_MEMORY) {
    int memerr = 0;
    unsigned long long u = memtoull(v, &memerr);
    if (memerr) {
      *err = (e->flags & CONFIG_FLAG_PERCENT)
                 ? "argument must be a memory or percent value"
                 : "argument must be a memory value";
      return 0;
    }
    val = (long long)u;
  } else if (e->flags & CONFIG_FLAG_OCTAL) {
    char *end;
    errno = 0;
    val = strtoll(v, &end, 8);
    if (len == 0 || *end != '\0' || errno) {
      *err = "argument couldn't be parsed as an octal number";
      return 0;
    }
  } else if (!string2ll(v, len, &val)) {
    *err = "argument couldn't be parsed into an integer";
    return 0;
  }
  if (val < e->min || val > e->max) {
    *err = bounds_error(e->min, e->max);
    return 0;
  }
  if (numeric_read(e) == val) {
    return 2;
  }
  config_numeric_write(e, val);
  return 1;
}

static int enum_lookup(const config_enum_item *items, const char *name,
                       int *out) {
  for (const config_enum_item *it = items; it->name; it++) {
    if (!strcasecmp(it->name, name)) {
      *out = it->value;
      return 1;
    }
  }
  return 0;
}

static const char *enum_error(const config_enum_item *items) {
  static char buf[512];
  size_t off = (size_t)snprintf(buf, sizeof(buf),
                                "argument(s) must be one of the following: ");
  for (const config_enum_item *it = items; it->name && off < sizeof(buf);
       it++) {
    off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
                            it == items ? "" : ", ", it->name);
  }
  return buf;
}

static int set_enum(const config_entry *e, sds *argv, int argc,
                    const char **err) {
  int value = 0;
  if (e->type == CONFIG_TYPE_ENUM) {
    if (argc != 1 || !enum_lookup(e->enum_items, argv[0], &value)) {
      *err = enum_error(e->enum_items);
      return 0;
    }
  } else {
    for (int j = 0; j < argc; j++) {
      int flag;
      if (!enum_lookup(e->enum_items, argv[j], &flag)) {
        *err = enum_error(e->enum_items);
        return 0;
      }
      value |= flag;
    }
    if ((value & SHUTDOWN_FLAG_SAVE) && (value & SHUTDOWN_FLAG_NOSAVE)) {
      *err = "shutdown options SAVE and NOSAVE can't be used simultaneously";
      return 0;
    }
  }
  int *p = e->ptr;
  if (*p == value) {
    return 2;
  }
  *p = value;
  return 1;
}

static int set_string(const config_entry *e, const char *v, const char **err) {
  if (e->check_string && !e->check_string(v, err)) {
    return 0;
  }
  char **p = e->ptr;
  const char *newv =
      (v[0] == '\0' && (e->flags & CONFIG_FLAG_EMPTY_IS_NULL)) ? NULL : v;
  if ((*p == NULL && newv == NULL) ||
      (*p != NULL && newv != NULL && strcmp(*p, newv) == 0)) {
    return 2;
  }
  zfree(*p);
  *p = newv ? zstrdup(newv) : NULL;
  return 1;
}

int config_entry_set(const config_entry *e, sds *argv, int argc,
                     const char **err) {
  if (e->type == CONFIG_TYPE_SPECIAL) {
    return e->special_set(argv, argc, err);
  }
  if (e->type == CONFIG_TYPE_FLAGS_ENUM) {
    return set_enum(e, argv, argc, err);
  }
  if (argc != 1) {
    *err = "wrong number of arguments";
    return 0;
  }
  switch (e->type) {
    case CONFIG_TYPE_BOOL: {
      int v;
      if (!strcasecmp(argv[0], "yes")) {
        v = 1;
      } else if (!strcasecmp(argv[0], "no")) {
        v = 0;
      } else {
        *err = "argument must be 'yes' or 'no'";
        return 0;
      }
      int *p = e->ptr;
      if (*p == v) {
        return 2;
      }
      *p = v;
      return 1;
    }
    case CONFIG_TYPE_ENUM:
      return set_enum(e, argv, argc, err);
    case CONFIG_TYPE_STRING:
      return set_string(e, argv[0], err);
    default:
      return set_numeric(e, argv[0], err);
  }
}

int config_entry_set_value(const config_entry *e, const char *value,
                           const char **err) {
  if (e->flags & CONFIG_FLAG_MULTI_ARG) {
    int argc = 0;
    sds *argv = sds_split_len(value, (ssize_t)strlen(value), " ", 1, &argc);
    int res = config_entry_set(e, argv, argc, err);
    sds_free_split(argv, argc);
    return res;
  }
  sds one = sds_new(value);
  int res = config_entry_set(e, &one, 1, err);
  sds_free(one);
  return res;
}
