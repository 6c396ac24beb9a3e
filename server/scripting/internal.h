/* internal.h: what the scripting files share: script flags, the run of one
 * script (script.c), the Lua engine helpers (script_lua.c), the EVAL cache
 * (eval.c) and the function libraries (functions.c, function_lua.c). */
#ifndef REDOUBT_SCRIPTING_INTERNAL_H
#define REDOUBT_SCRIPTING_INTERNAL_H

#include <lua.h>

#include "server/scripting/scripting.h"

/* ---- script flags (shebang "#!lua flags=...", register_function) ----- */
#define SCRIPT_FLAG_NO_WRITES (1ULL << 0)
#define SCRIPT_FLAG_ALLOW_OOM (1ULL << 1)
#define SCRIPT_FLAG_ALLOW_STALE (1ULL << 2)
#define SCRIPT_FLAG_NO_CLUSTER (1ULL << 3)
#define SCRIPT_FLAG_EVAL_COMPAT_MODE (1ULL << 4) /* an EVAL without shebang */
#define SCRIPT_FLAG_ALLOW_CROSS_SLOT (1ULL << 5)

typedef struct script_flag_name {
  uint64_t flag;
  const char *name;
} script_flag_name;
/* In Redis's order (FUNCTION LIST prints them so), ends with {0, NULL}. */
extern const script_flag_name script_flag_names[];

/* ---- one run of a script (script.c) --------------------------------- */
/* run flags */
#define RUN_WRITE_DIRTY (1 << 0) /* a write command ran: not killable */
#define RUN_READ_ONLY (1 << 1)   /* EVAL_RO, FCALL_RO, no-writes */
#define RUN_ALLOW_OOM (1 << 2)
#define RUN_TIMEDOUT (1 << 3) /* past busy-reply-threshold */
#define RUN_KILLED (1 << 4)   /* SCRIPT KILL / FUNCTION KILL asked */
#define RUN_EVAL_MODE (1 << 5)

typedef struct script_run {
  client *c;            /* the engine's fake client (redis.call runs here) */
  client *caller;       /* the client that ran EVAL/FCALL */
  const char *funcname; /* the sha (EVAL) or the function name */
  int flags;            /* RUN_* */
  int repl_flags;       /* PROPAGATE_* (redis.set_repl) */
  long long start_us;   /* monotonic start, for the busy threshold */
} script_run;

/* script_run_prepare checks whether the script may run (flags against the
 * server state: replica, stale, MISCONF, OOM, _RO) and starts the run;
 * C_ERR after replying the error to |caller|. */
int script_run_prepare(script_run *run, client *engine_client, client *caller,
                       const char *funcname, uint64_t script_flags, int ro);
/* script_run_reset ends the run (unprotects the caller if it was busy). */
void script_run_reset(script_run *run);
/* script_running: the current run, or NULL. */
script_run *script_running(void);
/* script_interrupt: the Lua hook's check; processes events once the run is
 * past busy-reply-threshold. 1 when the script must be killed. */
int script_interrupt(script_run *run);
/* script_kill: SCRIPT KILL (|is_eval|) and FUNCTION KILL. */
void script_kill(client *c, int is_eval);
/* script_call runs the command in run->c's argv with Redis's checks for
 * scripts; on refusal *err is set to Redis's message (static, or the
 * module's, see script_errorf) and nothing ran. */
void script_call(script_run *run, const char **err);
/* script_errorf formats an error message into the module's buffer and
 * returns it: the |err| outputs of this package point at a static string
 * or at this buffer, valid until the next script_errorf. */
const char *script_errorf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* script_flags_to_cmd_flags: the flags a declared script gives its command. */
uint64_t script_flags_to_cmd_flags(uint64_t cmd_flags, uint64_t script_flags);
/* script_must_obey: 1 if |c| is the master or the AOF loader (no refusals). */
int script_must_obey(client *c);
extern const scripting_host *script_host;
/* script_monotonic_us: a monotonic clock in microseconds. */
long long script_monotonic_us(void);

/* ---- the Lua engine (script_lua.c) ---------------------------------- */
/* script_lua_new_state opens a sandboxed state: the libraries scripts may
 * use (base without files, table, string, math, cjson, bit, cmsgpack,
 * struct), the redis table (the EVAL flavour adds breakpoint, debug and
 * replicate_commands), math.random as Redis's, and the error handler.
 * Globals and library tables are not yet read-only. */
lua_State *script_lua_new_state(int eval_flavour);
/* script_lua_protect_globals makes the globals and every table reachable
 * from them read-only; |L|'s globals become a read-only proxy. */
void script_lua_protect_globals(lua_State *L);
/* script_lua_protect_top replaces the table on the top of the stack with its
 * read-only proxy (tables inside it too). */
void script_lua_protect_top(lua_State *L);
/* script_lua_set_error_meta sets, on the table on the top, the metatable
 * whose __index raises "Script attempted to access nonexistent global
 * variable". */
