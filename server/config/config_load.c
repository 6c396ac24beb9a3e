/* config_load.c: reading redis.conf (with includes), stdin and the command
 * line into the directive table, with Redis 7.0's error format plus the
 * source (file path, stdin, command line) that Redis leaves out. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "server/acl/acl.h"
#include "server/base/zmalloc.h"
#include "server/config/config.h"
#include "server/config/config_internal.h"
#include "server/core/server.h"

typedef enum config_source_kind {
  SOURCE_FILE,
  SOURCE_STDIN,
  SOURCE_COMMAND_LINE,
} config_source_kind;

typedef struct config_load_state {
  int depth;           /* include nesting */
  int no_side_effects; /* fuzz/tests: no include, no chdir, no logfile */
  sds err;             /* the full FATAL text once an error happened */
} config_load_state;

/* Directives Redis silently ignores for compatibility, with their argc. */
static const struct {
  const char *name;
  int argc;
} deprecated_directives[] = {
    {"list-max-ziplist-entries", 2},
    {"list-max-ziplist-value", 2},
    {"lua-replicate-commands", 2},
};

static sds fatal_header(void) {
  return sds_cat_printf(sds_empty(),
                        "\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n",
                        REDOUBT_VERSION);
}

/* set_line_error builds the FATAL text for an error at one line. Values of
 * sensitive directives are not echoed. */
static void set_line_error(config_load_state *ls, config_source_kind kind,
                           const char *source, int linenum, const char *line,
                           const char *directive, const char *msg) {
  if (ls->err != NULL) {
    return; /* an include already reported the innermost error */
  }
  sds s = fatal_header();
  switch (kind) {
    case SOURCE_FILE:
      s = sds_cat_printf(s, "Reading the configuration file %s, at line %d\n",
                         source, linenum);
      break;
    case SOURCE_STDIN:
      s = sds_cat_printf(
          s, "Reading the configuration from stdin, at line %d\n", linenum);
      break;
    case SOURCE_COMMAND_LINE:
      s = sds_cat(s, "Reading the configuration from the command line\n");
      break;
  }
  const config_entry *e = directive ? config_lookup(directive) : NULL;
  if (e && (e->flags & CONFIG_FLAG_SENSITIVE)) {
    s = sds_cat_printf(s, ">>> '%s (redacted)'\n", directive);
  } else {
    s = sds_cat_printf(s, ">>> '%s'\n", line);
  }
  s = sds_cat_printf(s, "%s\n", msg);
  ls->err = s;
}

static void set_plain_error(config_load_state *ls, const char *msg) {
  if (ls->err != NULL) {
    return;
  }
  ls->err = sds_cat_printf(fatal_header(), "%s\n", msg);
}

/* Configuration text holds secrets (tls-key-file-pass, requirepass,
 * masterauth): buffers that held it are wiped before they are freed, so
 * that with privilege separation (server/privsep.h) main keeps no copy of a
 * passphrase the spawner took over. */
static void wipe_sds_free(sds s) {
  if (s != NULL) {
    explicit_bzero(s, sds_len(s));
    sds_free(s);
  }
}

static void wipe_free_split(sds *argv, int argc) {
  for (int j = 0; argv != NULL && j < argc; j++) {
    explicit_bzero(argv[j], sds_len(argv[j]));
  }
  sds_free_split(argv, argc);
}

/* read_stream_bounded reads a whole stream up to CONFIG_MAX_FILE_BYTES.
 * Returns NULL with errno set on failure (EFBIG when too large). */
static sds read_stream_bounded(FILE *fp) {
  sds content = sds_empty();
  char buf[16 * 1024];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
    if (sds_len(content) + n > CONFIG_MAX_FILE_BYTES) {
      sds_free(content);
      errno = EFBIG;
      return NULL;
    }
    content = sds_cat_len(content, buf, n);
  }
  explicit_bzero(buf, sizeof(buf));
  if (ferror(fp)) {
    int saved = errno;
    wipe_sds_free(content);
    errno = saved ? saved : EIO;
    return NULL;
  }
  return content;
}

static sds read_file_bounded(const char *path) {
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    return NULL;
  }
  sds content = read_stream_bounded(fp);
  int saved = errno;
  fclose(fp);
  errno = saved;
  return content;
}

static int load_text(config_load_state *ls, const char *text, size_t len,
                     config_source_kind kind, const char *source);

