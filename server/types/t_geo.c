/* t_geo.c: the geo commands (GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH
 * GEOSEARCHSTORE GEORADIUS[_RO] GEORADIUSBYMEMBER[_RO]) over sorted sets
 * whose scores are 52-bit geohashes (geohash.h). Replies, error texts,
 * result order and keyspace events follow Redis 7.0.
 *
 * A search visits the cell of the shape's centre and its eight neighbours
 * (geohash_search_boxes), reads each cell's score range from the sorted
 * set, keeps the points inside the shape, then sorts them by distance when
 * asked to (a partial sort for COUNT, as Redis, so ties come out in the
 * same order). GEOADD is ZADD with the positions turned into scores, and
 * is propagated as that ZADD. */
#include "server/types/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "server/base/pqsort.h"
#include "server/base/zmalloc.h"
#include "server/core/command_meta.h"
#include "server/types/geohash.h"
#include "server/types/t_zset.h"

/* ------------------------------------------------------------------ */
/* Points found by a search                                             */
/* ------------------------------------------------------------------ */
typedef struct geo_point {
  double longitude, latitude;
  double dist; /* meters, then the reply's unit */
  double score;
  sds member;
} geo_point;

typedef struct geo_points {
  geo_point *items;
  size_t used, cap;
} geo_points;

static void geo_points_add(geo_points *ga, const double *xy, double dist,
                           double score, sds member) {
  if (ga->used == ga->cap) {
    ga->cap = ga->cap ? ga->cap * 2 : 8;
    ga->items = zrealloc(ga->items, ga->cap * sizeof(geo_point));
  }
  geo_point *p = &ga->items[ga->used++];
  p->longitude = xy[0];
  p->latitude = xy[1];
  p->dist = dist;
  p->score = score;
  p->member = member;
}

static void geo_points_free(geo_points *ga) {
  for (size_t i = 0; i < ga->used; i++) {
    sds_free(ga->items[i].member); /* NULL once handed over */
  }
  zfree(ga->items);
}

/* ------------------------------------------------------------------ */
/* Arguments                                                            */
/* ------------------------------------------------------------------ */
/* geo_arg_is: the argument, read as a C string as Redis reads options, is
 * |name| (case-insensitive). */
static int geo_arg_is(robj *o, const char *name) {
  return sds_encoded_object(o) && !strcasecmp(o->ptr, name);
}

/* geo_parse_lonlat reads argv[0] (longitude) and argv[1] (latitude) into
 * xy; replies and returns C_ERR when they are not numbers or out of the
 * geo limits. */
static int geo_parse_lonlat(client *c, robj **argv, double *xy) {
  for (int i = 0; i < 2; i++) {
    if (get_double_from_object_or_reply(c, argv[i], xy + i, NULL) != C_OK) {
      return C_ERR;
    }
  }
  if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN ||
      xy[1] > GEO_LAT_MAX) {
    add_reply_error_format(c, "-ERR invalid longitude,latitude pair %f,%f\r\n",
                           xy[0], xy[1]);
    return C_ERR;
  }
  return C_OK;
}

/* geo_parse_unit: meters per |unit|, or -1 after replying the error. */
static double geo_parse_unit(client *c, robj *unit) {
  static const struct {
    const char *name;
    double meters;
  } units[] = {{"m", 1}, {"km", 1000}, {"ft", 0.3048}, {"mi", 1609.34}};
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (geo_arg_is(unit, units[i].name)) {
      return units[i].meters;
    }
  }
  add_reply_error(c, "unsupported unit provided. please use M, KM, FT, MI");
  return -1;
}

/* geo_parse_radius reads "<radius> <unit>" at argv. */
static int geo_parse_radius(client *c, robj **argv, geo_shape *shape) {
  double radius;
  if (get_double_from_object_or_reply(c, argv[0], &radius,
                                      "need numeric radius") != C_OK) {
    return C_ERR;
  }
  if (radius < 0) {
    add_reply_error(c, "radius cannot be negative");
    return C_ERR;
  }
  shape->radius = radius;
  double to_meters = geo_parse_unit(c, argv[1]);
  if (to_meters < 0) {
    return C_ERR;
  }
  shape->conversion = to_meters;
  return C_OK;
}

