/* eval.c: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: the script cache
 * (sha1 -> body and flags; the compiled function lives in the Lua
 * registry as f_<sha>) and the Lua state scripts share. */
#include <ctype.h>
#include <lauxlib.h>
#include <string.h>

#include "server/base/zmalloc.h"
#include "server/scripting/internal.h"

typedef struct eval_script {
  robj *body;
  uint64_t flags; /* SCRIPT_FLAG_* */
} eval_script;

static void eval_script_destructor(void *val) {
  eval_script *s = val;
  decr_ref_count(s->body);
  zfree(s);
}

/* Keys are sds, lookups plain C strings: hashed and compared by strlen.
 * The keys are lower-case hex, and so is every lookup (funcname_of, SCRIPT
 * EXISTS lower the user's sha first): EVALSHA and SCRIPT EXISTS are
 * case-insensitive as in Redis, for the price of a case-sensitive hash. */
static uint64_t str_hash(const void *key) {
  return dict_gen_hash_function(key, strlen(key));
}

static int str_key_compare(const void *a, const void *b) {
  return strcmp(a, b) == 0;
}

/* sha (sds) -> eval_script */
static dict_type scripts_dict_type = {str_hash,
                                      NULL,
                                      NULL,
                                      str_key_compare,
                                      dict_sds_destructor,
                                      eval_script_destructor,
                                      NULL};

static struct {
  lua_State *lua;
  client *client; /* the fake client scripts run commands with */
  dict *scripts;
  size_t scripts_mem; /* the bodies and keys, as Redis accounts them */
  /* The script process_command looked up for its flags, so that EVAL does
   * not hash its body twice: argv[1] of that command (a reference is held,
   * so the address cannot be reused by another body) and its sha. */
  robj *flags_body;
  char flags_sha[41];
} ev;

static void flags_cache_clear(void) {
  if (ev.flags_body != NULL) {
    decr_ref_count(ev.flags_body);
    ev.flags_body = NULL;
  }
}

static void flags_cache_set(robj *body, const char *sha) {
  flags_cache_clear();
  incr_ref_count(body);
  ev.flags_body = body;
  memcpy(ev.flags_sha, sha, 41);
}

static void eval_state_create(void) {
  ev.lua = script_lua_new_state(1);
  script_lua_protect_globals(ev.lua);
  ev.scripts = dict_create(&scripts_dict_type);
  ev.scripts_mem = 0;
}

void eval_init(void) {
  eval_state_create();
  ev.client = create_client(NULL);
  ev.client->flags |= CLIENT_SCRIPT;
}

static void eval_reset(void) {
  lua_close(ev.lua);
  dict_release(ev.scripts);
  flags_cache_clear();
  eval_state_create();
}

size_t eval_lua_memory(void) { return script_lua_memory(ev.lua); }

size_t eval_scripts_memory(void) {
  return ev.scripts_mem +
         dict_size(ev.scripts) * (sizeof(dict_entry) + sizeof(eval_script)) +
         dict_slots(ev.scripts) * sizeof(dict_entry *);
}

unsigned long eval_scripts_count(void) { return dict_size(ev.scripts); }

/* ------------------------------------------------------------------ */
/* Shebang and compilation                                              */
/* ------------------------------------------------------------------ */
int script_extract_shebang_flags(const char *body, size_t len,
                                 uint64_t *out_flags, size_t *out_shebang_len,
                                 const char **err) {
  (void)len;
  uint64_t flags = SCRIPT_FLAG_EVAL_COMPAT_MODE;
  size_t shebang_len = 0;
  if (strncmp(body, "#!", 2) == 0) {
    /* C string semantics, as Redis: the line ends at the first newline
     * before any NUL. */
    const char *end = strchr(body, '\n');
    if (end == NULL) {
      *err = "Invalid script shebang";
      return C_ERR;
    }
    shebang_len = (size_t)(end - body);
    sds shebang = sds_new_len(body, shebang_len);
    int numparts;
    sds *parts = sds_split_args(shebang, &numparts);
    sds_free(shebang);
    if (parts == NULL || numparts == 0) {
      *err = "Invalid engine in script shebang";
      sds_free_split(parts, numparts);
      return C_ERR;
    }
    if (strcmp(parts[0], "#!lua") != 0) {
      *err = script_errorf("Unexpected engine in script shebang: %s", parts[0]);
      sds_free_split(parts, numparts);
      return C_ERR;
    }
    flags &= ~SCRIPT_FLAG_EVAL_COMPAT_MODE;
    for (int j = 1; j < numparts; j++) {
      if (strncmp(parts[j], "flags=", 6) != 0) {
        *err = script_errorf("Unknown lua shebang option: %s", parts[j]);
        sds_free_split(parts, numparts);
        return C_ERR;
      }
      int numflags;
      sds *names = sds_split_len(parts[j] + 6, (ssize_t)sds_len(parts[j]) - 6,
                                 ",", 1, &numflags);
      for (int k = 0; k < numflags; k++) {
        const script_flag_name *sf;
        for (sf = script_flag_names; sf->name; sf++) {
          if (strcmp(names[k], sf->name) == 0) {
            break;
          }
        }
        if (sf->name == NULL) {
          *err =
              script_errorf("Unexpected flag in script shebang: %s", names[k]);
          sds_free_split(names, numflags);
          sds_free_split(parts, numparts);
          return C_ERR;
        }
        flags |= sf->flag;
      }
      sds_free_split(names, numflags);
    }
    sds_free_split(parts, numparts);
  }
  *out_flags = flags;
  if (out_shebang_len) {
    *out_shebang_len = shebang_len;
  }
  return C_OK;
}

