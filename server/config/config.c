/* config.c: the directive table, redis.conf and command-line parsing, and
 * CONFIG GET/SET/RESETSTAT/HELP. CONFIG REWRITE lives in config_rewrite.c.
 *
 * Reference: Redis 7.0.15's config.c semantics and texts (checked against
 * the Debian redis-server 7.0.15 side by side). */
#include "server/config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "server/acl/acl.h"
#include "server/base/zmalloc.h"
#include "server/config/config_internal.h"
#include "server/core/latency.h"
#include "server/core/networking.h"
#include "server/core/server.h"
#include "tls/tls.h"

/* ------------------------------------------------------------------ */
/* Storage owned by this module                                         */
/* ------------------------------------------------------------------ */
/* Named maxima for multi-argument directives read from outside. */
#define CONFIG_MAX_SAVE_PARAMS 64
#define CONFIG_MAX_PERCENTILES 64
#define CONFIG_OOM_COUNT 3

const client_buffer_limit
    client_buffer_limits_defaults[CLIENT_TYPE_OBUF_COUNT] = {
        {0, 0, 0},                                 /* normal */
        {1024 * 1024 * 256, 1024 * 1024 * 64, 60}, /* slave */
        {1024 * 1024 * 32, 1024 * 1024 * 8, 60},   /* pubsub */
};

typedef struct save_param {
  long long seconds;
  int changes;
} save_param;

/* Values of directives that have no field in `server` (most are accepted
 * but not implemented yet). Kept in one struct with one owner. */
static struct {
  save_param save[CONFIG_MAX_SAVE_PARAMS];
  int save_count;
  int oom_score_adj_values[CONFIG_OOM_COUNT];
  double percentiles[CONFIG_MAX_PERCENTILES];
  int percentiles_count;
  char *masterhost;
  int masterport;
  int enable_protected_configs, enable_debug_command, enable_module_command;
  int initialized;
  /* Plain accepted-but-unimplemented values. */
  int b[40];
  int i[48];
  unsigned int ui[4];
  unsigned long ul[4];
  long long ll[8];
  unsigned long long ull[2];
  size_t st[8];
  ssize_t sst[2];
  time_t tt[2];
  off_t ot[2];
  char *s[24];
} cfg;

/* ------------------------------------------------------------------ */
/* Enums                                                                */
/* ------------------------------------------------------------------ */
static const config_enum_item yes_no_local_enum[] = {
    {"no", CONFIG_PROTECTED_NO},
    {"yes", CONFIG_PROTECTED_YES},
    {"local", CONFIG_PROTECTED_LOCAL},
    {NULL, 0}};
static const config_enum_item maxmemory_policy_enum[] = {
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU},
    {"volatile-lfu", MAXMEMORY_VOLATILE_LFU},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM},
    {"volatile-ttl", MAXMEMORY_VOLATILE_TTL},
    {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU},
    {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU},
    {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM},
    {"noeviction", MAXMEMORY_NO_EVICTION},
    {NULL, 0}};
static const config_enum_item syslog_facility_enum[] = {
    {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7}, {NULL, 0}};
static const config_enum_item loglevel_enum[] = {{"debug", LL_DEBUG},
                                                 {"verbose", LL_VERBOSE},
                                                 {"notice", LL_NOTICE},
                                                 {"warning", LL_WARNING},
                                                 {NULL, 0}};
static const config_enum_item supervised_enum[] = {
    {"upstart", CONFIG_SUPERVISED_UPSTART},
    {"systemd", CONFIG_SUPERVISED_SYSTEMD},
    {"auto", CONFIG_SUPERVISED_AUTODETECT},
    {"no", CONFIG_SUPERVISED_NONE},
    {NULL, 0}};
static const config_enum_item appendfsync_enum[] = {
    {"everysec", 2}, {"always", 1}, {"no", 0}, {NULL, 0}};
