/* acl_rules.c: ACL users and their rules (Redis 7.0 semantics).
 *
 * A user's command permissions are a bitmap over command ids (commands and
 * subcommands); descriptions are recomputed from the bitmap the way Redis
 * 7.0 does (categories first, then single commands), so GETUSER/LIST are
 * canonical whatever rule order built the user. Passwords are stored as
 * SHA-256 hex and compared in constant time. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "server/acl/acl.h"
#include "server/base/sha256.h"
#include "server/base/zmalloc.h"
#include "server/core/command_meta.h"

/* Category names in Redis 7.0 order; bit i is ACL_CATEGORY_* (1ULL << i). */
static const char *acl_rule_categories[] = {
    "keyspace", "read",     "write",     "set",        "sortedset",
    "list",     "hash",     "string",    "bitmap",     "hyperloglog",
    "geo",      "stream",   "pubsub",    "admin",      "fast",
    "slow",     "blocking", "dangerous", "connection", "transaction",
    "scripting"};
#define ACL_RULE_CATEGORY_COUNT \
  ((int)(sizeof(acl_rule_categories) / sizeof(acl_rule_categories[0])))

static struct {
  int ready;
  int command_count; /* ids are 0..command_count-1 */
  int words;         /* uint64_t words in a bitmap */
  acl_user **users;  /* sorted by name */
  size_t count, cap;
  acl_user *default_user;
  redis_command **by_id; /* command_count entries */
} acl_state;

/* ------------------------------------------------------------------ */
/* Command table walks                                                   */
/* ------------------------------------------------------------------ */
typedef void acl_cmd_visit(redis_command *cmd, void *arg);

/* Visits every command and subcommand in id order: a stable order (the
 * command dict's iteration order moves while it rehashes), so the same
 * user always gets the same description. */
static void acl_for_each_command(acl_cmd_visit *fn, void *arg) {
  for (int id = 0; id < acl_state.command_count; id++) {
    if (acl_state.by_id[id]) {
      fn(acl_state.by_id[id], arg);
    }
  }
}

static void acl_index_commands(void) {
  dict_iterator *di = dict_get_iterator(server.commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    redis_command *cmd = dict_get_val(de);
    acl_state.by_id[cmd->id] = cmd;
    for (redis_command *sub = cmd->subcommands; sub && sub->declared_name;
         sub++) {
      acl_state.by_id[sub->id] = sub;
    }
  }
  dict_release_iterator(di);
}

static void acl_visit_max_id(redis_command *cmd, void *arg) {
  int *max = arg;
  if (cmd->id + 1 > *max) {
    *max = cmd->id + 1;
  }
}

const char *acl_category_name(int i) {
  return i >= 0 && i < ACL_RULE_CATEGORY_COUNT ? acl_rule_categories[i] : NULL;
}

int acl_category_from_name(const char *name, size_t len) {
  for (int i = 0; i < ACL_RULE_CATEGORY_COUNT; i++) {
    if (strlen(acl_rule_categories[i]) == len &&
        strncasecmp(name, acl_rule_categories[i], len) == 0) {
      return i;
    }
  }
  return -1;
}

