/* acl.c: the ACL command, ACL LOG, authentication glue, the aclfile and
 * `user` directives (Redis 7.0 replies and error texts). Users, rules and
 * selectors live in acl_rules.c. */
#include "server/acl/acl.h"
#include "server/core/networking.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/base/zmalloc.h"

/* Longest GENPASS request in bits, as Redis 7.0 (4096). */
#define ACL_GENPASS_MAX_BITS 4096
/* Largest aclfile we read. */
#define ACL_FILE_MAX (64 * 1024 * 1024)
/* Lines in an aclfile we process (the loop budget). */
#define ACL_FILE_LINES_MAX (1024 * 1024)
/* ACL LOG grouping, as Redis: same entry within 60 s among the last 10. */
#define ACL_LOG_GROUPING_MS 60000
#define ACL_LOG_SCAN 10

/* `user` directives seen in the config file, applied after it loaded. */
static struct {
  sds *lines; /* each: the whole directive re-joined as argv */
  int *argcs;
  sds **argvs;
  int count;
} acl_config_users;

/* ------------------------------------------------------------------ */
/* ACL LOG                                                               */
/* ------------------------------------------------------------------ */
typedef struct acl_log_entry {
  long long count;
  int reason;
  int context;
  sds object;
  sds username;
  long long ctime; /* ms */
  sds cinfo;
} acl_log_entry;

static list *acl_log; /* newest first */

static void acl_log_free_entry(void *p) {
  acl_log_entry *e = p;
  sds_free(e->object);
  sds_free(e->username);
  sds_free(e->cinfo);
  zfree(e);
}

static list *acl_log_list(void) {
  if (!acl_log) {
    acl_log = list_create();
    list_set_free_method(acl_log, acl_log_free_entry);
  }
  return acl_log;
}

const char *acl_client_username(client *c) {
  acl_user *u = c->user ? c->user : acl_default_user();
  return u ? u->name : "default";
}

static sds acl_arg_sds(robj *o) {
  if (sds_encoded_object(o)) {
    return sds_dup(o->ptr);
  }
  return sds_from_longlong((long)o->ptr);
}

void acl_log_add(client *c, int reason, int context, int argpos,
                 const char *username, const char *object) {
  acl_log_entry *e = zcalloc(sizeof(*e));
  e->count = 1;
  e->reason = reason;
  e->context = context;
  if (object) {
    e->object = sds_new(object);
  } else if (reason == ACL_DENIED_AUTH) {
    /* The command as the client typed it ("AUTH", "hello"). */
    e->object = c->argc > 0 ? acl_arg_sds(c->argv[0]) : sds_new("AUTH");
  } else if (reason == ACL_DENIED_CMD) {
    e->object = sds_new(c->cmd ? c->cmd->fullname : "");
  } else if (argpos >= 0 && argpos < c->argc) {
    e->object = acl_arg_sds(c->argv[argpos]);
  } else {
    e->object = sds_empty();
  }
  e->username = sds_new(username ? username : acl_client_username(c));
  e->ctime = mstime();
  /* A script's command is logged with the client that ran the script. */
  client *info_client = c;
  if ((c->flags & CLIENT_SCRIPT) && server.current_client != NULL) {
    info_client = server.current_client;
  }
  e->cinfo = cat_client_info_string(sds_empty(), info_client);

  list *log = acl_log_list();
  list_iter li;
  list_node *ln;
  int toscan = ACL_LOG_SCAN;
  list_rewind(log, &li);
  while (toscan-- > 0 && (ln = list_next(&li))) {
    acl_log_entry *old = list_node_value(ln);
    if (old->reason == e->reason && old->context == e->context &&
        sds_cmp(old->object, e->object) == 0 &&
        sds_cmp(old->username, e->username) == 0 &&
        e->ctime - old->ctime <= ACL_LOG_GROUPING_MS) {
      /* Grouped: the new entry replaces the old one at the head. */
      e->count = old->count + 1;
      list_del_node(log, ln);
      list_add_node_head(log, e);
      return;
    }
  }
  list_add_node_head(log, e);
  while (list_length(log) > 0 && list_length(log) > server.acllog_max_len) {
    list_del_node(log, list_last(log));
  }
}