static const config_enum_item repl_diskless_load_enum[] = {
    {"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}, {NULL, 0}};
static const config_enum_item tls_auth_clients_enum[] = {
    {"no", TLS_CLIENT_AUTH_NO},
    {"yes", TLS_CLIENT_AUTH_YES},
    {"optional", TLS_CLIENT_AUTH_OPTIONAL},
    {NULL, 0}};
static const config_enum_item oom_score_adj_enum[] = {
    {"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}, {NULL, 0}};
static const config_enum_item acl_pubsub_default_enum[] = {
    {"allchannels", 1}, {"resetchannels", 0}, {NULL, 0}};
static const config_enum_item sanitize_dump_payload_enum[] = {
    {"no", 0}, {"yes", 1}, {"clients", 2}, {NULL, 0}};
static const config_enum_item cluster_endpoint_enum[] = {
    {"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}, {NULL, 0}};
static const config_enum_item propagation_error_enum[] = {
    {"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}, {NULL, 0}};
/* shutdown-on-sig*: a set of flags; "default" is the empty set. */
static const config_enum_item shutdown_on_sig_enum[] = {
    {"default", 0},
    {"save", SHUTDOWN_FLAG_SAVE},
    {"nosave", SHUTDOWN_FLAG_NOSAVE},
    {"now", SHUTDOWN_FLAG_NOW},
    {"force", SHUTDOWN_FLAG_FORCE},
    {NULL, 0}};

const char *config_maxmemory_policy_name(int policy) {
  for (const config_enum_item *it = maxmemory_policy_enum; it->name; it++) {
    if (it->value == policy) {
      return it->name;
    }
  }
  return "unknown";
}

/* ------------------------------------------------------------------ */
/* Apply callbacks (CONFIG SET only)                                   */
/* ------------------------------------------------------------------ */
/* tls_reconfigure's reason outlives the call: kept until the next one. */
tls_options server_tls_options;
/* What tls/ needs from the server, for CONFIG SET tls-* (config_set_tls_host). */
static const tls_host *config_tls_host;

void config_set_tls_host(const tls_host *host) { config_tls_host = host; }

static char tls_apply_error[TLS_ERR_LEN];
/* Set when one CONFIG SET already reloaded TLS (apply_tls runs before
 * apply_tls_port), so a new tls-port does not reload twice. */
static int tls_reloaded_in_this_set;

static int reload_tls(const char **err) {
  tls_apply_error[0] = '\0';
  if (config_tls_host == NULL ||
      !tls_reconfigure(server.el, &server_tls_options, config_tls_host,
                       tls_apply_error, sizeof(tls_apply_error))) {
    if (tls_apply_error[0] == '\0') {
      snprintf(tls_apply_error, sizeof(tls_apply_error), "%s",
               "Unable to update TLS configuration. Check server logs.");
    }
    *err = tls_apply_error;
    return 0;
  }
  tls_reloaded_in_this_set = 1;
  return 1;
}

/* As Redis: TLS material is only (re)loaded when something uses TLS. */
/* requirepass is the default user's password (Redis 7.0): "" = nopass. */
static config_apply_proc *appendonly_hook;

void config_set_appendonly_hook(int (*proc)(const char **err)) {
  appendonly_hook = proc;
}

static int apply_appendonly(const char **err) {
  return appendonly_hook ? appendonly_hook(err) : 1;
}

static int apply_requirepass(const char **err) {
  (void)err;
  acl_update_default_user_password(server.requirepass);
  return 1;
}

static int apply_tls(const char **err) {
  if (!server.tls_port && !server.tls_replication && !server.tls_cluster) {
    return 1;
  }
  return reload_tls(err);
}

static int apply_port(const char **err) {
  if (listener_open(LISTENER_TCP, server.port) != C_OK) {
    *err = "Unable to listen on this port. Check server logs.";
    return 0;
  }
  return 1;
}

static int apply_tls_port(const char **err) {
  /* A tls-port going from 0 to N needs TLS material loaded first. */
  if (server.tls_port && !tls_reloaded_in_this_set && !reload_tls(err)) {
    return 0;
  }
  if (listener_open(LISTENER_TLS, server.tls_port) != C_OK) {
    *err = "Unable to listen on this port. Check server logs.";
    return 0;
  }
  return 1;
}

/* apply_bind closes every listener first (the new addresses may overlap
 * the old ones on the same port), then listens on the new addresses; on
 * failure CONFIG SET restores the old addresses and calls it again. */
static int apply_bind(const char **err) {
  close_listening_sockets(0);
  if (listener_open(LISTENER_TCP, server.port) != C_OK ||
      listener_open(LISTENER_TLS, server.tls_port) != C_OK) {
    close_listening_sockets(0);
    *err = "Failed to bind to specified addresses.";
    return 0;
  }
  return 1;
}

static int apply_hz(const char **err) {
  (void)err;
  if (server.config_hz < 1) {
    server.config_hz = 1;
  }
  if (server.config_hz > CONFIG_MAX_HZ) {
    server.config_hz = CONFIG_MAX_HZ;
  }
  server.hz = server.config_hz;
  return 1;
}

static int apply_maxmemory(const char **err) {
  (void)err;
  if (server.maxmemory) {
    size_t used = used_memory();
    if (server.maxmemory < used) {
      server_log(LL_WARNING,
                 "WARNING: the new maxmemory value set via CONFIG SET (%llu) "
                 "is smaller than the current memory usage (%zu). This will "
                 "result in key eviction and/or the inability to accept new "
                 "write commands depending on the maxmemory-policy.",
                 server.maxmemory, used);
    }
    perform_evictions();
  }
  return 1;
}

/* apply_maxclients raises the open files limit if needed, as Redis does. */
static int apply_maxclients(const char **err) {
  static char msg[128];
  rlim_t needed = (rlim_t)server.maxclients + CONFIG_MIN_RESERVED_FDS;
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == -1) {
    return 1;
  }
  if (lim.rlim_cur >= needed) {
    return 1;
  }
  struct rlimit want = lim;
  want.rlim_cur = needed;
  if (want.rlim_max != RLIM_INFINITY && want.rlim_max < needed) {
    want.rlim_cur = want.rlim_max;
  }
  if (setrlimit(RLIMIT_NOFILE, &want) == 0 && want.rlim_cur >= needed) {
    return 1;
  }
  long long possible = (long long)lim.rlim_max - CONFIG_MIN_RESERVED_FDS;
  if (lim.rlim_max == RLIM_INFINITY || possible > (long long)UINT_MAX) {
    possible = (long long)lim.rlim_cur - CONFIG_MIN_RESERVED_FDS;
  }
  snprintf(msg, sizeof(msg),
           "The operating system is not able to handle the specified number "
           "of clients, try with %lld",
           possible < 1 ? 1 : possible);
  *err = msg;
  return 0;
}

/* ------------------------------------------------------------------ */
/* String checks                                                        */
/* ------------------------------------------------------------------ */
/* Privilege separation (server-user, server/privsep.c): once the spawner
 * holds tls-key-file-pass and tls-client-key-file-pass, main keeps only
 * this marker. CONFIG GET shows it; CONFIG SET accepts nothing else (the
 * spawner keeps what it was started with: change it in the file and
 * restart); CONFIG REWRITE leaves their lines in the file as they are. */
#define CONFIG_KEY_PASS_HELD_BY_SPAWNER "(redacted)"
static int key_passes_held_by_spawner;

void config_hand_over_key_passes(void) {
  char **passes[] = {&server_tls_options.key_file_pass,
                     &server_tls_options.client_key_file_pass};
  for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++) {
    if (*passes[i] != NULL) {
      memset(*passes[i], 0, strlen(*passes[i]));
      zfree(*passes[i]);
      *passes[i] = zstrdup(CONFIG_KEY_PASS_HELD_BY_SPAWNER);
    }
  }
  key_passes_held_by_spawner = 1;
}

/* check_key_pass refuses a change of a passphrase the spawner holds (the
 * unchanged value passes: CONFIG SET rolls back by setting it again). */
static int check_key_pass(const char *v, const char *current,
                          const char **err) {
  if (key_passes_held_by_spawner &&
      strcmp(v, current != NULL ? current : "") != 0) {
    *err =
        "the key passphrases are held by the privileged spawner (server-user): "
        "change it in the configuration file and restart";
    return 0;
  }
  return 1;
}

static int check_tls_key_pass(const char *v, const char **err) {
  return check_key_pass(v, server_tls_options.key_file_pass, err);
}

static int check_tls_client_key_pass(const char *v, const char **err) {
  return check_key_pass(v, server_tls_options.client_key_file_pass, err);
}

static void rewrite_key_pass(const config_entry *e,
                             struct config_rewrite_state *st) {
  if (key_passes_held_by_spawner) {
    return; /* main does not know the value: old lines stay untouched */
  }
  sds value = config_entry_rewrite_value(e);
  if (value == NULL) {
    config_rewrite_mark_processed(st, e->name);
    return;
  }
  sds line = sds_cat_printf(sds_empty(), "%s %s", e->name, value);
  sds_free(value);
  config_rewrite_line(st, e->name, line, !config_entry_is_default(e));
}

static int check_dbfilename(const char *v, const char **err) {
  if (strchr(v, '/') != NULL) {
    *err = "dbfilename can't be a path, just a filename";
    return 0;
  }
  return 1;
}

static int check_appendfilename(const char *v, const char **err) {
  if (strchr(v, '/') != NULL) {
    *err = "appendfilename can't be a path, just a filename";
    return 0;
  }
  return 1;
}

static int check_appenddirname(const char *v, const char **err) {
  if (strchr(v, '/') != NULL) {
    *err = "appenddirname can't be a path, just a dirname";
    return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Special directives                                                   */
/* ------------------------------------------------------------------ */
static int set_dir(sds *argv, int argc, const char **err) {
  if (argc != 1) {
    *err = "wrong number of arguments";
    return 0;
  }
  if (chdir(argv[0]) == -1) {
    *err = strerror(errno);
    return 0;
  }
  return 1;
}

/* In no-side-effects mode (fuzz, tests) dir is validated, not applied. */
static int config_no_side_effects;

/* Set while one configuration load runs: Redis lets several `save` lines of
 * one load accumulate, the first one replacing the defaults. */
static int loading_config;
static int save_loaded;

void config_set_load_mode(int loading, int no_side_effects) {
  loading_config = loading;
  save_loaded = 0;
  config_no_side_effects = no_side_effects;
}

static int set_dir_checked(sds *argv, int argc, const char **err) {
  if (config_no_side_effects) {
    if (argc != 1) {
      *err = "wrong number of arguments";
      return 0;
    }
    return 1;
  }
  return set_dir(argv, argc, err);
}

static sds get_dir(void) {
  char buf[4096];
  if (getcwd(buf, sizeof(buf)) == NULL) {
    buf[0] = '\0';
  }
  return sds_new(buf);
}

static int set_save(sds *argv, int argc, const char **err) {
  if (argc == 1 && argv[0][0] == '\0') {
    argc = 0; /* save "" : no save points */
  }
  if (argc & 1) {
    *err = "Invalid save parameters";
    return 0;
  }
  save_param parsed[CONFIG_MAX_SAVE_PARAMS];
  int count = 0;
  for (int j = 0; j < argc; j += 2) {
    long long seconds, changes;
    if (!string2ll(argv[j], sds_len(argv[j]), &seconds) ||
        !string2ll(argv[j + 1], sds_len(argv[j + 1]), &changes) ||
        seconds < 1 || changes < 0 || changes > INT_MAX ||
        count == CONFIG_MAX_SAVE_PARAMS) {
      *err = "Invalid save parameters";
      return 0;
    }
    parsed[count].seconds = seconds;
    parsed[count].changes = (int)changes;
    count++;
  }
  if (!loading_config || !save_loaded || argc == 0) {
    cfg.save_count = 0;
  }
  if (loading_config) {
    save_loaded = 1;
  }
  for (int j = 0; j < count; j++) {
    if (cfg.save_count == CONFIG_MAX_SAVE_PARAMS) {
      *err = "Invalid save parameters";
      return 0;
    }
    cfg.save[cfg.save_count++] = parsed[j];
  }
  return 1;
}

static sds get_save(void) {
  sds s = sds_empty();
  for (int j = 0; j < cfg.save_count; j++) {
    s = sds_cat_printf(s, "%s%lld %d", j ? " " : "", cfg.save[j].seconds,
                       cfg.save[j].changes);
  }
  return s;
}

int config_save_params_count(void) { return cfg.save_count; }

void config_save_param(int i, long long *out_seconds, int *out_changes) {
  *out_seconds = cfg.save[i].seconds;
  *out_changes = cfg.save[i].changes;
}

static int obuf_class_by_name(const char *name) {
  if (!strcasecmp(name, "normal")) {
    return CLIENT_TYPE_NORMAL;
  }
  if (!strcasecmp(name, "slave") || !strcasecmp(name, "replica")) {
    return CLIENT_TYPE_SLAVE;
  }
  if (!strcasecmp(name, "pubsub")) {
    return CLIENT_TYPE_PUBSUB;
  }
  return -1; /* "master" is not a valid class here either */
}

static const char *obuf_class_name(int class_) {
  static const char *names[] = {"normal", "slave", "pubsub"};
  return names[class_];
}

static int set_client_output_buffer_limit(sds *argv, int argc,
                                          const char **err) {
  client_buffer_limit values[CLIENT_TYPE_OBUF_COUNT];
  int seen[CLIENT_TYPE_OBUF_COUNT] = {0};
  if (argc % 4) {
    *err = "Wrong number of arguments in buffer limit configuration.";
    return 0;
  }
  for (int j = 0; j < argc; j += 4) {
    int class_ = obuf_class_by_name(argv[j]);
    if (class_ == -1) {
      *err = "Invalid client class specified in buffer limit configuration.";
      return 0;
    }
    int hard_err, soft_err;
    unsigned long long hard = memtoull(argv[j + 1], &hard_err);
    unsigned long long soft = memtoull(argv[j + 2], &soft_err);
    char *end;
    errno = 0;
    long long secs = strtoll(argv[j + 3], &end, 10);
    if (hard_err || soft_err || secs < 0 || *end != '\0' || errno) {
      *err =
          "Error in hard, soft or soft_seconds setting in buffer limit "
          "configuration.";
      return 0;
    }
    values[class_].hard_limit_bytes = hard;
    values[class_].soft_limit_bytes = soft;
    values[class_].soft_limit_seconds = (time_t)secs;
    seen[class_] = 1;
  }
  for (int j = 0; j < CLIENT_TYPE_OBUF_COUNT; j++) {
    if (seen[j]) {
      server.client_obuf_limits[j] = values[j];
    }
  }
  return 1;
}

static sds get_client_output_buffer_limit(void) {
  sds s = sds_empty();
  for (int j = 0; j < CLIENT_TYPE_OBUF_COUNT; j++) {
    const client_buffer_limit *l = &server.client_obuf_limits[j];
    s = sds_cat_printf(s, "%s%s %llu %llu %ld", j ? " " : "",
                       obuf_class_name(j), l->hard_limit_bytes,
                       l->soft_limit_bytes, (long)l->soft_limit_seconds);
  }
  return s;
}

static void rewrite_client_output_buffer_limit(
    const config_entry *e, struct config_rewrite_state *st) {
  for (int j = 0; j < CLIENT_TYPE_OBUF_COUNT; j++) {
    const client_buffer_limit *l = &server.client_obuf_limits[j];
    const client_buffer_limit *d = &client_buffer_limits_defaults[j];
    int force = l->hard_limit_bytes != d->hard_limit_bytes ||
                l->soft_limit_bytes != d->soft_limit_bytes ||
                l->soft_limit_seconds != d->soft_limit_seconds;
    /* Redis 7.0 writes the replica class as "replica" (CONFIG GET still
     * says "slave"). */
    sds line =
        sds_cat_printf(sds_empty(), "%s %s ", e->name,
                       j == CLIENT_TYPE_SLAVE ? "replica" : obuf_class_name(j));
    line = config_format_memory(line, l->hard_limit_bytes);
    line = sds_cat(line, " ");
    line = config_format_memory(line, l->soft_limit_bytes);
    line = sds_cat_printf(line, " %ld", (long)l->soft_limit_seconds);
    config_rewrite_line(st, e->name, line, force);
  }
}

static void rewrite_save(const config_entry *e,
                         struct config_rewrite_state *st) {
  int force = !config_entry_is_default(e);
  if (cfg.save_count == 0) {
    config_rewrite_line(st, e->name, sds_cat(sds_new(e->name), " \"\""), force);
    return;
  }
  for (int j = 0; j < cfg.save_count; j++) {
    sds line = sds_cat_printf(sds_empty(), "%s %lld %d", e->name,
                              cfg.save[j].seconds, cfg.save[j].changes);
    config_rewrite_line(st, e->name, line, force);
  }
}

static int set_oom_score_adj_values(sds *argv, int argc, const char **err) {
  int values[CONFIG_OOM_COUNT];
  if (argc != CONFIG_OOM_COUNT) {
    *err = "wrong number of arguments";
    return 0;
  }
  for (int j = 0; j < CONFIG_OOM_COUNT; j++) {
    char *end;
    errno = 0;
    long long v = strtoll(argv[j], &end, 10);
    if (*end != '\0' || errno || v < -2000 || v > 2000) {
      *err =
          "Invalid oom-score-adj-values, elements must be between -2000 "
          "and 2000.";
      return 0;
    }
    values[j] = (int)v;
  }
  int changed = 0;
  for (int j = 0; j < CONFIG_OOM_COUNT; j++) {
    changed |= cfg.oom_score_adj_values[j] != values[j];
    cfg.oom_score_adj_values[j] = values[j];
  }
  return changed ? 1 : 2;
}

static sds get_oom_score_adj_values(void) {
  return sds_cat_printf(sds_empty(), "%d %d %d", cfg.oom_score_adj_values[0],
                        cfg.oom_score_adj_values[1],
                        cfg.oom_score_adj_values[2]);
}

static int set_notify_keyspace_events(sds *argv, int argc, const char **err) {
  if (argc != 1) {
    *err = "wrong number of arguments";
    return 0;
  }
  int flags = keyspace_events_string_to_flags(argv[0]);
  if (flags == -1) {
    *err = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    return 0;
  }
  server.notify_keyspace_events = flags;
  return 1;
}

static sds get_notify_keyspace_events(void) {
  return keyspace_events_flags_to_string(server.notify_keyspace_events);
}

static void rewrite_notify_keyspace_events(const config_entry *e,
                                           struct config_rewrite_state *st) {
  sds value = get_notify_keyspace_events();
  sds line = sds_cat(sds_new(e->name), " ");
  line = sds_cat_repr(line, value, sds_len(value));
  config_rewrite_line(st, e->name, line, server.notify_keyspace_events != 0);
  sds_free(value);
}

static int set_bind(sds *argv, int argc, const char **err) {
  if (argc > CONFIG_BINDADDR_MAX) {
    *err = "Too many bind addresses specified.";
    return 0;
  }
  if (argc == 1 && argv[0][0] == '\0') {
    argc = 0; /* bind "" : no TCP addresses */
  }
  for (int j = 0; j < server.bindaddr_count; j++) {
    zfree(server.bindaddr[j]);
    server.bindaddr[j] = NULL;
  }
  for (int j = 0; j < argc; j++) {
    server.bindaddr[j] = zstrdup(argv[j]);
  }
  server.bindaddr_count = argc;
  return 1;
}

static sds get_bind(void) {
  return sds_join(server.bindaddr, server.bindaddr_count, " ");
}

static void rewrite_bind(const config_entry *e,
                         struct config_rewrite_state *st) {
  int force = !config_entry_is_default(e);
  sds line = sds_new(e->name);
  if (server.bindaddr_count == 0) {
    line = sds_cat(line, " \"\"");
  } else {
    for (int j = 0; j < server.bindaddr_count; j++) {
      line = sds_cat_printf(line, " %s", server.bindaddr[j]);
    }
  }
  config_rewrite_line(st, e->name, line, force);
}

static int set_replicaof(sds *argv, int argc, const char **err) {
  if (argc == 0 || (argc == 1 && argv[0][0] == '\0')) {
    zfree(cfg.masterhost); /* the default: not a replica */
    cfg.masterhost = NULL;
    return 1;
  }
  if (argc != 2) {
    *err = "wrong number of arguments";
    return 0;
  }
  zfree(cfg.masterhost);
  cfg.masterhost = NULL;
  if (!strcasecmp(argv[0], "no") && !strcasecmp(argv[1], "one")) {
    return 1;
  }
  char *end;
  errno = 0;
  long port = strtol(argv[1], &end, 10);
  if (port < 0 || port > 65535 || *end != '\0' || errno) {
    *err = "Invalid master port";
    return 0;
  }
  cfg.masterport = (int)port;
  cfg.masterhost = zstrdup(argv[0]);
  return 1;
}

const char *config_replicaof(int *port) {
  *port = cfg.masterport;
  return cfg.masterhost;
}

void config_set_replicaof_state(const char *host, int port) {
  zfree(cfg.masterhost);
  cfg.masterhost = host ? zstrdup(host) : NULL;
  cfg.masterport = port;
}

static sds get_replicaof(void) {
  if (cfg.masterhost == NULL) {
    return sds_empty();
  }
  return sds_cat_printf(sds_empty(), "%s %d", cfg.masterhost, cfg.masterport);
}

static void rewrite_replicaof(const config_entry *e,
                              struct config_rewrite_state *st) {
  if (cfg.masterhost == NULL) {
    config_rewrite_mark_processed(st, e->name);
    return;
  }
  sds line = sds_cat_printf(sds_empty(), "%s %s %d", e->name, cfg.masterhost,
                            cfg.masterport);
  config_rewrite_line(st, e->name, line, 1);
}

static int set_percentiles(sds *argv, int argc, const char **err) {
  double values[CONFIG_MAX_PERCENTILES];
  if (argc == 1 && argv[0][0] == '\0') {
    argc = 0;
  }
  if (argc > CONFIG_MAX_PERCENTILES) {
    *err = "Invalid latency-tracking-info-percentiles parameters";
    return 0;
  }
  for (int j = 0; j < argc; j++) {
    if (!string2d(argv[j], sds_len(argv[j]), &values[j])) {
      *err = "Invalid latency-tracking-info-percentiles parameters";
      return 0;
    }
    if (values[j] > 100.0 || values[j] < 0.0) {
      *err =
          "latency-tracking-info-percentiles parameters should sit "
          "between [0.0,100.0]";
      return 0;
    }
  }
  memcpy(cfg.percentiles, values, sizeof(double) * (size_t)argc);
  cfg.percentiles_count = argc;
  latency_tracking_set_percentiles(values, argc); /* what INFO prints */
  return 1;
}

/* "%f" without trailing zeros (and without a trailing dot), as Redis. */
static sds cat_trimmed_double(sds s, double v) {
  char buf[128];
  int len = snprintf(buf, sizeof(buf), "%f", v);
  if (len > 0 && strchr(buf, '.') != NULL) {
    while (len > 0 && buf[len - 1] == '0') {
      len--;
    }
    if (len > 0 && buf[len - 1] == '.') {
      len--;
    }
  }
  return sds_cat_len(s, buf, (size_t)len);
}

static sds get_percentiles(void) {
  sds s = sds_empty();
  for (int j = 0; j < cfg.percentiles_count; j++) {
    if (j) {
      s = sds_cat(s, " ");
    }
    s = cat_trimmed_double(s, cfg.percentiles[j]);
  }
  return s;
}

static void rewrite_percentiles(const config_entry *e,
                                struct config_rewrite_state *st) {
  sds line = sds_new(e->name);
  if (cfg.percentiles_count == 0) {
    line = sds_cat(line, " \"\"");
  } else {
    sds v = get_percentiles();
    line = sds_cat(line, " ");
    line = sds_cat_sds(line, v);
    sds_free(v);
  }
  /* Redis 7.0 always writes this one. */
  config_rewrite_line(st, e->name, line, 1);
}

/* ------------------------------------------------------------------ */
/* The directive table                                                  */
/* ------------------------------------------------------------------ */
#define IMM CONFIG_FLAG_IMMUTABLE
#define SENS CONFIG_FLAG_SENSITIVE
#define PROT CONFIG_FLAG_PROTECTED
#define MULTI CONFIG_FLAG_MULTI_ARG
#define MEM CONFIG_FLAG_MEMORY
#define NUL CONFIG_FLAG_EMPTY_IS_NULL
#define UNIMPL CONFIG_FLAG_UNIMPLEMENTED

#define BOOL_CONFIG(n, a, fl, p, d, ap)                                     \
  {                                                                         \
    .name = n, .alias = a, .type = CONFIG_TYPE_BOOL, .flags = fl, .ptr = p, \
    .default_number = d, .apply = ap                                        \
  }
#define NUM_CONFIG(t, n, a, fl, p, mn, mx, d, ap)                       \
  {                                                                     \
    .name = n, .alias = a, .type = t, .flags = fl, .ptr = p, .min = mn, \
    .max = mx, .default_number = d, .apply = ap                         \
  }
#define INT_CONFIG(n, a, fl, p, mn, mx, d, ap) \
  NUM_CONFIG(CONFIG_TYPE_INT, n, a, fl, p, mn, mx, d, ap)
#define ULL_CONFIG(n, a, fl, p, mn, umx, d, ap)                            \
  {                                                                        \
    .name = n, .alias = a, .type = CONFIG_TYPE_ULL, .flags = fl, .ptr = p, \
    .min = mn, .umax = umx, .default_number = d, .apply = ap               \
  }
#define ENUM_CONFIG(n, a, fl, p, items, d, ap)                              \
  {                                                                         \
    .name = n, .alias = a, .type = CONFIG_TYPE_ENUM, .flags = fl, .ptr = p, \
    .enum_items = items, .default_number = d, .apply = ap                   \
  }
#define FLAGS_CONFIG(n, fl, p, items, d)                              \
  {                                                                   \
    .name = n, .type = CONFIG_TYPE_FLAGS_ENUM, .flags = (fl) | MULTI, \
    .ptr = p, .enum_items = items, .default_number = d                \
  }
#define STRING_CONFIG(n, a, fl, p, d, chk, ap)                                \
  {                                                                           \
    .name = n, .alias = a, .type = CONFIG_TYPE_STRING, .flags = fl, .ptr = p, \
    .default_string = d, .check_string = chk, .apply = ap                     \
  }
#define SPECIAL_CONFIG(n, a, fl, d, set, get, rw, ap)                \
  {                                                                  \
    .name = n, .alias = a, .type = CONFIG_TYPE_SPECIAL, .flags = fl, \
    .default_string = d, .special_set = set, .special_get = get,     \
    .special_rewrite = rw, .apply = ap                               \
  }

const config_entry config_table[] = {
    /* Bool */
    BOOL_CONFIG("rdbchecksum", NULL, IMM, &server.rdb_checksum, 1, NULL),
    BOOL_CONFIG("daemonize", NULL, IMM, &server.daemonize, 0, NULL),
    BOOL_CONFIG("io-threads-do-reads", NULL, IMM | UNIMPL, &cfg.b[1], 0, NULL),
    BOOL_CONFIG("always-show-logo", NULL, IMM | UNIMPL, &cfg.b[2], 0, NULL),
    BOOL_CONFIG("protected-mode", NULL, 0, &server.protected_mode, 1, NULL),
    BOOL_CONFIG("rdbcompression", NULL, 0, &server.rdb_compression, 1, NULL),
    BOOL_CONFIG("rdb-del-sync-files", NULL, 0, &server.rdb_del_sync_files, 0,
                NULL),
    BOOL_CONFIG("activerehashing", NULL, 0, &server.activerehashing, 1, NULL),
    BOOL_CONFIG("stop-writes-on-bgsave-error", NULL, 0,
                &server.stop_writes_on_bgsave_err, 1, NULL),
    BOOL_CONFIG("set-proc-title", NULL, IMM | UNIMPL, &cfg.b[6], 1, NULL),
    BOOL_CONFIG("dynamic-hz", NULL, 0, &server.dynamic_hz, 1, NULL),
    BOOL_CONFIG("lazyfree-lazy-eviction", NULL, 0,
                &server.lazyfree_lazy_eviction, 0, NULL),
    BOOL_CONFIG("lazyfree-lazy-expire", NULL, 0, &server.lazyfree_lazy_expire,
                0, NULL),
    BOOL_CONFIG("lazyfree-lazy-server-del", NULL, 0,
                &server.lazyfree_lazy_server_del, 0, NULL),
    BOOL_CONFIG("lazyfree-lazy-user-del", NULL, 0,
                &server.lazyfree_lazy_user_del, 0, NULL),
    BOOL_CONFIG("lazyfree-lazy-user-flush", NULL, 0,
                &server.lazyfree_lazy_user_flush, 0, NULL),
    BOOL_CONFIG("repl-disable-tcp-nodelay", NULL, UNIMPL, &cfg.b[7], 0, NULL),
    BOOL_CONFIG("repl-diskless-sync", NULL, 0, &server.repl_diskless_sync, 1,
                NULL),
    BOOL_CONFIG("aof-rewrite-incremental-fsync", NULL, 0,
                &server.aof_rewrite_incremental_fsync, 1, NULL),
    BOOL_CONFIG("no-appendfsync-on-rewrite", NULL, 0,
                &server.aof_no_fsync_on_rewrite, 0, NULL),
    BOOL_CONFIG("cluster-require-full-coverage", NULL, UNIMPL, &cfg.b[11], 1,
                NULL),
    BOOL_CONFIG("rdb-save-incremental-fsync", NULL, 0,
                &server.rdb_save_incremental_fsync, 1, NULL),
    BOOL_CONFIG("aof-load-truncated", NULL, 0, &server.aof_load_truncated, 1,
                NULL),
    BOOL_CONFIG("aof-use-rdb-preamble", NULL, 0, &server.aof_use_rdb_preamble,
                1, NULL),
    BOOL_CONFIG("aof-timestamp-enabled", NULL, 0, &server.aof_timestamp_enabled,
                0, NULL),
    BOOL_CONFIG("cluster-replica-no-failover", "cluster-slave-no-failover",
                UNIMPL, &cfg.b[16], 0, NULL),
    BOOL_CONFIG("replica-lazy-flush", "slave-lazy-flush", UNIMPL, &cfg.b[17], 0,
                NULL),
    BOOL_CONFIG("replica-serve-stale-data", "slave-serve-stale-data", 0,
                &server.repl_serve_stale_data, 1, NULL),
    BOOL_CONFIG("replica-read-only", "slave-read-only", 0,
                &server.repl_slave_ro, 1, NULL),
    BOOL_CONFIG("replica-ignore-maxmemory", "slave-ignore-maxmemory", UNIMPL,
                &cfg.b[20], 1, NULL),
    BOOL_CONFIG("jemalloc-bg-thread", NULL, UNIMPL, &cfg.b[21], 1, NULL),
    BOOL_CONFIG("activedefrag", NULL, UNIMPL, &cfg.b[22], 0, NULL),
    BOOL_CONFIG("syslog-enabled", NULL, IMM,
                &server_log_settings.syslog_enabled, 0, NULL),
    BOOL_CONFIG("cluster-enabled", NULL, IMM | UNIMPL, &cfg.b[23], 0, NULL),
    BOOL_CONFIG("appendonly", NULL, 0, &server.appendonly, 0, apply_appendonly),
    BOOL_CONFIG("cluster-allow-reads-when-down", NULL, UNIMPL, &cfg.b[24], 0,
                NULL),
    BOOL_CONFIG("cluster-allow-pubsubshard-when-down", NULL, UNIMPL, &cfg.b[25],
                1, NULL),
    BOOL_CONFIG("crash-log-enabled", NULL, UNIMPL, &cfg.b[26], 1, NULL),
    BOOL_CONFIG("crash-memcheck-enabled", NULL, UNIMPL, &cfg.b[27], 1, NULL),
    BOOL_CONFIG("disable-thp", NULL, IMM | UNIMPL, &cfg.b[28], 1, NULL),
    BOOL_CONFIG("cluster-allow-replica-migration", NULL, UNIMPL, &cfg.b[29], 1,
                NULL),
    BOOL_CONFIG("replica-announced", NULL, UNIMPL, &cfg.b[30], 1, NULL),
    BOOL_CONFIG("latency-tracking", NULL, 0, &server.latency_tracking_enabled,
                1, NULL),
    BOOL_CONFIG("aof-disable-auto-gc", NULL, 0, &server.aof_disable_auto_gc, 0,
                NULL),
    BOOL_CONFIG("replica-ignore-disk-write-errors", NULL, UNIMPL, &cfg.b[32], 0,
                NULL),
    BOOL_CONFIG("tls-cluster", NULL, UNIMPL, &server.tls_cluster, 0, apply_tls),
    BOOL_CONFIG("tls-replication", NULL, 0, &server.tls_replication, 0,
                apply_tls),
    BOOL_CONFIG("tls-prefer-server-ciphers", NULL, 0,
                &server_tls_options.prefer_server_ciphers, 0, apply_tls),
    BOOL_CONFIG("tls-session-caching", NULL, 0,
                &server_tls_options.session_caching, 1, apply_tls),
    /* Ours: the handshaker sandbox cannot be switched off at run time. */
    BOOL_CONFIG("sandbox-seccomp", NULL, IMM, &server.sandbox_seccomp, 1, NULL),

    /* Strings */
    STRING_CONFIG("aclfile", NULL, IMM, &server.acl_filename, "", NULL, NULL),
    STRING_CONFIG("unixsocket", NULL, IMM | NUL, &server.unixsocket, NULL, NULL,
                  NULL),
    STRING_CONFIG("pidfile", NULL, IMM | NUL, &server.pidfile, NULL, NULL,
                  NULL),
    STRING_CONFIG("replica-announce-ip", "slave-announce-ip", NUL,
                  &server.slave_announce_ip, NULL, NULL, NULL),
    STRING_CONFIG("masteruser", NULL, SENS | NUL, &server.masteruser, NULL,
                  NULL, NULL),
    STRING_CONFIG("cluster-announce-ip", NULL, NUL | UNIMPL, &cfg.s[3], NULL,
                  NULL, NULL),
    STRING_CONFIG("cluster-config-file", NULL, IMM | UNIMPL, &cfg.s[4],
                  "nodes.conf", NULL, NULL),
    STRING_CONFIG("cluster-announce-hostname", NULL, NUL | UNIMPL, &cfg.s[5],
                  NULL, NULL, NULL),
    STRING_CONFIG("syslog-ident", NULL, IMM | UNIMPL, &cfg.s[6], "redis", NULL,
                  NULL),
    STRING_CONFIG("dbfilename", NULL, PROT, &server.rdb_filename, "dump.rdb",
                  check_dbfilename, NULL),
    STRING_CONFIG("appendfilename", NULL, IMM, &server.appendfilename,
                  "appendonly.aof", check_appendfilename, NULL),
    STRING_CONFIG("appenddirname", NULL, IMM, &server.aof_dirname,
                  "appendonlydir", check_appenddirname, NULL),
    STRING_CONFIG("server_cpulist", NULL, IMM | NUL | UNIMPL, &cfg.s[8], NULL,
                  NULL, NULL),
    STRING_CONFIG("bio_cpulist", NULL, IMM | NUL | UNIMPL, &cfg.s[9], NULL,
                  NULL, NULL),
    STRING_CONFIG("aof_rewrite_cpulist", NULL, IMM | NUL | UNIMPL, &cfg.s[10],
                  NULL, NULL, NULL),
    STRING_CONFIG("bgsave_cpulist", NULL, IMM | NUL | UNIMPL, &cfg.s[11], NULL,
                  NULL, NULL),
    STRING_CONFIG("ignore-warnings", NULL, UNIMPL, &cfg.s[12], "", NULL, NULL),
    STRING_CONFIG("proc-title-template", NULL, UNIMPL, &cfg.s[13],
                  "{title} {listen-addr} {server-mode}", NULL, NULL),
    STRING_CONFIG("bind-source-addr", NULL, NUL | UNIMPL, &cfg.s[14], NULL,
                  NULL, NULL),
    STRING_CONFIG("logfile", NULL, IMM, &server_log_settings.file, "", NULL,
                  NULL),
    STRING_CONFIG("masterauth", NULL, SENS | NUL, &server.masterauth, NULL,
                  NULL, NULL),
    STRING_CONFIG("requirepass", NULL, SENS | NUL, &server.requirepass, NULL,
                  NULL, apply_requirepass),
    STRING_CONFIG("tls-cert-file", NULL, NUL, &server_tls_options.cert_file,
                  NULL, NULL, apply_tls),
    STRING_CONFIG("tls-key-file", NULL, NUL, &server_tls_options.key_file, NULL,
                  NULL, apply_tls),
    {.name = "tls-key-file-pass",
     .type = CONFIG_TYPE_STRING,
     .flags = SENS | NUL,
     .ptr = &server_tls_options.key_file_pass,
     .check_string = check_tls_key_pass,
     .special_rewrite = rewrite_key_pass,
     .apply = apply_tls},
    STRING_CONFIG("tls-client-cert-file", NULL, NUL,
                  &server_tls_options.client_cert_file, NULL, NULL, apply_tls),
    STRING_CONFIG("tls-client-key-file", NULL, NUL,
                  &server_tls_options.client_key_file, NULL, NULL, apply_tls),
    {.name = "tls-client-key-file-pass",
     .type = CONFIG_TYPE_STRING,
     .flags = SENS | NUL,
     .ptr = &server_tls_options.client_key_file_pass,
     .check_string = check_tls_client_key_pass,
     .special_rewrite = rewrite_key_pass,
     .apply = apply_tls},
    STRING_CONFIG("tls-dh-params-file", NULL, NUL,
                  &server_tls_options.dh_params_file, NULL, NULL, apply_tls),
    STRING_CONFIG("tls-ca-cert-file", NULL, NUL,
                  &server_tls_options.ca_cert_file, NULL, NULL, apply_tls),
    STRING_CONFIG("tls-ca-cert-dir", NULL, NUL, &server_tls_options.ca_cert_dir,
                  NULL, NULL, apply_tls),
    STRING_CONFIG("tls-protocols", NULL, NUL, &server_tls_options.protocols,
                  NULL, NULL, apply_tls),
    STRING_CONFIG("tls-ciphers", NULL, NUL, &server_tls_options.ciphers, NULL,
                  NULL, apply_tls),
    STRING_CONFIG("tls-ciphersuites", NULL, NUL,
                  &server_tls_options.ciphersuites, NULL, NULL, apply_tls),
    STRING_CONFIG("sandbox-user", NULL, IMM, &server.sandbox_user, "nobody",
                  NULL, NULL),
    STRING_CONFIG("server-user", NULL, IMM, &server.server_user, "redoubt",
                  NULL, NULL),

    /* Enums */
    ENUM_CONFIG("supervised", NULL, IMM | UNIMPL, &server.supervised,
                supervised_enum, CONFIG_SUPERVISED_NONE, NULL),
    ENUM_CONFIG("syslog-facility", NULL, IMM | UNIMPL, &cfg.i[0],
                syslog_facility_enum, LOG_LOCAL0, NULL),
    ENUM_CONFIG("repl-diskless-load", NULL, 0, &server.repl_diskless_load,
                repl_diskless_load_enum, 0, NULL),
    ENUM_CONFIG("loglevel", NULL, 0, &server_log_settings.verbosity,
                loglevel_enum, LL_NOTICE, NULL),
    ENUM_CONFIG("maxmemory-policy", NULL, 0, &server.maxmemory_policy,
                maxmemory_policy_enum, MAXMEMORY_NO_EVICTION, NULL),
    ENUM_CONFIG("appendfsync", NULL, 0, &server.aof_fsync, appendfsync_enum, 2,
                NULL),
    ENUM_CONFIG("oom-score-adj", NULL, UNIMPL, &cfg.i[3], oom_score_adj_enum, 0,
                NULL),
    ENUM_CONFIG("acl-pubsub-default", NULL, 0, &server.acl_pubsub_default,
                acl_pubsub_default_enum, 0, NULL),
    ENUM_CONFIG("sanitize-dump-payload", NULL, UNIMPL, &cfg.i[5],
                sanitize_dump_payload_enum, 0, NULL),
    ENUM_CONFIG("enable-protected-configs", NULL, IMM,
                &cfg.enable_protected_configs, yes_no_local_enum, 0, NULL),
    ENUM_CONFIG("enable-debug-command", NULL, IMM, &cfg.enable_debug_command,
                yes_no_local_enum, 0, NULL),
    ENUM_CONFIG("enable-module-command", NULL, IMM | UNIMPL,
                &cfg.enable_module_command, yes_no_local_enum, 0, NULL),
    ENUM_CONFIG("cluster-preferred-endpoint-type", NULL, UNIMPL, &cfg.i[6],
                cluster_endpoint_enum, 0, NULL),
    ENUM_CONFIG("propagation-error-behavior", NULL, UNIMPL, &cfg.i[7],
                propagation_error_enum, 0, NULL),
    ENUM_CONFIG("tls-auth-clients", NULL, 0, &server_tls_options.auth_clients,
                tls_auth_clients_enum, TLS_CLIENT_AUTH_YES, apply_tls),
    FLAGS_CONFIG("shutdown-on-sigint", 0, &server.shutdown_on_sigint,
                 shutdown_on_sig_enum, 0),
    FLAGS_CONFIG("shutdown-on-sigterm", 0, &server.shutdown_on_sigterm,
                 shutdown_on_sig_enum, 0),

    /* int */
    INT_CONFIG("databases", NULL, IMM, &server.dbnum, 1, INT_MAX, 16, NULL),
    INT_CONFIG("port", NULL, 0, &server.port, 0, 65535, 6379, apply_port),
    INT_CONFIG("io-threads", NULL, IMM | UNIMPL, &server.io_threads_num, 1, 128,
               1, NULL),
    INT_CONFIG("auto-aof-rewrite-percentage", NULL, 0, &server.aof_rewrite_perc,
               0, INT_MAX, 100, NULL),
    INT_CONFIG("cluster-replica-validity-factor",
               "cluster-slave-validity-factor", UNIMPL, &cfg.i[11], 0, INT_MAX,
               10, NULL),
    INT_CONFIG("list-max-listpack-size", "list-max-ziplist-size", 0,
               &server.list_max_listpack_size, INT_MIN, INT_MAX, -2, NULL),
    INT_CONFIG("tcp-keepalive", NULL, 0, &server.tcpkeepalive, 0, INT_MAX, 300,
               NULL),
    INT_CONFIG("cluster-migration-barrier", NULL, UNIMPL, &cfg.i[12], 0,
               INT_MAX, 1, NULL),
    INT_CONFIG("active-defrag-cycle-min", NULL, UNIMPL, &cfg.i[13], 1, 99, 1,
               NULL),
    INT_CONFIG("active-defrag-cycle-max", NULL, UNIMPL, &cfg.i[14], 1, 99, 25,
               NULL),
    INT_CONFIG("active-defrag-threshold-lower", NULL, UNIMPL, &cfg.i[15], 0,
               1000, 10, NULL),
    INT_CONFIG("active-defrag-threshold-upper", NULL, UNIMPL, &cfg.i[16], 0,
               1000, 100, NULL),
    INT_CONFIG("lfu-log-factor", NULL, 0, &server.lfu_log_factor, 0, INT_MAX,
               10, NULL),
    INT_CONFIG("lfu-decay-time", NULL, 0, &server.lfu_decay_time, 0, INT_MAX, 1,
               NULL),
    INT_CONFIG("replica-priority", "slave-priority", 0, &server.slave_priority,
               0, INT_MAX, 100, NULL),
    INT_CONFIG("repl-diskless-sync-delay", NULL, 0,
               &server.repl_diskless_sync_delay, 0, INT_MAX, 5, NULL),
    INT_CONFIG("maxmemory-samples", NULL, 0, &server.maxmemory_samples, 1,
               INT_MAX, 5, NULL),
    INT_CONFIG("maxmemory-eviction-tenacity", NULL, 0,
               &server.maxmemory_eviction_tenacity, 0, 100, 10, NULL),
    INT_CONFIG("timeout", NULL, 0, &server.maxidletime, 0, INT_MAX, 0, NULL),
    INT_CONFIG("replica-announce-port", "slave-announce-port", 0,
               &server.slave_announce_port, 0, 65535, 0, NULL),
    INT_CONFIG("tcp-backlog", NULL, IMM, &server.tcp_backlog, 0, INT_MAX, 511,
               NULL),
    INT_CONFIG("cluster-port", NULL, IMM | UNIMPL, &cfg.i[20], 0, 65535, 0,
               NULL),
    INT_CONFIG("cluster-announce-bus-port", NULL, UNIMPL, &cfg.i[21], 0, 65535,
               0, NULL),
    INT_CONFIG("cluster-announce-port", NULL, UNIMPL, &cfg.i[22], 0, 65535, 0,
               NULL),
    INT_CONFIG("cluster-announce-tls-port", NULL, UNIMPL, &cfg.i[23], 0, 65535,
               0, NULL),
    INT_CONFIG("repl-timeout", NULL, 0, &server.repl_timeout, 1, INT_MAX, 60,
               NULL),
    INT_CONFIG("repl-ping-replica-period", "repl-ping-slave-period", 0,
               &server.repl_ping_replica_period, 1, INT_MAX, 10, NULL),
    INT_CONFIG("list-compress-depth", NULL, 0, &server.list_compress_depth, 0,
               INT_MAX, 0, NULL),
    INT_CONFIG("active-expire-effort", NULL, 0, &server.active_expire_effort, 1,
               10, 1, NULL),
    INT_CONFIG("hz", NULL, 0, &server.config_hz, 0, INT_MAX, CONFIG_DEFAULT_HZ,
               apply_hz),
    INT_CONFIG("min-replicas-to-write", "min-slaves-to-write", 0,
               &server.repl_min_slaves_to_write, 0, INT_MAX, 0, NULL),
    INT_CONFIG("min-replicas-max-lag", "min-slaves-max-lag", 0,
               &server.repl_min_slaves_max_lag, 0, INT_MAX, 10, NULL),
    INT_CONFIG("shutdown-timeout", NULL, 0, &server.shutdown_timeout, 0,
               INT_MAX, 10, NULL),
    INT_CONFIG("repl-diskless-sync-max-replicas", NULL, UNIMPL, &cfg.i[29], 0,
               INT_MAX, 0, NULL),
    INT_CONFIG("tls-port", NULL, 0, &server.tls_port, 0, 65535, 0,
               apply_tls_port),
    INT_CONFIG("tls-session-cache-size", NULL, 0,
               &server_tls_options.session_cache_size, 0, INT_MAX, 20 * 1024,
               apply_tls),
    INT_CONFIG("tls-session-cache-timeout", NULL, 0,
               &server_tls_options.session_cache_timeout, 0, INT_MAX, 300,
               apply_tls),
    /* Ours. */
    INT_CONFIG("tls-handshake-workers", NULL, 0, &server.tls_handshake_workers,
               1, 64, 1, apply_tls),
    INT_CONFIG("tls-handshake-timeout", NULL, 0, &server.tls_handshake_timeout,
               1, 3600 * 1000, 10000, NULL),
    INT_CONFIG("tls-max-handshakes-in-flight", NULL, 0,
               &server.tls_max_handshakes_in_flight, 1, 1000000, 1000, NULL),
    /* Pre-authentication limits (README "Pre-authentication limits"). */
    INT_CONFIG("tls-max-handshakes-per-ip", NULL, 0,
               &server.tls_max_handshakes_per_ip, 0, 1000000, 256, NULL),
    INT_CONFIG("tls-client-hello-timeout", NULL, 0,
               &server.tls_client_hello_timeout, 1, 3600 * 1000, 5000, NULL),
    INT_CONFIG("tls-handshaker-nice", NULL, 0, &server.tls_handshaker_nice, 0,
               19, 5, NULL),

    /* unsigned int */
    NUM_CONFIG(CONFIG_TYPE_UINT, "maxclients", NULL, 0, &server.maxclients, 1,
               UINT_MAX, 10000, apply_maxclients),
    NUM_CONFIG(CONFIG_TYPE_UINT, "unixsocketperm", NULL,
               IMM | CONFIG_FLAG_OCTAL | UNIMPL, &cfg.ui[0], 0, 0777, 0, NULL),
    NUM_CONFIG(CONFIG_TYPE_UINT, "socket-mark-id", NULL, IMM | UNIMPL,
               &cfg.ui[1], 0, UINT_MAX, 0, NULL),

    /* unsigned long */
    NUM_CONFIG(CONFIG_TYPE_ULONG, "active-defrag-max-scan-fields", NULL, UNIMPL,
               &cfg.ul[0], 1, LONG_MAX, 1000, NULL),
    NUM_CONFIG(CONFIG_TYPE_ULONG, "slowlog-max-len", NULL, 0,
               &server.slowlog_max_len, 0, LONG_MAX, 128, NULL),
    NUM_CONFIG(CONFIG_TYPE_ULONG, "acllog-max-len", NULL, 0,
               &server.acllog_max_len, 0, LONG_MAX, 128, NULL),

    /* long long */
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "busy-reply-threshold", "lua-time-limit",
               0, &server.busy_reply_threshold, 0, LONG_MAX, 5000, NULL),
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "cluster-node-timeout", NULL, UNIMPL,
               &cfg.ll[1], 0, LLONG_MAX, 15000, NULL),
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "slowlog-log-slower-than", NULL, 0,
               &server.slowlog_log_slower_than, -1, LLONG_MAX, 10000, NULL),
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "latency-monitor-threshold", NULL, 0,
               &latency_cfg.monitor_threshold_ms, 0, LLONG_MAX, 0, NULL),
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "proto-max-bulk-len", NULL, MEM,
               &server.proto_max_bulk_len, 1024 * 1024, LONG_MAX,
               PROTO_DEFAULT_MAX_BULK_LEN, NULL),
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "rdb-key-save-delay", NULL,
               CONFIG_FLAG_HIDDEN, &server.rdb_key_save_delay, 0, INT_MAX, 0,
               NULL),
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "stream-node-max-entries", NULL, 0,
               &server.stream_node_max_entries, 0, LLONG_MAX, 100, NULL),
    NUM_CONFIG(CONFIG_TYPE_LONG_LONG, "repl-backlog-size", NULL, MEM,
               &server.repl_backlog_size, 1, LLONG_MAX, 1024 * 1024, NULL),

    /* unsigned long long */
    ULL_CONFIG("maxmemory", NULL, MEM, &server.maxmemory, 0, ULLONG_MAX, 0,
               apply_maxmemory),
    ULL_CONFIG("cluster-link-sendbuf-limit", NULL, MEM | UNIMPL, &cfg.ull[0], 0,
               ULLONG_MAX, 0, NULL),
    ULL_CONFIG("client-query-buffer-limit", NULL, MEM,
               &server.client_max_querybuf_len, 1024 * 1024, LONG_MAX,
               PROTO_DEFAULT_QUERYBUF_LIMIT, NULL),

    /* size_t */
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "hash-max-listpack-entries",
               "hash-max-ziplist-entries", 0, &server.hash_max_listpack_entries,
               0, LONG_MAX, 512, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "set-max-intset-entries", NULL, 0,
               &server.set_max_intset_entries, 0, LONG_MAX, 512, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "zset-max-listpack-entries",
               "zset-max-ziplist-entries", 0, &server.zset_max_listpack_entries,
               0, LONG_MAX, 128, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "active-defrag-ignore-bytes", NULL,
               MEM | UNIMPL, &cfg.st[0], 1, LLONG_MAX, 100 << 20, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "hash-max-listpack-value",
               "hash-max-ziplist-value", MEM, &server.hash_max_listpack_value,
               0, LONG_MAX, 64, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "stream-node-max-bytes", NULL, MEM,
               &server.stream_node_max_bytes, 0, LONG_MAX, 4096, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "zset-max-listpack-value",
               "zset-max-ziplist-value", MEM, &server.zset_max_listpack_value,
               0, LONG_MAX, 64, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "hll-sparse-max-bytes", NULL, MEM,
               &server.hll_sparse_max_bytes, 0, LONG_MAX, 3000, NULL),
    NUM_CONFIG(CONFIG_TYPE_SIZE_T, "tracking-table-max-keys", NULL, 0,
               &server.tracking_table_max_keys, 0, LONG_MAX, 1000000, NULL),
    NUM_CONFIG(CONFIG_TYPE_SSIZE_T, "maxmemory-clients", NULL,
               MEM | CONFIG_FLAG_PERCENT | UNIMPL, &cfg.sst[0], -100, SSIZE_MAX,
               0, NULL),
    NUM_CONFIG(CONFIG_TYPE_TIME_T, "repl-backlog-ttl", NULL, 0,
               &server.repl_backlog_ttl, 0, LONG_MAX, 3600, NULL),
    NUM_CONFIG(CONFIG_TYPE_OFF_T, "auto-aof-rewrite-min-size", NULL, MEM,
               &server.aof_rewrite_min_size, 0, LLONG_MAX, 64 * 1024 * 1024,
               NULL),

    /* Special */
    SPECIAL_CONFIG("dir", NULL, PROT | CONFIG_FLAG_ALWAYS_REWRITE, NULL,
                   set_dir_checked, get_dir, NULL, NULL),
    SPECIAL_CONFIG("save", NULL, MULTI, "3600 1 300 100 60 10000", set_save,
                   get_save, rewrite_save, NULL),
    SPECIAL_CONFIG("client-output-buffer-limit", NULL, MULTI,
                   "normal 0 0 0 slave 268435456 67108864 60 "
                   "pubsub 33554432 8388608 60",
                   set_client_output_buffer_limit,
                   get_client_output_buffer_limit,
                   rewrite_client_output_buffer_limit, NULL),
    SPECIAL_CONFIG("oom-score-adj-values", NULL, MULTI | UNIMPL, "0 200 800",
                   set_oom_score_adj_values, get_oom_score_adj_values, NULL,
                   NULL),
    SPECIAL_CONFIG("notify-keyspace-events", NULL, 0, "",
                   set_notify_keyspace_events, get_notify_keyspace_events,
                   rewrite_notify_keyspace_events, NULL),
    SPECIAL_CONFIG("bind", NULL, MULTI, "* -::*", set_bind, get_bind,
                   rewrite_bind, apply_bind),
    SPECIAL_CONFIG("replicaof", "slaveof", IMM | MULTI, "", set_replicaof,
                   get_replicaof, rewrite_replicaof, NULL),
    SPECIAL_CONFIG("latency-tracking-info-percentiles", NULL, MULTI,
                   "50 99 99.9", set_percentiles, get_percentiles,
                   rewrite_percentiles, NULL),
};

