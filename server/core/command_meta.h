/* command_meta.h: the parts of a command's description that the module
 * tables do not declare but Redis 7.0 reports: COMMAND INFO tips and key
 * specs, and the COMMAND DOCS fields after "group" (complexity, doc_flags,
 * deprecated_since, replaced_by, history, arguments). The data is generated
 * from the reference server (utils/gen_command_meta.py) and looked up by
 * fullname ("get", "config|get").
 *
 * Tips and docs are reply templates replayed by commands.c: a sequence of
 *   "$<len>\n<bytes>"  bulk        "+<len>\n<bytes>"  status
 *   ":<int>\n"         integer     "*<n>\n" "~<n>\n" "%<n>\n"  array/set/map
 * so that one template renders correctly in RESP2 and RESP3. */
#ifndef REDOUBT_COMMAND_META_H
#define REDOUBT_COMMAND_META_H

#include <stddef.h>
#include <stdint.h>

/* Key spec flags, in the order COMMAND INFO prints them. */
#define KSPEC_RO (1U << 0)
#define KSPEC_RW (1U << 1)
#define KSPEC_OW (1U << 2)
#define KSPEC_RM (1U << 3)
#define KSPEC_ACCESS (1U << 4)
#define KSPEC_UPDATE (1U << 5)
#define KSPEC_INSERT (1U << 6)
#define KSPEC_DELETE (1U << 7)
#define KSPEC_NOT_KEY (1U << 8)
#define KSPEC_INCOMPLETE (1U << 9)
#define KSPEC_VARIABLE_FLAGS (1U << 10)

#define KSPEC_BS_UNKNOWN 0
#define KSPEC_BS_INDEX 1
#define KSPEC_BS_KEYWORD 2

#define KSPEC_FK_UNKNOWN 0
#define KSPEC_FK_RANGE 1
#define KSPEC_FK_KEYNUM 2

typedef struct command_key_spec {
  uint32_t flags;
  int begin_search_type;
  int bs_index;           /* KSPEC_BS_INDEX: position of the first key */
  const char *bs_keyword; /* KSPEC_BS_KEYWORD: search for this token */
  int bs_startfrom;       /* ... from here (negative: from the end) */
  int find_keys_type;
  /* KSPEC_FK_RANGE: lastkey, keystep, limit.
   * KSPEC_FK_KEYNUM: keynumidx, firstkey, keystep. */
  int fk_a, fk_b, fk_c;
  const char *notes; /* or NULL */
} command_key_spec;

typedef struct command_meta {
  const char *fullname;
  const char *tips_template; /* a set */
  const command_key_spec *key_specs;
  int key_specs_num;
  int docs_extra_pairs;      /* map pairs in docs_template */
  const char *docs_template; /* key/value pairs after "group" */
} command_meta;

/* Sorted by fullname (strcmp order). */
extern const command_meta command_meta_table[];
extern const size_t command_meta_table_len;

/* command_meta_lookup returns the entry for |fullname| (case-insensitive),
 * or NULL if the reference server has no such command. */
const command_meta *command_meta_lookup(const char *fullname);

#endif