static void acl_log_command(client *c) {
  long count = 10;
  if (c->argc == 3) {
    if (sds_encoded_object(c->argv[2]) &&
        strcasecmp(c->argv[2]->ptr, "reset") == 0) {
      list_empty(acl_log_list());
      add_reply(c, shared.ok);
      return;
    }
    /* Redis 7.0: any integer; zero or negative lists nothing. */
    if (get_long_from_object_or_reply(c, c->argv[2], &count, NULL) != C_OK) {
      return;
    }
    if (count < 0) {
      count = 0;
    }
  } else if (c->argc > 3) {
    add_reply_subcommand_syntax_error(c);
    return;
  }
  list *log = acl_log_list();
  long n = (long)list_length(log) < count ? (long)list_length(log) : count;
  add_reply_array_len(c, n);
  static const char *reasons[] = {"", "command", "key", "auth", "channel"};
  long long now = mstime();
  list_iter li;
  list_node *ln;
  list_rewind(log, &li);
  for (long i = 0; i < n && (ln = list_next(&li)); i++) {
    acl_log_entry *e = list_node_value(ln);
    add_reply_map_len(c, 7);
    add_reply_bulk_cstring(c, "count");
    add_reply_long_long(c, e->count);
    add_reply_bulk_cstring(c, "reason");
    add_reply_bulk_cstring(c, reasons[e->reason]);
    add_reply_bulk_cstring(c, "context");
    add_reply_bulk_cstring(c, e->context == ACL_LOG_CTX_MULTI ? "multi"
                              : e->context == ACL_LOG_CTX_LUA ? "lua"
                                                              : "toplevel");
    add_reply_bulk_cstring(c, "object");
    add_reply_bulk_cbuffer(c, e->object, sds_len(e->object));
    add_reply_bulk_cstring(c, "username");
    add_reply_bulk_cbuffer(c, e->username, sds_len(e->username));
    add_reply_bulk_cstring(c, "age-seconds");
    add_reply_double(c, (double)(now - e->ctime) / 1000.0);
    add_reply_bulk_cstring(c, "client-info");
    add_reply_bulk_cbuffer(c, e->cinfo, sds_len(e->cinfo));
  }
}

/* ------------------------------------------------------------------ */
/* Authentication and checks                                             */
/* ------------------------------------------------------------------ */
int acl_auth_required(client *c) {
  acl_user *d = acl_default_user();
  if (!d) {
    return 0;
  }
  int open = (d->flags & ACL_USER_NOPASS) && (d->flags & ACL_USER_ON);
  return !open && !c->authenticated;
}

int acl_authenticate(client *c, robj *username, robj *password) {
  sds name = acl_arg_sds(username);
  sds pass = acl_arg_sds(password);
  acl_user *u = acl_lookup_user(name, sds_len(name));
  int ok = u && (u->flags & ACL_USER_ON) &&
           acl_check_password(u, pass, sds_len(pass));
  sds_free(pass);
  if (ok) {
    c->user = u;
    c->authenticated = 1;
  } else {
    acl_log_add(
        c, ACL_DENIED_AUTH,
        (c->flags & CLIENT_MULTI) ? ACL_LOG_CTX_MULTI : ACL_LOG_CTX_TOPLEVEL, 0,
        name, NULL);
  }
  sds_free(name);
  return ok;
}

static acl_user *acl_client_user(client *c) {
  return c->user ? c->user : acl_default_user();
}

int acl_check_client_or_reply(client *c) {
  acl_user *u = acl_client_user(c);
  if (!u || u->all_perms) {
    return C_OK; /* the fast path: +@all ~* &* */
  }
  int errpos = 0;
  int rc = acl_check_command(u, c->cmd, c->argv, c->argc, &errpos);
  if (rc == ACL_OK) {
    return C_OK;
  }
  acl_log_add(
      c, rc,
      (c->flags & CLIENT_MULTI) ? ACL_LOG_CTX_MULTI : ACL_LOG_CTX_TOPLEVEL,
      errpos, NULL, NULL);
  c->cmd->rejected_calls++;
  multi_flag_transaction(c);
  if (rc == ACL_DENIED_CMD) {
    add_reply_error_format(c,
                           "-NOPERM this user has no permissions to run the "
                           "'%s' command",
                           c->cmd->fullname);
  } else if (rc == ACL_DENIED_KEY) {
    add_reply_error(c,
                    "-NOPERM this user has no permissions to access one of "
                    "the keys used as arguments");
  } else {
    add_reply_error(c,
                    "-NOPERM this user has no permissions to access one of "
                    "the channels used as arguments");
  }
  return C_ERR;
}