/* geo_parse_box reads "<width> <height> <unit>" at argv. */
static int geo_parse_box(client *c, robj **argv, geo_shape *shape) {
  double w, h;
  if (get_double_from_object_or_reply(c, argv[0], &w, "need numeric width") !=
          C_OK ||
      get_double_from_object_or_reply(c, argv[1], &h, "need numeric height") !=
          C_OK) {
    return C_ERR;
  }
  if (h < 0 || w < 0) {
    add_reply_error(c, "height or width cannot be negative");
    return C_ERR;
  }
  shape->height = h;
  shape->width = w;
  double to_meters = geo_parse_unit(c, argv[2]);
  if (to_meters < 0) {
    return C_ERR;
  }
  shape->conversion = to_meters;
  return C_OK;
}

/* geo_member_score: the score of |member| in the sorted set; 1 if found. */
static int geo_member_score(robj *zobj, robj *member, double *score) {
  robj *m = get_decoded_object(member);
  int found;
  if (zset_is_compact(zobj)) {
    found = zset_lp_find(zobj->ptr, m->ptr, sds_len(m->ptr), score) != NULL;
  } else {
    zskiplist_node *n = zset_find(zset_ptr(zobj), m->ptr);
    found = n != NULL;
    if (found) {
      *score = n->score;
    }
  }
  decr_ref_count(m);
  return found;
}

/* geo_member_position: the decoded position of |member|; 1 if found. */
static int geo_member_position(robj *zobj, robj *member, double *xy) {
  double score;
  return geo_member_score(zobj, member, &score) &&
         geohash_decode_score(score, xy);
}

/* geo_reply_distance: a distance as a bulk string with 4 decimals, rounded
 * half to even at the fourth (Redis's fixed-point form, in RESP3 too). */
static void geo_reply_distance(client *c, double d) {
  long long v = llrint(d * 10000.0);
  unsigned long long a =
      v >= 0 ? (unsigned long long)v : 0ULL - (unsigned long long)v;
  char buf[64];
  int len = snprintf(buf, sizeof(buf), "%s%llu.%04llu", v < 0 ? "-" : "",
                     a / 10000, a % 10000);
  add_reply_bulk_cbuffer(c, buf, (size_t)len);
}

/* ------------------------------------------------------------------ */
/* Searching                                                            */
/* ------------------------------------------------------------------ */
static int geo_limit_reached(const geo_points *ga, unsigned long limit) {
  return ga->used && limit && ga->used >= limit;
}

/* geo_points_in_range adds the members with min <= score < max that are
 * inside the shape, in score order, stopping at |limit| points in all
 * (0: no limit). */
static void geo_points_in_range(robj *zobj, double min, double max,
                                const geo_shape *shape, geo_points *ga,
                                unsigned long limit) {
  zrangespec range = {.min = min, .max = max, .minex = 0, .maxex = 1};
  double xy[2], distance = 0;
  if (zset_is_compact(zobj)) {
    unsigned char *lp = zobj->ptr;
    for (unsigned char *ep = zset_lp_edge(lp, &range, NULL, 0); ep != NULL;
         ep = zset_lp_step(lp, ep, 0)) {
      double score = zset_lp_score(lp_next(lp, ep));
      if (!zsl_value_lte_max(score, &range)) {
        break;
      }
      if (geohash_within_shape(shape, score, xy, &distance)) {
        uint32_t len;
        unsigned char buf[LP_INTBUF_SIZE];
        unsigned char *s = lp_get_string(ep, &len, buf);
        geo_points_add(ga, xy, distance, score, sds_new_len(s, len));
      }
      if (geo_limit_reached(ga, limit)) {
        break;
      }
    }
    return;
  }
  zskiplist_node *ln = zsl_first_in_range(zset_ptr(zobj)->zsl, &range);
  for (; ln != NULL; ln = ln->level[0].forward) {
    if (!zsl_value_lte_max(ln->score, &range)) {
      break;
    }
    if (geohash_within_shape(shape, ln->score, xy, &distance)) {
      geo_points_add(ga, xy, distance, ln->score, sds_dup(ln->ele));
    }
    if (geo_limit_reached(ga, limit)) {
      break;
    }
  }
}

/* geo_search collects the points of every box of |boxes| (skipping zeroed
 * boxes and a box equal to the last one searched, as Redis does). */
