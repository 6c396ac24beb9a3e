/* acl.h: ACL users, rules and permission checks (Redis 7.0 semantics).
 *
 * acl_rules.c: the user table, rule parsing (ACL SETUSER syntax), user
 *   descriptions (ACL LIST / GETUSER), authentication and permission checks.
 * acl.c: the ACL command, ACL LOG, aclfile load/save, startup.
 * Selectors "(...)": extra permission sets; a command runs when the
 * user's root rules or any selector allow it. */
#ifndef REDOUBT_ACL_H
#define REDOUBT_ACL_H

#include "server/core/server.h"

/* user flags */
#define ACL_USER_ON (1u << 0)
#define ACL_USER_NOPASS (1u << 1)
#define ACL_USER_ALLKEYS (1u << 2)
#define ACL_USER_ALLCHANNELS (1u << 3)
#define ACL_USER_ALLCOMMANDS (1u << 4) /* every bit set: fast path */
#define ACL_USER_FUTURE_CMDS (1u << 5) /* +@all: allows new commands */
#define ACL_USER_SANITIZE (1u << 6)
#define ACL_USER_SKIP_SANITIZE (1u << 7)

/* key pattern permissions */
#define ACL_PERM_READ 1
#define ACL_PERM_WRITE 2
#define ACL_PERM_ALL (ACL_PERM_READ | ACL_PERM_WRITE)

/* check results */
#define ACL_OK 0
#define ACL_DENIED_CMD 1
#define ACL_DENIED_KEY 2
#define ACL_DENIED_AUTH 3
#define ACL_DENIED_CHANNEL 4

/* log contexts */
#define ACL_LOG_CTX_TOPLEVEL 0
#define ACL_LOG_CTX_LUA 1 /* a command a script ran (server/scripting) */
#define ACL_LOG_CTX_MULTI 2

/* Bounds on outside input (rules come from clients and files). */
#define ACL_USERNAME_MAX 1024
#define ACL_RULE_MAX (64 * 1024)
#define ACL_PATTERNS_MAX 10000 /* per user, keys and channels each */
#define ACL_PASSWORDS_MAX 1000 /* per user */
#define ACL_FIRSTARGS_MAX 1000 /* per command, "+select|0" style */
#define ACL_USERS_MAX 100000
#define ACL_PASSWORD_MAX (64 * 1024)
#define ACL_SELECTORS_MAX 1000 /* per user */

typedef struct acl_key_pattern {
  int perms; /* ACL_PERM_* */
  sds pattern;
} acl_key_pattern;

typedef struct user {
  sds name;
  uint32_t flags;
  /* Fast path: on-by-default checks skipped when all three hold. */
  int all_perms;
  list *passwords;   /* sds: 64 lowercase hex chars (SHA-256) */
  list *patterns;    /* acl_key_pattern* */
  list *channels;    /* sds */
  uint64_t *allowed; /* bit per command id */
  sds **firstargs;   /* per command id, NULL-terminated, or NULL */
  list *selectors;   /* acl_user* used as selectors (no name/passwords) */
} acl_user;

/* acl_rules.c */
void acl_init(void); /* after populate_command_table; idempotent */
acl_user *acl_default_user(void);
acl_user *acl_lookup_user(const char *name, size_t len);
acl_user *acl_create_user(const char *name, size_t len); /* NULL if exists */
acl_user *acl_user_new_detached(const char *name, size_t len);
void acl_user_free(acl_user *u);
void acl_user_copy(acl_user *dst, const acl_user *src);
/* acl_set_user applies one rule; on error returns C_ERR and *err is a
 * static message (Redis's wording). */
int acl_set_user(acl_user *u, const char *op, size_t len, const char **err);
sds acl_describe_user(acl_user *u);     /* "on nopass ~* &* +@all" */
sds acl_describe_selector(acl_user *s); /* "~a resetchannels -@all" */
/* acl_merge_selector_args: joins "(a" "b)" into "(a b)" as Redis does
 * before applying rules. Returns a new array (free with sds_free_split)
 * or NULL with *bad set to the argument starting the unmatched one. */
sds *acl_merge_selector_args(sds *argv, int argc, int *out_argc,
                             const char **bad);
sds acl_describe_commands(acl_user *u); /* "+@all -get" */
sds acl_describe_keys(acl_user *u);     /* "~* %R~a" or "" */
sds acl_describe_channels(acl_user *u); /* "&*" or "" */
/* acl_users_sorted: array of users sorted by name; *count set. Owned by the
 * module, valid until the next change of the user table. */
acl_user **acl_users_sorted(size_t *count);
int acl_delete_user(const char *name, size_t len); /* 1 if deleted */
void acl_replace_all_users(acl_user **users, size_t count);
int acl_username_valid(const char *name, size_t len);
int acl_check_password(acl_user *u, const char *pass, size_t len);
int acl_check_command(acl_user *u, redis_command *cmd, robj **argv, int argc,
                      int *errpos);
/* acl_user_reads_all_keys: 1 when the root rules or a selector of |u| (NULL:
 * no user, everything allowed) both allow this command and may read any
 * key, as SORT's BY and GET patterns need (Redis 7.0's
 * ACLUserCheckCmdWithUnrestrictedKeyAccess with CMD_KEY_ACCESS). */
int acl_user_reads_all_keys(acl_user *u, redis_command *cmd, robj **argv,
                            int argc);
void acl_kill_clients_of_user(acl_user *u);
void acl_kill_pubsub_clients_if_needed(acl_user *u);
void acl_update_default_user_password(const char *requirepass);

/* acl.c */
int acl_auth_required(client *c);
int acl_authenticate(client *c, robj *username, robj *password);
/* acl_check_client_or_reply: process_command's check; replies NOPERM and
 * logs when denied. C_OK when allowed. */
int acl_check_client_or_reply(client *c);
/* acl_check_exec: EXEC's re-check of one queued command; replies the
 * error and logs when denied. C_OK when allowed. */
int acl_check_exec(client *c);
void acl_log_add(client *c, int reason, int context, int argpos,
                 const char *username, const char *object);
const char *acl_client_username(client *c);
/* acl_config_user_line: a `user` directive from redis.conf. */
int acl_config_user_line(sds *argv, int argc, const char **err);
/* acl_load_startup: applies config users / aclfile; exits on error. */
void acl_load_startup(void);
/* acl_check_file_text parses an aclfile body without installing it (fuzz
 * target, tests): the user count, or -1 with *err pointing at Redis's
 * report (owned by the ACL module, valid until the next call). */
long acl_check_file_text(const char *path, const char *text, size_t len,
                         const char **err);
sds acl_rewrite_config_lines(void); /* "user ..." lines, for CONFIG REWRITE */

/* Categories in Redis 7.0 order; category i is bit (1ULL << i).
 * acl_category_name: NULL past the last. acl_category_from_name: index,
 * case-insensitive, or -1. */
const char *acl_category_name(int i);
int acl_category_from_name(const char *name, size_t len);

/* The ACL command table (terminated by {0}). */
extern redis_command acl_commands[];
/* acl_register gives the core its client_auth_ops (networking.h). */
void acl_register(void);

#endif