static int load_file(config_load_state *ls, const char *path, int linenum,
                     const char *line, const char *including_source) {
  char msg[512];
  if (ls->no_side_effects) {
    set_line_error(ls, SOURCE_FILE, including_source, linenum, line, NULL,
                   "include is not allowed in this mode");
    return 0;
  }
  if (ls->depth >= CONFIG_MAX_INCLUDE_DEPTH) {
    snprintf(msg, sizeof(msg),
             "include nesting deeper than %d levels (an include loop?)",
             CONFIG_MAX_INCLUDE_DEPTH);
    set_line_error(ls, SOURCE_FILE, including_source, linenum, line, NULL, msg);
    return 0;
  }
  sds content = read_file_bounded(path);
  if (content == NULL) {
    snprintf(msg, sizeof(msg), "Fatal error, can't open config file '%s': %s",
             path, strerror(errno));
    set_line_error(ls, SOURCE_FILE, including_source, linenum, line, NULL, msg);
    return 0;
  }
  ls->depth++;
  int ok = load_text(ls, content, sds_len(content), SOURCE_FILE, path);
  ls->depth--;
  wipe_sds_free(content);
  return ok;
}

/* load_directive handles one split line. Returns 1, or 0 with *err set to a
 * static text (or ls->err already set by an include). */
static int load_directive(config_load_state *ls, sds *argv, int argc,
                          config_source_kind kind, const char *source,
                          int linenum, const char *line, const char **err) {
  const config_entry *e = config_lookup(argv[0]);
  if (e != NULL) {
    if (!(e->flags & CONFIG_FLAG_MULTI_ARG) && argc != 2) {
      *err = "wrong number of arguments";
      return 0;
    }
    if ((e->flags & CONFIG_FLAG_MULTI_ARG) && argc == 2 &&
        strchr(argv[1], ' ') != NULL) {
      /* Redis: a multi-argument directive given as one quoted value
       * (`--client-output-buffer-limit "normal 1mb 0 0"`) is split on
       * spaces. */
      return config_entry_set_value(e, argv[1], err) != 0;
    }
    return config_entry_set(e, argv + 1, argc - 1, err) != 0;
  }
  for (size_t j = 0;
       j < sizeof(deprecated_directives) / sizeof(deprecated_directives[0]);
       j++) {
    if (!strcasecmp(argv[0], deprecated_directives[j].name) &&
        argc == deprecated_directives[j].argc) {
      return 1;
    }
  }
  if (!strcasecmp(argv[0], "include") && argc == 2) {
    if (kind != SOURCE_FILE) {
      source = kind == SOURCE_STDIN ? "(stdin)" : "(command line)";
    }
    if (!ls->no_side_effects && strpbrk(argv[1], "*?[") != NULL) {
      /* Redis 7.0: a pattern includes every match; no match is fine. */
      glob_t g;
      int ok = 1;
      if (glob(argv[1], 0, NULL, &g) == 0) {
        for (size_t k = 0; k < g.gl_pathc && ok; k++) {
          ok = load_file(ls, g.gl_pathv[k], linenum, line, source);
        }
        globfree(&g);
      }
      *err = NULL;
      return ok;
    }
    if (!load_file(ls, argv[1], linenum, line, source)) {
      *err = NULL;
      return 0;
    }
    return 1;
  }
  if (!strcasecmp(argv[0], "rename-command") && argc == 3) {
    *err = "rename-command is not supported by Redoubt";
    return 0;
  }
  if (!strcasecmp(argv[0], "user") && argc >= 2) {
    /* Applied after the whole file loaded (acl_load_startup); kept only
     * for a real startup (fuzz/tests parse without side effects). */
    return ls->no_side_effects ? 1 : acl_config_user_line(argv, argc, err);
  }
  if (!strcasecmp(argv[0], "loadmodule") && argc >= 2) {
    *err =
        "loadmodule is not supported: Redoubt does not load shared objects "
        "into the process that holds the dataset (see README)";
    return 0;
  }
  if (!strcasecmp(argv[0], "sentinel")) {
    *err = argc == 1 ? "Sentinel mode is not supported yet"
                     : "sentinel directive while not in sentinel mode";
    return 0;
  }
  *err = "Bad directive or wrong number of arguments";
  return 0;
}

static int load_text(config_load_state *ls, const char *text, size_t len,
                     config_source_kind kind, const char *source) {
  size_t pos = 0;
  int linenum = 0;
  /* Budget: one iteration per line, and the text is bounded. */
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
    sds line = sds_new_len(text + pos, line_len);
    pos += line_len + (nl ? 1 : 0);
    linenum++;
    line = sds_trim(line, " \t\r\n");
    if (line[0] == '#' || line[0] == '\0') {
      wipe_sds_free(line);
      continue;
    }
    int argc = 0;
    sds *argv = sds_split_args(line, &argc);
    if (argv == NULL) {
      set_line_error(ls, kind, source, linenum, line, NULL,
                     "Unbalanced quotes in configuration line");
      wipe_sds_free(line);
      return 0;
    }
    if (argc == 0) {
      wipe_free_split(argv, argc);
      wipe_sds_free(line);
      continue;
    }
    sds_to_lower(argv[0]);
    const char *err = NULL;
    int ok = load_directive(ls, argv, argc, kind, source, linenum, line, &err);
    if (!ok && err != NULL) {
      set_line_error(ls, kind, source, linenum, line, argv[0], err);
    }
    wipe_free_split(argv, argc);
    wipe_sds_free(line);
    if (!ok) {
      return 0;
    }
  }
  return 1;
}

