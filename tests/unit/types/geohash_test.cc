// Unit tests for server/types/geohash.c: scores, positions and distances
// are Redis 7.0.15's to the last bit (values taken from its replies).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

extern "C" {
#include "server/types/geohash.h"
}

namespace {

uint64_t Score(double lon, double lat) {
  geohash_bits hash;
  EXPECT_EQ(geohash_encode_wgs84(lon, lat, GEO_STEP_MAX, &hash), 1);
  return geohash_align52(hash);
}

std::string Fixed(double v, int digits) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

TEST(GeohashTest, ScoresAreRedisScores) {
  EXPECT_EQ(Score(13.361389, 38.115556), 3479099956230698ULL);  // Palermo
  EXPECT_EQ(Score(15.087269, 37.502669), 3479447370796909ULL);  // Catania
  EXPECT_EQ(Score(-180, -85.05112878), 0ULL);
}

TEST(GeohashTest, OutsideTheLimitsIsRefused) {
  geohash_bits hash;
  EXPECT_EQ(geohash_encode_wgs84(180.0001, 0, GEO_STEP_MAX, &hash), 0);
  EXPECT_EQ(geohash_encode_wgs84(0, 85.06, GEO_STEP_MAX, &hash), 0);
  EXPECT_EQ(geohash_encode_wgs84(0, 0, 0, &hash), 0);
}

TEST(GeohashTest, DecodedPositionsAreCellCentres) {
  double xy[2];
  ASSERT_EQ(geohash_decode_score(3479099956230698.0, xy), 1);
  EXPECT_EQ(Fixed(xy[0], 17), "13.36138933897018433");
  EXPECT_EQ(Fixed(xy[1], 17), "38.11555639549629859");
}

TEST(GeohashTest, DistanceIsHaversineWithRedisRadius) {
  double a[2], b[2];
  ASSERT_EQ(geohash_decode_score(3479099956230698.0, a), 1);
  ASSERT_EQ(geohash_decode_score(3479447370796909.0, b), 1);
  EXPECT_EQ(Fixed(geohash_distance(a[0], a[1], b[0], b[1]) / 1000, 4),
            "166.2742");
  EXPECT_EQ(geohash_distance(10, 20, 10, 20), 0.0);
}

TEST(GeohashTest, ForeignScoresReadAsX86Conversions) {
  EXPECT_EQ(geohash_score_bits(-1.0), UINT64_MAX);
  EXPECT_EQ(geohash_score_bits(18446744073709551616.0), 0ULL);
  EXPECT_EQ(geohash_score_bits(INFINITY), 0ULL);
  EXPECT_EQ(geohash_score_bits(-INFINITY), 0x8000000000000000ULL);
  EXPECT_EQ(geohash_score_bits(9223372036854775808.0), 0x8000000000000000ULL);
  EXPECT_EQ(geohash_score_bits(12345.9), 12345ULL);
}

TEST(GeohashTest, SearchBoxesCoverTheShape) {
  geo_shape shape = {};
  shape.type = GEO_SHAPE_CIRCLE;
  shape.xy[0] = 15;
  shape.xy[1] = 37;
  shape.radius = 200;
  shape.conversion = 1000;
  geohash_search s = geohash_search_boxes(&shape);
  EXPECT_NE(s.boxes[0].step, 0);
  // Palermo (190 km away) is in one of the boxes.
  uint64_t palermo = 3479099956230698ULL;
  bool found = false;
  for (const geohash_bits &box : s.boxes) {
    if (box.step == 0) {
      continue;
    }
    uint64_t min = geohash_align52(box);
    geohash_bits next = box;
    next.bits++;
    found |= palermo >= min && palermo < geohash_align52(next);
  }
  EXPECT_TRUE(found);
  double xy[2], dist;
  EXPECT_EQ(
      geohash_within_shape(&shape, static_cast<double>(palermo), xy, &dist), 1);
  EXPECT_EQ(Fixed(dist / 1000, 4), "190.4424");
}

}  // namespace
