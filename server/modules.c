/* modules.c: the one place that names every type and keyspace module.
 *
 * The layers below the modules (objects, the keyspace, notifications) call
 * them only through what they register here: object_type_ops for value
 * types, keyspace_hooks for blocking commands, WATCH and pub/sub. A module
 * missing from this list is a link error, not a silently skipped hook. */
#include "server.h"

void server_register_modules(void) {
  list_type_register();
  set_type_register();
  zset_type_register();
  hash_type_register();
  blocking_register();
  multi_register();
  pubsub_register();
  server_assert(object_types_registered());
}
