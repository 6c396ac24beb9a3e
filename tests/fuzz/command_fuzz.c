/* command_fuzz.c: libFuzzer target that runs whole commands against an
 * in-process server (server_init_for_tests) through process_command, the
 * same entry point the networking layer uses.
 *
 * Input format (chosen to mutate well and to read well in seeds): one
 * command per line ('\n'), arguments separated by single spaces. Two spaces
 * in a row make an empty argument; every other byte (including '\r', NUL
 * and high bytes) is argument data. A command line may therefore hold
 * binary values, but not spaces or newlines inside one argument.
 *
 * Each input gets a fresh fake client (create_client(NULL)) whose replies are
 * buffered (CLIENT_SCRIPT) so the reply writers run; the buffer is checked
 * for well-formed RESP framing and dropped after every command. The key
 * space is emptied and the ACL users reset after every input, so inputs do
 * not depend on each other.
 *
 * Commands that block, sleep, shut down, write files or change server-wide
 * configuration are on a deny list (skipped, not executed). Work per input
 * is bounded: FUZZ_MAX_COMMANDS commands, FUZZ_MAX_ARGS arguments each,
 * proto-max-bulk-len lowered to FUZZ_MAX_BULK so SETRANGE/SETBIT/APPEND
 * cannot allocate hundreds of megabytes, and the random-member commands'
 * COUNT capped (a legitimate huge COUNT is slow in Redis too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/acl/acl.h"
#include "server/app.h"
#include "server/base/zmalloc.h"
#include "server/core/server.h"

#define FUZZ_MAX_COMMANDS 64
#define FUZZ_MAX_ARGS 32
#define FUZZ_MAX_BULK (1024 * 1024)
#define FUZZ_MAX_COUNT 1000
#define FUZZ_MAXMEMORY (128ULL * 1024 * 1024)

/* Full names ("cmd" or "cmd|sub") that must not run in-process. */
static const char *const fuzz_deny[] = {
    "shutdown",       "debug",          "monitor",     "sync",
    "psync",          "replicaof",      "slaveof",     "failover",
    "migrate",        "wait",           "save",        "bgsave",
    "bgrewriteaof",   "blpop",          "brpop",       "brpoplpush",
    "blmove",         "blmpop",         "bzpopmin",    "bzpopmax",
    "bzmpop",         "xread",          "xreadgroup",  "module",
    "client|pause",   "client|unpause", "client|kill", "config|set",
    "config|rewrite", "acl|save",       "acl|load",    "cluster",
    "quit",           "reset",          NULL};

static int fuzz_denied(const redis_command *cmd) {
  for (int j = 0; fuzz_deny[j] != NULL; j++) {
    if (!strcasecmp(cmd->fullname, fuzz_deny[j])) {
      return 1;
    }
    /* deny a whole container when its name is listed */
    if (cmd->parent != NULL &&
        !strcasecmp(cmd->parent->fullname, fuzz_deny[j])) {
      return 1;
    }
  }
  return 0;
}

/* Commands whose argument 2 (0-based) is a COUNT producing that many replies
 * even on a small key. */
static int fuzz_count_too_big(client *c) {
  static const char *const counted[] = {"srandmember", "zrandmember",
                                        "hrandfield", "spop", NULL};
  if (c->argc < 3) {
    return 0;
  }
  for (int j = 0; counted[j] != NULL; j++) {
    if (!strcasecmp(c->argv[0]->ptr, counted[j])) {
      long long v = strtoll(c->argv[2]->ptr, NULL, 10);
      return v > FUZZ_MAX_COUNT || v < -FUZZ_MAX_COUNT;
    }
  }
  return 0;
}

/* resp_skip: checks that buf[*pos..len) starts with one well-formed RESP2/3
 * reply and advances past it. Returns 0 on malformed framing. depth bounds
 * recursion. */