/* string_used_memory: what a string object's characters take (Redis's
 * getStringObjectSdsUsedMemory). */
static size_t string_used_memory(robj *o) {
  switch (o->encoding) {
    case OBJ_ENCODING_RAW:
      return sds_alloc_size(o->ptr);
    case OBJ_ENCODING_EMBSTR:
      return zmalloc_size(o) - sizeof(robj);
    default:
      return 0;
  }
}

/* create_function compiles |body| (if not cached) and returns its sha, or
 * NULL after replying the error to |c|. */
static const char *create_function(client *c, robj *body) {
  sds code = body->ptr;
  char funcname[43] = "f_";
  script_sha1hex(funcname + 2, code, sds_len(code));
  dict_entry *de = dict_find(ev.scripts, funcname + 2);
  if (de != NULL) {
    return dict_get_key(de);
  }
  uint64_t flags;
  size_t shebang_len = 0;
  const char *err = NULL;
  if (script_extract_shebang_flags(code, sds_len(code), &flags, &shebang_len,
                                   &err) != C_OK) {
    add_reply_error(c, err);
    return NULL;
  }
  /* The shebang line goes but its newline stays: line numbers hold. */
  if (script_lua_load(ev.lua, code + shebang_len, sds_len(code) - shebang_len,
                      "@user_script")) {
    add_reply_error_format(c, "Error compiling script (new function): %s",
                           lua_tostring(ev.lua, -1));
    lua_pop(ev.lua, 1);
    return NULL;
  }
  lua_setfield(ev.lua, LUA_REGISTRYINDEX, funcname);
  eval_script *s = zmalloc(sizeof(*s));
  s->body = body;
  s->flags = flags;
  incr_ref_count(body);
  sds sha = sds_new_len(funcname + 2, 40);
  dict_add(ev.scripts, sha, s);
  ev.scripts_mem += sds_alloc_size(sha) + string_used_memory(body);
  return sha;
}

/* ------------------------------------------------------------------ */
/* EVAL family                                                          */
/* ------------------------------------------------------------------ */
static int is_evalsha(const redis_command *cmd);
static int is_ro(const redis_command *cmd);

/* lower_sha writes the 40 characters at |sha| in lower case, and a NUL. */
static void lower_sha(char out[41], const char *sha) {
  for (int j = 0; j < 40; j++) {
    out[j] = (char)tolower((unsigned char)sha[j]);
  }
  out[40] = '\0';
}

static void funcname_of(client *c, int evalsha, char out[43]) {
  out[0] = 'f';
  out[1] = '_';
  if (ev.flags_body == c->argv[1]) {
    memcpy(out + 2, ev.flags_sha, 41);
  } else if (!evalsha) {
    sds s = c->argv[1]->ptr;
    script_sha1hex(out + 2, s, sds_len(s));
  } else {
    lower_sha(out + 2, c->argv[1]->ptr);
  }
}