const size_t config_table_len = sizeof(config_table) / sizeof(config_table[0]);

/* ------------------------------------------------------------------ */
/* Defaults                                                             */
/* ------------------------------------------------------------------ */
static void init_entry_default(const config_entry *e) {
  const char *err = NULL;
  switch (e->type) {
    case CONFIG_TYPE_BOOL:
    case CONFIG_TYPE_ENUM:
    case CONFIG_TYPE_FLAGS_ENUM:
      *(int *)e->ptr = (int)e->default_number;
      break;
    case CONFIG_TYPE_ULL:
      *(unsigned long long *)e->ptr = (unsigned long long)e->default_number;
      break;
    case CONFIG_TYPE_STRING: {
      char **p = e->ptr;
      zfree(*p);
      const char *d = e->default_string;
      *p = (d == NULL ||
            (d[0] == '\0' && (e->flags & CONFIG_FLAG_EMPTY_IS_NULL)))
               ? NULL
               : zstrdup(d);
      break;
    }
    case CONFIG_TYPE_SPECIAL:
      if (e->default_string != NULL &&
          !config_entry_set_value(e, e->default_string, &err)) {
        server_panic("default of %s rejected: %s", e->name, err);
      }
      break;
    default:
      config_numeric_write(e, e->default_number);
      break;
  }
}