static void geo_search(robj *zobj, const geohash_search *boxes,
                       const geo_shape *shape, geo_points *ga,
                       unsigned long limit) {
  int last = 0; /* 0 also for "the centre box": Redis's quirk, kept */
  for (int i = 0; i < GEO_SEARCH_BOXES; i++) {
    geohash_bits box = boxes->boxes[i];
    if (box.bits == 0 && box.step == 0) {
      continue;
    }
    if (last && box.bits == boxes->boxes[last].bits &&
        box.step == boxes->boxes[last].step) {
      continue;
    }
    if (geo_limit_reached(ga, limit)) {
      break;
    }
    /* Every score with this box's bits as its prefix. */
    uint64_t min = geohash_align52(box);
    box.bits++;
    uint64_t max = geohash_align52(box);
    geo_points_in_range(zobj, (double)min, (double)max, shape, ga, limit);
    last = i;
  }
}

static int geo_cmp_asc(const void *a, const void *b) {
  const geo_point *pa = a, *pb = b;
  if (pa->dist > pb->dist) {
    return 1;
  }
  return pa->dist == pb->dist ? 0 : -1;
}

static int geo_cmp_desc(const void *a, const void *b) {
  return -geo_cmp_asc(a, b);
}

/* ------------------------------------------------------------------ */
/* GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH, GEOSEARCHSTORE              */
/* ------------------------------------------------------------------ */
#define GEO_SORT_NONE 0
#define GEO_SORT_ASC 1
#define GEO_SORT_DESC 2

#define GEO_FROM_COORDS (1 << 0)  /* GEORADIUS: centre given */
#define GEO_FROM_MEMBER (1 << 1)  /* GEORADIUSBYMEMBER */
#define GEO_NO_STORE (1 << 2)     /* the _RO variants */
#define GEO_SEARCH (1 << 3)       /* GEOSEARCH's argument syntax */
#define GEO_SEARCH_STORE (1 << 4) /* GEOSEARCHSTORE */

typedef struct geo_query {
  geo_shape shape;
  robj *storekey;
  int storedist;
  int withdist, withhash, withcoords;
  int frommember, fromloc, byradius, bybox;
  int sort;
  int any;
  long long count; /* 0: no limit */
} geo_query;

/* geo_parse_options parses the options from argv[base_args] on; replies
 * and returns C_ERR on error. A missing source key (zobj NULL) still has
 * every option checked, except that FROMMEMBER's member is not looked up. */
static int geo_parse_options(client *c, robj *zobj, int base_args, int flags,
                             geo_query *q) {
  int remaining = c->argc - base_args;
  robj **argv = c->argv + base_args;
  int search = (flags & GEO_SEARCH) != 0;
  int can_store = !(flags & GEO_NO_STORE) && !search;
  for (int i = 0; i < remaining; i++) {
    robj *arg = argv[i];
    if (geo_arg_is(arg, "withdist")) {
      q->withdist = 1;
    } else if (geo_arg_is(arg, "withhash")) {
      q->withhash = 1;
    } else if (geo_arg_is(arg, "withcoord")) {
      q->withcoords = 1;
    } else if (geo_arg_is(arg, "any")) {
      q->any = 1;
    } else if (geo_arg_is(arg, "asc")) {
      q->sort = GEO_SORT_ASC;
    } else if (geo_arg_is(arg, "desc")) {
      q->sort = GEO_SORT_DESC;
    } else if (geo_arg_is(arg, "count") && i + 1 < remaining) {
      if (get_long_long_from_object_or_reply(c, argv[i + 1], &q->count, NULL) !=
          C_OK) {
        return C_ERR;
      }
      if (q->count <= 0) {
        add_reply_error(c, "COUNT must be > 0");
        return C_ERR;
      }
      i++;
    } else if ((geo_arg_is(arg, "store") || geo_arg_is(arg, "storedist")) &&
               i + 1 < remaining && can_store) {
      q->storekey = argv[i + 1];
      q->storedist = geo_arg_is(arg, "storedist");
      i++;
    } else if (geo_arg_is(arg, "storedist") && (flags & GEO_SEARCH_STORE)) {
      q->storedist = 1;
    } else if (geo_arg_is(arg, "frommember") && i + 1 < remaining && search &&
               !q->fromloc) {
      if (zobj != NULL &&
          !geo_member_position(zobj, argv[i + 1], q->shape.xy)) {
        add_reply_error(c, "could not decode requested zset member");
        return C_ERR;
      }
      q->frommember = 1;
      i++;
    } else if (geo_arg_is(arg, "fromlonlat") && i + 2 < remaining && search &&
               !q->frommember) {
      if (geo_parse_lonlat(c, argv + i + 1, q->shape.xy) != C_OK) {
        return C_ERR;
      }
      q->fromloc = 1;
      i += 2;
    } else if (geo_arg_is(arg, "byradius") && i + 2 < remaining && search &&
               !q->bybox) {
      if (geo_parse_radius(c, argv + i + 1, &q->shape) != C_OK) {
        return C_ERR;
      }
      q->shape.type = GEO_SHAPE_CIRCLE;
      q->byradius = 1;
      i += 2;
    } else if (geo_arg_is(arg, "bybox") && i + 3 < remaining && search &&
               !q->byradius) {
      if (geo_parse_box(c, argv + i + 1, &q->shape) != C_OK) {
        return C_ERR;
      }
      q->shape.type = GEO_SHAPE_BOX;
      q->bybox = 1;
      i += 3;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return C_ERR;
    }
  }

  if (q->storekey && (q->withdist || q->withhash || q->withcoords)) {
    add_reply_error_format(
        c, "%s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        (flags & GEO_SEARCH_STORE) ? "GEOSEARCHSTORE"
                                   : "STORE option in GEORADIUS");
    return C_ERR;
  }
  if (search && !(q->frommember || q->fromloc)) {
    add_reply_error_format(
        c, "exactly one of FROMMEMBER or FROMLONLAT can be specified for %s",
        (char *)c->argv[0]->ptr);
    return C_ERR;
  }
  if (search && !(q->byradius || q->bybox)) {
    add_reply_error_format(
        c, "exactly one of BYRADIUS and BYBOX can be specified for %s",
        (char *)c->argv[0]->ptr);
    return C_ERR;
  }
  if (q->any && !q->count) {
    add_reply_error(c, "the ANY argument requires COUNT argument");
    return C_ERR;
  }
  return C_OK;
}

