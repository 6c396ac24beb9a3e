/* client_cmds.c: connection commands: CLIENT (and its subcommands), HELLO,
 * AUTH, QUIT, RESET, MONITOR. Replies and errors follow Redis 7.0.
 *
 * Authentication goes through ACL users (acl.h): AUTH <pass> is the
 * "default" user, whose password follows requirepass (empty = nopass). The
 * check that refuses commands before AUTH is in process_command (server.c)
 * via acl_auth_required, the permission check right after it. */
#include <strings.h>

#include "server/acl/acl.h"
#include "server/base/zmalloc.h"
#include "server/cmds/client_cmds.h"
#include "server/cmds/multi.h"
#include "server/cmds/pubsub.h"
#include "server/core/networking.h"
#include "server/core/server.h"
#include "server/core/tracking.h"
#include "server/types/blocked.h"

/* CLIENT_NAME_MAX bounds CLIENT SETNAME / HELLO SETNAME (Redis has no
 * limit besides the request size; a name is shown in every CLIENT LIST). */
#define CLIENT_NAME_MAX (64 * 1024)

static int arg_is(robj *o, const char *s) {
  return sds_encoded_object(o) && strcasecmp(o->ptr, s) == 0;
}

/* arg_cstr: the argument's text for messages; numbers print as digits. */
static const char *arg_cstr(robj *o, char *buf, size_t len) {
  if (sds_encoded_object(o)) {
    return o->ptr;
  }
  ll2string(buf, len, (long)o->ptr);
  return buf;
}

static int default_user_nopass(void) {
  acl_user *d = acl_default_user();
  return d && (d->flags & ACL_USER_NOPASS);
}

/* redact_argument hides argv[i] from MONITOR and SLOWLOG (which read
 * original_argv when set) while the command still sees the real value. */
static void redact_argument(client *c, int i) {
  if (!c->original_argv) {
    c->original_argc = c->argc;
    c->original_argv = zmalloc(sizeof(robj *) * (size_t)c->argc);
    for (int j = 0; j < c->argc; j++) {
      c->original_argv[j] = c->argv[j];
      incr_ref_count(c->argv[j]);
    }
  }
  if (i < c->original_argc && c->original_argv[i] != shared.redacted) {
    decr_ref_count(c->original_argv[i]);
    c->original_argv[i] = shared.redacted;
    incr_ref_count(shared.redacted);
  }
}

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */
/* validate_client_name: printable ASCII without spaces, as Redis. */
static int validate_client_name(robj *name, const char **err) {
  static const char *charset_err =
      "Client names cannot contain spaces, newlines or special characters.";
  if (!sds_encoded_object(name)) {
    return C_OK; /* digits only */
  }
  size_t len = sds_len(name->ptr);
  if (len > CLIENT_NAME_MAX) {
    *err = charset_err;
    return C_ERR;
  }
  const char *p = name->ptr;
  for (size_t j = 0; j < len; j++) {
    if (p[j] < '!' || p[j] > '~') {
      *err = charset_err;
      return C_ERR;
    }
  }
  return C_OK;
}

/* client_set_name: an empty name removes the current one. The name must
 * have been validated. */
static void client_set_name(client *c, robj *name) {
  if (c->name) {
    decr_ref_count(c->name);
    c->name = NULL;
  }
  if (name == NULL || string_object_len(name) == 0) {
    return;
  }
  c->name = get_decoded_object(name); /* takes a reference */
}

