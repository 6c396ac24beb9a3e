/* config.h: the configuration module: redis.conf parsing, the command
 * line, defaults, CONFIG GET/SET/RESETSTAT/REWRITE/HELP.
 *
 * Every directive is one row of a declarative table in config.c (name,
 * alias, type, bounds, default, pointer into `server`, flags, optional apply
 * callback). Directives Redis 7.0 accepts but Redoubt does not implement yet
 * (persistence, replication, cluster, ...) are accepted, stored and returned
 * by CONFIG GET; config_log_unimplemented() warns about the ones set to a
 * non-default value.
 *
 * Storage conventions a reader of `server` must know:
 * - string directives that Redis stores as NULL when empty (pidfile,
 *   unixsocket, requirepass, every tls-* path/passphrase/cipher string) are
 *   NULL when unset or set to ""; logfile, dbfilename, appendfilename and
 *   sandbox-user are never NULL.
 * - hz: server.config_hz holds the configured value clamped to 1..500 and
 *   server.hz is set to it (dynamic-hz may change server.hz later).
 * - dir is applied with chdir(); CONFIG GET dir reads getcwd().
 *
 * Start-up sequence for main():
 *
 *   config_startup st;
 *   config_init_defaults();               // every default into `server`
 *   switch (config_parse_command_line(argc, argv, &st)) {
 *     case CONFIG_CLI_EXIT_SUCCESS: return 0;   // --version / --help
 *     case CONFIG_CLI_EXIT_FAILURE: return 1;   // usage error (printed)
 *   }
 *   config_load_or_exit(&st);             // file, stdin, options; exit(1)
 *                                         // with the FATAL text on error
 *   if (st.check_config)                  // --check-config: no listener
 *     return tls_check_config(&server.tls, server_tls_host(),
 *                             st.check_config_json);
 *   config_log_unimplemented();           // once the log is set up
 *   config_startup_free(&st);
 */
#ifndef REDOUBT_CONFIG_H
#define REDOUBT_CONFIG_H

#include "server/core/server.h"
#include "server/ds/sds.h"
#include "tls/options.h"
#include "tls/tls.h"

struct client;

/* CONFIG_MAX_INCLUDE_DEPTH bounds `include` recursion (a file including
 * itself is reported as an error, not a stack overflow). */
#define CONFIG_MAX_INCLUDE_DEPTH 16
/* CONFIG_MAX_FILE_BYTES bounds one configuration file (and stdin). */
#define CONFIG_MAX_FILE_BYTES (16 * 1024 * 1024)

/* server.supervised values (supervised directive). */
#define CONFIG_SUPERVISED_NONE 0
#define CONFIG_SUPERVISED_AUTODETECT 1
#define CONFIG_SUPERVISED_SYSTEMD 2
#define CONFIG_SUPERVISED_UPSTART 3

/* config_parse_command_line results. */
#define CONFIG_CLI_CONTINUE 0     /* start the server */
#define CONFIG_CLI_EXIT_SUCCESS 1 /* --version or --help printed: exit 0 */
#define CONFIG_CLI_EXIT_FAILURE 2 /* error printed on stderr: exit 1 */

typedef struct config_startup {
  char *config_file;     /* absolute path (zmalloc'd) or NULL */
  int config_from_stdin; /* "-" was given: append stdin after the file */
  sds options;           /* --name value ... as config lines, or NULL */
  int check_config;      /* --check-config (or --check-config-json) */
  int check_config_json; /* --check-config-json */
  int sentinel_mode;     /* --sentinel or argv[0] ends in redis-sentinel */
} config_startup;

/* config_init_defaults stores every directive's Redis 7.0 default (and
 * ours) into `server` and the module's own storage. Call it once before
 * anything else touches `server`; calling it again resets everything to the
 * defaults (tests, the fuzz target) and frees the previous strings. */
void config_init_defaults(void);

/* config_free_all releases the strings config_init_defaults and the parser
 * allocated (tests and the fuzz target; the server never calls it). */
void config_free_all(void);

/* config_parse_command_line implements `server [configfile] [--name value
 * ...] [-]` with Redis 7.0's rules (an option's value may be several words:
 * `--bind 127.0.0.1 ::1`; `--save` alone means `save ""`), plus
 * -v/--version, -h/--help, --check-config and --check-config-json.
 * Fills *out (zeroed first; free with config_startup_free) and also sets
 * server.configfile (absolute path). --sentinel (or a binary named
 * *-sentinel) is refused for now: CONFIG_CLI_EXIT_FAILURE with a message.
 * Returns CONFIG_CLI_*. */
int config_parse_command_line(int argc, char **argv, config_startup *out);
void config_startup_free(config_startup *st);