int acl_check_exec(client *c) {
  acl_user *u = acl_client_user(c);
  if (!u || u->all_perms) {
    return C_OK;
  }
  int errpos = 0;
  int rc = acl_check_command(u, c->cmd, c->argv, c->argc, &errpos);
  if (rc == ACL_OK) {
    return C_OK;
  }
  const char *reason =
      rc == ACL_DENIED_CMD   ? "no permission to execute the command or "
                               "subcommand"
      : rc == ACL_DENIED_KEY ? "no permission to touch the specified keys"
                             : "no permission to access one of the channels "
                               "used as arguments";
  acl_log_add(c, rc, ACL_LOG_CTX_MULTI, errpos, NULL, NULL);
  add_reply_error_format(c,
                         "-NOPERM ACLs rules changed between the moment the "
                         "transaction was accumulated and the EXEC call. "
                         "This command is no longer allowed for the "
                         "following reason: %s",
                         reason);
  return C_ERR;
}

/* ------------------------------------------------------------------ */
/* aclfile                                                               */
/* ------------------------------------------------------------------ */
static sds acl_read_file(const char *path, sds *out_report) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *out_report = sds_cat_printf(sds_empty(),
                                 "Error loading ACLs, opening file "
                                 "'%s': %s",
                                 path, strerror(errno));
    return NULL;
  }
  sds buf = sds_empty();
  char chunk[16384];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    if (sds_len(buf) + (size_t)n > ACL_FILE_MAX) {
      close(fd);
      sds_free(buf);
      *out_report = sds_cat_printf(sds_empty(), "%s: file too large", path);
      return NULL;
    }
    buf = sds_cat_len(buf, chunk, (size_t)n);
  }
  close(fd);
  return buf;
}

/* acl_parse_users: the aclfile text into new users (not installed). On
 * error returns NULL and *out_report holds Redis's message. */
static acl_user **acl_parse_users(const char *path, const char *text,
                                  size_t len, size_t *count, sds *out_report) {
  acl_user **users = NULL;
  size_t n = 0, cap = 0;
  sds errs = sds_empty();
  size_t pos = 0;
  int linenum = 0;
  while (pos < len && linenum < ACL_FILE_LINES_MAX) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
    sds line = sds_new_len(text + pos, line_len);
    pos += line_len + (nl ? 1 : 0);
    linenum++;
    sds_trim(line, " \t\r\n");
    if (sds_len(line) == 0) {
      sds_free(line);
      continue;
    }
    int argc = 0;
    sds *argv = sds_split_args(line, &argc);
    sds_free(line);
    if (argv == NULL) {
      errs = sds_cat_printf(errs, "%s:%d: unbalanced quotes in acl line. ",
                            path, linenum);
      continue;
    }
    if (argc == 0) {
      sds_free_split(argv, argc);
      continue;
    }
    if (strcmp(argv[0], "user") != 0 || argc < 2) {
      errs = sds_cat_printf(errs,
                            "%s:%d should start with user keyword followed "
                            "by the username. ",
                            path, linenum);
      sds_free_split(argv, argc);
      continue;
    }
    if (!acl_username_valid(argv[1], sds_len(argv[1]))) {
      errs = sds_cat_printf(errs,
                            "'%s:%d: username '%s' contains invalid "
                            "characters. ",
                            path, linenum, argv[1]);
      sds_free_split(argv, argc);
      continue;
    }
    int dup = 0;
    for (size_t i = 0; i < n; i++) {
      if (sds_cmp(users[i]->name, argv[1]) == 0) {
        dup = 1;
      }
    }
    if (dup) {
      errs = sds_cat_printf(errs,
                            "WARNING: Duplicate user '%s' found on "
                            "line %d. ",
                            argv[1], linenum);
      sds_free_split(argv, argc);
      break; /* as Redis 7.0: later lines are not examined */
    }
    acl_user *u = acl_user_new_detached(argv[1], sds_len(argv[1]));
    int nops = 0;
    const char *bad = NULL;
    sds *ops = acl_merge_selector_args(argv + 2, argc - 2, &nops, &bad);
    if (!ops) {
      errs = sds_cat_printf(errs,
                            "%s:%d: Unmatched parenthesis in selector "
                            "definition. ",
                            path, linenum);
      nops = 0;
    }
    for (int j = 0; j < nops; j++) {
      const char *e = NULL;
      sds_trim(ops[j], "\t\r\n");
      if (acl_set_user(u, ops[j], sds_len(ops[j]), &e) != C_OK) {
        errs = sds_cat_printf(errs,
                              "%s:%d: Error in applying operation "
                              "'%s': %s. ",
                              path, linenum, ops[j], e);
      }
    }
    if (ops) {
      sds_free_split(ops, nops);
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      users = zrealloc(users, sizeof(acl_user *) * cap);
    }
    users[n++] = u;
    sds_free_split(argv, argc);
  }
  if (sds_len(errs)) {
    errs = sds_cat(errs,
                   "WARNING: ACL errors detected, no change to the "
                   "previously active ACL rules was performed");
    for (size_t i = 0; i < n; i++) {
      acl_user_free(users[i]);
    }
    zfree(users);
    *out_report = errs;
    return NULL;
  }
  sds_free(errs);
  if (users == NULL) {
    users = zmalloc(sizeof(acl_user *));
  }
  *count = n;
  return users;
}