void config_init_defaults(void) {
  if (!cfg.initialized) {
    /* Whatever was in the string slots is not ours to free. */
    for (size_t j = 0; j < config_table_len; j++) {
      if (config_table[j].type == CONFIG_TYPE_STRING) {
        *(char **)config_table[j].ptr = NULL;
      }
    }
    for (int j = 0; j < CONFIG_BINDADDR_MAX; j++) {
      server.bindaddr[j] = NULL;
    }
    server.bindaddr_count = 0;
    cfg.masterhost = NULL;
    cfg.initialized = 1;
  }
  loading_config = 0;
  save_loaded = 0;
  for (size_t j = 0; j < config_table_len; j++) {
    init_entry_default(&config_table[j]);
  }
  /* Values with no directive in Redis 7.0 (set-max-listpack-* is 7.2). */
  server.set_max_listpack_entries = 128;
  server.set_max_listpack_value = 64;
  server.active_expire_enabled = 1;
  server.hz = server.config_hz;
}

void config_free_all(void) {
  if (!cfg.initialized) {
    return;
  }
  for (size_t j = 0; j < config_table_len; j++) {
    if (config_table[j].type == CONFIG_TYPE_STRING) {
      char **p = config_table[j].ptr;
      zfree(*p);
      *p = NULL;
    }
  }
  for (int j = 0; j < server.bindaddr_count; j++) {
    zfree(server.bindaddr[j]);
    server.bindaddr[j] = NULL;
  }
  server.bindaddr_count = 0;
  zfree(cfg.masterhost);
  cfg.masterhost = NULL;
  config_free_name_index();
  tls_apply_error[0] = '\0';
  cfg.initialized = 0;
}

