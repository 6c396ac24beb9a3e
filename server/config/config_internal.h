/* config_internal.h: declarations shared by config.c (table, parser,
 * CONFIG command) and config_rewrite.c (CONFIG REWRITE). Not for other
 * modules: they use config.h. */
#ifndef REDOUBT_CONFIG_INTERNAL_H
#define REDOUBT_CONFIG_INTERNAL_H

#include <stddef.h>

#include "server/ds/sds.h"

typedef enum config_type {
  CONFIG_TYPE_BOOL,
  CONFIG_TYPE_INT,       /* int */
  CONFIG_TYPE_UINT,      /* unsigned int */
  CONFIG_TYPE_ULONG,     /* unsigned long */
  CONFIG_TYPE_LONG_LONG, /* long long */
  CONFIG_TYPE_ULL,       /* unsigned long long */
  CONFIG_TYPE_SIZE_T,
  CONFIG_TYPE_SSIZE_T,
  CONFIG_TYPE_TIME_T,
  CONFIG_TYPE_OFF_T,
  CONFIG_TYPE_ENUM,       /* int, one name */
  CONFIG_TYPE_FLAGS_ENUM, /* int bitmask, several names */
  CONFIG_TYPE_STRING,     /* char*, zmalloc'd */
  CONFIG_TYPE_SPECIAL     /* own set/get/rewrite */
} config_type;

/* Entry flags */
#define CONFIG_FLAG_IMMUTABLE (1u << 0)     /* only at startup */
#define CONFIG_FLAG_SENSITIVE (1u << 1)     /* value never logged */
#define CONFIG_FLAG_PROTECTED (1u << 2)     /* enable-protected-configs */
#define CONFIG_FLAG_MULTI_ARG (1u << 3)     /* value is several words */
#define CONFIG_FLAG_MEMORY (1u << 4)        /* numeric with units */
#define CONFIG_FLAG_OCTAL (1u << 5)         /* numeric in octal */
#define CONFIG_FLAG_PERCENT (1u << 6)       /* "N%" stored as -N */
#define CONFIG_FLAG_EMPTY_IS_NULL (1u << 7) /* "" stored as NULL */
#define CONFIG_FLAG_UNIMPLEMENTED (1u << 8) /* accepted, not implemented */
/* Hidden as in Redis: CONFIG GET by exact name only, not by pattern. */
#define CONFIG_FLAG_HIDDEN (1u << 10)
#define CONFIG_FLAG_ALWAYS_REWRITE \
  (1u << 9) /* CONFIG REWRITE always writes \
                                              */

/* shutdown-on-sigint/sigterm flags ("default" is 0). */
#define SHUTDOWN_FLAG_SAVE 1
#define SHUTDOWN_FLAG_NOSAVE 2
#define SHUTDOWN_FLAG_NOW 4
#define SHUTDOWN_FLAG_FORCE 8

typedef struct config_enum_item {
  const char *name;
  int value;
} config_enum_item;

struct config_entry;
struct config_rewrite_state;

/* Special directives: set returns 1 (changed), 2 (unchanged) or 0 with
 * *err set to a static text. */
typedef int config_special_set_proc(sds *argv, int argc, const char **err);
typedef sds config_special_get_proc(void);
typedef void config_special_rewrite_proc(const struct config_entry *e,
                                         struct config_rewrite_state *st);
/* Apply callbacks run after every value of a CONFIG SET is stored: return
 * 1, or 0 with *err set (the values are then rolled back). */
typedef int config_apply_proc(const char **err);
typedef int config_string_check_proc(const char *value, const char **err);

typedef struct config_entry {
  const char *name;
  const char *alias; /* or NULL */
  config_type type;
  unsigned flags;
  void *ptr;                  /* storage (NULL for special) */
  long long min, max;         /* numeric bounds (signed types) */
  unsigned long long umax;    /* upper bound for CONFIG_TYPE_ULL */
  long long default_number;   /* bool, numeric, enum */
  const char *default_string; /* string and special */
  const config_enum_item *enum_items;
  config_apply_proc *apply;
  config_string_check_proc *check_string;
  config_special_set_proc *special_set;
  config_special_get_proc *special_get;
  config_special_rewrite_proc *special_rewrite;
} config_entry;

extern const config_entry config_table[];
extern const size_t config_table_len;

/* config_entry_get renders the value as CONFIG GET returns it. */
sds config_entry_get(const config_entry *e);
/* config_entry_is_default compares the current value with the default. */
int config_entry_is_default(const config_entry *e);
/* config_entry_rewrite_value renders a generic (non special) directive's
 * value for a config file line: strings quoted, memory values with units.
 * NULL means "no line" (a NULL string). */
sds config_entry_rewrite_value(const config_entry *e);
/* config_entry_set stores argv (the words after the directive name) into
 * e. Returns 1 (changed), 2 (unchanged) or 0 with *err set to a static
 * text. No apply callback runs. */
int config_entry_set(const config_entry *e, sds *argv, int argc,
                     const char **err);
/* config_entry_set_value sets e from one CONFIG SET value: multi-argument
 * directives split it on single spaces, as Redis does. */
int config_entry_set_value(const config_entry *e, const char *value,
                           const char **err);
/* config_set_load_mode marks the start (loading=1) or end of a load:
 * several `save` lines of one load accumulate. With no_side_effects, `dir`
 * does not chdir. */
void config_set_load_mode(int loading, int no_side_effects);
/* config_set_many is the atomic core of CONFIG SET: sets every pair,
 * rolls all back if a value or an apply callback fails. Returns 1, or 0
 * with *out_err and *out_failed (index of the directive to name). */
int config_set_many(const config_entry **entries, const char **values,
                    int count, const char **out_err, int *out_failed);
/* config_numeric_write stores v into a numeric entry of any width. */
void config_numeric_write(const config_entry *e, long long v);
/* config_free_name_index releases the lookup index (rebuilt on demand). */
void config_free_name_index(void);
/* config_lookup finds a directive by name or alias (case-insensitive). */
const config_entry *config_lookup(const char *name);
/* config_format_memory appends a byte count as redis.conf writes it:
 * "1gb", "512mb", "64kb", or plain bytes. */
sds config_format_memory(sds s, unsigned long long bytes);

/* Rewrite engine (config_rewrite.c), used by special rewriters. */
void config_rewrite_line(struct config_rewrite_state *st, const char *name,
                         sds line, int force);
void config_rewrite_mark_processed(struct config_rewrite_state *st,
                                   const char *name);

#endif