static void geo_reply_points(client *c, const geo_query *q, geo_points *ga,
                             long returned) {
  int options = q->withdist + q->withcoords + q->withhash;
  add_reply_array_len(c, returned);
  for (long i = 0; i < returned; i++) {
    geo_point *p = &ga->items[i];
    p->dist /= q->shape.conversion;
    if (options) {
      add_reply_array_len(c, options + 1);
    }
    add_reply_bulk_sds(c, p->member);
    p->member = NULL;
    if (q->withdist) {
      geo_reply_distance(c, p->dist);
    }
    if (q->withhash) {
      add_reply_long_long(c, (long long)p->score);
    }
    if (q->withcoords) {
      add_reply_array_len(c, 2);
      add_reply_human_long_double(c, p->longitude);
      add_reply_human_long_double(c, p->latitude);
    }
  }
}

static void geo_store_points(client *c, const geo_query *q, geo_points *ga,
                             long returned, int flags) {
  if (returned == 0) {
    if (db_delete(c->db, q->storekey)) {
      signal_modified_key(c, c->db, q->storekey);
      notify_keyspace_event(NOTIFY_GENERIC, "del", q->storekey, c->db->id);
      server.dirty++;
    }
    add_reply_long_long(c, 0);
    return;
  }
  zset *zs = zset_new();
  size_t maxelelen = 0;
  for (long i = 0; i < returned; i++) {
    geo_point *p = &ga->items[i];
    p->dist /= q->shape.conversion;
    double score = q->storedist ? p->dist : p->score;
    size_t len = sds_len(p->member);
    if (len > maxelelen) {
      maxelelen = len;
    }
    /* A duplicate (possible with huge radii) would trip an assertion in
     * Redis; here the first one wins. */
    if (zset_find(zs, p->member) == NULL) {
      zset_insert_owned(zs, score, p->member);
      p->member = NULL;
    }
  }
  robj *dst = create_object(OBJ_ZSET, zs);
  dst->encoding = OBJ_ENCODING_SKIPLIST;
  zset_convert_to_listpack_if_small(dst, maxelelen);
  set_key(c, c->db, q->storekey, dst, 0);
  decr_ref_count(dst);
  notify_keyspace_event(
      NOTIFY_ZSET, (flags & GEO_SEARCH) ? "geosearchstore" : "georadiusstore",
      q->storekey, c->db->id);
  server.dirty += returned;
  add_reply_long_long(c, returned);
}

