#include <gtest/gtest.h>
extern "C" {
#include "server/sds.h"
}
TEST(BuildCheck, Works) { EXPECT_EQ(1 + 1, 2); }
