/* geohash.h: the geohash arithmetic behind the geo commands (t_geo.c),
 * with Redis 7.0's numbers: a position is a 52-bit interleaved geohash
 * (26 bits of latitude in the even bits, 26 of longitude in the odd ones)
 * over longitudes [-180, 180] and latitudes [-85.05112878, 85.05112878]
 * (EPSG:900913), stored as a sorted-set score. Distances are haversine on
 * a sphere of radius 6372797.560856 m.
 *
 * Every floating-point expression here is evaluated in the same order as
 * Redis's, so positions, distances and the set of searched boxes come out
 * bit for bit the same; replies depend on it. */
#ifndef REDOUBT_TYPES_GEOHASH_H
#define REDOUBT_TYPES_GEOHASH_H

#include <stdint.h>

#define GEO_STEP_MAX 26 /* 26 * 2 = 52 bits */
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180
#define GEO_LONG_MAX 180

typedef struct geohash_bits {
  uint64_t bits;
  uint8_t step; /* bits per coordinate; 0 with bits 0: "no box" */
} geohash_bits;

typedef struct geohash_range {
  double min, max;
} geohash_range;

typedef struct geohash_area {
  geohash_bits hash;
  geohash_range longitude, latitude;
} geohash_area;

/* A search shape: a circle (radius) or an axis-aligned box (width,
 * height), centred on xy (longitude, latitude), in the user's unit;
 * |conversion| turns that unit into meters. */
#define GEO_SHAPE_CIRCLE 1
#define GEO_SHAPE_BOX 2
typedef struct geo_shape {
  int type;
  double xy[2];
  double conversion;
  double radius;
  double width, height;
  double bounds[4]; /* min lon, min lat, max lon, max lat */
} geo_shape;

/* The boxes a search visits, in Redis's order: the centre box, then north,
 * south, east, west, north-east, north-west, south-east, south-west. A
 * neighbour that cannot hold a match is zeroed (bits 0, step 0). */
#define GEO_SEARCH_BOXES 9
typedef struct geohash_search {
  geohash_bits boxes[GEO_SEARCH_BOXES];
  geohash_area area; /* of the centre box */
} geohash_search;

/* geohash_encode: the cell of |step| bits per coordinate holding
 * (longitude, latitude) within the two ranges. Returns 1, or 0 when the
 * point is outside the ranges or the geo limits (*out untouched then). */
int geohash_encode(const geohash_range *long_range,
                   const geohash_range *lat_range, double longitude,
                   double latitude, uint8_t step, geohash_bits *out);
/* geohash_encode_wgs84: geohash_encode over the geo limits. */
int geohash_encode_wgs84(double longitude, double latitude, uint8_t step,
                         geohash_bits *out);
/* geohash_decode: the area of a cell. Returns 0 for the zero hash. */
int geohash_decode(const geohash_range *long_range,
                   const geohash_range *lat_range, geohash_bits hash,
                   geohash_area *out);
/* geohash_align52: the hash shifted to 52 bits (a sorted-set score). */
uint64_t geohash_align52(geohash_bits hash);
/* geohash_score_bits: a score as the 64-bit hash Redis reads from it: the
 * conversion x86-64 compilers emit for (uint64_t)score, spelled out so
 * that scores no GEOADD wrote (negative, huge, inf) decode as in Redis. */
uint64_t geohash_score_bits(double score);
/* geohash_decode_score: the centre of the 52-bit cell of a score, clamped
 * to the geo limits, into xy (longitude, latitude). Returns 1/0. */
int geohash_decode_score(double score, double *xy);

/* geohash_distance: haversine distance in meters between two points given
 * in degrees (longitude first). */
double geohash_distance(double lon1, double lat1, double lon2, double lat2);
/* geohash_within_shape decodes |score| into xy; returns 1 with *distance
 * (meters, from the shape's centre) when the point is inside the shape. */
int geohash_within_shape(const geo_shape *shape, double score, double *xy,
                         double *distance);
/* geohash_search_boxes fills shape->bounds and returns the boxes that
 * cover the shape. */
geohash_search geohash_search_boxes(geo_shape *shape);

#endif