static void geo_radius_generic(client *c, int src_key_index, int flags) {
  geo_query q = {.sort = GEO_SORT_NONE};
  robj *zobj = lookup_key_read(c->db, c->argv[src_key_index]);
  if (check_type(c, zobj, OBJ_ZSET)) {
    return;
  }

  int base_args;
  if (flags & GEO_FROM_COORDS) {
    base_args = 6;
    q.shape.type = GEO_SHAPE_CIRCLE;
    if (geo_parse_lonlat(c, c->argv + 2, q.shape.xy) != C_OK ||
        geo_parse_radius(c, c->argv + base_args - 2, &q.shape) != C_OK) {
      return;
    }
  } else if (flags & GEO_FROM_MEMBER) {
    base_args = 5;
    /* Without a source key the arguments are still parsed, to know which
     * empty reply to give; the radius is not. */
    if (zobj != NULL) {
      q.shape.type = GEO_SHAPE_CIRCLE;
      if (!geo_member_position(zobj, c->argv[2], q.shape.xy)) {
        add_reply_error(c, "could not decode requested zset member");
        return;
      }
      if (geo_parse_radius(c, c->argv + base_args - 2, &q.shape) != C_OK) {
        return;
      }
    }
  } else {
    base_args = 2;
    if (flags & GEO_SEARCH_STORE) {
      base_args = 3;
      q.storekey = c->argv[1];
    }
  }
  if (geo_parse_options(c, zobj, base_args, flags, &q) != C_OK) {
    return;
  }

  if (zobj == NULL) {
    if (q.storekey) {
      if (db_delete(c->db, q.storekey)) {
        signal_modified_key(c, c->db, q.storekey);
        notify_keyspace_event(NOTIFY_GENERIC, "del", q.storekey, c->db->id);
        server.dirty++;
      }
      add_reply(c, shared.czero);
    } else {
      add_reply(c, shared.emptyarray);
    }
    return;
  }

  /* COUNT means the nearest ones, unless ANY asks for any of them. */
  if (q.count != 0 && q.sort == GEO_SORT_NONE && !q.any) {
    q.sort = GEO_SORT_ASC;
  }
  geohash_search boxes = geohash_search_boxes(&q.shape);
  geo_points ga = {0};
  geo_search(zobj, &boxes, &q.shape, &ga, q.any ? (unsigned long)q.count : 0);

  if (ga.used == 0 && q.storekey == NULL) {
    add_reply(c, shared.emptyarray);
    geo_points_free(&ga);
    return;
  }
  long found = (long)ga.used;
  long returned = (q.count == 0 || found < q.count) ? found : (long)q.count;
  if (q.sort != GEO_SORT_NONE) {
    int (*cmp)(const void *, const void *) =
        q.sort == GEO_SORT_ASC ? geo_cmp_asc : geo_cmp_desc;
    if (returned == found) {
      qsort(ga.items, ga.used, sizeof(geo_point), cmp);
    } else {
      pqsort(ga.items, ga.used, sizeof(geo_point), cmp, 0,
             (size_t)returned - 1);
    }
  }
  if (q.storekey == NULL) {
    geo_reply_points(c, &q, &ga, returned);
  } else {
    geo_store_points(c, &q, &ga, returned, flags);
  }
  geo_points_free(&ga);
}

static void georadius_command(client *c) {
  geo_radius_generic(c, 1, GEO_FROM_COORDS);
}

static void georadiusbymember_command(client *c) {
  geo_radius_generic(c, 1, GEO_FROM_MEMBER);
}

static void georadius_ro_command(client *c) {
  geo_radius_generic(c, 1, GEO_FROM_COORDS | GEO_NO_STORE);
}

static void georadiusbymember_ro_command(client *c) {
  geo_radius_generic(c, 1, GEO_FROM_MEMBER | GEO_NO_STORE);
}

static void geosearch_command(client *c) {
  geo_radius_generic(c, 1, GEO_SEARCH);
}

static void geosearchstore_command(client *c) {
  geo_radius_generic(c, 2, GEO_SEARCH | GEO_SEARCH_STORE);
}

/* ------------------------------------------------------------------ */
/* GEOADD                                                               */
/* ------------------------------------------------------------------ */
/* GEOADD key [NX|XX] [CH] lon lat member ...: runs as (and is propagated
 * as) ZADD key [NX|XX] [CH] score member ... */
