/* module_cmds.c: the MODULE command of a server that never loads modules.
 *
 * Redis modules are shared objects loaded into the server process, with
 * the whole dataset and every client's data in reach. Redoubt keeps that
 * process small and hardened (no dlopen, a seccomp-confined TLS handshaker
 * beside it), so it loads none: MODULE LIST is empty, MODULE HELP is
 * Redis's, and MODULE LOAD, LOADEX and UNLOAD are refused with the reason.
 * The `loadmodule` directive is refused at start-up (config_load.c). The
 * table entries carry Redis 7.0's arity and flags, so COMMAND INFO and
 * COMMAND DOCS describe them as Redis does. */
#include <strings.h>

#include "server/cmds/cmds.h"
#include "server/core/server.h"

static const char *module_help[] = {
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional "
    "arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module "
    "configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    NULL};

/* module_refuse replies why |what| (LOAD, LOADEX, UNLOAD) does nothing. */
static void module_refuse(client *c, const char *what) {
  add_reply_error_format(c,
                         "MODULE %s is not supported: Redoubt does not load "
                         "shared objects into the process that holds the "
                         "dataset (see README)",
                         what);
}

/* module_command: every subcommand's proc; the dispatcher has checked the
 * subcommand's arity. */
static void module_command(client *c) {
  const char *sub = c->argv[1]->ptr;
  if (c->argc == 2 && !strcasecmp(sub, "help")) {
    add_reply_help(c, module_help);
  } else if (c->argc == 2 && !strcasecmp(sub, "list")) {
    add_reply_array_len(c, 0); /* no module is ever loaded */
  } else if (c->argc >= 3 && !strcasecmp(sub, "load")) {
    module_refuse(c, "LOAD");
  } else if (c->argc >= 3 && !strcasecmp(sub, "loadex")) {
    module_refuse(c, "LOADEX");
  } else if (c->argc == 3 && !strcasecmp(sub, "unload")) {
    module_refuse(c, "UNLOAD");
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

#define MODULE_ADMIN_ACL \
  (ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS)

static redis_command module_subcommands[] = {
    {.declared_name = "help",
     .summary = "Show helpful text about the different subcommands",
     .since = "5.0.0",
     .group = "server",
     .proc = module_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SLOW},
    {.declared_name = "list",
     .summary = "List all modules loaded by the server",
     .since = "4.0.0",
     .group = "server",
     .proc = module_command,
     .arity = 2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT,
     .acl_categories = MODULE_ADMIN_ACL},
    {.declared_name = "load",
     .summary = "Load a module",
     .since = "4.0.0",
     .group = "server",
     .proc = module_command,
     .arity = -3,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_PROTECTED,
     .acl_categories = MODULE_ADMIN_ACL},
    {.declared_name = "loadex",
     .summary = "Load a module with extended parameters",
     .since = "7.0.0",
     .group = "server",
     .proc = module_command,
     .arity = -3,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_PROTECTED,
     .acl_categories = MODULE_ADMIN_ACL},
    {.declared_name = "unload",
     .summary = "Unload a module",
     .since = "4.0.0",
     .group = "server",
     .proc = module_command,
     .arity = 3,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_PROTECTED,
     .acl_categories = MODULE_ADMIN_ACL},
    {0},
};

redis_command module_commands[] = {
    {.declared_name = "module",
     .summary = "A container for module commands",
     .since = "4.0.0",
     .group = "server",
     /* A container: the dispatcher runs the subcommand's proc. */
     .proc = module_command,
     .arity = -2,
     .flags = 0,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = module_subcommands},
    {0},
};
