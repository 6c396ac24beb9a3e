/* functions.c: the function libraries (FUNCTION LOAD/DELETE/FLUSH/LIST/
 * DUMP/RESTORE/STATS/KILL) and FCALL/FCALL_RO, as Redis 7.0's functions.c:
 * one engine ("LUA", function_lua.c), libraries by name, functions by name
 * across libraries (case-insensitive), and the same error texts. */
#include <lauxlib.h>
#include <string.h>

#include "server/base/zmalloc.h"
#include "server/persist/rdb.h"
#include "server/scripting/internal.h"

#define LUA_ENGINE_NAME "LUA"
#define LOAD_TIMEOUT_MS 500

/* A set of libraries: the current one, or one being built by RESTORE. */
typedef struct lib_ctx {
  dict *libraries;     /* name -> function_lib* (owned) */
  dict *functions;     /* name -> function_info* (owned by their library) */
  size_t cache_memory; /* the libraries' and functions' own memory */
  size_t n_functions;
} lib_ctx;

static struct {
  lua_State *lua;
  client *client; /* the fake client functions run commands with */
  lib_ctx *curr;
} fn;

static void function_info_free(void *val) {
  function_info *fi = val;
  if (fi == NULL) {
    return;
  }
  function_lua_free(fn.lua, fi->lua_ref);
  sds_free(fi->name);
  sds_free(fi->desc);
  zfree(fi);
}

static void lib_free(function_lib *lib) {
  if (lib == NULL) {
    return;
  }
  dict_release(lib->functions);
  sds_free(lib->name);
  sds_free(lib->code);
  zfree(lib);
}

static void lib_destructor(void *val) { lib_free(val); }

/* A library's functions: case-sensitive names, as Redis. */
static dict_type lib_functions_type = {
    dict_sds_hash,      NULL, NULL, dict_sds_key_compare, dict_sds_destructor,
    function_info_free, NULL};
static dict_type libraries_type = {
    dict_sds_hash,       NULL,           NULL, dict_sds_key_compare,
    dict_sds_destructor, lib_destructor, NULL};
/* Every function of a set: FCALL's names are case-insensitive. */
static dict_type functions_type = {
    dict_sds_case_hash,  NULL, NULL, dict_sds_key_case_compare,
    dict_sds_destructor, NULL, NULL};

static lib_ctx *lib_ctx_create(void) {
  lib_ctx *ctx = zcalloc(sizeof(*ctx));
  ctx->libraries = dict_create(&libraries_type);
  ctx->functions = dict_create(&functions_type);
  return ctx;
}

static void lib_ctx_clear(lib_ctx *ctx) {
  dict_empty(ctx->functions, NULL);
  dict_empty(ctx->libraries, NULL);
  ctx->cache_memory = 0;
  ctx->n_functions = 0;
}

static void lib_ctx_free(lib_ctx *ctx) {
  lib_ctx_clear(ctx);
  dict_release(ctx->functions);
  dict_release(ctx->libraries);
  zfree(ctx);
}

static size_t function_mem(function_info *fi) {
  return zmalloc_size(fi) + sds_alloc_size(fi->name) +
         (fi->desc ? sds_alloc_size(fi->desc) : 0) + sizeof(int);
}

static size_t lib_mem(function_lib *lib) {
  return zmalloc_size(lib) + sds_alloc_size(lib->name) +
         sds_alloc_size(lib->code);
}

/* lib_unlink takes |lib| out of |ctx| without freeing it. */
static void lib_unlink(lib_ctx *ctx, function_lib *lib) {
  dict_iterator it;
  dict_init_iterator(&it, lib->functions);
  dict_entry *de;
  while ((de = dict_next(&it)) != NULL) {
    function_info *fi = dict_get_val(de);
    dict_delete(ctx->functions, fi->name);
    ctx->cache_memory -= function_mem(fi);
  }
  dict_reset_iterator(&it);
  ctx->n_functions -= dict_size(lib->functions);
  dict_entry *e = dict_unlink(ctx->libraries, lib->name);
  dict_set_val(ctx->libraries, e, NULL);
  dict_free_unlinked_entry(ctx->libraries, e);
  ctx->cache_memory -= lib_mem(lib);
}

