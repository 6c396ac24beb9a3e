/* scripting.h: Lua scripting as Redis 7.0 has it, on Debian's Lua 5.1.
 *
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (eval.c) run scripts in one
 * Lua state; FUNCTION and FCALL/FCALL_RO (functions.c, function_lua.c) run
 * the functions of loaded libraries in another. Both states are sandboxed
 * as Redis 7.0 sandboxes them (script_lua.c: no files, no os/io, read-only
 * globals and library tables) and reach the dataset only through
 * redis.call/pcall, which runs a command through the server's command path
 * with a fake client (script.c). The server (server/server.c) asks this
 * module for a script command's effective flags and refuses other commands
 * with -BUSY while a script is busy (server.script_busy).
 *
 * The libraries are saved in and loaded from the RDB (RDB_OPCODE_FUNCTION2)
 * through the operations registered with persistence. */
#ifndef REDOUBT_SCRIPTING_SCRIPTING_H
#define REDOUBT_SCRIPTING_SCRIPTING_H

#include "server/core/server.h"

/* The command tables (EVAL family and SCRIPT; FUNCTION, FCALL, FCALL_RO),
 * each terminated by {0}. */
extern redis_command eval_commands[];
extern redis_command function_commands[];

/* scripting_host: what the server above tells the engine. */
typedef struct scripting_host {
  /* enough_good_replicas: 0 when min-replicas-to-write refuses writes. */
  int (*enough_good_replicas)(void);
} scripting_host;

/* scripting_register gives persistence the library save/load operations
 * (idempotent; before any RDB is read). */
void scripting_register(const scripting_host *host);
/* scripting_init creates the Lua states and their fake clients; once, after
 * the databases exist. */
void scripting_init(void);

/* scripting_command_flags returns c's command flags as Redis 7.0 applies
 * them to a script command: for EVAL/EVALSHA/FCALL (and the _RO forms)
 * whose script declares flags (a shebang, register_function flags), the
 * write/deny-oom/stale flags come from those. Other commands: their own. */
uint64_t scripting_command_flags(client *c);
/* scripting_is_script_command: 1 for the EVAL and FCALL families. */
int scripting_is_script_command(const redis_command *cmd);
/* scripting_set_oom_state records whether the server was out of memory when
 * the script command about to run was checked (allow-oom). */
void scripting_set_oom_state(int out_of_memory);
/* scripting_info_memory appends INFO memory's scripting fields, from
 * used_memory_lua to used_memory_scripts_human, as Redis 7.0 prints them. */
sds scripting_info_memory(sds info);

/* ---- conversions between Redis replies and Lua values (resp_lua.c) ---- */
/* Lua declares this typedef too; C11 accepts the repetition. */
typedef struct lua_State lua_State;

/* script_resp_to_lua parses one RESP2/RESP3 reply of |len| bytes at |reply|
 * and pushes it on |L| as Redis 7.0 converts a redis.call reply: integers
 * and bulks to numbers and strings, nulls to false (RESP2) or nil (RESP3
 * "_"), status to {ok=...}, errors to {err=...}, maps to {map={...}}, sets
 * to {set={...}}, doubles to {double=n}, big numbers to {big_number=s},
 * verbatim strings to {verbatim_string={format=..., string=...}};
 * attributes are skipped. The input need not be trusted: on a malformed or
 * too deep reply nothing is pushed and 0 is returned; 1 on success, with
 * *out_len the bytes used. May raise a Lua memory error. */
int script_resp_to_lua(lua_State *L, const char *reply, size_t len,
                       size_t *out_len);
/* script_lua_to_resp replies the value on the top of |L| (popped) to |c| as
 * a script's return value: strings to bulks, numbers truncated to
 * integers, booleans by |script_resp| (the script's redis.setresp: RESP2
 * true is :1 and false a null), tables with err/ok/double/big_number/
 * verbatim_string/map/set fields as those replies, other tables as arrays
 * ending before the first nil, anything else as a null. */
void script_lua_to_resp(client *c, lua_State *L, int script_resp);

#endif
