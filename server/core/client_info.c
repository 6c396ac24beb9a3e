/* client_info.c: what a client looks like from the outside: the MONITOR
 * feed line, the CLIENT LIST line (Redis 7.0.15 field order) and the cached
 * peer / local address strings. Split from networking.c. */
#include <string.h>
#include <sys/time.h>

#include "server/base/zmalloc.h"
#include "server/core/networking.h"

/* ------------------------------------------------------------------ */
/* MONITOR                                                              */
/* ------------------------------------------------------------------ */
void replication_feed_monitors(client *c, list *monitors, int dictid,
                               robj **argv, int argc) {
  if (monitors == NULL || list_length(monitors) == 0 || server.loading) {
    return;
  }
  struct timeval tv;
  gettimeofday(&tv, NULL);
  sds cmdrepr = sds_cat_printf(sds_new("+"), "%ld.%06ld ", (long)tv.tv_sec,
                               (long)tv.tv_usec);
  if (c->flags & CLIENT_SCRIPT) {
    cmdrepr = sds_cat_printf(cmdrepr, "[%d lua] ", dictid);
  } else if (c->flags & CLIENT_UNIX_SOCKET) {
    cmdrepr = sds_cat_printf(cmdrepr, "[%d unix:%s] ", dictid,
                             server.unixsocket ? server.unixsocket : "");
  } else {
    cmdrepr = sds_cat_printf(cmdrepr, "[%d %s] ", dictid, client_peer_id(c));
  }
  for (int j = 0; j < argc; j++) {
    if (argv[j]->encoding == OBJ_ENCODING_INT) {
      cmdrepr = sds_cat_printf(cmdrepr, "\"%ld\"", (long)argv[j]->ptr);
    } else {
      cmdrepr =
          sds_cat_repr(cmdrepr, (char *)argv[j]->ptr, sds_len(argv[j]->ptr));
    }
    if (j != argc - 1) {
      cmdrepr = sds_cat_len(cmdrepr, " ", 1);
    }
  }
  cmdrepr = sds_cat_len(cmdrepr, "\r\n", 2);
  robj *cmdobj = create_object(OBJ_STRING, cmdrepr);
  list_iter li;
  list_node *ln;
  list_rewind(monitors, &li);
  while ((ln = list_next(&li)) != NULL) {
    client *monitor = list_node_value(ln);
    add_reply(monitor, cmdobj);
  }
  decr_ref_count(cmdobj);
}

/* ------------------------------------------------------------------ */
/* CLIENT LIST                                                          */
/* ------------------------------------------------------------------ */
const char *client_peer_id(client *c) {
  if (c->peerid == NULL) {
    char buf[128];
    if (c->conn == NULL) {
      return "?:0";
    }
    if (conn_format_peer(c->conn, buf, sizeof(buf)) == -1) {
      return "?:0";
    }
    c->peerid = sds_new(buf);
  }
  return c->peerid;
}

int client_is_local(client *c) {
  if (c->flags & CLIENT_UNIX_SOCKET) {
    return 1;
  }
  if (c->conn == NULL) {
    return 1; /* an internal client (AOF loading, scripts) */
  }
  /* client_peer_id is "ip:port" or "[ipv6]:port"; Redis compares the
   * address with "127.0.0.1" and "::1" only. */
  const char *peer = client_peer_id(c);
  return strncmp(peer, "127.0.0.1:", 10) == 0 ||
         strncmp(peer, "[::1]:", 6) == 0;
}

const char *client_sockname(client *c) {
  if (c->sockname == NULL) {
    char buf[128];
    if (c->conn == NULL) {
      return "?:0";
    }
    if (conn_format_local(c->conn, buf, sizeof(buf)) == -1) {
      return "?:0";
    }
    c->sockname = sds_new(buf);
  }
  return c->sockname;
}

size_t client_total_memory_usage(client *c, size_t *out_obuf_mem) {
  size_t mem = get_client_output_buffer_memory_usage(c);
  if (out_obuf_mem != NULL) {
    *out_obuf_mem = mem;
  }
  mem += c->querybuf ? sds_alloc_size(c->querybuf) : 0;
  mem += zmalloc_size(c);
  mem += c->buf_usable_size;
  mem += c->argv_len_sum + sizeof(robj *) * (size_t)c->argc;
  for (int i = 0; i < networking_hook_count(); i++) {
    if (networking_hook(i)->multi_mem != NULL && (c->flags & CLIENT_MULTI)) {
      mem += networking_hook(i)->multi_mem(c);
    }
  }
  if (c->pubsub_patterns) {
    mem += dict_size(c->pubsub_patterns) * sizeof(list_node);
  }
  if (c->pubsub_channels) {
    mem += dict_size(c->pubsub_channels) * sizeof(dict_entry) +
           dict_slots(c->pubsub_channels) * sizeof(dict_entry *);
  }
  return mem;
}