/* The last acl_check_file_text report (acl.h: valid until the next call). */
static sds check_file_report;

long acl_check_file_text(const char *path, const char *text, size_t len,
                         const char **err) {
  size_t count = 0;
  sds_free(check_file_report);
  check_file_report = NULL;
  acl_user **users =
      acl_parse_users(path, text, len, &count, &check_file_report);
  if (!users) {
    *err = check_file_report;
    return -1;
  }
  for (size_t i = 0; i < count; i++) {
    acl_user_free(users[i]);
  }
  zfree(users);
  return (long)count;
}

/* acl_load_from_file: C_OK, or C_ERR with *out_report set (old users kept). */
static int acl_load_from_file(const char *path, sds *out_report) {
  sds text = acl_read_file(path, out_report);
  if (!text) {
    return C_ERR;
  }
  size_t count = 0;
  acl_user **users =
      acl_parse_users(path, text, sds_len(text), &count, out_report);
  sds_free(text);
  if (!users) {
    return C_ERR;
  }
  acl_replace_all_users(users, count);
  zfree(users);
  acl_kill_pubsub_clients_if_needed(acl_default_user());
  return C_OK;
}

static sds acl_all_user_lines(void) {
  sds s = sds_empty();
  size_t count;
  acl_user **users = acl_users_sorted(&count);
  for (size_t i = 0; i < count; i++) {
    sds d = acl_describe_user(users[i]);
    s = sds_cat_printf(s, "user %s %s\n", users[i]->name, d);
    sds_free(d);
  }
  return s;
}

sds acl_rewrite_config_lines(void) { return acl_all_user_lines(); }

/* acl_save_to_file: write a temp file, fsync, rename, as Redis. */
static int acl_save_to_file(const char *path) {
  sds content = acl_all_user_lines();
  sds tmp = sds_cat_printf(sds_empty(), "%s.tmp-%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int ok = fd >= 0;
  size_t off = 0;
  while (ok && off < sds_len(content)) {
    ssize_t w = write(fd, content + off, sds_len(content) - off);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      ok = 0;
      break;
    }
    off += (size_t)w;
  }
  if (fd >= 0) {
    if (ok && fsync(fd) != 0) {
      ok = 0;
    }
    close(fd);
  }
  if (ok && rename(tmp, path) != 0) {
    ok = 0;
  }
  if (!ok) {
    server_log(LL_WARNING, "Saving ACL file %s: %s", path, strerror(errno));
    unlink(tmp);
  }
  sds_free(tmp);
  sds_free(content);
  return ok ? C_OK : C_ERR;
}

int acl_config_user_line(sds *argv, int argc, const char **err) {
  if (argc < 2) {
    *err = "Bad directive or wrong number of arguments";
    return 0;
  }
  if (acl_config_users.count >= ACL_USERS_MAX) {
    *err = "Too many users";
    return 0;
  }
  int n = acl_config_users.count;
  acl_config_users.argvs =
      zrealloc(acl_config_users.argvs, sizeof(sds *) * (size_t)(n + 1));
  acl_config_users.argcs =
      zrealloc(acl_config_users.argcs, sizeof(int) * (size_t)(n + 1));
  sds *copy = zmalloc(sizeof(sds) * (size_t)argc);
  for (int j = 0; j < argc; j++) {
    copy[j] = sds_dup(argv[j]);
  }
  acl_config_users.argvs[n] = copy;
  acl_config_users.argcs[n] = argc;
  acl_config_users.count++;
  return 1;
}

static void acl_config_users_free(void) {
  for (int i = 0; i < acl_config_users.count; i++) {
    sds_free_split(acl_config_users.argvs[i], acl_config_users.argcs[i]);
  }
  zfree(acl_config_users.argvs);
  zfree(acl_config_users.argcs);
  memset(&acl_config_users, 0, sizeof(acl_config_users));
}