int config_protected_action_allowed(int setting, struct client *c) {
  if (setting == CONFIG_PROTECTED_YES) {
    return 1;
  }
  if (setting != CONFIG_PROTECTED_LOCAL || c == NULL) {
    return 0;
  }
  /* Redis 7.0's islocalClient: 127.0.0.1, ::1 or a Unix socket (an
   * internal client counts as local). */
  return client_is_local(c);
}

int config_enable_protected_configs(void) {
  return cfg.enable_protected_configs;
}
int config_enable_debug_command(void) { return cfg.enable_debug_command; }
int config_enable_module_command(void) { return cfg.enable_module_command; }

void config_log_unimplemented(void) {
  for (size_t j = 0; j < config_table_len; j++) {
    const config_entry *e = &config_table[j];
    if ((e->flags & CONFIG_FLAG_UNIMPLEMENTED) && !config_entry_is_default(e)) {
      server_log(LL_WARNING, "directive %s is accepted but not implemented yet",
                 e->name);
    }
  }
}

/* ------------------------------------------------------------------ */
/* Atomic multi-set (CONFIG SET and config_set_value)                   */
/* ------------------------------------------------------------------ */
static void restore_values(const config_entry **entries, sds *old_values,
                           int count) {
  for (int i = 0; i < count; i++) {
    const char *err = "unknown error";
    if (old_values[i] &&
        !config_entry_set_value(entries[i], old_values[i], &err)) {
      server_log(LL_WARNING,
                 "Failed restoring failed CONFIG SET command. Error setting "
                 "%s: %s",
                 entries[i]->name, err);
    }
  }
}