static void geoadd_command(client *c) {
  int xx = 0, nx = 0, longidx = 2;
  while (longidx < c->argc) {
    robj *opt = c->argv[longidx];
    if (geo_arg_is(opt, "nx")) {
      nx = 1;
    } else if (geo_arg_is(opt, "xx")) {
      xx = 1;
    } else if (!geo_arg_is(opt, "ch")) { /* CH is ZADD's */
      break;
    }
    longidx++;
  }
  if ((c->argc - longidx) % 3 || (xx && nx)) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  int elements = (c->argc - longidx) / 3;
  int argc = longidx + elements * 2;
  robj **argv = zcalloc(sizeof(robj *) * (size_t)argc);
  argv[0] = create_raw_string_object("zadd", 4);
  for (int i = 1; i < longidx; i++) {
    argv[i] = c->argv[i];
    incr_ref_count(argv[i]);
  }
  for (int i = 0; i < elements; i++) {
    double xy[2];
    if (geo_parse_lonlat(c, c->argv + longidx + i * 3, xy) != C_OK) {
      for (int j = 0; j < argc; j++) {
        if (argv[j]) {
          decr_ref_count(argv[j]);
        }
      }
      zfree(argv);
      return;
    }
    geohash_bits hash;
    geohash_encode_wgs84(xy[0], xy[1], GEO_STEP_MAX, &hash);
    argv[longidx + i * 2] = create_object(
        OBJ_STRING, sds_from_longlong((long long)geohash_align52(hash)));
    argv[longidx + i * 2 + 1] = c->argv[longidx + i * 3 + 2];
    incr_ref_count(argv[longidx + i * 2 + 1]);
  }
  replace_client_command_vector(c, argc, argv);
  zadd_command(c);
}

/* ------------------------------------------------------------------ */
/* GEOHASH, GEOPOS, GEODIST                                             */
/* ------------------------------------------------------------------ */
/* GEOHASH prints the standard 11-character geohash: the position is
 * re-encoded over latitudes [-90, 90], and the 11th character, for which
 * 52 bits are too few, is always '0'. */
static void geohash_command(client *c) {
  static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  robj *zobj = lookup_key_read(c->db, c->argv[1]);
  if (check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  add_reply_array_len(c, c->argc - 2);
  for (int j = 2; j < c->argc; j++) {
    double xy[2];
    if (zobj == NULL || !geo_member_position(zobj, c->argv[j], xy)) {
      add_reply_null(c);
      continue;
    }
    const geohash_range lon_range = {-180, 180}, lat_range = {-90, 90};
    geohash_bits hash = {0, 0};
    geohash_encode(&lon_range, &lat_range, xy[0], xy[1], 26, &hash);
    char buf[11];
    for (int i = 0; i < 11; i++) {
      int idx = i == 10 ? 0 : (int)((hash.bits >> (52 - (i + 1) * 5)) & 0x1f);
      buf[i] = alphabet[idx];
    }
    add_reply_bulk_cbuffer(c, buf, sizeof(buf));
  }
}

static void geopos_command(client *c) {
  robj *zobj = lookup_key_read(c->db, c->argv[1]);
  if (check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  add_reply_array_len(c, c->argc - 2);
  for (int j = 2; j < c->argc; j++) {
    double xy[2];
    if (zobj == NULL || !geo_member_position(zobj, c->argv[j], xy)) {
      add_reply_null_array(c);
      continue;
    }
    add_reply_array_len(c, 2);
    add_reply_human_long_double(c, xy[0]);
    add_reply_human_long_double(c, xy[1]);
  }
}

static void geodist_command(client *c) {
  double to_meter = 1;
  if (c->argc == 5) {
    to_meter = geo_parse_unit(c, c->argv[4]);
    if (to_meter < 0) {
      return;
    }
  } else if (c->argc > 5) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  double a[2], b[2];
  if (!geo_member_position(zobj, c->argv[2], a) ||
      !geo_member_position(zobj, c->argv[3], b)) {
    add_reply_null(c);
    return;
  }
  geo_reply_distance(c, geohash_distance(a[0], a[1], b[0], b[1]) / to_meter);
}

/* ------------------------------------------------------------------ */
/* Keys and the command table                                           */
/* ------------------------------------------------------------------ */
/* georadius_get_keys: the source key and, for STORE / STOREDIST (the last
 * one given), the destination. */
static int georadius_get_keys(struct redis_command *cmd, robj **argv, int argc,
                              get_keys_result *result) {
  (void)cmd;
  int stored_key = -1;
  for (int i = 5; i < argc; i++) {
    if ((geo_arg_is(argv[i], "store") || geo_arg_is(argv[i], "storedist")) &&
        i + 1 < argc) {
      stored_key = i + 1;
      i++;
    }
  }
  int num = stored_key == -1 ? 1 : 2;
  key_reference *keys = get_keys_prepare_result(result, num);
  keys[0].pos = 1;
  keys[0].flags = KSPEC_RO | KSPEC_ACCESS;
  if (num > 1) {
    keys[1].pos = stored_key;
    keys[1].flags = KSPEC_OW | KSPEC_UPDATE;
  }
  result->numkeys = num;
  return num;
}

/* Every command ends by compacting the small sorted sets it opened. */
#define GEO_COMPACTING(fn)                 \
  static void fn##_compacting(client *c) { \
    fn(c);                                 \
    zset_compact_opened();                 \
  }
GEO_COMPACTING(geoadd_command)
GEO_COMPACTING(geodist_command)
GEO_COMPACTING(geohash_command)
GEO_COMPACTING(geopos_command)
GEO_COMPACTING(georadius_command)
GEO_COMPACTING(georadius_ro_command)
GEO_COMPACTING(georadiusbymember_command)
GEO_COMPACTING(georadiusbymember_ro_command)
GEO_COMPACTING(geosearch_command)
GEO_COMPACTING(geosearchstore_command)

#define GEO_CMD(name_, summary_, since_, proc_, arity_, flags_, first_, last_, \
                getkeys_)                                                      \
  {                                                                            \
    .declared_name = name_, .summary = summary_, .since = since_,              \
    .group = "geo", .proc = proc_, .arity = arity_, .flags = flags_,           \
    .acl_categories = ACL_CATEGORY_GEO, .firstkey = first_, .lastkey = last_,  \
    .keystep = 1, .getkeys_proc = getkeys_                                     \
  }