uint64_t eval_command_flags(client *c, uint64_t cmd_flags) {
  int evalsha = is_evalsha(c->cmd);
  flags_cache_clear();
  if (c->argc < 2 || !sds_encoded_object(c->argv[1])) {
    return cmd_flags;
  }
  if (evalsha && sds_len(c->argv[1]->ptr) != 40) {
    return cmd_flags;
  }
  char funcname[43];
  funcname_of(c, evalsha, funcname);
  flags_cache_set(c->argv[1], funcname + 2);
  uint64_t script_flags;
  eval_script *s = dict_fetch_value(ev.scripts, funcname + 2);
  if (s == NULL) {
    if (evalsha) {
      return cmd_flags;
    }
    sds body = c->argv[1]->ptr;
    const char *err = NULL;
    if (script_extract_shebang_flags(body, sds_len(body), &script_flags, NULL,
                                     &err) != C_OK) {
      return cmd_flags;
    }
  } else {
    script_flags = s->flags;
  }
  if (script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) {
    return cmd_flags;
  }
  return script_flags_to_cmd_flags(cmd_flags, script_flags);
}

static void eval_generic(client *c, int evalsha) {
  lua_State *L = ev.lua;
  long long numkeys;
  if (get_long_long_from_object_or_reply(c, c->argv[2], &numkeys, NULL) !=
      C_OK) {
    return;
  }
  if (numkeys > c->argc - 3) {
    add_reply_error(c, "Number of keys can't be greater than number of args");
    return;
  } else if (numkeys < 0) {
    add_reply_error(c, "Number of keys can't be negative");
    return;
  }
  char funcname[43];
  funcname_of(c, evalsha, funcname);
  flags_cache_clear();

  lua_getglobal(L, "__redis__err__handler");
  lua_getfield(L, LUA_REGISTRYINDEX, funcname);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (evalsha) {
      lua_pop(L, 1);
      add_reply_error_object(c, shared.noscripterr);
      return;
    }
    if (create_function(c, c->argv[1]) == NULL) {
      lua_pop(L, 1);
      return;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, funcname);
    server_assert(!lua_isnil(L, -1));
  }
  dict_entry *de = dict_find(ev.scripts, funcname + 2);
  server_assert(de != NULL);
  eval_script *s = dict_get_val(de);
  /* The run keeps the name: the dict key lives until SCRIPT FLUSH, which
   * cannot run while a script does. */
  const char *sha = dict_get_key(de);
  script_run run;
  if (script_run_prepare(&run, ev.client, c, sha, s->flags, is_ro(c->cmd)) !=
      C_OK) {
    lua_pop(L, 2);
    return;
  }
  run.flags |= RUN_EVAL_MODE;
  script_lua_call(&run, L, c->argv + 3, (size_t)numkeys, c->argv + 3 + numkeys,
                  (size_t)(c->argc - 3 - numkeys));
  lua_pop(L, 1); /* the error handler */
  script_run_reset(&run);
}

static void eval_command(client *c) {
  /* Monitors see EVAL before the commands it runs. */
  replication_feed_monitors(c, server.monitors, c->db->id, c->argv, c->argc);
  eval_generic(c, 0);
}

static void evalsha_command(client *c) {
  replication_feed_monitors(c, server.monitors, c->db->id, c->argv, c->argc);
  if (sds_len(c->argv[1]->ptr) != 40) {
    add_reply_error_object(c, shared.noscripterr);
    return;
  }
  eval_generic(c, 1);
}

/* ------------------------------------------------------------------ */
/* SCRIPT                                                               */
/* ------------------------------------------------------------------ */
static int arg_is(robj *o, const char *s) { return !strcasecmp(o->ptr, s); }