int config_set_many(const config_entry **entries, const char **values,
                    int count, const char **out_err, int *out_failed) {
  int ok = 0;
  sds *old_values = zcalloc(sizeof(sds) * (size_t)count);
  config_apply_proc **applies = zcalloc(sizeof(*applies) * (size_t)count);
  int *apply_owner = zcalloc(sizeof(int) * (size_t)count);
  int napplies = 0;
  tls_reloaded_in_this_set = 0;

  for (int i = 0; i < count; i++) {
    old_values[i] = config_entry_get(entries[i]);
  }
  for (int i = 0; i < count; i++) {
    int res = config_entry_set_value(entries[i], values[i], out_err);
    if (res == 0) {
      restore_values(entries, old_values, i + 1);
      *out_failed = i;
      goto done;
    }
    /* A tls-* value names material on disk (or how to use it): setting it,
     * even to the value it has, reloads from disk, as Redis's VOLATILE
     * tls-* configs do. That is how a certificate is rotated in place:
     * overwrite the files, then CONFIG SET the same paths. */
    int volatile_tls = res == 2 && entries[i]->apply == apply_tls;
    if ((res == 1 || volatile_tls) && entries[i]->apply) {
      int seen = 0;
      for (int j = 0; j < napplies; j++) {
        seen |= applies[j] == entries[i]->apply;
      }
      if (!seen) {
        applies[napplies] = entries[i]->apply;
        apply_owner[napplies++] = i;
      }
    }
  }
  /* TLS material is reloaded before a new tls-port listens on it. */
  config_apply_proc **ordered = zcalloc(sizeof(*ordered) * (size_t)count);
  int *ordered_owner = zcalloc(sizeof(int) * (size_t)count);
  int nordered = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int j = 0; j < napplies; j++) {
      if ((applies[j] == apply_tls) == (pass == 0)) {
        ordered[nordered] = applies[j];
        ordered_owner[nordered++] = apply_owner[j];
      }
    }
  }
  for (int j = 0; j < nordered; j++) {
    if (ordered[j](out_err)) {
      continue;
    }
    server_log(LL_WARNING,
               "Failed applying new configuration. Possibly related to new "
               "%s setting. Restoring previous settings.",
               entries[ordered_owner[j]]->name);
    /* The error text may live in storage a re-apply replaces. */
    static char saved_err[512];
    snprintf(saved_err, sizeof(saved_err), "%s", *out_err);
    *out_err = saved_err;
    restore_values(entries, old_values, count);
    /* A failed apply leaves its old state in place (port, tls-port and TLS
     * keep the old listeners and material); only the ones that already
     * succeeded must go back. */
    for (int k = 0; k < j; k++) {
      const char *reapply_err = NULL;
      if (!ordered[k](&reapply_err)) {
        server_log(LL_WARNING,
                   "Failed applying restored failed CONFIG SET command: %s",
                   reapply_err ? reapply_err : "unknown error");
      }
    }
    /* apply_bind is the exception: it closes every listener before it
     * fails, so it must run again with the old addresses. */
    if (ordered[j] == apply_bind) {
      const char *reapply_err = NULL;
      if (!apply_bind(&reapply_err)) {
        server_log(LL_WARNING,
                   "Failed applying restored failed CONFIG SET command: %s",
                   reapply_err ? reapply_err : "unknown error");
      }
    }
    *out_failed = ordered_owner[j];
    zfree(ordered);
    zfree(ordered_owner);
    goto done;
  }
  zfree(ordered);
  zfree(ordered_owner);
  ok = 1;