static redis_command *acl_lookup_command_name(const char *name, size_t len) {
  char buf[256];
  if (len == 0 || len >= sizeof(buf)) {
    return NULL;
  }
  memcpy(buf, name, len);
  buf[len] = '\0';
  char *bar = strchr(buf, '|');
  if (!bar) {
    redis_command *cmd = lookup_command_by_cstring(buf);
    return cmd;
  }
  *bar = '\0';
  redis_command *parent = lookup_command_by_cstring(buf);
  if (!parent || !parent->subcommands) {
    return NULL;
  }
  for (redis_command *sub = parent->subcommands; sub->declared_name; sub++) {
    if (strcasecmp(sub->declared_name, bar + 1) == 0) {
      return sub;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Bitmap helpers                                                        */
/* ------------------------------------------------------------------ */
static int acl_get_bit(const acl_user *u, int id) {
  if (id < 0 || id >= acl_state.command_count) {
    return 0;
  }
  return (u->allowed[id / 64] >> (id % 64)) & 1;
}

static void acl_free_firstargs_for(acl_user *u, int id) {
  if (u->firstargs && u->firstargs[id]) {
    for (sds *p = u->firstargs[id]; *p; p++) {
      sds_free(*p);
    }
    zfree(u->firstargs[id]);
    u->firstargs[id] = NULL;
  }
}

static void acl_free_all_firstargs(acl_user *u) {
  if (!u->firstargs) {
    return;
  }
  for (int id = 0; id < acl_state.command_count; id++) {
    acl_free_firstargs_for(u, id);
  }
  zfree(u->firstargs);
  u->firstargs = NULL;
}

static void acl_set_bit(acl_user *u, int id, int value) {
  if (id < 0 || id >= acl_state.command_count) {
    return;
  }
  if (value) {
    u->allowed[id / 64] |= 1ULL << (id % 64);
  } else {
    u->allowed[id / 64] &= ~(1ULL << (id % 64));
    u->flags &= ~ACL_USER_ALLCOMMANDS;
  }
}

/* acl_change_perm: a command and (for a container) all its subcommands. */
static void acl_change_perm(acl_user *u, redis_command *cmd, int value) {
  acl_set_bit(u, cmd->id, value);
  acl_free_firstargs_for(u, cmd->id);
  for (redis_command *sub = cmd->subcommands; sub && sub->declared_name;
       sub++) {
    acl_set_bit(u, sub->id, value);
    acl_free_firstargs_for(u, sub->id);
  }
}

typedef struct acl_cat_arg {
  acl_user *u;
  uint64_t bit;
  int value;
  unsigned long on, off;
} acl_cat_arg;

static void acl_visit_set_cat(redis_command *cmd, void *arg) {
  acl_cat_arg *a = arg;
  if (cmd->acl_categories & a->bit) {
    acl_change_perm(a->u, cmd, a->value);
  }
}

static void acl_visit_count_cat(redis_command *cmd, void *arg) {
  acl_cat_arg *a = arg;
  if (cmd->acl_categories & a->bit) {
    if (acl_get_bit(a->u, cmd->id)) {
      a->on++;
    } else {
      a->off++;
    }
  }
}

static void acl_set_category(acl_user *u, int cat, int value) {
  acl_cat_arg a = {u, 1ULL << cat, value, 0, 0};
  acl_for_each_command(acl_visit_set_cat, &a);
}

static int acl_add_firstarg(acl_user *u, int id, const char *arg, size_t len) {
  if (!u->firstargs) {
    u->firstargs = zcalloc(sizeof(sds *) * (size_t)acl_state.command_count);
  }
  int n = 0;
  sds *list = u->firstargs[id];
  if (list) {
    for (; list[n]; n++) {
      if (sds_len(list[n]) == len && strncasecmp(list[n], arg, len) == 0) {
        return C_OK;
      }
    }
  }
  if (n >= ACL_FIRSTARGS_MAX) {
    return C_ERR;
  }
  list = zrealloc(list, sizeof(sds) * (size_t)(n + 2));
  list[n] = sds_new_len(arg, len);
  sds_to_lower(list[n]);
  list[n + 1] = NULL;
  u->firstargs[id] = list;
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Users                                                                 */
/* ------------------------------------------------------------------ */
static void acl_free_pattern(void *p) {
  acl_key_pattern *kp = p;
  sds_free(kp->pattern);
  zfree(kp);
}

static void acl_free_sds(void *p) { sds_free(p); }

static void acl_free_selector(void *p) { acl_user_free(p); }

static void acl_update_fast_path(acl_user *u) {
  uint32_t all = ACL_USER_ALLCOMMANDS | ACL_USER_ALLKEYS | ACL_USER_ALLCHANNELS;
  u->all_perms = (u->flags & all) == all;
}

acl_user *acl_user_new_detached(const char *name, size_t len) {
  acl_user *u = zcalloc(sizeof(*u));
  u->name = sds_new_len(name, len);
  u->flags = 0; /* off */
  if (server.acl_pubsub_default) {
    u->flags |= ACL_USER_ALLCHANNELS;
  }
  u->passwords = list_create();
  list_set_free_method(u->passwords, acl_free_sds);
  u->patterns = list_create();
  list_set_free_method(u->patterns, acl_free_pattern);
  u->channels = list_create();
  list_set_free_method(u->channels, acl_free_sds);
  u->allowed = zcalloc(sizeof(uint64_t) * (size_t)acl_state.words);
  u->selectors = list_create();
  list_set_free_method(u->selectors, acl_free_selector);
  acl_update_fast_path(u);
  return u;
}

void acl_user_free(acl_user *u) {
  if (!u) {
    return;
  }
  sds_free(u->name);
  list_release(u->passwords);
  list_release(u->patterns);
  list_release(u->channels);
  zfree(u->allowed);
  acl_free_all_firstargs(u);
  list_release(u->selectors);
  zfree(u);
}

/* acl_user_copy: dst takes src's rules (not its name). */
void acl_user_copy(acl_user *dst, const acl_user *src) {
  list_empty(dst->passwords);
  list_empty(dst->patterns);
  list_empty(dst->channels);
  list_empty(dst->selectors);
  acl_free_all_firstargs(dst);
  dst->flags = src->flags;
  list_iter si;
  list_node *sn;
  list_rewind(src->selectors, &si);
  while ((sn = list_next(&si))) {
    acl_user *s = acl_user_new_detached("", 0);
    acl_user_copy(s, list_node_value(sn));
    list_add_node_tail(dst->selectors, s);
  }
  list_iter li;
  list_node *ln;
  list_rewind(src->passwords, &li);
  while ((ln = list_next(&li))) {
    list_add_node_tail(dst->passwords, sds_dup(list_node_value(ln)));
  }
  list_rewind(src->patterns, &li);
  while ((ln = list_next(&li))) {
    acl_key_pattern *kp = list_node_value(ln);
    acl_key_pattern *copy = zmalloc(sizeof(*copy));
    copy->perms = kp->perms;
    copy->pattern = sds_dup(kp->pattern);
    list_add_node_tail(dst->patterns, copy);
  }
  list_rewind(src->channels, &li);
  while ((ln = list_next(&li))) {
    list_add_node_tail(dst->channels, sds_dup(list_node_value(ln)));
  }
  memcpy(dst->allowed, src->allowed,
         sizeof(uint64_t) * (size_t)acl_state.words);
  if (src->firstargs) {
    for (int id = 0; id < acl_state.command_count; id++) {
      for (sds *p = src->firstargs[id]; p && *p; p++) {
        acl_add_firstarg(dst, id, *p, sds_len(*p));
      }
    }
  }
  acl_update_fast_path(dst);
}

static size_t acl_user_index(const char *name, size_t len, int *found) {
  size_t lo = 0, hi = acl_state.count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    sds n = acl_state.users[mid]->name;
    size_t nl = sds_len(n);
    int cmp = memcmp(n, name, nl < len ? nl : len);
    if (cmp == 0) {
      cmp = nl < len ? -1 : (nl > len ? 1 : 0);
    }
    if (cmp == 0) {
      *found = 1;
      return mid;
    }
    if (cmp < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *found = 0;
  return lo;
}

acl_user *acl_lookup_user(const char *name, size_t len) {
  int found;
  size_t i = acl_user_index(name, len, &found);
  return found ? acl_state.users[i] : NULL;
}

static void acl_insert_user(acl_user *u) {
  int found;
  size_t i = acl_user_index(u->name, sds_len(u->name), &found);
  if (acl_state.count == acl_state.cap) {
    acl_state.cap = acl_state.cap ? acl_state.cap * 2 : 16;
    acl_state.users =
        zrealloc(acl_state.users, sizeof(acl_user *) * acl_state.cap);
  }
  memmove(acl_state.users + i + 1, acl_state.users + i,
          sizeof(acl_user *) * (acl_state.count - i));
  acl_state.users[i] = u;
  acl_state.count++;
}

acl_user *acl_create_user(const char *name, size_t len) {
  if (acl_lookup_user(name, len) || acl_state.count >= ACL_USERS_MAX) {
    return NULL;
  }
  acl_user *u = acl_user_new_detached(name, len);
  acl_insert_user(u);
  return u;
}

acl_user **acl_users_sorted(size_t *count) {
  *count = acl_state.count;
  return acl_state.users;
}

acl_user *acl_default_user(void) { return acl_state.default_user; }

/* acl_kill_clients_of_user: their connections close after this command,
 * authenticated again as nobody (the default user, unauthenticated). */
void acl_kill_clients_of_user(acl_user *u) {
  list_iter li;
  list_node *ln;
  list_rewind(server.clients, &li);
  while ((ln = list_next(&li))) {
    client *c = list_node_value(ln);
    if (c->user != u) {
      continue;
    }
    c->user = acl_state.default_user;
    c->authenticated = 0;
    if (c == server.current_client) {
      c->flags |= CLIENT_CLOSE_AFTER_COMMAND;
    } else {
      free_client_async(c);
    }
  }
}

int acl_delete_user(const char *name, size_t len) {
  int found;
  size_t i = acl_user_index(name, len, &found);
  if (!found) {
    return 0;
  }
  acl_user *u = acl_state.users[i];
  memmove(acl_state.users + i, acl_state.users + i + 1,
          sizeof(acl_user *) * (acl_state.count - i - 1));
  acl_state.count--;
  acl_kill_clients_of_user(u);
  acl_user_free(u);
  return 1;
}

/* acl_replace_all_users: ACL LOAD. The default user object stays (clients
 * point to it) and takes the new rules; every other old user is freed and
 * its clients disconnected. Takes ownership of users[]. */
void acl_replace_all_users(acl_user **users, size_t count) {
  acl_user *def = acl_state.default_user;
  acl_user *new_def = NULL;
  for (size_t i = 0; i < acl_state.count; i++) {
    if (acl_state.users[i] != def) {
      acl_kill_clients_of_user(acl_state.users[i]);
      acl_user_free(acl_state.users[i]);
    }
  }
  acl_state.count = 0;
  for (size_t i = 0; i < count; i++) {
    if (strcmp(users[i]->name, "default") == 0) {
      new_def = users[i];
      continue;
    }
    acl_insert_user(users[i]);
  }
  if (new_def) {
    acl_user_copy(def, new_def);
    acl_user_free(new_def);
  } else {
    /* No default in the file: Redis's "+@all ~* &* on nopass". */
    acl_set_user(def, "reset", 5, NULL);
    acl_set_user(def, "+@all", 5, NULL);
    acl_set_user(def, "~*", 2, NULL);
    acl_set_user(def, "&*", 2, NULL);
    acl_set_user(def, "on", 2, NULL);
    acl_set_user(def, "nopass", 6, NULL);
  }
  acl_insert_user(def);
}

int acl_username_valid(const char *name, size_t len) {
  if (len == 0 || len > ACL_USERNAME_MAX) {
    return len != 0;
  }
  for (size_t i = 0; i < len; i++) {
    if (isspace((unsigned char)name[i]) || name[i] == '\0') {
      return 0;
    }
  }
  return 1;
}

void acl_init(void) {
  if (acl_state.ready) {
    return;
  }
  int max = 0;
  dict_iterator *di = dict_get_iterator(server.commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    redis_command *cmd = dict_get_val(de);
    acl_visit_max_id(cmd, &max);
    for (redis_command *sub = cmd->subcommands; sub && sub->declared_name;
         sub++) {
      acl_visit_max_id(sub, &max);
    }
  }
  dict_release_iterator(di);
  acl_state.by_id = zcalloc(sizeof(redis_command *) * (size_t)(max + 1));
  acl_state.command_count = max;
  acl_index_commands();
  acl_state.words = (max + 63) / 64;
  if (acl_state.words == 0) {
    acl_state.words = 1;
  }
  acl_state.ready = 1;
  acl_user *u = acl_create_user("default", 7);
  acl_set_user(u, "+@all", 5, NULL);
  acl_set_user(u, "~*", 2, NULL);
  acl_set_user(u, "&*", 2, NULL);
  acl_set_user(u, "on", 2, NULL);
  acl_set_user(u, "nopass", 6, NULL);
  acl_state.default_user = u;
}

/* requirepass <-> default user: "" or NULL = nopass. */
void acl_update_default_user_password(const char *requirepass) {
  acl_user *u = acl_state.default_user;
  if (!u) {
    return;
  }
  acl_set_user(u, "resetpass", 9, NULL);
  if (requirepass && requirepass[0]) {
    size_t len = strlen(requirepass);
    sds op = sds_cat_len(sds_new(">"), requirepass, len);
    acl_set_user(u, op, sds_len(op), NULL);
    sds_free(op);
  } else {
    acl_set_user(u, "nopass", 6, NULL);
  }
}

/* ------------------------------------------------------------------ */
/* Rules                                                                 */
/* ------------------------------------------------------------------ */
static const char *err_syntax = "Syntax error";
static const char *err_unknown = "Unknown command or category name in ACL";
static const char *err_allkeys =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not "
    "valid and does not have any effect. Try 'resetkeys' to start with an "
    "empty list of patterns";
static const char *err_allchannels =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
    "valid and does not have any effect. Try 'resetchannels' to start with "
    "an empty list of channels";
static const char *err_hash =
    "The password hash must be exactly 64 characters and contain only "
    "lowercase hexadecimal characters";
static const char *err_nopass =
    "The password you are trying to remove from the user does not exist";
static const char *err_subfirstarg =
    "Allowing first-arg of a subcommand is not supported";
static const char *err_limit = "Too many patterns, passwords or arguments";
/* Not in Redis: Redis accepts ACL SETUSER u "(~a) +get)" and then writes a
 * selector "(~a) ... +get)" that ACL LOAD (and the next start) refuses,
 * because a word ending in ')' closes a selector when a line is read. */
static const char *err_selector_paren =
    "Rules inside a selector can't end with ')': ACL SAVE could not write "
    "this selector so that it loads back";

static int acl_rule_is(const char *op, size_t len, const char *word) {
  return strlen(word) == len && strncasecmp(op, word, len) == 0;
}

static int acl_has_spaces(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (isspace((unsigned char)s[i]) || s[i] == '\0') {
      return 1;
    }
  }
  return 0;
}

static list_node *acl_find_sds(list *l, const char *s, size_t len) {
  list_iter li;
  list_node *ln;
  list_rewind(l, &li);
  while ((ln = list_next(&li))) {
    sds v = list_node_value(ln);
    if (sds_len(v) == len && memcmp(v, s, len) == 0) {
      return ln;
    }
  }
  return NULL;
}

static int acl_valid_hash(const char *h, size_t len) {
  if (len != SHA256_HEX_LEN) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) {
      return 0;
    }
  }
  return 1;
}

static int acl_rule_password(acl_user *u, const char *op, size_t len,
                             const char **err) {
  char hex[SHA256_HEX_LEN + 1];
  const char *h;
  if (op[0] == '>' || op[0] == '<') {
    sha256_hex(op + 1, len - 1, hex);
    h = hex;
  } else {
    if (!acl_valid_hash(op + 1, len - 1)) {
      *err = err_hash;
      return C_ERR;
    }
    h = op + 1;
  }
  list_node *ln = acl_find_sds(u->passwords, h, SHA256_HEX_LEN);
  if (op[0] == '>' || op[0] == '#') {
    if (!ln) {
      if (list_length(u->passwords) >= ACL_PASSWORDS_MAX) {
        *err = err_limit;
        return C_ERR;
      }
      list_add_node_tail(u->passwords, sds_new_len(h, SHA256_HEX_LEN));
    }
    u->flags &= ~ACL_USER_NOPASS;
    return C_OK;
  }
  if (!ln) {
    *err = err_nopass;
    return C_ERR;
  }
  list_del_node(u->passwords, ln);
  return C_OK;
}

static int acl_rule_key_pattern(acl_user *u, const char *op, size_t len,
                                const char **err) {
  int perms = 0;
  size_t off = 1;
  if (op[0] == '~') {
    perms = ACL_PERM_ALL;
  } else {
    int tilde = 0;
    for (; off < len; off++) {
      char ch = (char)toupper((unsigned char)op[off]);
      if (ch == 'R') {
        perms |= ACL_PERM_READ;
      } else if (ch == 'W') {
        perms |= ACL_PERM_WRITE;
      } else if (op[off] == '~') {
        off++;
        tilde = 1;
        break;
      } else {
        break;
      }
    }
    if (!tilde || perms == 0) {
      *err = err_syntax;
      return C_ERR;
    }
  }
  if (u->flags & ACL_USER_ALLKEYS) {
    *err = err_allkeys;
    return C_ERR;
  }
  const char *pat = op + off;
  size_t plen = len - off;
  if (acl_has_spaces(pat, plen)) {
    *err = err_syntax;
    return C_ERR;
  }
  if (plen == 1 && pat[0] == '*' && perms == ACL_PERM_ALL) {
    u->flags |= ACL_USER_ALLKEYS;
    list_empty(u->patterns);
    return C_OK;
  }
  list_iter li;
  list_node *ln;
  list_rewind(u->patterns, &li);
  while ((ln = list_next(&li))) {
    acl_key_pattern *kp = list_node_value(ln);
    if (sds_len(kp->pattern) == plen && memcmp(kp->pattern, pat, plen) == 0) {
      kp->perms |= perms;
      return C_OK;
    }
  }
  if (list_length(u->patterns) >= ACL_PATTERNS_MAX) {
    *err = err_limit;
    return C_ERR;
  }
  acl_key_pattern *kp = zmalloc(sizeof(*kp));
  kp->perms = perms;
  kp->pattern = sds_new_len(pat, plen);
  list_add_node_tail(u->patterns, kp);
  return C_OK;
}

static int acl_rule_channel(acl_user *u, const char *op, size_t len,
                            const char **err) {
  if (u->flags & ACL_USER_ALLCHANNELS) {
    *err = err_allchannels;
    return C_ERR;
  }
  if (acl_has_spaces(op + 1, len - 1)) {
    *err = err_syntax;
    return C_ERR;
  }
  if (len == 2 && op[1] == '*') {
    u->flags |= ACL_USER_ALLCHANNELS;
    list_empty(u->channels);
    return C_OK;
  }
  if (!acl_find_sds(u->channels, op + 1, len - 1)) {
    if (list_length(u->channels) >= ACL_PATTERNS_MAX) {
      *err = err_limit;
      return C_ERR;
    }
    list_add_node_tail(u->channels, sds_new_len(op + 1, len - 1));
  }
  return C_OK;
}

static void acl_set_all_commands(acl_user *u, int value) {
  memset(u->allowed, value ? 0xff : 0,
         sizeof(uint64_t) * (size_t)acl_state.words);
  acl_free_all_firstargs(u);
  if (value) {
    u->flags |= ACL_USER_ALLCOMMANDS | ACL_USER_FUTURE_CMDS;
  } else {
    u->flags &= ~(ACL_USER_ALLCOMMANDS | ACL_USER_FUTURE_CMDS);
  }
}

static int acl_rule_command(acl_user *u, const char *op, size_t len,
                            const char **err) {
  int value = op[0] == '+';
  if (op[1] == '@') {
    int cat = acl_category_from_name(op + 2, len - 2);
    if (cat < 0) {
      if (acl_rule_is(op + 2, len - 2, "all")) {
        acl_set_all_commands(u, value);
        return C_OK;
      }
      *err = err_unknown;
      return C_ERR;
    }
    acl_set_category(u, cat, value);
    return C_OK;
  }
  const char *bar = memchr(op + 1, '|', len - 1);
  if (!value || !bar) {
    redis_command *cmd = acl_lookup_command_name(op + 1, len - 1);
    if (!cmd) {
      *err = err_unknown;
      return C_ERR;
    }
    acl_change_perm(u, cmd, value);
    return C_OK;
  }
  /* +cmd|sub: a subcommand, or a first argument of a plain command. */
  redis_command *parent =
      acl_lookup_command_name(op + 1, (size_t)(bar - (op + 1)));
  if (!parent) {
    *err = err_unknown;
    return C_ERR;
  }
  const char *sub = bar + 1;
  size_t sublen = len - (size_t)(sub - op);
  if (memchr(sub, '|', sublen)) {
    /* Redis: a subcommand's first-arg is refused, other extra bars are
     * unknown names. */
    if (parent->subcommands) {
      const char *bar2 = memchr(sub, '|', sublen);
      redis_command *subcmd =
          acl_lookup_command_name(op + 1, (size_t)(bar2 - (op + 1)));
      if (subcmd) {
        *err = err_subfirstarg;
        return C_ERR;
      }
    }
    *err = err_unknown;
    return C_ERR;
  }
  if (sublen == 0) {
    *err = err_syntax;
    return C_ERR;
  }
  if (parent->subcommands) {
    redis_command *cmd = acl_lookup_command_name(op + 1, len - 1);
    if (!cmd) {
      *err = err_unknown;
      return C_ERR;
    }
    acl_change_perm(u, cmd, 1);
    return C_OK;
  }
  if (acl_add_firstarg(u, parent->id, sub, sublen) != C_OK) {
    *err = err_limit;
    return C_ERR;
  }
  return C_OK;
}

static int acl_set_selector_rule(acl_user *s, const char *op, size_t len,
                                 const char **err);

/* acl_rule_selector: "(rules)" adds a selector built from the
 * space-separated rules, which may only be permission rules. */
static int acl_rule_selector(acl_user *u, const char *body, size_t len,
                             const char **err) {
  if (list_length(u->selectors) >= ACL_SELECTORS_MAX) {
    *err = err_limit;
    return C_ERR;
  }
  acl_user *s = acl_user_new_detached("", 0);
  size_t pos = 0;
  while (pos < len) {
    const char *sp = memchr(body + pos, ' ', len - pos);
    size_t tlen = sp ? (size_t)(sp - (body + pos)) : len - pos;
    if (tlen > 0 && acl_set_selector_rule(s, body + pos, tlen, err) != C_OK) {
      acl_user_free(s);
      return C_ERR;
    }
    pos += tlen + 1;
  }
  acl_update_fast_path(s);
  list_add_node_tail(u->selectors, s);
  return C_OK;
}

static int acl_set_user_inner(acl_user *u, const char *op, size_t len,
                              const char **err) {
  if (len == 0) {
    return C_OK; /* Redis accepts an empty rule as a no-op */
  }
  if (len > ACL_RULE_MAX) {
    *err = err_syntax;
    return C_ERR;
  }
  if (acl_rule_is(op, len, "on")) {
    u->flags |= ACL_USER_ON;
  } else if (acl_rule_is(op, len, "off")) {
    u->flags &= ~ACL_USER_ON;
  } else if (acl_rule_is(op, len, "skip-sanitize-payload")) {
    u->flags |= ACL_USER_SKIP_SANITIZE;
    u->flags &= ~ACL_USER_SANITIZE;
  } else if (acl_rule_is(op, len, "sanitize-payload")) {
    u->flags &= ~ACL_USER_SKIP_SANITIZE;
    u->flags |= ACL_USER_SANITIZE;
  } else if (acl_rule_is(op, len, "nopass")) {
    u->flags |= ACL_USER_NOPASS;
    list_empty(u->passwords);
  } else if (acl_rule_is(op, len, "resetpass")) {
    u->flags &= ~ACL_USER_NOPASS;
    list_empty(u->passwords);
  } else if (acl_rule_is(op, len, "allkeys")) {
    u->flags |= ACL_USER_ALLKEYS;
    list_empty(u->patterns);
  } else if (acl_rule_is(op, len, "resetkeys")) {
    u->flags &= ~ACL_USER_ALLKEYS;
    list_empty(u->patterns);
  } else if (acl_rule_is(op, len, "allchannels")) {
    u->flags |= ACL_USER_ALLCHANNELS;
    list_empty(u->channels);
  } else if (acl_rule_is(op, len, "resetchannels")) {
    u->flags &= ~ACL_USER_ALLCHANNELS;
    list_empty(u->channels);
  } else if (acl_rule_is(op, len, "allcommands")) {
    acl_set_all_commands(u, 1);
  } else if (acl_rule_is(op, len, "nocommands")) {
    acl_set_all_commands(u, 0);
  } else if (acl_rule_is(op, len, "clearselectors")) {
    list_empty(u->selectors);
  } else if (op[0] == '(' && op[len - 1] == ')') {
    return acl_rule_selector(u, op + 1, len - 2, err);
  } else if (acl_rule_is(op, len, "reset")) {
    list_empty(u->selectors);
    u->flags &= ~(ACL_USER_NOPASS | ACL_USER_ALLKEYS | ACL_USER_ALLCHANNELS |
                  ACL_USER_ON | ACL_USER_SKIP_SANITIZE);
    list_empty(u->passwords);
    list_empty(u->patterns);
    list_empty(u->channels);
    if (server.acl_pubsub_default) {
      u->flags |= ACL_USER_ALLCHANNELS;
    }
    u->flags |= ACL_USER_SANITIZE;
    acl_set_all_commands(u, 0);
  } else if (op[0] == '>' || op[0] == '<' || op[0] == '#' || op[0] == '!') {
    return acl_rule_password(u, op, len, err);
  } else if (op[0] == '~' || op[0] == '%') {
    return acl_rule_key_pattern(u, op, len, err);
  } else if (op[0] == '&') {
    return acl_rule_channel(u, op, len, err);
  } else if ((op[0] == '+' || op[0] == '-') && len >= 2) {
    return acl_rule_command(u, op, len, err);
  } else {
    *err = err_syntax;
    return C_ERR;
  }
  return C_OK;
}

/* acl_set_selector_rule: the rules a selector accepts (no flags, no
 * passwords, no nested selectors), as Redis's ACLSetSelector. */
static int acl_set_selector_rule(acl_user *s, const char *op, size_t len,
                                 const char **err) {
  if (len > 0 && op[len - 1] == ')') {
    *err = err_selector_paren;
    return C_ERR;
  }
  if (acl_rule_is(op, len, "allkeys") || acl_rule_is(op, len, "resetkeys") ||
      acl_rule_is(op, len, "allchannels") ||
      acl_rule_is(op, len, "resetchannels") ||
      acl_rule_is(op, len, "allcommands") ||
      acl_rule_is(op, len, "nocommands") || op[0] == '~' || op[0] == '%' ||
      op[0] == '&' || ((op[0] == '+' || op[0] == '-') && len >= 2)) {
    return acl_set_user_inner(s, op, len, err);
  }
  *err = err_syntax;
  return C_ERR;
}

sds *acl_merge_selector_args(sds *argv, int argc, int *out_argc,
                             const char **bad) {
  sds *out = zmalloc(sizeof(sds) * (size_t)(argc > 0 ? argc : 1));
  int n = 0;
  sds open = NULL;
  const char *open_arg = NULL;
  for (int j = 0; j < argc; j++) {
    size_t l = sds_len(argv[j]);
    if (open) {
      open = sds_cat(open, " ");
      open = sds_cat_sds(open, argv[j]);
      if (l > 0 && argv[j][l - 1] == ')') {
        out[n++] = open;
        open = NULL;
      }
      continue;
    }
    if (l > 0 && argv[j][0] == '(' && argv[j][l - 1] != ')') {
      open = sds_dup(argv[j]);
      open_arg = argv[j];
      continue;
    }
    out[n++] = sds_dup(argv[j]);
  }
  if (open) {
    *bad = open_arg;
    sds_free(open);
    sds_free_split(out, n);
    return NULL;
  }
  *out_argc = n;
  return out;
}

int acl_set_user(acl_user *u, const char *op, size_t len, const char **err) {
  const char *dummy;
  int rc = acl_set_user_inner(u, op, len, err ? err : &dummy);
  acl_update_fast_path(u);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Descriptions                                                          */
/* ------------------------------------------------------------------ */
typedef struct acl_describe_arg {
  acl_user *u, *fake;
  sds rules;
} acl_describe_arg;

static void acl_visit_describe_single(redis_command *cmd, void *arg) {
  acl_describe_arg *a = arg;
  int userbit = acl_get_bit(a->u, cmd->id);
  int fakebit = acl_get_bit(a->fake, cmd->id);
  if (userbit != fakebit) {
    a->rules =
        sds_cat_printf(a->rules, "%c%s ", userbit ? '+' : '-', cmd->fullname);
    acl_change_perm(a->fake, cmd, userbit);
  }
  if (!userbit && a->u->firstargs && a->u->firstargs[cmd->id]) {
    for (sds *p = a->u->firstargs[cmd->id]; *p; p++) {
      a->rules = sds_cat_printf(a->rules, "+%s|%s ", cmd->fullname, *p);
    }
  }
}

sds acl_describe_commands(acl_user *u) {
  acl_user *fake = acl_user_new_detached("", 0);
  int additive = !(u->flags & ACL_USER_FUTURE_CMDS);
  sds rules = sds_new(additive ? "-@all " : "+@all ");
  acl_set_all_commands(fake, !additive);
  /* temp: the user's bitmap with the categories already emitted undone,
   * so a command counts for one emitted category only. */
  acl_user *temp = acl_user_new_detached("", 0);
  memcpy(temp->allowed, u->allowed, sizeof(uint64_t) * (size_t)acl_state.words);
  for (int j = 0; j < ACL_RULE_CATEGORY_COUNT; j++) {
    acl_cat_arg a = {temp, 1ULL << j, 0, 0, 0};
    acl_for_each_command(acl_visit_count_cat, &a);
    if ((additive && a.on > a.off) || (!additive && a.off > a.on)) {
      acl_set_category(fake, j, additive);
      acl_set_category(temp, j, !additive);
      rules = sds_cat_printf(rules, "%s@%s ", additive ? "+" : "-",
                             acl_rule_categories[j]);
    }
  }
  acl_user_free(temp);
  acl_describe_arg d = {u, fake, rules};
  acl_for_each_command(acl_visit_describe_single, &d);
  rules = d.rules;
  acl_user_free(fake);
  sds_range(rules, 0, -2); /* the trailing space */
  return rules;
}

sds acl_describe_keys(acl_user *u) {
  if (u->flags & ACL_USER_ALLKEYS) {
    return sds_new("~*");
  }
  sds s = sds_empty();
  list_iter li;
  list_node *ln;
  list_rewind(u->patterns, &li);
  while ((ln = list_next(&li))) {
    acl_key_pattern *kp = list_node_value(ln);
    if (sds_len(s)) {
      s = sds_cat(s, " ");
    }
    const char *prefix = kp->perms == ACL_PERM_ALL    ? "~"
                         : kp->perms == ACL_PERM_READ ? "%R~"
                                                      : "%W~";
    s = sds_cat(s, prefix);
    s = sds_cat_sds(s, kp->pattern);
  }
  return s;
}

sds acl_describe_channels(acl_user *u) {
  if (u->flags & ACL_USER_ALLCHANNELS) {
    return sds_new("&*");
  }
  sds s = sds_empty();
  list_iter li;
  list_node *ln;
  list_rewind(u->channels, &li);
  while ((ln = list_next(&li))) {
    if (sds_len(s)) {
      s = sds_cat(s, " ");
    }
    s = sds_cat(s, "&");
    s = sds_cat_sds(s, list_node_value(ln));
  }
  return s;
}

/* acl_describe_user: the rules part of an ACL LIST line. */
sds acl_describe_user(acl_user *u) {
  sds s = sds_new(u->flags & ACL_USER_ON ? "on" : "off");
  if (u->flags & ACL_USER_NOPASS) {
    s = sds_cat(s, " nopass");
  }
  if (u->flags & ACL_USER_SKIP_SANITIZE) {
    s = sds_cat(s, " skip-sanitize-payload");
  }
  if (u->flags & ACL_USER_SANITIZE) {
    s = sds_cat(s, " sanitize-payload");
  }
  list_iter li;
  list_node *ln;
  list_rewind(u->passwords, &li);
  while ((ln = list_next(&li))) {
    s = sds_cat(s, " #");
    s = sds_cat_sds(s, list_node_value(ln));
  }
  sds root = acl_describe_selector(u);
  s = sds_cat(s, " ");
  s = sds_cat_sds(s, root);
  sds_free(root);
  list_rewind(u->selectors, &li);
  while ((ln = list_next(&li))) {
    sds d = acl_describe_selector(list_node_value(ln));
    s = sds_cat_printf(s, " (%s)", d);
    sds_free(d);
  }
  return s;
}

/* acl_describe_selector: keys, channels (after "resetchannels" unless all
 * channels), commands. */
sds acl_describe_selector(acl_user *u) {
  sds s = acl_describe_keys(u);
  if (!(u->flags & ACL_USER_ALLCHANNELS)) {
    s = sds_cat(s, sds_len(s) ? " resetchannels" : "resetchannels");
  }
  sds chans = acl_describe_channels(u);
  if (sds_len(chans)) {
    s = sds_cat(s, sds_len(s) ? " " : "");
    s = sds_cat_sds(s, chans);
  }
  sds_free(chans);
  sds cmds = acl_describe_commands(u);
  s = sds_cat(s, sds_len(s) ? " " : "");
  s = sds_cat_sds(s, cmds);
  sds_free(cmds);
  return s;
}

/* ------------------------------------------------------------------ */
/* Checks                                                                */
/* ------------------------------------------------------------------ */
/* acl_check_password: constant time per stored hash (no early exit in the
 * comparison; every stored hash is compared). */
int acl_check_password(acl_user *u, const char *pass, size_t len) {
  if (u->flags & ACL_USER_NOPASS) {
    return 1;
  }
  if (len > ACL_PASSWORD_MAX) {
    return 0;
  }
  char hex[SHA256_HEX_LEN + 1];
  sha256_hex(pass, len, hex);
  int ok = 0;
  list_iter li;
  list_node *ln;
  list_rewind(u->passwords, &li);
  while ((ln = list_next(&li))) {
    const char *stored = list_node_value(ln);
    volatile unsigned char diff = 0;
    for (int i = 0; i < SHA256_HEX_LEN; i++) {
      diff |= (unsigned char)(hex[i] ^ stored[i]);
    }
    ok |= diff == 0;
  }
  return ok;
}

static int acl_key_allowed(acl_user *u, robj *key, int spec_flags) {
  int need = 0;
  if (spec_flags & KSPEC_ACCESS) {
    need |= ACL_PERM_READ;
  }
  if (spec_flags & (KSPEC_INSERT | KSPEC_DELETE | KSPEC_UPDATE)) {
    need |= ACL_PERM_WRITE;
  }
  char buf[LONG_STR_SIZE];
  const char *k;
  size_t klen;
  if (sds_encoded_object(key)) {
    k = key->ptr;
    klen = sds_len(key->ptr);
  } else {
    klen = (size_t)ll2string(buf, sizeof(buf), (long)key->ptr);
    k = buf;
  }
  list_iter li;
  list_node *ln;
  list_rewind(u->patterns, &li);
  while ((ln = list_next(&li))) {
    acl_key_pattern *kp = list_node_value(ln);
    if ((kp->perms & need) != need) {
      continue;
    }
    if (string_match_len(kp->pattern, (int)sds_len(kp->pattern), k, (int)klen,
                         0)) {
      return 1;
    }
  }
  return 0;
}

/* acl_channel_allowed_buf: literal channel (is_pattern: a PSUBSCRIBE
 * pattern must be one of the user's patterns exactly). */
static int acl_channel_allowed_buf(acl_user *u, const char *c, size_t len,
                                   int is_pattern) {
  list_iter li;
  list_node *ln;
  list_rewind(u->channels, &li);
  while ((ln = list_next(&li))) {
    sds p = list_node_value(ln);
    if (is_pattern ? (sds_len(p) == len && !memcmp(p, c, len))
                   : string_match_len(p, (int)sds_len(p), c, (int)len, 0)) {
      return 1;
    }
  }
  return 0;
}

static int acl_channel_allowed(acl_user *u, robj *ch, int is_pattern) {
  if (!sds_encoded_object(ch)) {
    char buf[LONG_STR_SIZE];
    int n = ll2string(buf, sizeof(buf), (long)ch->ptr);
    return acl_channel_allowed_buf(u, buf, (size_t)n, is_pattern);
  }
  return acl_channel_allowed_buf(u, ch->ptr, sds_len(ch->ptr), is_pattern);
}

static int acl_subscriptions_allowed(acl_user *u, dict *d, int is_pattern) {
  if (!d) {
    return 1;
  }
  int ok = 1;
  dict_iterator *di = dict_get_iterator(d);
  dict_entry *de;
  while (ok && (de = dict_next(di)) != NULL) {
    sds ch = dict_get_key(de);
    ok = acl_channel_allowed_buf(u, ch, sds_len(ch), is_pattern);
  }
  dict_release_iterator(di);
  return ok;
}

/* acl_kill_pubsub_clients_if_needed: after u's channels changed, clients
 * of u subscribed to a channel or pattern it may no longer use are
 * disconnected (Redis 7.0). */
void acl_kill_pubsub_clients_if_needed(acl_user *u) {
  if (u->flags & ACL_USER_ALLCHANNELS) {
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(server.clients, &li);
  while ((ln = list_next(&li))) {
    client *c = list_node_value(ln);
    if (c->user != u || !(c->flags & CLIENT_PUBSUB)) {
      continue;
    }
    if (acl_subscriptions_allowed(u, c->pubsub_channels, 0) &&
        acl_subscriptions_allowed(u, c->pubsub_shard_channels, 0) &&
        acl_subscriptions_allowed(u, c->pubsub_patterns, 1)) {
      continue;
    }
    if (c == server.current_client) {
      c->flags |= CLIENT_CLOSE_AFTER_COMMAND;
    } else {
      free_client_async(c);
    }
  }
}

/* acl_check_channels: which arguments of a pub/sub command are channels. */
static int acl_check_channels(acl_user *u, redis_command *cmd, robj **argv,
                              int argc, int *errpos) {
  const char *n = cmd->fullname;
  int first = 1, last = argc - 1, is_pattern = 0;
  if (!strcmp(n, "publish") || !strcmp(n, "spublish")) {
    last = 1;
  } else if (!strcmp(n, "subscribe") || !strcmp(n, "ssubscribe")) {
  } else if (!strcmp(n, "psubscribe")) {
    is_pattern = 1;
  } else {
    return ACL_OK;
  }
  for (int j = first; j <= last && j < argc; j++) {
    if (!acl_channel_allowed(u, argv[j], is_pattern)) {
      *errpos = j;
      return ACL_DENIED_CHANNEL;
    }
  }
  return ACL_OK;
}

static int acl_check_selector(acl_user *u, redis_command *cmd, robj **argv,
                              int argc, int *errpos);

/* acl_check_command: the root rules, then each selector; when all deny,
 * the most specific refusal (channel > key > command, then the later
 * argument) is reported, as Redis 7.0. */
int acl_check_command(acl_user *u, redis_command *cmd, robj **argv, int argc,
                      int *errpos) {
  *errpos = 0;
  if (u->all_perms) {
    return ACL_OK;
  }
  int pos = 0;
  int rc = acl_check_selector(u, cmd, argv, argc, &pos);
  if (rc == ACL_OK || list_length(u->selectors) == 0) {
    *errpos = pos;
    return rc;
  }
  int relevant = rc, last = pos;
  list_iter li;
  list_node *ln;
  list_rewind(u->selectors, &li);
  while ((ln = list_next(&li))) {
    pos = 0;
    int src = acl_check_selector(list_node_value(ln), cmd, argv, argc, &pos);
    if (src == ACL_OK) {
      return ACL_OK;
    }
    if (src > relevant || (src == relevant && pos > last)) {
      relevant = src;
      last = pos;
    }
  }
  *errpos = last;
  return relevant;
}

static int acl_check_selector(acl_user *u, redis_command *cmd, robj **argv,
                              int argc, int *errpos) {
  *errpos = 0;
  if (u->all_perms) {
    return ACL_OK;
  }
  if (!(u->flags & ACL_USER_ALLCOMMANDS) && !(cmd->flags & CMD_NO_AUTH) &&
      !acl_get_bit(u, cmd->id)) {
    sds *fa = u->firstargs ? u->firstargs[cmd->id] : NULL;
    if (!fa || argc < 2 || !sds_encoded_object(argv[1])) {
      return ACL_DENIED_CMD;
    }
    int found = 0;
    for (; *fa && !found; fa++) {
      found = strcasecmp(*fa, argv[1]->ptr) == 0;
    }
    if (!found) {
      return ACL_DENIED_CMD;
    }
  }
  if (!(u->flags & ACL_USER_ALLKEYS)) {
    get_keys_result result;
    int n = get_keys_from_command_with_specs(cmd, argv, argc, &result);
    for (int j = 0; j < n; j++) {
      int pos = result.keys[j].pos;
      if (pos < argc && !acl_key_allowed(u, argv[pos], result.keys[j].flags)) {
        *errpos = pos;
        get_keys_free_result(&result);
        return ACL_DENIED_KEY;
      }
    }
    get_keys_free_result(&result);
  }
  if (!(u->flags & ACL_USER_ALLCHANNELS) && (cmd->flags & CMD_PUBSUB)) {
    return acl_check_channels(u, cmd, argv, argc, errpos);
  }
  return ACL_OK;
}

/* acl_selector_reads_all_keys: the selector may read every key (allkeys,
 * or a read pattern that is exactly "*"). */
static int acl_selector_reads_all_keys(acl_user *s) {
  if (s->flags & ACL_USER_ALLKEYS) {
    return 1;
  }
  list_iter li;
  list_node *ln;
  list_rewind(s->patterns, &li);
  while ((ln = list_next(&li))) {
    acl_key_pattern *kp = list_node_value(ln);
    if ((kp->perms & ACL_PERM_READ) && !strcmp(kp->pattern, "*")) {
      return 1;
    }
  }
  return 0;
}

int acl_user_reads_all_keys(acl_user *u, redis_command *cmd, robj **argv,
                            int argc) {
  if (u == NULL || u->all_perms) {
    return 1;
  }
  int pos;
  if (acl_check_selector(u, cmd, argv, argc, &pos) == ACL_OK &&
      acl_selector_reads_all_keys(u)) {
    return 1;
  }
  list_iter li;
  list_node *ln;
  list_rewind(u->selectors, &li);
  while ((ln = list_next(&li))) {
    acl_user *s = list_node_value(ln);
    if (acl_check_selector(s, cmd, argv, argc, &pos) == ACL_OK &&
        acl_selector_reads_all_keys(s)) {
      return 1;
    }
  }
  return 0;
}