redis_command geo_commands[] = {
    GEO_CMD("geoadd",
            "Add one or more geospatial items in the geospatial index "
            "represented using a sorted set",
            "3.2.0", geoadd_command_compacting, -5, CMD_WRITE | CMD_DENYOOM, 1,
            1, NULL),
    GEO_CMD("geodist",
            "Returns the distance between two members of a geospatial index",
            "3.2.0", geodist_command_compacting, -4, CMD_READONLY, 1, 1, NULL),
    GEO_CMD("geohash",
            "Returns members of a geospatial index as standard geohash strings",
            "3.2.0", geohash_command_compacting, -2, CMD_READONLY, 1, 1, NULL),
    GEO_CMD("geopos",
            "Returns longitude and latitude of members of a geospatial index",
            "3.2.0", geopos_command_compacting, -2, CMD_READONLY, 1, 1, NULL),
    GEO_CMD("georadius",
            "Query a sorted set representing a geospatial index to fetch "
            "members matching a given maximum distance from a point",
            "3.2.0", georadius_command_compacting, -6, CMD_WRITE | CMD_DENYOOM,
            1, 1, georadius_get_keys),
    GEO_CMD("georadius_ro", "A read-only variant for GEORADIUS", "3.2.10",
            georadius_ro_command_compacting, -6, CMD_READONLY, 1, 1, NULL),
    GEO_CMD("georadiusbymember",
            "Query a sorted set representing a geospatial index to fetch "
            "members matching a given maximum distance from a member",
            "3.2.0", georadiusbymember_command_compacting, -5,
            CMD_WRITE | CMD_DENYOOM, 1, 1, georadius_get_keys),
    GEO_CMD("georadiusbymember_ro", "A read-only variant for GEORADIUSBYMEMBER",
            "3.2.10", georadiusbymember_ro_command_compacting, -5, CMD_READONLY,
            1, 1, NULL),
    GEO_CMD("geosearch",
            "Query a sorted set representing a geospatial index to fetch "
            "members inside an area of a box or a circle.",
            "6.2.0", geosearch_command_compacting, -7, CMD_READONLY, 1, 1,
            NULL),
    GEO_CMD("geosearchstore",
            "Query a sorted set representing a geospatial index to fetch "
            "members inside an area of a box or a circle, and store the "
            "result in another key.",
            "6.2.0", geosearchstore_command_compacting, -8,
            CMD_WRITE | CMD_DENYOOM, 1, 2, NULL),
    {0}};