static void script_command(client *c) {
  if (c->argc == 2 && arg_is(c->argv[1], "help")) {
    static const char *help[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the "
        "script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is "
        "determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes "
        "are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        NULL};
    add_reply_help(c, help);
  } else if (c->argc >= 2 && arg_is(c->argv[1], "flush")) {
    if (!(c->argc == 2 || (c->argc == 3 && (arg_is(c->argv[2], "sync") ||
                                            arg_is(c->argv[2], "async"))))) {
      add_reply_error(c, "SCRIPT FLUSH only support SYNC|ASYNC option");
      return;
    }
    /* ASYNC and SYNC both free at once: the cache is small next to a
     * keyspace, and the Lua state is closed synchronously in Redis too. */
    eval_reset();
    add_reply(c, shared.ok);
  } else if (c->argc >= 2 && arg_is(c->argv[1], "exists")) {
    add_reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
      char sha[41];
      int found = 0;
      if (sds_encoded_object(c->argv[j]) && sds_len(c->argv[j]->ptr) == 40) {
        lower_sha(sha, c->argv[j]->ptr);
        found = dict_find(ev.scripts, sha) != NULL;
      }
      add_reply(c, found ? shared.cone : shared.czero);
    }
  } else if (c->argc == 3 && arg_is(c->argv[1], "load")) {
    const char *sha = create_function(c, c->argv[2]);
    if (sha != NULL) {
      add_reply_bulk_cbuffer(c, sha, 40);
    }
  } else if (c->argc == 2 && arg_is(c->argv[1], "kill")) {
    script_kill(c, 1);
  } else if (c->argc == 3 && arg_is(c->argv[1], "debug")) {
    if (client_has_pending_replies(c)) {
      add_reply_error(c, "SCRIPT DEBUG must be called outside a pipeline");
      return;
    }
    if (arg_is(c->argv[2], "no")) {
      add_reply(c, shared.ok);
    } else if (arg_is(c->argv[2], "yes") || arg_is(c->argv[2], "sync")) {
      /* The Lua debugger (LDB) is not implemented. */
      add_reply_error(c, "SCRIPT DEBUG is not supported by this server");
    } else {
      add_reply_error(c, "Use SCRIPT DEBUG YES/SYNC/NO");
    }
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */
/* EVAL itself is never propagated: the commands it runs are (effects
 * replication, Redis 7.0's only mode), wrapped in MULTI/EXEC. */
#define EVAL_FLAGS                                                       \
  (CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_STALE | \
   CMD_NO_PROPAGATE)

static redis_command script_subcommands[] = {

    {.declared_name = "debug",
     .summary = "Set the debug mode for executed scripts.",
     .since = "3.2.0",
     .group = "scripting",
     .proc = script_command,
     .arity = 3,
     .flags = CMD_NOSCRIPT,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "exists",
     .summary = "Check existence of scripts in the script cache.",
     .since = "2.6.0",
     .group = "scripting",
     .proc = script_command,
     .arity = -3,
     .flags = CMD_NOSCRIPT,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "flush",
     .summary = "Remove all the scripts from the script cache.",
     .since = "2.6.0",
     .group = "scripting",
     .proc = script_command,
     .arity = -2,
     .flags = CMD_NOSCRIPT,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "help",
     .summary = "Show helpful text about the different subcommands",
     .since = "5.0.0",
     .group = "scripting",
     .proc = script_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "kill",
     .summary = "Kill the script currently in execution.",
     .since = "2.6.0",
     .group = "scripting",
     .proc = script_command,
     .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "load",
     .summary = "Load the specified Lua script into the script cache.",
     .since = "2.6.0",
     .group = "scripting",
     .proc = script_command,
     .arity = 3,
     .flags = CMD_NOSCRIPT | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {0}};

redis_command eval_commands[] = {
    {.declared_name = "eval",
     .summary = "Execute a Lua script server side",
     .since = "2.6.0",
     .group = "scripting",
     .proc = eval_command,
     .arity = -3,
     .flags = EVAL_FLAGS | CMD_MAY_REPLICATE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "evalsha",
     .summary = "Execute a Lua script server side",
     .since = "2.6.0",
     .group = "scripting",
     .proc = evalsha_command,
     .arity = -3,
     .flags = EVAL_FLAGS | CMD_MAY_REPLICATE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "eval_ro",
     .summary = "Execute a read-only Lua script server side",
     .since = "7.0.0",
     .group = "scripting",
     .proc = eval_command,
     .arity = -3,
     .flags = EVAL_FLAGS | CMD_READONLY,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "evalsha_ro",
     .summary = "Execute a read-only Lua script server side",
     .since = "7.0.0",
     .group = "scripting",
     .proc = evalsha_command,
     .arity = -3,
     .flags = EVAL_FLAGS | CMD_READONLY,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "script",
     .summary = "A container for Lua scripts management commands",
     .since = "2.6.0",
     .group = "scripting",
     .arity = -2,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = script_subcommands},
    {0}};

static int is_evalsha(const redis_command *cmd) {
  return cmd->proc == evalsha_command;
}

static int is_ro(const redis_command *cmd) {
  return (cmd->flags & CMD_READONLY) != 0;
}

int eval_is_command(const redis_command *cmd) {
  return cmd != NULL &&
         (cmd->proc == eval_command || cmd->proc == evalsha_command);
}
