/* geohash.c: see geohash.h. The arithmetic (which expression, in which
 * order) follows Redis 7.0's geohash.c and geohash_helper.c, because the
 * replies print these doubles to 17 digits and search results depend on
 * which boxes are visited. */
#include "server/types/geohash.h"

#include <math.h>
#include <stddef.h>

#define GEO_DEG_TO_RAD (M_PI / 180.0)
#define GEO_EARTH_RADIUS_M 6372797.560856 /* quadratic mean radius, WGS-84 */
#define GEO_MERCATOR_MAX 20037726.37

static double geo_deg_to_rad(double deg) { return deg * GEO_DEG_TO_RAD; }
static double geo_rad_to_deg(double rad) { return rad / GEO_DEG_TO_RAD; }

/* ------------------------------------------------------------------ */
/* Bit interleaving: latitude in the even bits, longitude in the odd    */
/* ------------------------------------------------------------------ */
/* geo_spread puts bit i of v at bit 2i. */
static uint64_t geo_spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

/* geo_squeeze gathers the even bits of x (bit 2i to bit i). */
static uint32_t geo_squeeze(uint64_t x) {
  x &= 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return (uint32_t)x;
}

static int geo_range_is_zero(const geohash_range *r) {
  return r->max == 0 && r->min == 0;
}

static const geohash_range geo_long_limits = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geohash_range geo_lat_limits = {GEO_LAT_MIN, GEO_LAT_MAX};

int geohash_encode(const geohash_range *long_range,
                   const geohash_range *lat_range, double longitude,
                   double latitude, uint8_t step, geohash_bits *out) {
  if (out == NULL || step > 32 || step == 0 || lat_range == NULL ||
      long_range == NULL || geo_range_is_zero(lat_range) ||
      geo_range_is_zero(long_range)) {
    return 0;
  }
  if (longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN ||
      latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) {
    return 0;
  }
  out->bits = 0;
  out->step = step;
  if (latitude < lat_range->min || latitude > lat_range->max ||
      longitude < long_range->min || longitude > long_range->max) {
    return 0;
  }
  double lat_offset =
      (latitude - lat_range->min) / (lat_range->max - lat_range->min);
  double long_offset =
      (longitude - long_range->min) / (long_range->max - long_range->min);
  lat_offset *= (double)(1ULL << step);
  long_offset *= (double)(1ULL << step);
  out->bits = geo_spread((uint32_t)lat_offset) |
              (geo_spread((uint32_t)long_offset) << 1);
  return 1;
}

int geohash_encode_wgs84(double longitude, double latitude, uint8_t step,
                         geohash_bits *out) {
  return geohash_encode(&geo_long_limits, &geo_lat_limits, longitude, latitude,
                        step, out);
}

int geohash_decode(const geohash_range *long_range,
                   const geohash_range *lat_range, geohash_bits hash,
                   geohash_area *out) {
  if ((hash.bits == 0 && hash.step == 0) || out == NULL ||
      geo_range_is_zero(lat_range) || geo_range_is_zero(long_range)) {
    return 0;
  }
  out->hash = hash;
  uint32_t lat_cell = geo_squeeze(hash.bits);
  uint32_t long_cell = geo_squeeze(hash.bits >> 1);
  double cells = (double)(1ULL << hash.step);
  double lat_scale = lat_range->max - lat_range->min;
  double long_scale = long_range->max - long_range->min;
  /* (cell + 1) wraps in 32 bits, as the reference's unsigned int does. */
  out->latitude.min = lat_range->min + ((double)lat_cell / cells) * lat_scale;
  out->latitude.max =
      lat_range->min + ((double)(uint32_t)(lat_cell + 1u) / cells) * lat_scale;
  out->longitude.min =
      long_range->min + ((double)long_cell / cells) * long_scale;
  out->longitude.max =
      long_range->min +
      ((double)(uint32_t)(long_cell + 1u) / cells) * long_scale;
  return 1;
}

uint64_t geohash_align52(geohash_bits hash) {
  return hash.bits << (52 - hash.step * 2);
}

uint64_t geohash_score_bits(double score) {
  const double two63 = 9223372036854775808.0;
  const uint64_t indefinite = 0x8000000000000000ULL; /* cvttsd2si's */
  if (!(score >= two63)) {
    if (score >= -two63 && score < two63) {
      return (uint64_t)(int64_t)score;
    }
    return indefinite; /* below -2^63, or NaN */
  }
  double rest = score - two63;
  uint64_t low = rest < two63 ? (uint64_t)(int64_t)rest : indefinite;
  return low ^ indefinite;
}

