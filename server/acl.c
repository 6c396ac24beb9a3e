/* acl.c: a first, partial ACL module. Only the read-only subcommands that do
 * not need a user database exist yet (WHOAMI, CAT, USERS, GENPASS, HELP); users,
 * rules, permission checks and ACL LOG are not implemented (see issue 5). */
#include "server.h"

#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

/* Redis 7.0 ACL CAT order; bit i is ACL_CATEGORY_* (1ULL << i). */
static const char *acl_category_names[] = {
    "keyspace",  "read",       "write",       "set",       "sortedset",
    "list",      "hash",       "string",      "bitmap",    "hyperloglog",
    "geo",       "stream",     "pubsub",      "admin",     "fast",
    "slow",      "blocking",   "dangerous",   "connection", "transaction",
    "scripting"};
#define ACL_CATEGORY_COUNT \
  ((int)(sizeof(acl_category_names) / sizeof(acl_category_names[0])))

/* Longest GENPASS request in bits, as Redis 7.0 (4096). */
#define ACL_GENPASS_MAX_BITS 4096

static int acl_category_bit(const char *name) {
  for (int i = 0; i < ACL_CATEGORY_COUNT; i++) {
    if (strcasecmp(name, acl_category_names[i]) == 0) {
      return i;
    }
  }
  return -1;
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
        add_reply_bulk_cstring(c, cmd->fullname ? cmd->fullname
                                                : cmd->declared_name);
      }
    }
    for (redis_command *sub = cmd->subcommands; sub && sub->declared_name;
         sub++) {
      if (sub->acl_categories & bit) {
        count++;
        if (emit) {
          add_reply_bulk_cstring(c, sub->fullname ? sub->fullname
                                                  : sub->declared_name);
        }
      }
    }
  }
  dict_release_iterator(di);
  return count;
}

static void acl_reply_cat_members(client *c, uint64_t bit) {
  add_reply_array_len(c, acl_walk_cat(c, bit, 0));
  acl_walk_cat(c, bit, 1);
}

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

static void acl_command(client *c) {
  const char *sub = c->argv[1]->ptr;
  if (strcasecmp(sub, "help") == 0 && c->argc == 2) {
    /* Redis 7.0's text, byte for byte (it lists subcommands not built yet). */
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
    add_reply_bulk_cstring(c, "default");
  } else if (strcasecmp(sub, "users") == 0 && c->argc == 2) {
    add_reply_array_len(c, 1);
    add_reply_bulk_cstring(c, "default");
  } else if (strcasecmp(sub, "cat") == 0 && c->argc <= 3) {
    if (c->argc == 2) {
      add_reply_array_len(c, ACL_CATEGORY_COUNT);
      for (int i = 0; i < ACL_CATEGORY_COUNT; i++) {
        add_reply_bulk_cstring(c, acl_category_names[i]);
      }
      return;
    }
    int bit = acl_category_bit(c->argv[2]->ptr);
    if (bit < 0) {
      add_reply_error_format(c, "Unknown category '%s'",
                             (char *)c->argv[2]->ptr);
      return;
    }
    acl_reply_cat_members(c, 1ULL << bit);
  } else if (strcasecmp(sub, "genpass") == 0 && c->argc <= 3) {
    long bits = 256;
    if (c->argc == 3) {
      if (get_long_from_object_or_reply(c, c->argv[2], &bits, NULL) !=
          C_OK) {
        return;
      }
      if (bits <= 0 || bits > ACL_GENPASS_MAX_BITS) {
        add_reply_error_format(
            c, "ACL GENPASS argument must be the number of bits for the "
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
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

#define ACL_SUB(name, sum, ar, fl, cats)                                   \
  {.declared_name = name, .summary = sum, .since = "6.0.0",              \
   .group = "server", .proc = acl_command, .arity = ar, .flags = fl,     \
   .acl_categories = cats}

static redis_command acl_subcommands[] = {
    ACL_SUB("cat",
            "List the ACL categories or the commands inside a category",
            -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
            ACL_CATEGORY_SLOW),
    ACL_SUB("genpass",
            "Generate a pseudorandom secure password to use for ACL users",
            -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
            ACL_CATEGORY_SLOW),
    ACL_SUB("help",
            "Show helpful text about the different subcommands",
            2, CMD_LOADING | CMD_STALE, ACL_CATEGORY_SLOW),
    ACL_SUB("users",
            "List the username of all the configured ACL rules",
            2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
            ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS),
    ACL_SUB("whoami",
            "Return the name of the user associated to the current connection",
            2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
            ACL_CATEGORY_SLOW),
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