/* finish_load runs the checks Redis makes once everything is read. */
static int finish_load(config_load_state *ls) {
  if (!ls->no_side_effects && server_log_settings.file &&
      server_log_settings.file[0] != '\0') {
    FILE *fp = fopen(server_log_settings.file, "a");
    if (fp == NULL) {
      char msg[512];
      snprintf(msg, sizeof(msg), "Can't open the log file: %s",
               strerror(errno));
      set_plain_error(ls, msg);
      return 0;
    }
    fclose(fp);
  }
  sds replicaof = config_get_value("replicaof");
  sds cluster = config_get_value("cluster-enabled");
  int bad = sds_len(replicaof) > 0 && strcmp(cluster, "yes") == 0;
  sds_free(replicaof);
  sds_free(cluster);
  if (bad) {
    set_plain_error(ls, "replicaof directive not allowed in cluster mode");
    return 0;
  }
  /* Out-of-range hz values are clamped, for backward compatibility. */
  if (server.config_hz < 1) {
    server.config_hz = 1;
  }
  if (server.config_hz > CONFIG_MAX_HZ) {
    server.config_hz = CONFIG_MAX_HZ;
  }
  server.hz = server.config_hz;
  return 1;
}

/* The last config_load_string failure (config.h: valid until the next
 * call). */
static sds load_string_error;

int config_load_string(const char *text, size_t len, const char *source,
                       int no_side_effects, const char **err) {
  config_load_state ls = {
      .depth = 0, .no_side_effects = no_side_effects, .err = NULL};
  config_set_load_mode(1, no_side_effects);
  int ok =
      load_text(&ls, text, len, SOURCE_FILE, source ? source : "(string)") &&
      finish_load(&ls);
  config_set_load_mode(0, 0);
  sds_free(load_string_error);
  load_string_error = NULL;
  if (!ok) {
    load_string_error =
        ls.err ? ls.err : sds_new("unknown configuration error");
    *err = load_string_error;
    return 0;
  }
  sds_free(ls.err);
  return 1;
}

void config_load_or_exit(const config_startup *st) {
  config_load_state ls = {.depth = 0, .no_side_effects = 0, .err = NULL};
  int ok = 1;
  config_set_load_mode(1, 0);
  if (st->config_file) {
    sds content = read_file_bounded(st->config_file);
    if (content == NULL) {
      char msg[512];
      snprintf(msg, sizeof(msg), "Fatal error, can't open config file '%s': %s",
               st->config_file, strerror(errno));
      set_plain_error(&ls, msg);
      ok = 0;
    } else {
      ls.depth = 1;
      ok = load_text(&ls, content, sds_len(content), SOURCE_FILE,
                     st->config_file);
      ls.depth = 0;
      wipe_sds_free(content);
    }
  }
  if (ok && st->config_from_stdin) {
    fprintf(stderr, "Reading config from stdin\n");
    sds content = read_stream_bounded(stdin);
    if (content == NULL) {
      char msg[256];
      snprintf(msg, sizeof(msg), "Can't read the configuration from stdin: %s",
               strerror(errno));
      set_plain_error(&ls, msg);
      ok = 0;
    } else {
      ok = load_text(&ls, content, sds_len(content), SOURCE_STDIN, "stdin");
      wipe_sds_free(content);
    }
  }
  if (ok && st->options) {
    ok = load_text(&ls, st->options, sds_len(st->options), SOURCE_COMMAND_LINE,
                   "the command line");
  }
  ok = ok && finish_load(&ls);
  config_set_load_mode(0, 0);
  if (!ok) {
    fputs(ls.err ? ls.err : "\n*** FATAL CONFIG FILE ERROR ***\n", stderr);
    fflush(stderr);
    exit(1);
  }
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */
/* ------------------------------------------------------------------ */
static void print_version(void) {
  printf(
      "Redoubt server v=%s (Redis %s compatible) bits=%d tls=BoringSSL "
      "sandbox=seccomp\n",
      REDOUBT_OWN_VERSION, REDOUBT_VERSION, (int)(sizeof(long) * 8));
}

static void print_usage(const char *prog) {
  fprintf(stderr,
          "Usage: %s [/path/to/redoubt.conf] [options] [-]\n"
          "       %s - (read config from stdin)\n"
          "       %s -v or --version\n"
          "       %s -h or --help\n"
          "       %s --check-config [--json] (print the "
          "effective TLS policy and exit)\n"
          "\n"
          "Examples:\n"
          "       %s (run the server with default conf)\n"
          "       echo 'maxmemory 128mb' | %s -\n"
          "       %s /etc/redoubt/6379.conf\n"
          "       %s --port 7777\n"
          "       %s --port 0 --tls-port 6379 --tls-cert-file server.crt "
          "--tls-key-file server.key --tls-ca-cert-file ca.crt\n"
          "       %s /etc/myredoubt.conf --loglevel verbose -\n"
          "       %s /etc/myredoubt.conf --loglevel verbose\n",
          prog, prog, prog, prog, prog, prog, prog, prog, prog, prog, prog,
          prog);
}

static int ends_with(const char *s, const char *suffix) {
  size_t ls = strlen(s), lf = strlen(suffix);
  return ls >= lf && strcmp(s + ls - lf, suffix) == 0;
}

static char *absolute_path(const char *path) {
  if (path[0] == '/') {
    return zstrdup(path);
  }
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == NULL) {
    return zstrdup(path);
  }
  sds joined = sds_cat_printf(sds_empty(), "%s/%s", cwd, path);
  char *out = zstrdup(joined);
  sds_free(joined);
  return out;
}