static int resp_skip(const char *buf, size_t len, size_t *pos, int depth) {
  if (depth > 64 || *pos >= len) {
    return 0;
  }
  char type = buf[*pos];
  const char *nl = memchr(buf + *pos, '\n', len - *pos);
  if (nl == NULL || nl == buf + *pos || nl[-1] != '\r') {
    return 0;
  }
  size_t line_end = (size_t)(nl - buf) + 1;
  long long n = strtoll(buf + *pos + 1, NULL, 10);
  *pos = line_end;
  switch (type) {
    case '+':
    case '-':
    case ':':
    case ',':
    case '#':
    case '_':
    case '(':
      return 1;
    case '$':
    case '=':
    case '!':
      if (n == -1) {
        return type == '$';
      }
      if (n < 0 || (unsigned long long)n + 2 > len - *pos) {
        return 0;
      }
      *pos += (size_t)n;
      if (buf[*pos] != '\r' || buf[*pos + 1] != '\n') {
        return 0;
      }
      *pos += 2;
      return 1;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (n == -1 && type == '*') {
        return 1;
      }
      if (n < 0) {
        return 0;
      }
      long long items = (type == '%' || type == '|') ? n * 2 : n;
      for (long long j = 0; j < items; j++) {
        if (!resp_skip(buf, len, pos, depth + 1)) {
          return 0;
        }
      }
      /* an attribute is followed by the value it annotates */
      return type == '|' ? resp_skip(buf, len, pos, depth + 1) : 1;
    }
    default:
      return 0;
  }
}

/* fuzz_take_replies: flattens the client's reply buffer, checks its framing
 * and empties it. Pub/sub and MONITOR-style pushes are still replies, so the
 * whole buffer must be a sequence of complete replies. */
static void fuzz_take_replies(client *c) {
  size_t total = c->bufpos;
  list_iter li;
  list_node *ln;
  list_rewind(c->reply, &li);
  while ((ln = list_next(&li)) != NULL) {
    client_reply_block *b = list_node_value(ln);
    total += b->used;
  }
  char *all = malloc(total + 1);
  memcpy(all, c->buf, c->bufpos);
  size_t off = c->bufpos;
  list_rewind(c->reply, &li);
  while ((ln = list_next(&li)) != NULL) {
    client_reply_block *b = list_node_value(ln);
    memcpy(all + off, b->buf, b->used);
    off += b->used;
  }
  size_t pos = 0;
  int replies = 0;
  while (pos < total && replies < 100000) {
    if (!resp_skip(all, total, &pos, 0)) {
      abort(); /* a command wrote a malformed reply */
    }
    replies++;
  }
  free(all);
  list_empty(c->reply);
  c->reply_bytes = 0;
  c->bufpos = 0;
}

static void fuzz_init_once(void) {
  static int done;
  if (done) {
    return;
  }
  done = 1;
  server_init_for_tests();
  server.proto_max_bulk_len = FUZZ_MAX_BULK;
  server.maxmemory = FUZZ_MAXMEMORY;
  server_log_settings.verbosity = LL_WARNING + 1; /* quiet */
}

static void fuzz_run_command(client *c) {
  c->cmd = lookup_command(c->argv, c->argc);
  if (c->cmd != NULL && (fuzz_denied(c->cmd) || fuzz_count_too_big(c))) {
    return;
  }
  process_command(c);
  /* keep replying after CLIENT REPLY OFF/SKIP so the framing check sees
   * every command; drop state that would stop later commands */
  c->flags &= ~(CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP |
                CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT);
  fuzz_take_replies(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  client *c = create_client(NULL);
  c->flags |= CLIENT_SCRIPT;

  const char *p = (const char *)data;
  const char *end = p + size;
  int commands = 0;
  while (p < end && commands < FUZZ_MAX_COMMANDS) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL) {
      eol = end;
    }
    /* commands may replace argv (rewrite_client_command_vector) with a
     * smaller array: make room again before every line */
    if (c->argv == NULL || c->argv_len < FUZZ_MAX_ARGS) {
      zfree(c->argv);
      c->argv = zmalloc(sizeof(robj *) * FUZZ_MAX_ARGS);
      c->argv_len = FUZZ_MAX_ARGS;
    }
    /* split the line into arguments */
    const char *a = p;
    c->argc = 0;
    while (c->argc < FUZZ_MAX_ARGS) {
      const char *sp = memchr(a, ' ', (size_t)(eol - a));
      if (sp == NULL) {
        sp = eol;
      }
      c->argv[c->argc++] = create_string_object(a, (size_t)(sp - a));
      c->argv_len_sum += (size_t)(sp - a);
      if (sp == eol) {
        break;
      }
      a = sp + 1;
    }
    if (c->argc > 0 && sds_len(c->argv[0]->ptr) > 0) {
      commands++;
      fuzz_run_command(c);
    }
    reset_client(c);
    p = eol + 1;
  }
  free_client(c);
  empty_data(-1, 0, NULL);
  /* Users and rules are server state too: back to the lone default user
   * (on nopass ~* &* +@all), so ACL SETUSER default off cannot turn every
   * later input into NOPERM. */
  acl_replace_all_users(NULL, 0);
  server.dirty = 0;
  return 0;
}