void acl_load_startup(void) {
  acl_init();
  acl_update_default_user_password(server.requirepass);
  int have_file = server.acl_filename && server.acl_filename[0];
  if (acl_config_users.count && have_file) {
    server_log(LL_WARNING,
               "Configuring Redis with users defined in redis.conf and at "
               "the same setting an ACL file path is invalid. This setup "
               "is very likely to lead to configuration errors and security "
               "holes, please define either an ACL file or declare users "
               "directly in your redis.conf, but not both.");
    exit(1);
  }
  for (int i = 0; i < acl_config_users.count; i++) {
    sds *argv = acl_config_users.argvs[i];
    int argc = acl_config_users.argcs[i];
    if (!acl_username_valid(argv[1], sds_len(argv[1]))) {
      server_log(LL_WARNING,
                 "Error loading ACL rule for the user named "
                 "'%s': usernames can't contain spaces or null "
                 "characters",
                 argv[1]);
      server_log(LL_WARNING, "Critical error while loading ACLs. Exiting.");
      exit(1);
    }
    acl_user *u = acl_lookup_user(argv[1], sds_len(argv[1]));
    if (!u) {
      u = acl_create_user(argv[1], sds_len(argv[1]));
    } else {
      acl_set_user(u, "reset", 5, NULL);
    }
    int nops = 0;
    const char *bad = NULL;
    sds *ops = acl_merge_selector_args(argv + 2, argc - 2, &nops, &bad);
    if (!ops) {
      server_log(LL_WARNING,
                 "Unmatched parenthesis in acl selector starting "
                 "at '%s'.",
                 bad);
      server_log(LL_WARNING, "Critical error while loading ACLs. Exiting.");
      exit(1);
    }
    for (int j = 0; j < nops; j++) {
      const char *e = NULL;
      if (acl_set_user(u, ops[j], sds_len(ops[j]), &e) != C_OK) {
        server_log(LL_WARNING,
                   "Error loading ACL rule '%s' for the user named '%s': %s",
                   ops[j], argv[1], e);
        server_log(LL_WARNING, "Critical error while loading ACLs. Exiting.");
        exit(1);
      }
    }
    sds_free_split(ops, nops);
  }
  acl_config_users_free();
  if (have_file) {
    sds errors = NULL;
    if (acl_load_from_file(server.acl_filename, &errors) != C_OK) {
      server_log(LL_WARNING, "Aborting Redis startup because of ACL errors: %s",
                 errors);
      sds_free(errors);
      exit(1);
    }
  }
}

/* ------------------------------------------------------------------ */
/* ACL subcommands                                                       */
/* ------------------------------------------------------------------ */
static int acl_random_bytes(unsigned char *p, size_t len) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n <= 0) {
      close(fd);
      return -1;
    }
    got += (size_t)n;
  }
  close(fd);
  return 0;
}

/* Emits (when emit) and counts the commands and subcommands in the
 * category, by full name ("config|get") as Redis 7.0's ACL CAT does. */
static long acl_walk_cat(client *c, uint64_t bit, int emit) {
  long count = 0;
  dict_iterator *di = dict_get_iterator(server.commands);
  dict_entry *de;
  while ((de = dict_next(di)) != NULL) {
    redis_command *cmd = dict_get_val(de);
    if (cmd->acl_categories & bit) {
      count++;
      if (emit) {
        add_reply_bulk_cstring(c, cmd->fullname);
      }
    }
    for (redis_command *sub = cmd->subcommands; sub && sub->declared_name;
         sub++) {
      if (sub->acl_categories & bit) {
        count++;
        if (emit) {
          add_reply_bulk_cstring(c, sub->fullname);
        }
      }
    }
  }
  dict_release_iterator(di);
  return count;
}

static void acl_cat_command(client *c) {
  if (c->argc == 2) {
    int n = 0;
    while (acl_category_name(n) != NULL) {
      n++;
    }
    add_reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
      add_reply_bulk_cstring(c, acl_category_name(i));
    }
    return;
  }
  sds name = acl_arg_sds(c->argv[2]);
  int i = acl_category_from_name(name, sds_len(name));
  if (i >= 0) {
    add_reply_array_len(c, acl_walk_cat(c, 1ULL << i, 0));
    acl_walk_cat(c, 1ULL << i, 1);
  } else {
    add_reply_error_format(c, "Unknown category '%s'", name);
  }
  sds_free(name);
}

static void acl_genpass_command(client *c) {
  long bits = 256;
  if (c->argc == 3) {
    if (get_long_from_object_or_reply(c, c->argv[2], &bits, NULL) != C_OK) {
      return;
    }
    if (bits <= 0 || bits > ACL_GENPASS_MAX_BITS) {
      add_reply_error_format(
          c,
          "ACL GENPASS argument must be the number of bits for the "
          "output password, a positive number up to %d",
          ACL_GENPASS_MAX_BITS);
      return;
    }
  }
  long chars = (bits + 3) / 4;
  unsigned char raw[ACL_GENPASS_MAX_BITS / 8];
  if (acl_random_bytes(raw, (size_t)(chars + 1) / 2) != 0) {
    add_reply_error(c, "ERR cannot read random bytes");
    return;
  }
  char hex[ACL_GENPASS_MAX_BITS / 4 + 1];
  static const char digits[] = "0123456789abcdef";
  for (long i = 0; i < chars; i++) {
    unsigned char b = raw[i / 2];
    hex[i] = digits[(i % 2) ? (b & 0xf) : (b >> 4)];
  }
  add_reply_bulk_cbuffer(c, hex, (size_t)chars);
}

