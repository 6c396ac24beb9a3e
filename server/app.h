/* app.h: the server above every module (server/server.c): start-up, the
 * cron, command processing, shutdown. main.c and in-process tests call it. */
#ifndef REDOUBT_APP_H
#define REDOUBT_APP_H

/* server_main runs the server (parses the config, listens, serves). */
int server_main(int argc, char **argv);
/* server_init_for_tests: an in-process server without listeners, signals or
 * config file, for fuzz targets and tests (defaults, modules, commands,
 * shared objects, dbs, event loop). Call once per process. */
void server_init_for_tests(void);

/* server_register_modules registers every type, keyspace and access-control
 * module with the core (idempotent; modules.c). */
void server_register_modules(void);
/* server_populate_command_table fills server.commands with every module's
 * command table (modules.c). */
void server_populate_command_table(void);

#endif