void script_lua_set_error_meta(lua_State *L);
/* script_lua_new_globals_proxy pushes an empty read-only table whose reads
 * fall through to the table at |index_idx| (the functions' globals). */
void script_lua_new_globals_proxy(lua_State *L, int index_idx);
/* script_lua_set_proxy_index changes where the table made by
 * script_lua_new_globals_proxy (at |proxy_idx|) reads from. */
void script_lua_set_proxy_index(lua_State *L, int proxy_idx, int index_idx);
/* script_lua_register_log_and_version adds redis.log, LOG_* and
 * REDIS_VERSION(_NUM) to the table on the top. */
void script_lua_register_log_and_version(lua_State *L);
/* script_lua_push_error pushes {err="CODE message"} from |err| ("-CODE
 * message" or a plain message, which gets ERR); takes |err|. */
void script_lua_push_error(lua_State *L, sds err);
/* script_lua_load compiles |len| bytes as chunk |name| and pushes the
 * function (0), or pushes the message (non-zero). Bytecode is never loaded:
 * it fails as text does in Redis. */
int script_lua_load(lua_State *L, const char *buf, size_t len,
                    const char *name);
/* script_lua_call runs the function on the top of |L| (the error handler
 * below it) with the keys and arguments (globals KEYS/ARGV in EVAL mode,
 * two table arguments for functions), and replies to run->caller. */
void script_lua_call(script_run *run, lua_State *L, robj **keys, size_t nkeys,
                     robj **args, size_t nargs);
/* script_lua_memory: bytes the state uses (lua_gc count). */
size_t script_lua_memory(lua_State *L);
/* script_lua_error_info reads the error object on the top: *out_msg gets
 * the message (never NULL), *out_source and *out_line the position or NULL;
 * returns whether error stats must not count it again. Caller frees. */
int script_lua_error_info(lua_State *L, sds *out_msg, sds *out_source,
                          sds *out_line);
/* script_sha1hex: the 40 lowercase hex digits of SHA-1(s) plus a NUL. */
void script_sha1hex(char out[41], const char *s, size_t len);
/* script_extract_shebang_flags parses "#!lua flags=..." at the start of
 * |body|. C_OK with *out_flags (SCRIPT_FLAG_EVAL_COMPAT_MODE without a
 * shebang) and *out_shebang_len (may be NULL); C_ERR with *err set. */
int script_extract_shebang_flags(const char *body, size_t len,
                                 uint64_t *out_flags, size_t *out_shebang_len,
                                 const char **err);

/* ---- EVAL (eval.c) -------------------------------------------------- */
int eval_is_command(const redis_command *cmd);
uint64_t eval_command_flags(client *c, uint64_t cmd_flags);
size_t eval_lua_memory(void);
size_t eval_scripts_memory(void);
unsigned long eval_scripts_count(void);
void eval_init(void);

/* ---- functions (functions.c, function_lua.c) ------------------------ */
typedef struct function_lib function_lib;
typedef struct function_info {
  sds name;
  sds desc;          /* or NULL */
  int lua_ref;       /* the callback in the engine's registry */
  uint64_t flags;    /* SCRIPT_FLAG_* */
  function_lib *lib; /* its library */
} function_info;

struct function_lib {
  sds name;
  sds code;        /* the whole payload, "#!lua name=..." line included */
  dict *functions; /* name -> function_info* (owned) */
};

int function_is_command(const redis_command *cmd);
uint64_t function_command_flags(client *c, uint64_t cmd_flags);
void functions_init(void);
size_t functions_lua_memory(void);
size_t functions_memory_overhead(void);
unsigned long functions_count(void);
unsigned long functions_lib_count(void);
/* functions_create_function adds a function to |lib| (register_function):
 * C_OK, or C_ERR with *err a static message. */
int functions_create_function(function_lib *lib, sds name, sds desc,
                              int lua_ref, uint64_t flags, const char **err);
/* The library set as persistence sees it (rdb_functions_ops). */
int functions_for_each_code(int (*cb)(void *ctx, const char *code, size_t len),
                            void *ctx);
int functions_load_code(const char *code, size_t len, int replace, char *err,
                        size_t err_len);
void functions_clear(void);
void *functions_stash(void);
void functions_restore(void *stash);
void functions_discard(void *stash);
/* functions_verify_name: C_OK for [A-Za-z0-9_]+ */
int functions_verify_name(const char *name, size_t len);

/* The Lua engine for functions (function_lua.c). */
lua_State *function_lua_init(void);
/* function_lua_create runs a library's code (after its shebang line) so it
 * registers its functions into |lib|; |timeout_ms| 0 means none. C_OK, or
 * C_ERR with *err set. */
int function_lua_create(lua_State *L, function_lib *lib, const char *code,
                        size_t len, long long timeout_ms, const char **err);
/* function_lua_call runs |fi| (run set up by script_run_prepare). */
void function_lua_call(lua_State *L, script_run *run, function_info *fi,
                       robj **keys, size_t nkeys, robj **args, size_t nargs);
void function_lua_free(lua_State *L, int lua_ref);

#endif