static void acl_setuser_command(client *c) {
  /* Every argument from the user name on is hidden from SLOWLOG (and
   * MONITOR), as Redis 7.0: the rules carry passwords and hashes. */
  for (int j = 2; j < c->argc; j++) {
    redact_client_command_argument(c, j);
  }
  sds name = acl_arg_sds(c->argv[2]);
  if (!acl_username_valid(name, sds_len(name))) {
    add_reply_error(c, "Usernames can't contain spaces or null characters");
    sds_free(name);
    return;
  }
  acl_user *existing = acl_lookup_user(name, sds_len(name));
  /* Rules apply to a copy: on error the user is left unchanged. */
  acl_user *tmp = acl_user_new_detached(name, sds_len(name));
  if (existing) {
    acl_user_copy(tmp, existing);
  }
  int nargs = c->argc - 3, nops = 0;
  sds *args = zmalloc(sizeof(sds) * (size_t)(nargs > 0 ? nargs : 1));
  for (int j = 0; j < nargs; j++) {
    args[j] = acl_arg_sds(c->argv[j + 3]);
  }
  const char *bad = NULL;
  sds *ops = acl_merge_selector_args(args, nargs, &nops, &bad);
  if (!ops) {
    add_reply_error_format(c,
                           "Unmatched parenthesis in acl selector "
                           "starting at '%s'.",
                           bad);
  }
  sds_free_split(args, nargs);
  if (!ops) {
    acl_user_free(tmp);
    sds_free(name);
    return;
  }
  for (int j = 0; j < nops; j++) {
    const char *err = NULL;
    if (acl_set_user(tmp, ops[j], sds_len(ops[j]), &err) != C_OK) {
      add_reply_error_format(c, "Error in ACL SETUSER modifier '%s': %s",
                             ops[j], err);
      sds_free_split(ops, nops);
      acl_user_free(tmp);
      sds_free(name);
      return;
    }
  }
  sds_free_split(ops, nops);
  if (!existing) {
    existing = acl_create_user(name, sds_len(name));
    if (!existing) {
      add_reply_error(c, "Too many users");
      acl_user_free(tmp);
      sds_free(name);
      return;
    }
  }
  acl_user_copy(existing, tmp);
  acl_user_free(tmp);
  sds_free(name);
  acl_kill_pubsub_clients_if_needed(existing);
  add_reply(c, shared.ok);
}

/* acl_reply_permissions: the "commands", "keys" and "channels" fields of
 * ACL GETUSER, for the root rules or one selector (three map pairs). */
static void acl_reply_permissions(client *c, acl_user *u) {
  add_reply_bulk_cstring(c, "commands");
  add_reply_bulk_sds(c, acl_describe_commands(u));
  add_reply_bulk_cstring(c, "keys");
  add_reply_bulk_sds(c, acl_describe_keys(u));
  add_reply_bulk_cstring(c, "channels");
  add_reply_bulk_sds(c, acl_describe_channels(u));
}

static void acl_getuser_command(client *c) {
  sds name = acl_arg_sds(c->argv[2]);
  acl_user *u = acl_lookup_user(name, sds_len(name));
  sds_free(name);
  if (!u) {
    add_reply_null(c);
    return;
  }
  add_reply_map_len(c, 6);
  add_reply_bulk_cstring(c, "flags");
  const char *flags[4];
  int nf = 0;
  flags[nf++] = (u->flags & ACL_USER_ON) ? "on" : "off";
  if (u->flags & ACL_USER_NOPASS) {
    flags[nf++] = "nopass";
  }
  if (u->flags & ACL_USER_SKIP_SANITIZE) {
    flags[nf++] = "skip-sanitize-payload";
  }
  if (u->flags & ACL_USER_SANITIZE) {
    flags[nf++] = "sanitize-payload";
  }
  add_reply_set_len(c, nf);
  for (int i = 0; i < nf; i++) {
    add_reply_bulk_cstring(c, flags[i]);
  }
  add_reply_bulk_cstring(c, "passwords");
  add_reply_array_len(c, (long)list_length(u->passwords));
  list_iter li;
  list_node *ln;
  list_rewind(u->passwords, &li);
  while ((ln = list_next(&li))) {
    sds p = list_node_value(ln);
    add_reply_bulk_cbuffer(c, p, sds_len(p));
  }
  acl_reply_permissions(c, u);
  add_reply_bulk_cstring(c, "selectors");
  add_reply_array_len(c, (long)list_length(u->selectors));
  list_rewind(u->selectors, &li);
  while ((ln = list_next(&li))) {
    add_reply_map_len(c, 3);
    acl_reply_permissions(c, list_node_value(ln));
  }
}