sds cat_client_info_string(sds s, client *c) {
  char flags[32], *p = flags;
  if (c->flags & CLIENT_SLAVE) {
    *p++ = (c->flags & CLIENT_MONITOR) ? 'O' : 'S';
  }
  if (c->flags & CLIENT_MASTER) *p++ = 'M';
  if (c->flags & CLIENT_PUBSUB) *p++ = 'P';
  if (c->flags & CLIENT_MULTI) *p++ = 'x';
  if (c->flags & (CLIENT_BLOCKED | CLIENT_PENDING_COMMAND)) *p++ = 'b';
  if (c->flags & CLIENT_TRACKING) *p++ = 't';
  if (c->flags & CLIENT_TRACKING_BROKEN_REDIR) *p++ = 'R';
  if (c->flags & CLIENT_TRACKING_BCAST) *p++ = 'B';
  if (c->flags & CLIENT_DIRTY_CAS) *p++ = 'd';
  if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
  if (c->flags & CLIENT_UNBLOCKED) *p++ = 'u';
  if (c->flags & CLIENT_CLOSE_ASAP) *p++ = 'A';
  if (c->flags & CLIENT_UNIX_SOCKET) *p++ = 'U';
  if (c->flags & CLIENT_READONLY) *p++ = 'r';
  if (c->flags & CLIENT_NO_EVICT) *p++ = 'e';
  if (p == flags) *p++ = 'N';
  *p = '\0';

  char events[3], *e = events;
  if (c->conn != NULL) {
    if (c->conn->read_handler != NULL) *e++ = 'r';
    if (c->conn->write_handler != NULL) *e++ = 'w';
  }
  *e = '\0';

  int multi = -1;
  size_t multi_mem = 0;
  const char *user = client_user_name(c);
  for (int i = 0; i < networking_hook_count(); i++) {
    const client_module_hooks *h = networking_hook(i);
    if ((c->flags & CLIENT_MULTI) && h->multi_count != NULL) {
      multi = h->multi_count(c);
    }
    if ((c->flags & CLIENT_MULTI) && h->multi_mem != NULL) {
      multi_mem = h->multi_mem(c);
    }
    if (h->user_name != NULL) {
      const char *u = h->user_name(c);
      if (u != NULL) {
        user = u;
      }
    }
  }
  if ((c->flags & CLIENT_MULTI) && multi < 0) {
    multi = 0;
  }
  size_t obufmem = 0;
  size_t total_mem = client_total_memory_usage(c, &obufmem);
  long long now =
      (long long)((cached_mstime ? cached_mstime : mstime()) / 1000);

  s = sds_cat_printf(
      s,
      "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s "
      "db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%llu qbuf-free=%llu "
      "argv-mem=%llu multi-mem=%llu rbs=%llu rbp=%llu obl=%llu oll=%llu "
      "omem=%llu tot-mem=%llu events=%s cmd=%s user=%s redir=%lld resp=%d",
      (unsigned long long)c->id, client_peer_id(c), client_sockname(c),
      c->conn ? c->conn->fd : -1, c->name ? (char *)c->name->ptr : "",
      now - (long long)c->ctime, now - c->last_interaction / 1000, flags,
      c->db ? c->db->id : 0,
      c->pubsub_channels ? (int)dict_size(c->pubsub_channels) : 0,
      c->pubsub_patterns ? (int)dict_size(c->pubsub_patterns) : 0,
      c->pubsub_shard_channels ? (int)dict_size(c->pubsub_shard_channels) : 0,
      multi, (unsigned long long)(c->querybuf ? sds_len(c->querybuf) : 0),
      (unsigned long long)(c->querybuf ? sds_avail(c->querybuf) : 0),
      (unsigned long long)c->argv_len_sum, (unsigned long long)multi_mem,
      (unsigned long long)c->buf_usable_size, (unsigned long long)c->buf_peak,
      (unsigned long long)c->bufpos, (unsigned long long)list_length(c->reply),
      (unsigned long long)obufmem, (unsigned long long)total_mem, events,
      c->lastcmd && c->lastcmd->fullname ? c->lastcmd->fullname : "NULL", user,
      (c->flags & CLIENT_TRACKING) ? (long long)c->tracking_redirect : -1LL,
      c->resp);
  if (c->conn != NULL) {
    char info[512];
    info[0] = '\0';
    c->conn->type->get_info(c->conn, info, sizeof(info));
    if (info[0] != '\0') {
      s = sds_cat_printf(s, " %s", info);
    }
  }
  return s;
}

sds get_all_clients_info_string(int type) {
  sds o = sds_empty();
  if (server.clients == NULL) {
    return o;
  }
  list_iter li;
  list_node *ln;
  list_rewind(server.clients, &li);
  while ((ln = list_next(&li)) != NULL) {
    client *c = list_node_value(ln);
    if (type != -1 && client_type(c) != type) {
      continue;
    }
    o = cat_client_info_string(o, c);
    o = sds_cat_len(o, "\n", 1);
  }
  return o;
}