done:
  for (int i = 0; i < count; i++) {
    sds_free(old_values[i]);
  }
  zfree(old_values);
  zfree(applies);
  zfree(apply_owner);
  return ok;
}

/* The last config_set_value failure (config.h: valid until the next call). */
static sds set_value_error;

int config_set_value(const char *name, const char *value, const char **err) {
  sds_free(set_value_error);
  set_value_error = NULL;
  const config_entry *e = config_lookup(name);
  if (e == NULL) {
    set_value_error = sds_cat_printf(
        sds_empty(),
        "Unknown option or number of arguments for CONFIG SET - '%s'", name);
  } else if (e->flags & CONFIG_FLAG_IMMUTABLE) {
    set_value_error = sds_cat_printf(sds_empty(),
                                     "CONFIG SET failed (possibly related to "
                                     "argument '%s') - can't set immutable "
                                     "config",
                                     name);
  } else {
    const char *why = NULL;
    int failed = 0;
    if (config_set_many(&e, &value, 1, &why, &failed)) {
      return 1;
    }
    set_value_error = sds_cat_printf(sds_empty(),
                                     "CONFIG SET failed (possibly related to "
                                     "argument '%s') - %s",
                                     name, why);
  }
  *err = set_value_error;
  return 0;
}

sds config_get_value(const char *name) {
  const config_entry *e = config_lookup(name);
  return e ? config_entry_get(e) : NULL;
}