static void acl_deluser_command(client *c) {
  long long deleted = 0;
  for (int j = 2; j < c->argc; j++) {
    sds name = acl_arg_sds(c->argv[j]);
    if (strcmp(name, "default") == 0) {
      sds_free(name);
      add_reply_error(c, "The 'default' user cannot be removed");
      return;
    }
    sds_free(name);
  }
  for (int j = 2; j < c->argc; j++) {
    sds name = acl_arg_sds(c->argv[j]);
    deleted += acl_delete_user(name, sds_len(name));
    sds_free(name);
  }
  add_reply_long_long(c, deleted);
}

static void acl_dryrun_command(client *c) {
  sds name = acl_arg_sds(c->argv[2]);
  acl_user *u = acl_lookup_user(name, sds_len(name));
  if (!u) {
    add_reply_error_format(c, "User '%s' not found", name);
    sds_free(name);
    return;
  }
  sds_free(name);
  redis_command *cmd = lookup_command(c->argv + 3, c->argc - 3);
  if (!cmd) {
    sds cname = acl_arg_sds(c->argv[3]);
    add_reply_error_format(c, "Command '%s' not found", cname);
    sds_free(cname);
    return;
  }
  int argc = c->argc - 3;
  if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
    add_reply_error_format(c, "wrong number of arguments for '%s' command",
                           cmd->fullname);
    return;
  }
  int errpos = 0;
  robj **argv = c->argv + 3;
  int rc = acl_check_command(u, cmd, argv, argc, &errpos);
  if (rc == ACL_OK) {
    add_reply(c, shared.ok);
    return;
  }
  sds msg;
  if (rc == ACL_DENIED_CMD) {
    msg = sds_cat_printf(sds_empty(),
                         "This user has no permissions to run the '%s' "
                         "command",
                         cmd->fullname);
  } else {
    sds obj = acl_arg_sds(argv[errpos]);
    msg = sds_cat_printf(sds_empty(),
                         "This user has no permissions to access the '%s' %s",
                         obj, rc == ACL_DENIED_KEY ? "key" : "channel");
    sds_free(obj);
  }
  add_reply_bulk_sds(c, msg);
}

static void acl_reply_no_file(client *c) {
  add_reply_error(c,
                  "This Redis instance is not configured to use an ACL file. "
                  "You may want to specify users via the ACL SETUSER command "
                  "and then issue a CONFIG REWRITE (assuming you have a Redis "
                  "configuration file set) in order to store users in the "
                  "Redis configuration.");
}