static int client_set_name_or_reply(client *c, robj *name) {
  const char *err = NULL;
  if (validate_client_name(name, &err) != C_OK) {
    add_reply_error(c, err);
    return C_ERR;
  }
  client_set_name(c, name);
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Authentication                                                       */
/* ------------------------------------------------------------------ */
/* authenticate_user: 1 if username/password are valid credentials (the
 * client becomes authenticated), 0 otherwise (logged). */
static int authenticate_user(client *c, robj *username, robj *password) {
  /* ACL: SHA-256 of the attempt compared in constant time with each of
   * the user's hashes; a failure is recorded in ACL LOG. */
  if (acl_authenticate(c, username, password)) {
    return 1;
  }
  char peer[128] = "?";
  if (c->conn) {
    conn_format_peer(c->conn, peer, sizeof(peer));
  }
  security_log("auth_failed", "client_id=%llu addr=%s",
               (unsigned long long)c->id, peer);
  return 0;
}

static void add_reply_auth_error(client *c) {
  add_reply_error(c,
                  "-WRONGPASS invalid username-password pair or user is "
                  "disabled.");
}

static void auth_command(client *c) {
  if (c->argc > 3) {
    add_reply(c, shared.syntaxerr);
    return;
  }
  redact_argument(c, 1);
  robj *username, *password;
  if (c->argc == 2) {
    if (default_user_nopass()) {
      add_reply_error(c,
                      "AUTH <password> called without any password "
                      "configured for the default user. Are you sure your "
                      "configuration is correct?");
      return;
    }
    username = shared.default_username;
    password = c->argv[1];
  } else {
    redact_argument(c, 2);
    username = c->argv[1];
    password = c->argv[2];
  }
  if (authenticate_user(c, username, password)) {
    add_reply(c, shared.ok);
  } else {
    add_reply_auth_error(c);
  }
}

static void hello_command(client *c) {
  long long ver = 0;
  int next_arg = 1;
  if (c->argc >= 2) {
    if (get_long_long_from_object_or_reply(
            c, c->argv[next_arg++], &ver,
            "Protocol version is not an integer or out of range") != C_OK) {
      return;
    }
    if (ver < 2 || ver > 3) {
      add_reply_error(c, "-NOPROTO unsupported protocol version");
      return;
    }
  }
  robj *username = NULL, *password = NULL, *clientname = NULL;
  for (int j = next_arg; j < c->argc; j++) {
    int moreargs = c->argc - 1 - j;
    if (arg_is(c->argv[j], "AUTH") && moreargs >= 2) {
      redact_argument(c, j + 1);
      redact_argument(c, j + 2);
      username = c->argv[j + 1];
      password = c->argv[j + 2];
      j += 2;
    } else if (arg_is(c->argv[j], "SETNAME") && moreargs) {
      clientname = c->argv[j + 1];
      const char *err = NULL;
      if (validate_client_name(clientname, &err) != C_OK) {
        add_reply_error(c, err);
        return;
      }
      j++;
    } else {
      char buf[LONG_STR_SIZE];
      add_reply_error_format(c, "Syntax error in HELLO option '%s'",
                             arg_cstr(c->argv[j], buf, sizeof(buf)));
      return;
    }
  }
  if (username && password && !authenticate_user(c, username, password)) {
    add_reply_auth_error(c);
    return;
  }
  if (acl_auth_required(c)) {
    add_reply_error(c,
                    "-NOAUTH HELLO must be called with the client already "
                    "authenticated, otherwise the HELLO AUTH <user> <pass> "
                    "option can be used to authenticate the client and "
                    "select the RESP protocol version at the same time");
    return;
  }
  if (clientname) {
    client_set_name(c, clientname);
  }
  if (ver) {
    c->resp = (int)ver;
  }
  add_reply_map_len(c, 7);
  add_reply_bulk_cstring(c, "server");
  add_reply_bulk_cstring(c, "redis");
  add_reply_bulk_cstring(c, "version");
  add_reply_bulk_cstring(c, REDOUBT_VERSION);
  add_reply_bulk_cstring(c, "proto");
  add_reply_long_long(c, c->resp);
  add_reply_bulk_cstring(c, "id");
  add_reply_long_long(c, (long long)c->id);
  add_reply_bulk_cstring(c, "mode");
  add_reply_bulk_cstring(c, "standalone");
  add_reply_bulk_cstring(c, "role");
  add_reply_bulk_cstring(c, "master");
  add_reply_bulk_cstring(c, "modules");
  add_reply_array_len(c, 0);
}

/* ------------------------------------------------------------------ */
/* QUIT RESET MONITOR                                                   */
/* ------------------------------------------------------------------ */
static void quit_command(client *c) {
  add_reply(c, shared.ok);
  c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void monitor_command(client *c) {
  /* Inside MULTI/EXEC the client expects one reply per command. */
  if (c->flags & CLIENT_MULTI) {
    add_reply_error(c, "MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  if (c->flags & CLIENT_SLAVE) {
    return; /* already a replica or a monitor: ignored, no reply */
  }
  c->flags |= CLIENT_SLAVE | CLIENT_MONITOR;
  list_add_node_tail(server.monitors, c);
  add_reply(c, shared.ok);
}

static void reset_command(client *c) {
  uint64_t flags = c->flags;
  if (flags & CLIENT_MONITOR) {
    flags &= ~(CLIENT_MONITOR | CLIENT_SLAVE);
  }
  if (flags & (CLIENT_SLAVE | CLIENT_MASTER)) {
    add_reply_error(c, "can only reset normal client connections");
    return;
  }
  if (c->flags & CLIENT_MONITOR) {
    list_node *ln = list_search_key(server.monitors, c);
    if (ln) {
      list_del_node(server.monitors, ln);
    }
    c->flags &= ~(CLIENT_MONITOR | CLIENT_SLAVE);
  }
  if (c->flags & CLIENT_TRACKING) {
    tracking_disable(c);
  }
  multi_discard_and_unwatch(c);
  pubsub_unsubscribe_all(c, 0);
  select_db(c, 0);
  c->resp = 2;
  client_set_name(c, NULL);
  c->user = acl_default_user();
  c->authenticated = 0; /* RESET logs out: back to the default user */
  c->authenticated = !acl_auth_required(c);
  c->flags &= ~(CLIENT_ASKING | CLIENT_READONLY | CLIENT_NO_EVICT |
                CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT);
  add_reply_status(c, "RESET");
}

/* ------------------------------------------------------------------ */
/* CLIENT                                                               */
/* ------------------------------------------------------------------ */
static void client_id_command(client *c) {
  add_reply_long_long(c, (long long)c->id);
}

static void client_setname_command(client *c) {
  if (client_set_name_or_reply(c, c->argv[2]) == C_OK) {
    add_reply(c, shared.ok);
  }
}

static void client_getname_command(client *c) {
  if (c->name) {
    add_reply_bulk(c, c->name);
  } else {
    add_reply_null(c);
  }
}

static void client_info_command(client *c) {
  sds o = cat_client_info_string(sds_empty(), c);
  o = sds_cat_len(o, "\n", 1);
  add_reply_verbatim(c, o, sds_len(o), "txt");
  sds_free(o);
}

static void client_list_command(client *c) {
  int type = -1;
  sds o = NULL;
  char buf[LONG_STR_SIZE];
  if (c->argc == 4 && arg_is(c->argv[2], "type")) {
    type = client_type_by_name(arg_cstr(c->argv[3], buf, sizeof(buf)));
    if (type == -1) {
      add_reply_error_format(c, "Unknown client type '%s'",
                             arg_cstr(c->argv[3], buf, sizeof(buf)));
      return;
    }
  } else if (c->argc > 3 && arg_is(c->argv[2], "id")) {
    o = sds_empty();
    for (int j = 3; j < c->argc; j++) {
      long long cid;
      if (get_long_long_from_object_or_reply(c, c->argv[j], &cid,
                                             "Invalid client ID") != C_OK) {
        sds_free(o);
        return;
      }
      client *cl = lookup_client_by_id((uint64_t)cid);
      if (cl) {
        o = cat_client_info_string(o, cl);
        o = sds_cat_len(o, "\n", 1);
      }
    }
  } else if (c->argc != 2) {
    add_reply(c, shared.syntaxerr);
    return;
  }
  if (!o) {
    o = get_all_clients_info_string(type);
  }
  add_reply_verbatim(c, o, sds_len(o), "txt");
  sds_free(o);
}

static int client_addr_matches(client *cl, const char *addr, int local) {
  const char *id = local ? client_sockname(cl) : client_peer_id(cl);
  return id != NULL && strcmp(id, addr) == 0;
}

static void client_kill_command(client *c) {
  const char *addr = NULL, *laddr = NULL;
  int type = -1;
  uint64_t id = 0;
  int skipme = 1;
  acl_user *match_user = NULL;
  char buf[LONG_STR_SIZE], buf2[LONG_STR_SIZE], buf3[LONG_STR_SIZE];
  if (c->argc == 3) {
    /* Old form: CLIENT KILL addr. One may kill oneself this way. */
    addr = arg_cstr(c->argv[2], buf, sizeof(buf));
    skipme = 0;
  } else {
    for (int i = 2; i < c->argc; i += 2) {
      int moreargs = c->argc > i + 1;
      if (arg_is(c->argv[i], "id") && moreargs) {
        long tmp;
        if (get_range_long_from_object_or_reply(
                c, c->argv[i + 1], 1, LONG_MAX, &tmp,
                "client-id should be greater than 0") != C_OK) {
          return;
        }
        id = (uint64_t)tmp;
      } else if (arg_is(c->argv[i], "type") && moreargs) {
        const char *name = arg_cstr(c->argv[i + 1], buf, sizeof(buf));
        type = client_type_by_name(name);
        if (type == -1) {
          add_reply_error_format(c, "Unknown client type '%s'", name);
          return;
        }
      } else if (arg_is(c->argv[i], "addr") && moreargs) {
        addr = arg_cstr(c->argv[i + 1], buf2, sizeof(buf2));
      } else if (arg_is(c->argv[i], "laddr") && moreargs) {
        laddr = arg_cstr(c->argv[i + 1], buf3, sizeof(buf3));
      } else if (arg_is(c->argv[i], "user") && moreargs) {
        char nb[LONG_STR_SIZE];
        const char *uname = arg_cstr(c->argv[i + 1], nb, sizeof(nb));
        match_user = acl_lookup_user(uname, strlen(uname));
        if (!match_user) {
          add_reply_error_format(c, "No such user '%s'", uname);
          return;
        }
      } else if (arg_is(c->argv[i], "skipme") && moreargs) {
        if (arg_is(c->argv[i + 1], "yes")) {
          skipme = 1;
        } else if (arg_is(c->argv[i + 1], "no")) {
          skipme = 0;
        } else {
          add_reply(c, shared.syntaxerr);
          return;
        }
      } else {
        add_reply(c, shared.syntaxerr);
        return;
      }
    }
  }

  long long killed = 0;
  int close_this_client = 0;
  list_iter li;
  list_node *ln;
  list_rewind(server.clients, &li);
  while ((ln = list_next(&li)) != NULL) {
    client *cl = list_node_value(ln);
    if (addr && !client_addr_matches(cl, addr, 0)) {
      continue;
    }
    if (laddr && !client_addr_matches(cl, laddr, 1)) {
      continue;
    }
    if (type != -1 && client_type(cl) != type) {
      continue;
    }
    if (id != 0 && cl->id != id) {
      continue;
    }
    if (match_user && cl->user != match_user) {
      continue;
    }
    if (cl == c && skipme) {
      continue;
    }
    if (cl == c) {
      close_this_client = 1;
    } else {
      /* The iterator already points past cl. */
      free_client(cl);
    }
    killed++;
  }
  if (c->argc == 3) {
    if (killed == 0) {
      add_reply_error(c, "No such client");
    } else {
      add_reply(c, shared.ok);
    }
  } else {
    add_reply_long_long(c, killed);
  }
  /* Flag only after the reply is queued, so it is still delivered. */
  if (close_this_client) {
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
  }
}

static void client_pause_command(client *c) {
  if (c->argc != 3 && c->argc != 4) {
    add_reply_subcommand_syntax_error(c);
    return;
  }
  int write_only = 0;
  if (c->argc == 4) {
    if (arg_is(c->argv[3], "write")) {
      write_only = 1;
    } else if (!arg_is(c->argv[3], "all")) {
      add_reply_error(c, "CLIENT PAUSE mode must be WRITE or ALL");
      return;
    }
  }
  long long timeout;
  if (get_long_long_from_object_or_reply(
          c, c->argv[2], &timeout,
          "timeout is not an integer or out of range") != C_OK) {
    return;
  }
  if (timeout < 0) {
    add_reply_error(c, "timeout is negative");
    return;
  }
  long long now = mstime();
  if (timeout > LLONG_MAX - now) {
    add_reply_error(c, "timeout is out of range");
    return;
  }
  pause_clients(now + timeout, write_only);
  add_reply(c, shared.ok);
}

static void client_unpause_command(client *c) {
  unpause_clients();
  add_reply(c, shared.ok);
}

static void client_reply_command(client *c) {
  if (arg_is(c->argv[2], "on")) {
    c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF);
    add_reply(c, shared.ok);
  } else if (arg_is(c->argv[2], "off")) {
    c->flags |= CLIENT_REPLY_OFF;
  } else if (arg_is(c->argv[2], "skip")) {
    if (!(c->flags & CLIENT_REPLY_OFF)) {
      c->flags |= CLIENT_REPLY_SKIP_NEXT;
    }
  } else {
    add_reply(c, shared.syntaxerr);
  }
}

static void client_no_evict_command(client *c) {
  if (arg_is(c->argv[2], "on")) {
    c->flags |= CLIENT_NO_EVICT;
    add_reply(c, shared.ok);
  } else if (arg_is(c->argv[2], "off")) {
    c->flags &= ~CLIENT_NO_EVICT;
    add_reply(c, shared.ok);
  } else {
    add_reply(c, shared.syntaxerr);
  }
}

static void client_unblock_command(client *c) {
  if (c->argc != 3 && c->argc != 4) {
    add_reply_subcommand_syntax_error(c);
    return;
  }
  int with_error = 0;
  if (c->argc == 4) {
    if (arg_is(c->argv[3], "timeout")) {
      with_error = 0;
    } else if (arg_is(c->argv[3], "error")) {
      with_error = 1;
    } else {
      add_reply_error(c, "CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return;
    }
  }
  long long id;
  if (get_long_long_from_object_or_reply(c, c->argv[2], &id, NULL) != C_OK) {
    return;
  }
  client *target = lookup_client_by_id((uint64_t)id);
  if (target && (target->flags & CLIENT_BLOCKED) &&
      blocking_client_unblock(target, with_error)) {
    add_reply(c, shared.cone);
  } else {
    add_reply(c, shared.czero);
  }
}

/* ------------------------------------------------------------------ */
/* Client-side caching (server/core/tracking.h)                         */
/* ------------------------------------------------------------------ */
/* CLIENT TRACKING (ON|OFF) [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN]
 * [OPTOUT] [NOLOOP]: the options are parsed first, then checked against
 * each other and the client's current mode, in Redis's order and texts. */
static void client_tracking_command(client *c) {
  long long redir = 0;
  uint64_t options = 0;
  robj **prefixes = NULL;
  size_t count = 0;
  for (int j = 3; j < c->argc; j++) {
    int moreargs = c->argc - 1 - j;
    if (arg_is(c->argv[j], "redirect") && moreargs) {
      j++;
      if (redir != 0) {
        add_reply_error(c,
                        "A client can only redirect to a single other "
                        "client");
        goto done;
      }
      if (get_long_long_from_object_or_reply(c, c->argv[j], &redir, NULL) !=
          C_OK) {
        goto done;
      }
      /* It must exist now, even if it may go away later. */
      if (lookup_client_by_id((uint64_t)redir) == NULL) {
        add_reply_error(c,
                        "The client ID you want redirect to does not "
                        "exist");
        goto done;
      }
    } else if (arg_is(c->argv[j], "bcast")) {
      options |= CLIENT_TRACKING_BCAST;
    } else if (arg_is(c->argv[j], "optin")) {
      options |= CLIENT_TRACKING_OPTIN;
    } else if (arg_is(c->argv[j], "optout")) {
      options |= CLIENT_TRACKING_OPTOUT;
    } else if (arg_is(c->argv[j], "noloop")) {
      options |= CLIENT_TRACKING_NOLOOP;
    } else if (arg_is(c->argv[j], "prefix") && moreargs) {
      j++;
      if (prefixes == NULL) {
        /* At most one per two arguments: argc bounds the array. */
        prefixes = zmalloc(sizeof(robj *) * (size_t)c->argc);
      }
      prefixes[count++] = c->argv[j];
    } else {
      add_reply(c, shared.syntaxerr);
      goto done;
    }
  }
  if (arg_is(c->argv[2], "on")) {
    if (!(options & CLIENT_TRACKING_BCAST) && count) {
      add_reply_error(c, "PREFIX option requires BCAST mode to be enabled");
      goto done;
    }
    if ((c->flags & CLIENT_TRACKING) &&
        !!(c->flags & CLIENT_TRACKING_BCAST) !=
            !!(options & CLIENT_TRACKING_BCAST)) {
      add_reply_error(c,
                      "You can't switch BCAST mode on/off before disabling "
                      "tracking for this client, and then re-enabling it "
                      "with a different mode.");
      goto done;
    }
    if ((options & CLIENT_TRACKING_BCAST) &&
        (options & (CLIENT_TRACKING_OPTIN | CLIENT_TRACKING_OPTOUT))) {
      add_reply_error(c, "OPTIN and OPTOUT are not compatible with BCAST");
      goto done;
    }
    if ((options & CLIENT_TRACKING_OPTIN) &&
        (options & CLIENT_TRACKING_OPTOUT)) {
      add_reply_error(c, "You can't specify both OPTIN mode and OPTOUT mode");
      goto done;
    }
    if (((options & CLIENT_TRACKING_OPTIN) &&
         (c->flags & CLIENT_TRACKING_OPTOUT)) ||
        ((options & CLIENT_TRACKING_OPTOUT) &&
         (c->flags & CLIENT_TRACKING_OPTIN))) {
      add_reply_error(c,
                      "You can't switch OPTIN/OPTOUT mode before disabling "
                      "tracking for this client, and then re-enabling it "
                      "with a different mode.");
      goto done;
    }
    if ((options & CLIENT_TRACKING_BCAST) &&
        !tracking_check_prefixes_or_reply(c, prefixes, count)) {
      goto done;
    }
    tracking_enable(c, (uint64_t)redir, options, prefixes, count);
  } else if (arg_is(c->argv[2], "off")) {
    tracking_disable(c);
  } else {
    add_reply(c, shared.syntaxerr);
    goto done;
  }
  add_reply(c, shared.ok);
done:
  zfree(prefixes);
}

/* CLIENT CACHING YES|NO: whether the next command's keys are tracked
 * (OPTIN / OPTOUT); tracking_client_reset forgets it after that command. */
static void client_caching_command(client *c) {
  if (!(c->flags & CLIENT_TRACKING)) {
    add_reply_error(c,
                    "CLIENT CACHING can be called only when the client is in "
                    "tracking mode with OPTIN or OPTOUT mode enabled");
    return;
  }
  if (arg_is(c->argv[2], "yes")) {
    if (!(c->flags & CLIENT_TRACKING_OPTIN)) {
      add_reply_error(c,
                      "CLIENT CACHING YES is only valid when tracking is "
                      "enabled in OPTIN mode.");
      return;
    }
  } else if (arg_is(c->argv[2], "no")) {
    if (!(c->flags & CLIENT_TRACKING_OPTOUT)) {
      add_reply_error(c,
                      "CLIENT CACHING NO is only valid when tracking is "
                      "enabled in OPTOUT mode.");
      return;
    }
  } else {
    add_reply(c, shared.syntaxerr);
    return;
  }
  c->flags |= CLIENT_TRACKING_CACHING;
  add_reply(c, shared.ok);
}

static void client_getredir_command(client *c) {
  add_reply_long_long(
      c, (c->flags & CLIENT_TRACKING) ? (long long)c->tracking_redirect : -1);
}

static void client_trackinginfo_command(client *c) {
  const char *flags[8];
  int n = 0;
  uint64_t f = c->flags;
  flags[n++] = (f & CLIENT_TRACKING) ? "on" : "off";
  if (f & CLIENT_TRACKING_BCAST) {
    flags[n++] = "bcast";
  }
  if (f & CLIENT_TRACKING_OPTIN) {
    flags[n++] = "optin";
    if (f & CLIENT_TRACKING_CACHING) {
      flags[n++] = "caching-yes";
    }
  }
  if (f & CLIENT_TRACKING_OPTOUT) {
    flags[n++] = "optout";
    if (f & CLIENT_TRACKING_CACHING) {
      flags[n++] = "caching-no";
    }
  }
  if (f & CLIENT_TRACKING_NOLOOP) {
    flags[n++] = "noloop";
  }
  if (f & CLIENT_TRACKING_BROKEN_REDIR) {
    flags[n++] = "broken_redirect";
  }
  add_reply_map_len(c, 3);
  add_reply_bulk_cstring(c, "flags");
  add_reply_set_len(c, n);
  for (int i = 0; i < n; i++) {
    add_reply_bulk_cstring(c, flags[i]);
  }
  add_reply_bulk_cstring(c, "redirect");
  add_reply_long_long(
      c, (f & CLIENT_TRACKING) ? (long long)c->tracking_redirect : -1);
  add_reply_bulk_cstring(c, "prefixes");
  size_t count;
  const sds *prefixes = tracking_client_prefixes(c, &count);
  add_reply_array_len(c, (long)count);
  for (size_t i = 0; i < count; i++) {
    add_reply_bulk_cbuffer(c, prefixes[i], sds_len(prefixes[i]));
  }
}

static void client_help_command(client *c) {
  static const char *help[] = {
      "CACHING (YES|NO)",
      "    Enable/disable tracking of the keys for next command in "
      "OPTIN/OPTOUT modes.",
      "GETREDIR",
      "    Return the client ID we are redirecting to when tracking is "
      "enabled.",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Kill connections by type.",
      "    * USER <username>",
      "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)",
      "      Skip killing current connection (default: yes).",
      "LIST [options ...]",
      "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Return clients of specified type.",
      "UNPAUSE",
      "    Stop the current client pause, resuming traffic.",
      "PAUSE <timeout> [WRITE|ALL]",
      "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "REPLY (ON|OFF|SKIP)",
      "    Control the replies sent to the current connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
      "         [OPTIN] [OPTOUT] [NOLOOP]",
      "    Control server assisted client side caching.",
      "TRACKINGINFO",
      "    Report tracking status for the current connection.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
      NULL};
  add_reply_help(c, help);
}

/* ------------------------------------------------------------------ */
/* Tables                                                               */
/* ------------------------------------------------------------------ */
#define CLIENT_SUB(name_, summary_, since_, proc_, arity_, flags_, acl_) \
  {                                                                      \
    .declared_name = name_, .summary = summary_, .since = since_,        \
    .group = "connection", .proc = proc_, .arity = arity_,               \
    .flags = (flags_) | CMD_LOADING | CMD_STALE,                         \
    .acl_categories = ACL_CATEGORY_CONNECTION | (acl_)                   \
  }
#define CLIENT_ADMIN (CMD_ADMIN | CMD_NOSCRIPT)

static redis_command client_subcommands[] = {
    CLIENT_SUB("caching",
               "Instruct the server about tracking or not keys in the next "
               "request",
               "6.0.0", client_caching_command, 3, CMD_NOSCRIPT, 0),
    CLIENT_SUB("getname", "Get the current connection name", "2.6.9",
               client_getname_command, 2, CMD_NOSCRIPT, 0),
    CLIENT_SUB("getredir",
               "Get tracking notifications redirection client ID if any",
               "6.0.0", client_getredir_command, 2, CMD_NOSCRIPT, 0),
    CLIENT_SUB("help", "Show helpful text about the different subcommands",
               "5.0.0", client_help_command, 2, 0, 0),
    CLIENT_SUB("id", "Returns the client ID for the current connection",
               "5.0.0", client_id_command, 2, CMD_NOSCRIPT, 0),
    CLIENT_SUB("info",
               "Returns information about the current client connection.",
               "6.2.0", client_info_command, 2, CMD_NOSCRIPT, 0),
    CLIENT_SUB("kill", "Kill the connection of a client", "2.4.0",
               client_kill_command, -3, CLIENT_ADMIN, 0),
    CLIENT_SUB("list", "Get the list of client connections", "2.4.0",
               client_list_command, -2, CLIENT_ADMIN, 0),
    CLIENT_SUB("no-evict",
               "Set client eviction mode for the current connection", "7.0.0",
               client_no_evict_command, 3, CLIENT_ADMIN, 0),
    CLIENT_SUB("pause", "Stop processing commands from clients for some time",
               "2.9.50", client_pause_command, -3, CLIENT_ADMIN, 0),
    CLIENT_SUB("reply", "Instruct the server whether to reply to commands",
               "3.2.0", client_reply_command, 3, CMD_NOSCRIPT, 0),
    CLIENT_SUB("setname", "Set the current connection name", "2.6.9",
               client_setname_command, 3, CMD_NOSCRIPT, 0),
    CLIENT_SUB("tracking",
               "Enable or disable server assisted client side caching "
               "support",
               "6.0.0", client_tracking_command, -3, CMD_NOSCRIPT, 0),
    CLIENT_SUB("trackinginfo",
               "Return information about server assisted client side "
               "caching for the current connection",
               "6.2.0", client_trackinginfo_command, 2, CMD_NOSCRIPT, 0),
    CLIENT_SUB("unblock",
               "Unblock a client blocked in a blocking command from a "
               "different connection",
               "5.0.0", client_unblock_command, -3, CLIENT_ADMIN, 0),
    CLIENT_SUB("unpause", "Resume processing of clients that were paused",
               "6.2.0", client_unpause_command, 2, CLIENT_ADMIN, 0),
    {0}};

#define CONNECTION_NO_AUTH_FLAGS                                     \
  (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | \
   CMD_SENTINEL | CMD_ALLOW_BUSY)

redis_command client_commands[] = {
    {.declared_name = "client",
     .summary = "A container for client connection commands",
     .since = "2.4.0",
     .group = "connection",
     .arity = -2,
     .flags = CMD_SENTINEL,
     .subcommands = client_subcommands},
    {.declared_name = "hello",
     .summary = "Handshake with Redis",
     .since = "6.0.0",
     .group = "connection",
     .proc = hello_command,
     .arity = -1,
     .flags = CONNECTION_NO_AUTH_FLAGS,
     .acl_categories = ACL_CATEGORY_CONNECTION},
    {.declared_name = "auth",
     .summary = "Authenticate to the server",
     .since = "1.0.0",
     .group = "connection",
     .proc = auth_command,
     .arity = -2,
     .flags = CONNECTION_NO_AUTH_FLAGS,
     .acl_categories = ACL_CATEGORY_CONNECTION},
    {.declared_name = "quit",
     .summary = "Close the connection",
     .since = "1.0.0",
     .group = "connection",
     .proc = quit_command,
     .arity = -1,
     .flags = CONNECTION_NO_AUTH_FLAGS,
     .acl_categories = ACL_CATEGORY_CONNECTION},
    {.declared_name = "reset",
     .summary = "Reset the connection",
     .since = "6.2.0",
     .group = "connection",
     .proc = reset_command,
     .arity = 1,
     .flags = CONNECTION_NO_AUTH_FLAGS,
     .acl_categories = ACL_CATEGORY_CONNECTION},
    {.declared_name = "monitor",
     .summary = "Listen for all requests received by the server in real time",
     .since = "1.0.0",
     .group = "server",
     .proc = monitor_command,
     .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE},
    {0}};