void config_startup_free(config_startup *st) {
  zfree(st->config_file);
  wipe_sds_free(st->options);
  st->config_file = NULL;
  st->options = NULL;
}

/* The option list follows Redis 7.0.x: "--name" starts a directive line,
 * every other word is a (quoted) argument of the current line. A word
 * starting with "--" right after a bare "--name" is that option's value
 * (so negative numbers and "--" strings work), except after --save and
 * --sentinel, which may stand alone. */
int config_parse_command_line(int argc, char **argv, config_startup *out) {
  memset(out, 0, sizeof(*out));
  const char *prog = argc > 0 ? argv[0] : "redoubt-server";
  if (argc > 0 && (ends_with(prog, "redis-sentinel") ||
                   ends_with(prog, "redoubt-sentinel"))) {
    out->sentinel_mode = 1;
  }
  if (argc >= 2) {
    if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
      print_version();
      return CONFIG_CLI_EXIT_SUCCESS;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
      print_usage(prog);
      return CONFIG_CLI_EXIT_SUCCESS;
    }
  }
  int j = 1;
  if (argc >= 2 && argv[1][0] != '-') {
    out->config_file = absolute_path(argv[1]);
    zfree(server.configfile);
    server.configfile = zstrdup(out->config_file);
    j = 2;
  }
  sds options = sds_empty();
  int value_given = 1; /* the current --option already has a value */
  for (; j < argc; j++) {
    const char *arg = argv[j];
    if (arg[0] == '-' && arg[1] == '\0' && (j == 1 || j == argc - 1)) {
      out->config_from_stdin = 1;
      continue;
    }
    if (value_given && arg[0] == '-' && arg[1] == '-') {
      const char *name = arg + 2;
      if (!strcasecmp(name, "check-config")) {
        out->check_config = 1;
        continue;
      }
      if (!strcasecmp(name, "json") && out->check_config) {
        out->check_config_json = 1; /* --check-config --json */
        continue;
      }
      if (!strcasecmp(name, "check-config-json")) {
        out->check_config = 1;
        out->check_config_json = 1;
        continue;
      }
      if (!strcasecmp(name, "sentinel")) {
        out->sentinel_mode = 1;
        continue;
      }
      if (sds_len(options)) {
        options = sds_cat(options, "\n");
      }
      options = sds_cat(options, name);
      options = sds_cat(options, " ");
      int words = 0;
      sds *split = sds_split_args(arg, &words);
      if (split != NULL && words == 1) {
        value_given = 0; /* "--port": the value follows */
        int next_is_option =
            j != argc - 1 && argv[j + 1][0] == '-' && argv[j + 1][1] == '-';
        if (!strcasecmp(name, "save") && (next_is_option || j == argc - 1)) {
          options = sds_cat(options, "\"\"");
          value_given = 1;
        }
      } else {
        value_given = 1; /* "--port 6380" in one word */
      }
      sds_free_split(split, words);
    } else {
      options = sds_cat_repr(options, arg, strlen(arg));
      options = sds_cat(options, " ");
      value_given = 1;
    }
  }
  if (sds_len(options)) {
    out->options = options;
  } else {
    sds_free(options);
  }
  if (out->sentinel_mode) {
    fprintf(stderr, "Sentinel mode is not supported by Redoubt yet.\n");
    config_startup_free(out);
    return CONFIG_CLI_EXIT_FAILURE;
  }
  return CONFIG_CLI_CONTINUE;
}