static void acl_command(client *c) {
  const char *sub = c->argv[1]->ptr;
  if (strcasecmp(sub, "help") == 0 && c->argc == 2) {
    /* Redis 7.0's text, byte for byte. */
    static const char *help[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command "
        "categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without "
        "executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` "
        "argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL};
    add_reply_help(c, help);
  } else if (strcasecmp(sub, "whoami") == 0 && c->argc == 2) {
    add_reply_bulk_cstring(c, acl_client_username(c));
  } else if (strcasecmp(sub, "users") == 0 && c->argc == 2) {
    size_t count;
    acl_user **users = acl_users_sorted(&count);
    add_reply_array_len(c, (long)count);
    for (size_t i = 0; i < count; i++) {
      add_reply_bulk_cbuffer(c, users[i]->name, sds_len(users[i]->name));
    }
  } else if (strcasecmp(sub, "list") == 0 && c->argc == 2) {
    size_t count;
    acl_user **users = acl_users_sorted(&count);
    add_reply_array_len(c, (long)count);
    for (size_t i = 0; i < count; i++) {
      sds d = acl_describe_user(users[i]);
      add_reply_bulk_sds(
          c, sds_cat_printf(sds_empty(), "user %s %s", users[i]->name, d));
      sds_free(d);
    }
  } else if (strcasecmp(sub, "cat") == 0 && c->argc <= 3) {
    acl_cat_command(c);
  } else if (strcasecmp(sub, "genpass") == 0 && c->argc <= 3) {
    acl_genpass_command(c);
  } else if (strcasecmp(sub, "setuser") == 0 && c->argc >= 3) {
    acl_setuser_command(c);
  } else if (strcasecmp(sub, "getuser") == 0 && c->argc == 3) {
    acl_getuser_command(c);
  } else if (strcasecmp(sub, "deluser") == 0 && c->argc >= 3) {
    acl_deluser_command(c);
  } else if (strcasecmp(sub, "dryrun") == 0 && c->argc >= 4) {
    acl_dryrun_command(c);
  } else if (strcasecmp(sub, "log") == 0) {
    acl_log_command(c);
  } else if (strcasecmp(sub, "save") == 0 && c->argc == 2) {
    if (!server.acl_filename || !server.acl_filename[0]) {
      acl_reply_no_file(c);
    } else if (acl_save_to_file(server.acl_filename) != C_OK) {
      add_reply_error(c,
                      "There was an error trying to save the ACLs. "
                      "Please check the server logs for more information");
    } else {
      add_reply(c, shared.ok);
    }
  } else if (strcasecmp(sub, "load") == 0 && c->argc == 2) {
    if (!server.acl_filename || !server.acl_filename[0]) {
      acl_reply_no_file(c);
      return;
    }
    sds errors = NULL;
    if (acl_load_from_file(server.acl_filename, &errors) != C_OK) {
      add_reply_error_format(c, "%s", errors);
      sds_free(errors);
    } else {
      add_reply(c, shared.ok);
    }
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

#define ACL_SUB(name, sum, ar, fl) ACL_SUB_SINCE(name, sum, ar, fl, "6.0.0")
#define ACL_SUB_SINCE(name, sum, ar, fl, since_)                               \
  {                                                                            \
    .declared_name = name, .summary = sum, .since = since_, .group = "server", \
    .proc = acl_command, .arity = ar, .flags = fl, .acl_categories = 0         \
  }
#define ACL_ADMIN_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

static redis_command acl_subcommands[] = {
    ACL_SUB("cat", "List the ACL categories or the commands inside a category",
            -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE),
    ACL_SUB("deluser",
            "Remove the specified ACL users and the associated "
            "rules",
            -3, ACL_ADMIN_FLAGS),
    ACL_SUB_SINCE("dryrun",
                  "Returns whether the user can execute the given "
                  "command without executing the command.",
                  -4, ACL_ADMIN_FLAGS, "7.0.0"),
    ACL_SUB("genpass",
            "Generate a pseudorandom secure password to use for ACL users", -2,
            CMD_NOSCRIPT | CMD_LOADING | CMD_STALE),
    ACL_SUB("getuser", "Get the rules for a specific ACL user", 3,
            ACL_ADMIN_FLAGS),
    ACL_SUB("help", "Show helpful text about the different subcommands", 2,
            CMD_LOADING | CMD_STALE),
    ACL_SUB("list", "List the current ACL rules in ACL config file format", 2,
            ACL_ADMIN_FLAGS),
    ACL_SUB("load", "Reload the ACLs from the configured ACL file", 2,
            ACL_ADMIN_FLAGS),
    ACL_SUB("log", "List latest events denied because of ACLs in place", -2,
            ACL_ADMIN_FLAGS),
    ACL_SUB("save", "Save the current ACL rules in the configured ACL file", 2,
            ACL_ADMIN_FLAGS),
    ACL_SUB("setuser", "Modify or create the rules for a specific ACL user", -3,
            ACL_ADMIN_FLAGS),
    ACL_SUB("users", "List the username of all the configured ACL rules", 2,
            ACL_ADMIN_FLAGS),
    ACL_SUB("whoami",
            "Return the name of the user associated to the current "
            "connection",
            2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE),
    {0},
};

redis_command acl_commands[] = {
    {.declared_name = "acl",
     .summary = "A container for Access List Control commands ",
     .since = "6.0.0",
     .group = "server",
     .proc = acl_command,
     .arity = -2,
     .flags = 0,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = acl_subcommands},
    {0},
};

static void acl_init_client(client *c) {
  c->user = acl_default_user();
  c->authenticated = !acl_auth_required(c);
}

static int acl_default_user_nopass(void) {
  acl_user *d = acl_default_user();
  return d == NULL || (d->flags & ACL_USER_NOPASS) != 0;
}

static const client_auth_ops acl_client_auth_ops = {
    .init_client = acl_init_client,
    .auth_required = acl_auth_required,
    .user_name = acl_client_username,
    .default_user_nopass = acl_default_user_nopass,
};

void acl_register(void) { client_set_auth_ops(&acl_client_auth_ops); }
