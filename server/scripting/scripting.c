/* scripting.c: the module's face to the server: registration with
 * persistence (the libraries in the RDB), start-up, the effective flags of
 * script commands and INFO memory's scripting fields. */
#include "server/persist/rdb.h"
#include "server/scripting/internal.h"

static const rdb_functions_ops functions_rdb_ops = {
    .for_each = functions_for_each_code,
    .load = functions_load_code,
    .clear = functions_clear,
    .stash = functions_stash,
    .restore = functions_restore,
    .discard = functions_discard,
};

void scripting_register(const scripting_host *host) {
  script_host = host;
  rdb_set_functions_ops(&functions_rdb_ops);
}

void scripting_init(void) {
  static int done;
  if (done) {
    return;
  }
  done = 1;
  eval_init();
  functions_init();
}

int scripting_is_script_command(const redis_command *cmd) {
  return eval_is_command(cmd) || function_is_command(cmd);
}

uint64_t scripting_command_flags(client *c) {
  uint64_t flags = c->cmd->flags;
  if (eval_is_command(c->cmd)) {
    return eval_command_flags(c, flags);
  }
  if (function_is_command(c->cmd)) {
    return function_command_flags(c, flags);
  }
  return flags;
}

sds scripting_info_memory(sds info) {
  char eval_vm_h[64], vm_total_h[64], scripts_h[64];
  unsigned long long lua = eval_lua_memory();
  unsigned long long functions = functions_lua_memory();
  unsigned long long eval_caches = eval_scripts_memory();
  unsigned long long function_caches = functions_memory_overhead();
  bytes_to_human(eval_vm_h, sizeof(eval_vm_h), lua);
  bytes_to_human(vm_total_h, sizeof(vm_total_h), lua + functions);
  bytes_to_human(scripts_h, sizeof(scripts_h), eval_caches + function_caches);
  return sds_cat_printf(info,
                        "used_memory_lua:%llu\r\n"
                        "used_memory_vm_eval:%llu\r\n"
                        "used_memory_lua_human:%s\r\n"
                        "used_memory_scripts_eval:%llu\r\n"
                        "number_of_cached_scripts:%lu\r\n"
                        "number_of_functions:%lu\r\n"
                        "number_of_libraries:%lu\r\n"
                        "used_memory_vm_functions:%llu\r\n"
                        "used_memory_vm_total:%llu\r\n"
                        "used_memory_vm_total_human:%s\r\n"
                        "used_memory_functions:%llu\r\n"
                        "used_memory_scripts:%llu\r\n"
                        "used_memory_scripts_human:%s\r\n",
                        lua, lua, eval_vm_h, eval_caches, eval_scripts_count(),
                        functions_count(), functions_lib_count(), functions,
                        lua + functions, vm_total_h, function_caches,
                        eval_caches + function_caches, scripts_h);
}