static void lib_link(lib_ctx *ctx, function_lib *lib) {
  dict_iterator it;
  dict_init_iterator(&it, lib->functions);
  dict_entry *de;
  while ((de = dict_next(&it)) != NULL) {
    function_info *fi = dict_get_val(de);
    dict_add(ctx->functions, sds_dup(fi->name), fi);
    ctx->cache_memory += function_mem(fi);
  }
  dict_reset_iterator(&it);
  ctx->n_functions += dict_size(lib->functions);
  dict_add(ctx->libraries, sds_dup(lib->name), lib);
  ctx->cache_memory += lib_mem(lib);
}

int functions_verify_name(const char *name, size_t len) {
  if (len == 0) {
    return C_ERR;
  }
  for (size_t i = 0; i < len; i++) {
    char ch = name[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '_')) {
      return C_ERR;
    }
  }
  return C_OK;
}

#define NAME_RULE_ERR                                                   \
  "Library names can only contain letters, numbers, or underscores(_) " \
  "and must be at least one character long"

int functions_create_function(function_lib *lib, sds name, sds desc,
                              int lua_ref, uint64_t flags, const char **err) {
  if (functions_verify_name(name, strlen(name)) != C_OK) {
    *err = NAME_RULE_ERR;
    return C_ERR;
  }
  if (dict_fetch_value(lib->functions, name) != NULL) {
    *err = "Function already exists in the library";
    return C_ERR;
  }
  function_info *fi = zmalloc(sizeof(*fi));
  fi->name = name;
  fi->desc = desc;
  fi->lua_ref = lua_ref;
  fi->flags = flags;
  fi->lib = lib;
  dict_add(lib->functions, sds_dup(name), fi);
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Creating a library                                                   */
/* ------------------------------------------------------------------ */
typedef struct lib_metadata {
  sds engine, name;
  const char *code; /* from the shebang's newline on */
  size_t code_len;
} lib_metadata;

static void metadata_free(lib_metadata *md) {
  sds_free(md->engine);
  sds_free(md->name);
}

static int extract_metadata(const char *payload, size_t len, lib_metadata *md,
                            const char **err) {
  memset(md, 0, sizeof(*md));
  if (strncmp(payload, "#!", 2) != 0) {
    *err = "Missing library metadata";
    return C_ERR;
  }
  const char *end = strchr(payload, '\n');
  if (end == NULL) {
    *err = "Invalid library metadata";
    return C_ERR;
  }
  sds shebang = sds_new_len(payload, (size_t)(end - payload));
  int numparts;
  sds *parts = sds_split_args(shebang, &numparts);
  sds_free(shebang);
  if (parts == NULL || numparts == 0) {
    *err = "Invalid library metadata";
    sds_free_split(parts, numparts);
    return C_ERR;
  }
  md->engine = sds_dup(parts[0]);
  sds_range(md->engine, 2, -1);
  for (int i = 1; i < numparts; i++) {
    if (strncasecmp(parts[i], "name=", 5) == 0) {
      if (md->name) {
        *err = "Invalid metadata value, name argument was given multiple times";
        goto error;
      }
      md->name = sds_dup(parts[i]);
      sds_range(md->name, 5, -1);
      continue;
    }
    *err = script_errorf("Invalid metadata value given: %s", parts[i]);
    goto error;
  }
  if (md->name == NULL) {
    *err = "Library name was not given";
    goto error;
  }
  sds_free_split(parts, numparts);
  md->code = end;
  md->code_len = len - (size_t)(end - payload);
  return C_OK;
error:
  metadata_free(md);
  sds_free_split(parts, numparts);
  return C_ERR;
}

/* create_library compiles |code| into |ctx| (replacing a library of the
 * same name when |replace|). Returns the library's name, or NULL with *err
 * set. */
static sds create_library(const char *code, size_t len, int replace,
                          const char **err, lib_ctx *ctx,
                          long long timeout_ms) {
  lib_metadata md;
  function_lib *new_lib = NULL, *old_lib = NULL;
  if (extract_metadata(code, len, &md, err) != C_OK) {
    return NULL;
  }
  if (functions_verify_name(md.name, sds_len(md.name)) != C_OK) {
    *err = NAME_RULE_ERR;
    goto error;
  }
  if (strcasecmp(md.engine, LUA_ENGINE_NAME) != 0) {
    *err = script_errorf("Engine '%s' not found", md.engine);
    goto error;
  }
  old_lib = dict_fetch_value(ctx->libraries, md.name);
  if (old_lib && !replace) {
    old_lib = NULL;
    *err = script_errorf("Library '%s' already exists", md.name);
    goto error;
  }
  if (old_lib) {
    lib_unlink(ctx, old_lib);
  }
  new_lib = zcalloc(sizeof(*new_lib));
  new_lib->name = sds_dup(md.name);
  new_lib->code = sds_new_len(code, len);
  new_lib->functions = dict_create(&lib_functions_type);
  if (function_lua_create(fn.lua, new_lib, md.code, md.code_len, timeout_ms,
                          err) != C_OK) {
    goto error;
  }
  if (dict_size(new_lib->functions) == 0) {
    *err = "No functions registered";
    goto error;
  }
  dict_iterator it;
  dict_init_iterator(&it, new_lib->functions);
  dict_entry *de;
  while ((de = dict_next(&it)) != NULL) {
    function_info *fi = dict_get_val(de);
    if (dict_find(ctx->functions, fi->name) != NULL) {
      *err = script_errorf("Function %s already exists", fi->name);
      dict_reset_iterator(&it);
      goto error;
    }
  }
  dict_reset_iterator(&it);
  lib_link(ctx, new_lib);
  lib_free(old_lib);
  sds name = md.name;
  md.name = NULL;
  metadata_free(&md);
  return name;
error:
  lib_free(new_lib);
  if (old_lib) {
    lib_link(ctx, old_lib);
  }
  metadata_free(&md);
  return NULL;
}

/* lib_join moves every library of |src| into |dst|; on a name collision it
 * replaces when |replace|, else (or on a function collision) nothing moves
 * and *err is set. C_OK / C_ERR. */
static int lib_join(lib_ctx *dst, lib_ctx *src, int replace, const char **err) {
  list *old = list_create();
  int ret = C_ERR;
  dict_iterator it;
  dict_entry *de;
  dict_init_iterator(&it, src->libraries);
  while ((de = dict_next(&it)) != NULL) {
    function_lib *lib = dict_get_val(de);
    function_lib *old_lib = dict_fetch_value(dst->libraries, lib->name);
    if (old_lib) {
      if (!replace) {
        *err = script_errorf("Library %s already exists", lib->name);
        dict_reset_iterator(&it);
        goto done;
      }
      lib_unlink(dst, old_lib);
      list_add_node_tail(old, old_lib);
    }
  }
  dict_reset_iterator(&it);
  dict_init_iterator(&it, src->functions);
  while ((de = dict_next(&it)) != NULL) {
    function_info *fi = dict_get_val(de);
    if (dict_find(dst->functions, fi->name) != NULL) {
      *err = script_errorf("Function %s already exists", fi->name);
      dict_reset_iterator(&it);
      goto done;
    }
  }
  dict_reset_iterator(&it);
  dict_init_iterator(&it, src->libraries);
  while ((de = dict_next(&it)) != NULL) {
    lib_link(dst, dict_get_val(de));
    dict_set_val(src->libraries, de, NULL);
  }
  dict_reset_iterator(&it);
  lib_ctx_clear(src);
  while (list_length(old) > 0) {
    list_node *ln = list_first(old);
    lib_free(list_node_value(ln));
    list_del_node(old, ln);
  }
  ret = C_OK;
done:
  /* On failure the replaced libraries go back. */
  while (list_length(old) > 0) {
    list_node *ln = list_first(old);
    lib_link(dst, list_node_value(ln));
    list_del_node(old, ln);
  }
  list_release(old);
  return ret;
}

/* ------------------------------------------------------------------ */
/* What the rest of the module and persistence use                      */
/* ------------------------------------------------------------------ */
void functions_init(void) {
  fn.lua = function_lua_init();
  fn.client = create_client(NULL);
  fn.client->flags |= CLIENT_SCRIPT;
  fn.curr = lib_ctx_create();
}

size_t functions_lua_memory(void) { return script_lua_memory(fn.lua); }

/* What Redis 7.0 counts for its registry of engines (one, "LUA": the dict
 * and the engine's structures, 168 bytes on 64-bit), so that an empty
 * server reports the used_memory_functions Redis does (200). */
#define ENGINES_OVERHEAD 168

size_t functions_memory_overhead(void) {
  return ENGINES_OVERHEAD + dict_size(fn.curr->functions) * sizeof(dict_entry) +
         dict_slots(fn.curr->functions) * sizeof(dict_entry *) +
         sizeof(lib_ctx) + fn.curr->cache_memory;
}

unsigned long functions_count(void) { return dict_size(fn.curr->functions); }

unsigned long functions_lib_count(void) {
  return dict_size(fn.curr->libraries);
}

int functions_for_each_code(int (*cb)(void *ctx, const char *code, size_t len),
                            void *ctx) {
  dict_iterator it;
  dict_init_iterator(&it, fn.curr->libraries);
  dict_entry *de;
  int ok = 1;
  while (ok && (de = dict_next(&it)) != NULL) {
    function_lib *lib = dict_get_val(de);
    ok = cb(ctx, lib->code, sds_len(lib->code));
  }
  dict_reset_iterator(&it);
  return ok;
}

int functions_load_code(const char *code, size_t len, int replace, char *err,
                        size_t err_len) {
  const char *e = NULL;
  sds name = create_library(code, len, replace, &e, fn.curr, 0);
  if (name == NULL) {
    snprintf(err, err_len, "%s", e ? e : "Failed creating the library");
    return 0;
  }
  sds_free(name);
  return 1;
}

void functions_clear(void) { lib_ctx_clear(fn.curr); }

void *functions_stash(void) {
  lib_ctx *old = fn.curr;
  fn.curr = lib_ctx_create();
  return old;
}

void functions_restore(void *stash) {
  lib_ctx_free(fn.curr);
  fn.curr = stash;
}

void functions_discard(void *stash) { lib_ctx_free(stash); }

uint64_t function_command_flags(client *c, uint64_t cmd_flags) {
  if (c->argc < 2 || !sds_encoded_object(c->argv[1])) {
    return cmd_flags;
  }
  function_info *fi = dict_fetch_value(fn.curr->functions, c->argv[1]->ptr);
  if (fi == NULL) {
    return cmd_flags;
  }
  return script_flags_to_cmd_flags(cmd_flags, fi->flags);
}

/* ------------------------------------------------------------------ */
/* FCALL and FCALL_RO                                                   */
/* ------------------------------------------------------------------ */
static void fcall_generic(client *c, int ro) {
  replication_feed_monitors(c, server.monitors, c->db->id, c->argv, c->argc);
  function_info *fi = dict_fetch_value(fn.curr->functions, c->argv[1]->ptr);
  if (fi == NULL) {
    add_reply_error(c, "Function not found");
    return;
  }
  long long numkeys;
  if (get_long_long_from_object(c->argv[2], &numkeys) != C_OK) {
    add_reply_error(c, "Bad number of keys provided");
    return;
  }
  if (numkeys > c->argc - 3) {
    add_reply_error(c, "Number of keys can't be greater than number of args");
    return;
  } else if (numkeys < 0) {
    add_reply_error(c, "Number of keys can't be negative");
    return;
  }
  script_run run;
  if (script_run_prepare(&run, fn.client, c, fi->name, fi->flags, ro) != C_OK) {
    return;
  }
  function_lua_call(fn.lua, &run, fi, c->argv + 3, (size_t)numkeys,
                    c->argv + 3 + numkeys, (size_t)(c->argc - 3 - numkeys));
  script_run_reset(&run);
}

static void fcall_command(client *c) { fcall_generic(c, 0); }
static void fcall_ro_command(client *c) { fcall_generic(c, 1); }

/* ------------------------------------------------------------------ */
/* FUNCTION subcommands                                                 */
/* ------------------------------------------------------------------ */
static void function_load_command(client *c) {
  int replace = 0;
  int pos = 2;
  while (pos < c->argc - 1) {
    robj *arg = c->argv[pos++];
    if (!strcasecmp(arg->ptr, "replace")) {
      replace = 1;
      continue;
    }
    add_reply_error_format(c, "Unknown option given: %s", (char *)arg->ptr);
    return;
  }
  if (pos >= c->argc) {
    add_reply_error(c, "Function code is missing");
    return;
  }
  sds code = c->argv[pos]->ptr;
  long long timeout = script_must_obey(c) ? 0 : LOAD_TIMEOUT_MS;
  const char *err = NULL;
  sds name =
      create_library(code, sds_len(code), replace, &err, fn.curr, timeout);
  if (name == NULL) {
    add_reply_error(c, err);
    return;
  }
  server.dirty++;
  add_reply_bulk_sds(c, name);
}

static void function_delete_command(client *c) {
  function_lib *lib = dict_fetch_value(fn.curr->libraries, c->argv[2]->ptr);
  if (lib == NULL) {
    add_reply_error(c, "Library not found");
    return;
  }
  lib_unlink(fn.curr, lib);
  lib_free(lib);
  server.dirty++;
  add_reply(c, shared.ok);
}

static void function_kill_command(client *c) { script_kill(c, 0); }

static void function_stats_command(client *c) {
  script_run *run = script_running();
  if (run != NULL && (run->flags & RUN_EVAL_MODE)) {
    add_reply_error_object(c, shared.slowevalerr);
    return;
  }
  add_reply_map_len(c, 2);
  add_reply_bulk_cstring(c, "running_script");
  if (run == NULL) {
    add_reply_null(c);
  } else {
    add_reply_map_len(c, 3);
    add_reply_bulk_cstring(c, "name");
    add_reply_bulk_cstring(c, run->funcname);
    add_reply_bulk_cstring(c, "command");
    client *caller = run->caller;
    add_reply_array_len(c, caller->argc);
    for (int i = 0; i < caller->argc; i++) {
      add_reply_bulk(c, caller->argv[i]);
    }
    add_reply_bulk_cstring(c, "duration_ms");
    add_reply_long_long(c, (script_monotonic_us() - run->start_us) / 1000);
  }
  add_reply_bulk_cstring(c, "engines");
  add_reply_map_len(c, 1);
  add_reply_bulk_cstring(c, LUA_ENGINE_NAME);
  add_reply_map_len(c, 2);
  add_reply_bulk_cstring(c, "libraries_count");
  add_reply_long_long(c, (long long)dict_size(fn.curr->libraries));
  add_reply_bulk_cstring(c, "functions_count");
  add_reply_long_long(c, (long long)fn.curr->n_functions);
}

static void reply_function_flags(client *c, function_info *fi) {
  int count = 0;
  for (const script_flag_name *f = script_flag_names; f->name; f++) {
    if (fi->flags & f->flag) {
      count++;
    }
  }
  add_reply_set_len(c, count);
  for (const script_flag_name *f = script_flag_names; f->name; f++) {
    if (fi->flags & f->flag) {
      add_reply_status(c, f->name);
    }
  }
}

static void function_list_command(client *c) {
  int with_code = 0;
  sds pattern = NULL;
  for (int i = 2; i < c->argc; i++) {
    robj *arg = c->argv[i];
    if (!with_code && !strcasecmp(arg->ptr, "withcode")) {
      with_code = 1;
      continue;
    }
    if (!pattern && !strcasecmp(arg->ptr, "libraryname")) {
      if (i >= c->argc - 1) {
        add_reply_error(c, "library name argument was not given");
        return;
      }
      pattern = c->argv[++i]->ptr;
      continue;
    }
    add_reply_error_sds(c, sds_cat_printf(sds_empty(), "Unknown argument %s",
                                          (char *)arg->ptr));
    return;
  }
  void *slot = NULL;
  long count = 0;
  if (pattern) {
    slot = add_reply_deferred_len(c);
  } else {
    add_reply_array_len(c, (long)dict_size(fn.curr->libraries));
  }
  dict_iterator it;
  dict_init_iterator(&it, fn.curr->libraries);
  dict_entry *de;
  while ((de = dict_next(&it)) != NULL) {
    function_lib *lib = dict_get_val(de);
    if (pattern && !string_match_len(pattern, (int)sds_len(pattern), lib->name,
                                     (int)sds_len(lib->name), 1)) {
      continue;
    }
    count++;
    add_reply_map_len(c, with_code ? 4 : 3);
    add_reply_bulk_cstring(c, "library_name");
    add_reply_bulk_cbuffer(c, lib->name, sds_len(lib->name));
    add_reply_bulk_cstring(c, "engine");
    add_reply_bulk_cstring(c, LUA_ENGINE_NAME);
    add_reply_bulk_cstring(c, "functions");
    add_reply_array_len(c, (long)dict_size(lib->functions));
    dict_iterator fit;
    dict_init_iterator(&fit, lib->functions);
    dict_entry *fe;
    while ((fe = dict_next(&fit)) != NULL) {
      function_info *fi = dict_get_val(fe);
      add_reply_map_len(c, 3);
      add_reply_bulk_cstring(c, "name");
      add_reply_bulk_cbuffer(c, fi->name, sds_len(fi->name));
      add_reply_bulk_cstring(c, "description");
      if (fi->desc) {
        add_reply_bulk_cbuffer(c, fi->desc, sds_len(fi->desc));
      } else {
        add_reply_null(c);
      }
      add_reply_bulk_cstring(c, "flags");
      reply_function_flags(c, fi);
    }
    dict_reset_iterator(&fit);
    if (with_code) {
      add_reply_bulk_cstring(c, "library_code");
      add_reply_bulk_cbuffer(c, lib->code, sds_len(lib->code));
    }
  }
  dict_reset_iterator(&it);
  if (slot) {
    set_deferred_array_len(c, slot, count);
  }
}

static int dump_library(void *ctx, const char *code, size_t len) {
  return rdb_save_function(ctx, code, len);
}

static void function_dump_command(client *c) {
  rio r;
  rio_init_buffer_writer(&r);
  functions_for_each_code(dump_library, &r);
  sds payload = rio_take_buffer(&r);
  rio_release(&r);
  add_reply_bulk_sds(c, rdb_dump_footer(payload));
}

static void function_restore_command(client *c) {
  if (c->argc > 4) {
    add_reply_subcommand_syntax_error(c);
    return;
  }
  enum { POLICY_APPEND, POLICY_REPLACE, POLICY_FLUSH } policy = POLICY_APPEND;
  if (c->argc == 4) {
    const char *p = c->argv[3]->ptr;
    if (!strcasecmp(p, "append")) {
      policy = POLICY_APPEND;
    } else if (!strcasecmp(p, "replace")) {
      policy = POLICY_REPLACE;
    } else if (!strcasecmp(p, "flush")) {
      policy = POLICY_FLUSH;
    } else {
      add_reply_error(c,
                      "Wrong restore policy given, value should be either "
                      "FLUSH, APPEND or REPLACE.");
      return;
    }
  }
  sds data = c->argv[2]->ptr;
  size_t data_len = sds_len(data);
  if (verify_dump_payload((unsigned char *)data, data_len) != C_OK) {
    add_reply_error(c, "DUMP payload version or checksum are wrong");
    return;
  }
  lib_ctx *ctx = lib_ctx_create();
  rio r;
  rio_init_buffer_reader(&r, data, data_len);
  const char *err = NULL;
  /* The last 10 bytes are the version and the checksum. */
  while (data_len - rio_tell(&r) > 10) {
    unsigned char type;
    if (!rio_read(&r, &type, 1)) {
      err = "can not read data type";
      break;
    }
    if (type != RDB_OPCODE_FUNCTION && type != RDB_OPCODE_FUNCTION2) {
      err = "given type is not a function";
      break;
    }
    char lerr[256] = "";
    sds code = rdb_load_function_code(&r, type, lerr, sizeof(lerr));
    if (code == NULL) {
      err = lerr[0] ? script_errorf("%s", lerr)
                    : "failed loading the given functions payload";
      break;
    }
    sds name = create_library(code, sds_len(code), 0, &err, ctx, 0);
    sds_free(code);
    if (name == NULL) {
      if (err == NULL) {
        err = "Failed creating the library";
      }
      break;
    }
    sds_free(name);
  }
  rio_release(&r);
  if (err == NULL) {
    if (policy == POLICY_FLUSH) {
      lib_ctx_free(fn.curr);
      fn.curr = ctx;
      ctx = NULL;
    } else {
      lib_join(fn.curr, ctx, policy == POLICY_REPLACE, &err);
    }
  }
  if (err == NULL) {
    server.dirty++;
    add_reply(c, shared.ok);
  } else {
    add_reply_error(c, err);
  }
  if (ctx) {
    lib_ctx_free(ctx);
  }
}

static void function_flush_command(client *c) {
  if (c->argc > 3) {
    add_reply_subcommand_syntax_error(c);
    return;
  }
  if (c->argc == 3 && strcasecmp(c->argv[2]->ptr, "sync") != 0 &&
      strcasecmp(c->argv[2]->ptr, "async") != 0) {
    add_reply_error(c, "FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  /* ASYNC frees at once too: the libraries are small. */
  lib_ctx_clear(fn.curr);
  server.dirty++;
  add_reply(c, shared.ok);
}

static void function_help_command(client *c) {
  static const char *help[] = {
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using "
      "LIBRARYNAME argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is "
      "determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, "
      "can be restored using FUNCTION RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is "
      "possible to give a restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing libraries. "
      "On collision, abort.",
      "    * REPLACE: appends the restored libraries to the existing "
      "libraries, On collision, replace the old",
      "      libraries with the new libraries (notice that even on this "
      "option there is a chance of failure",
      "      in case of functions name collision with another library).",
      NULL};
  add_reply_help(c, help);
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */
static redis_command function_subcommands[] = {
    {.declared_name = "delete",
     .summary = "Delete a function by name",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_delete_command,
     .arity = 3,
     .flags = CMD_NOSCRIPT | CMD_WRITE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "dump",
     .summary = "Dump all functions into a serialized binary payload",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_dump_command,
     .arity = 2,
     .flags = CMD_NOSCRIPT,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "flush",
     .summary = "Deleting all functions",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_flush_command,
     .arity = -2,
     .flags = CMD_NOSCRIPT | CMD_WRITE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "help",
     .summary = "Show helpful text about the different subcommands",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_help_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "kill",
     .summary = "Kill the function currently in execution.",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_kill_command,
     .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "list",
     .summary = "List information about all the functions",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_list_command,
     .arity = -2,
     .flags = CMD_NOSCRIPT,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "load",
     .summary =
         "Create a function with the given arguments (name, code, description)",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_load_command,
     .arity = -3,
     .flags = CMD_NOSCRIPT | CMD_WRITE | CMD_DENYOOM,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "restore",
     .summary = "Restore all the functions on the given payload",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_restore_command,
     .arity = -3,
     .flags = CMD_NOSCRIPT | CMD_WRITE | CMD_DENYOOM,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "stats",
     .summary = "Return information about the function currently running "
                "(name, description, duration)",
     .since = "7.0.0",
     .group = "scripting",
     .proc = function_stats_command,
     .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {0}};

/* FCALL is never propagated itself: the commands it runs are. */
#define FCALL_FLAGS                                                      \
  (CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_STALE | \
   CMD_NO_PROPAGATE)

redis_command function_commands[] = {
    {.declared_name = "fcall",
     .summary = "Invoke a function",
     .since = "7.0.0",
     .group = "scripting",
     .proc = fcall_command,
     .arity = -3,
     .flags = FCALL_FLAGS | CMD_MAY_REPLICATE,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "fcall_ro",
     .summary = "Invoke a read-only function",
     .since = "7.0.0",
     .group = "scripting",
     .proc = fcall_ro_command,
     .arity = -3,
     .flags = FCALL_FLAGS | CMD_READONLY,
     .acl_categories = ACL_CATEGORY_SCRIPTING},
    {.declared_name = "function",
     .summary = "A container for function commands",
     .since = "7.0.0",
     .group = "scripting",
     .arity = -2,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = function_subcommands},
    {0}};

int function_is_command(const redis_command *cmd) {
  return cmd != NULL &&
         (cmd->proc == fcall_command || cmd->proc == fcall_ro_command);
}