int geohash_decode_score(double score, double *xy) {
  geohash_bits hash = {.bits = geohash_score_bits(score), .step = GEO_STEP_MAX};
  geohash_area area;
  if (!geohash_decode(&geo_long_limits, &geo_lat_limits, hash, &area)) {
    return 0;
  }
  xy[0] = (area.longitude.min + area.longitude.max) / 2;
  if (xy[0] > GEO_LONG_MAX) {
    xy[0] = GEO_LONG_MAX;
  }
  if (xy[0] < GEO_LONG_MIN) {
    xy[0] = GEO_LONG_MIN;
  }
  xy[1] = (area.latitude.min + area.latitude.max) / 2;
  if (xy[1] > GEO_LAT_MAX) {
    xy[1] = GEO_LAT_MAX;
  }
  if (xy[1] < GEO_LAT_MIN) {
    xy[1] = GEO_LAT_MIN;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Neighbouring cells                                                   */
/* ------------------------------------------------------------------ */
/* geo_move shifts the cell by |d| (-1, 0, 1) along the longitude (odd bits,
 * |odd| set) or the latitude, wrapping around within its |step| bits. The
 * other coordinate's bits are kept as they are, including any above the
 * hash's 2 * step bits (a latitude of exactly GEO_LAT_MAX encodes as 2^step
 * cells); the moved coordinate's are dropped there, as the reference does. */
static void geo_move(geohash_bits *hash, int d, int odd) {
  if (d == 0) {
    return;
  }
  const uint64_t odd_mask = 0xAAAAAAAAAAAAAAAAULL;
  const uint64_t even_mask = 0x5555555555555555ULL;
  uint64_t keep = hash->bits & (odd ? even_mask : odd_mask);
  uint32_t cells_mask = (uint32_t)((1ULL << hash->step) - 1);
  uint32_t cell = geo_squeeze(odd ? hash->bits >> 1 : hash->bits);
  cell = (uint32_t)(cell + (uint32_t)d) & cells_mask;
  uint64_t moved = geo_spread(cell);
  hash->bits = keep | (odd ? moved << 1 : moved);
}

/* ------------------------------------------------------------------ */
/* Distances and shapes                                                 */
/* ------------------------------------------------------------------ */
static double geo_lat_distance(double lat1, double lat2) {
  return GEO_EARTH_RADIUS_M * fabs(geo_deg_to_rad(lat2) - geo_deg_to_rad(lat1));
}

double geohash_distance(double lon1, double lat1, double lon2, double lat2) {
  double lon1r = geo_deg_to_rad(lon1);
  double lon2r = geo_deg_to_rad(lon2);
  double v = sin((lon2r - lon1r) / 2);
  if (v == 0.0) { /* same meridian: the latitude difference is the arc */
    return geo_lat_distance(lat1, lat2);
  }
  double lat1r = geo_deg_to_rad(lat1);
  double lat2r = geo_deg_to_rad(lat2);
  double u = sin((lat2r - lat1r) / 2);
  double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
  return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

/* geo_in_box: the point (x2, y2) is within height_m / 2 of the centre
 * (x1, y1) along the meridian and width_m / 2 along its parallel. */
static int geo_in_box(double width_m, double height_m, double x1, double y1,
                      double x2, double y2, double *distance) {
  if (geo_lat_distance(y2, y1) > height_m / 2) {
    return 0;
  }
  if (geohash_distance(x2, y2, x1, y2) > width_m / 2) {
    return 0;
  }
  *distance = geohash_distance(x1, y1, x2, y2);
  return 1;
}

int geohash_within_shape(const geo_shape *shape, double score, double *xy,
                         double *distance) {
  if (!geohash_decode_score(score, xy)) {
    return 0;
  }
  if (shape->type == GEO_SHAPE_CIRCLE) {
    *distance = geohash_distance(shape->xy[0], shape->xy[1], xy[0], xy[1]);
    return *distance <= shape->radius * shape->conversion;
  }
  return geo_in_box(shape->width * shape->conversion,
                    shape->height * shape->conversion, shape->xy[0],
                    shape->xy[1], xy[0], xy[1], distance);
}

/* geo_steps_for_radius: the precision whose cells are about as large as
 * the search radius (coarser near the poles). */
static uint8_t geo_steps_for_radius(double range_meters, double lat) {
  if (range_meters == 0) {
    return 26;
  }
  int step = 1;
  while (range_meters < GEO_MERCATOR_MAX) {
    range_meters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) {
      step--;
    }
  }
  if (step < 1) {
    step = 1;
  }
  if (step > 26) {
    step = 26;
  }
  return (uint8_t)step;
}

/* geo_bounding_box: the longitudes and latitudes the shape spans. */
static void geo_bounding_box(geo_shape *shape) {
  double longitude = shape->xy[0];
  double latitude = shape->xy[1];
  int circle = shape->type == GEO_SHAPE_CIRCLE;
  double height =
      shape->conversion * (circle ? shape->radius : shape->height / 2);
  double width =
      shape->conversion * (circle ? shape->radius : shape->width / 2);
  const double lat_delta = geo_rad_to_deg(height / GEO_EARTH_RADIUS_M);
  const double long_delta_top = geo_rad_to_deg(
      width / GEO_EARTH_RADIUS_M / cos(geo_deg_to_rad(latitude + lat_delta)));
  const double long_delta_bottom = geo_rad_to_deg(
      width / GEO_EARTH_RADIUS_M / cos(geo_deg_to_rad(latitude - lat_delta)));
  /* The parallel nearer the equator is the wider one. */
  double long_delta = latitude < 0 ? long_delta_bottom : long_delta_top;
  shape->bounds[0] = longitude - long_delta;
  shape->bounds[2] = longitude + long_delta;
  shape->bounds[1] = latitude - lat_delta;
  shape->bounds[3] = latitude + lat_delta;
}

/* geo_centre_and_neighbours: the cell of the shape's centre at |steps| and
 * its eight neighbours, in geohash_search order. */
static void geo_centre_and_neighbours(const geo_shape *shape, uint8_t steps,
                                      geohash_search *out) {
  geohash_bits centre = {0, 0};
  geohash_encode(&geo_long_limits, &geo_lat_limits, shape->xy[0], shape->xy[1],
                 steps, &centre);
  /* {longitude move, latitude move} of each box */
  static const int moves[GEO_SEARCH_BOXES][2] = {{0, 0},  {0, 1},  {0, -1},
                                                 {1, 0},  {-1, 0}, {1, 1},
                                                 {-1, 1}, {1, -1}, {-1, -1}};
  for (int i = 0; i < GEO_SEARCH_BOXES; i++) {
    out->boxes[i] = centre;
    geo_move(&out->boxes[i], moves[i][0], 1);
    geo_move(&out->boxes[i], moves[i][1], 0);
  }
  geohash_decode(&geo_long_limits, &geo_lat_limits, centre, &out->area);
}

enum { BOX_CENTRE, BOX_N, BOX_S, BOX_E, BOX_W, BOX_NE, BOX_NW, BOX_SE, BOX_SW };

geohash_search geohash_search_boxes(geo_shape *shape) {
  geohash_search s;
  geo_bounding_box(shape);
  double min_lon = shape->bounds[0], min_lat = shape->bounds[1];
  double max_lon = shape->bounds[2], max_lat = shape->bounds[3];

  /* A box is sized by the distance from its centre to a corner. */
  double radius_meters = shape->type == GEO_SHAPE_CIRCLE
                             ? shape->radius
                             : sqrt((shape->width / 2) * (shape->width / 2) +
                                    (shape->height / 2) * (shape->height / 2));
  radius_meters *= shape->conversion;

  uint8_t steps = geo_steps_for_radius(radius_meters, shape->xy[1]);
  geo_centre_and_neighbours(shape, steps, &s);

  /* Near a cell edge the estimated cells can be too small for the four
   * direct neighbours to reach the shape's bounds: go one step coarser. */
  geohash_area north, south, east, west;
  geohash_decode(&geo_long_limits, &geo_lat_limits, s.boxes[BOX_N], &north);
  geohash_decode(&geo_long_limits, &geo_lat_limits, s.boxes[BOX_S], &south);
  geohash_decode(&geo_long_limits, &geo_lat_limits, s.boxes[BOX_E], &east);
  geohash_decode(&geo_long_limits, &geo_lat_limits, s.boxes[BOX_W], &west);
  int decrease_step =
      north.latitude.max < max_lat || south.latitude.min > min_lat ||
      east.longitude.max < max_lon || west.longitude.min > min_lon;
  if (steps > 1 && decrease_step) {
    steps--;
    geo_centre_and_neighbours(shape, steps, &s);
  }

  /* Drop the neighbours on a side the shape does not reach. */
  if (steps >= 2) {
    static const geohash_bits none = {0, 0};
    if (s.area.latitude.min < min_lat) {
      s.boxes[BOX_S] = s.boxes[BOX_SW] = s.boxes[BOX_SE] = none;
    }
    if (s.area.latitude.max > max_lat) {
      s.boxes[BOX_N] = s.boxes[BOX_NE] = s.boxes[BOX_NW] = none;
    }
    if (s.area.longitude.min < min_lon) {
      s.boxes[BOX_W] = s.boxes[BOX_SW] = s.boxes[BOX_NW] = none;
    }
    if (s.area.longitude.max > max_lon) {
      s.boxes[BOX_E] = s.boxes[BOX_SE] = s.boxes[BOX_NE] = none;
    }
  }
  return s;
}
