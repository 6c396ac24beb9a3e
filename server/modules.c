/* modules.c: the one place that names every module.
 *
 * The layers below the modules (objects, the keyspace, networking, the
 * command table) reach them only through what is registered here:
 * object_type_ops for value types, keyspace_hooks for blocking commands,
 * WATCH and pub/sub, client_auth_ops for ACL, and the command tables. A
 * module missing from this list is a link error, not a silently skipped
 * hook. */
#include "server/acl/acl.h"
#include "server/app.h"
#include "server/cmds/cmds.h"
#include "server/config/config.h"
#include "server/core/latency.h"
#include "server/core/networking.h"
#include "server/core/server.h"
#include "server/persist/persist.h"
#include "server/repl/repl.h"
#include "server/scripting/scripting.h"
#include "server/types/types.h"

void server_register_modules(void) {
  list_type_register();
  set_type_register();
  zset_type_register();
  hash_type_register();
  stream_type_register();
  blocking_register();
  multi_register();
  pubsub_register();
  acl_register();
  static const scripting_host scripting = {
      .enough_good_replicas = repl_enough_good_replicas,
  };
  scripting_register(&scripting);
  debug_add_extension(persist_debug_command);
  debug_add_extension(repl_debug_command);
  server_assert(object_types_registered());
}

void server_populate_command_table(void) {
  redis_command *const tables[] = {
      string_commands,  keyspace_commands, server_commands,
      config_commands,  client_commands,   slowlog_commands,
      debug_commands,   command_commands,  zset_commands,
      hash_commands,    set_commands,      list_commands,
      pubsub_commands,  multi_commands,    acl_commands,
      persist_commands, repl_commands,     repl_replica_commands,
      geo_commands,     sort_commands,     stream_commands,
      eval_commands,    function_commands, bitops_commands,
      hll_commands,     memory_commands,   lolwut_commands,
      module_commands,  latency_commands};
  populate_command_table(tables, sizeof(tables) / sizeof(tables[0]));
}