/* config_load_or_exit loads the config file (with its includes), then stdin
 * if requested, then the command-line options, in that order, each overriding
 * the previous. On any error it prints
 *
 *   *** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
 *   Reading the configuration file /abs/path.conf, at line 2
 *   >>> 'port "abc"'
 *   argument couldn't be parsed into an integer
 *
 * on stderr ("Reading the configuration from the command line" or "from
 * stdin, at line N" for those sources) and exits with status 1. */
void config_load_or_exit(const config_startup *st);

/* config_load_string parses a configuration text without exiting: returns 1,
 * or 0 with *err pointing at the full FATAL text above (owned by the config
 * module, valid until the next call).
 * |source| names the origin in the message ("the command line" or a path).
 * With |no_side_effects| set, `include` is refused, `dir` does not chdir and
 * the logfile is not opened: the fuzz target and tests use that mode. */
int config_load_string(const char *text, size_t len, const char *source,
                       int no_side_effects, const char **err);

/* config_log_unimplemented logs, for every directive that Redis accepts but
 * Redoubt does not implement yet and that is set to a non-default value:
 *   "directive X is accepted but not implemented yet" (warning level). */
void config_log_unimplemented(void);

/* config_set_value sets one directive by name as CONFIG SET would (value
 * split on spaces for multi-argument directives), runs its apply callback,
 * and rolls back if that fails. Returns 1, or 0 with *err pointing at the
 * text after "-ERR " that CONFIG SET would reply (owned by the config
 * module, valid until the next call). Immutable directives are refused as in
 * CONFIG SET. */
int config_set_value(const char *name, const char *value, const char **err);

/* config_get_value returns the value CONFIG GET would return for the
 * directive |name| (alias accepted), or NULL if there is no such directive.
 * The caller frees the result with sds_free. */
sds config_get_value(const char *name);

/* config_rewrite rewrites |path| as CONFIG REWRITE does: comments, blank
 * lines and unknown lines kept in order, lines of known directives replaced
 * by the current value (aliases written under the canonical name), other
 * non-default directives appended after "# Generated by CONFIG REWRITE".
 * Written to a temp file in the same directory, fsync'd, renamed over
 * |path| with the old file's mode, then the directory is fsync'd. Returns 1,
 * or 0 with errno set. */
int config_rewrite(const char *path);

/* config_protected_action_allowed implements enable-protected-configs /
 * enable-debug-command / enable-module-command semantics: |setting| is the
 * directive's value (CONFIG_PROTECTED_*); "local" allows loopback and unix
 * socket clients. */
#define CONFIG_PROTECTED_NO 0
#define CONFIG_PROTECTED_YES 1
#define CONFIG_PROTECTED_LOCAL 2
int config_protected_action_allowed(int setting, struct client *c);
int config_enable_protected_configs(void); /* enable-protected-configs */
int config_enable_debug_command(void);     /* enable-debug-command value */
int config_enable_module_command(void);    /* enable-module-command value */

/* config_set_appendonly_hook: CONFIG SET appendonly calls |proc| (the
 * persistence module starts or stops the AOF); 0 with *err refuses. */
void config_set_appendonly_hook(int (*proc)(const char **err));

/* replicaof as configured (NULL: none; *port set); REPLICAOF updates it so
 * that CONFIG GET / REWRITE show the running state. */
const char *config_replicaof(int *port);
void config_set_replicaof_state(const char *host, int port);

/* The save points (`save`), which persistence runs in cron. */
int config_save_params_count(void);
/* config_save_param returns the |i|th save point (seconds, changes). */
void config_save_param(int i, long long *out_seconds, int *out_changes);

/* maxmemory-policy names (INFO prints them). */
const char *config_maxmemory_policy_name(int policy);

/* The CONFIG command table (terminated by {0}). */
extern redis_command config_commands[];

/* server_tls_options: the tls-* directives' values (paths and the
 * passphrase only: main never opens the key file). The server passes them
 * to tls_start; CONFIG SET tls-* reloads from them. */
extern tls_options server_tls_options;
/* config_hand_over_key_passes: privilege separation (server/privsep.h) has
 * given tls-key-file-pass and tls-client-key-file-pass to the spawner.
 * Wipes main's copies; from now on CONFIG GET shows each one that was set
 * as "(redacted)", CONFIG SET refuses any other value, and CONFIG REWRITE
 * leaves their lines in the file untouched. */
void config_hand_over_key_passes(void);

/* config_set_tls_host gives the config layer what tls_reconfigure needs
 * from the server (the server calls it at start-up, before any CONFIG SET;
 * until then CONFIG SET tls-* fails with "Unable to update TLS
 * configuration"). */
void config_set_tls_host(const tls_host *host);

#endif
