// zmalloc: the allocation count and the allocator statistics helpers. Unit
// tests link glibc malloc, so jemalloc's weak symbols are absent and the
// fallbacks are what is checked; the jemalloc side is exercised by
// tests/integration/test_memory_introspection.py against the release server.
#include <gtest/gtest.h>

#include <string>

extern "C" {
#include "server/base/zmalloc.h"
}

namespace {

TEST(Zmalloc, CountsUsableSizes) {
  size_t before = zmalloc_used_memory();
  void *p = zmalloc(100);
  EXPECT_GE(zmalloc_size(p), 100u);
  EXPECT_EQ(zmalloc_used_memory(), before + zmalloc_size(p));
  p = zrealloc(p, 5000);
  EXPECT_EQ(zmalloc_used_memory(), before + zmalloc_size(p));
  zfree(p);
  EXPECT_EQ(zmalloc_used_memory(), before);
}

void CountCalls(void *opaque, const char *) { ++*static_cast<int *>(opaque); }

TEST(Zmalloc, AllocatorStatisticsFallBackWithoutJemalloc) {
  std::string name = zmalloc_allocator_name();
  size_t allocated = 1, active = 1, resident = 1;
  int calls = 0;
  if (name.rfind("jemalloc-", 0) == 0) {
    // Someone preloaded jemalloc: then its statistics must make sense.
    ASSERT_EQ(zmalloc_get_allocator_info(&allocated, &active, &resident), 1);
    EXPECT_GT(allocated, 0u);
    EXPECT_GE(active, allocated);
    EXPECT_GE(resident, active);
    EXPECT_EQ(zmalloc_purge(), 0);
    EXPECT_EQ(zmalloc_stats_print(CountCalls, &calls), 1);
    EXPECT_GT(calls, 0);
    return;
  }
  EXPECT_EQ(name, "libc");
  EXPECT_EQ(zmalloc_get_allocator_info(&allocated, &active, &resident), 0);
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(active, 0u);
  EXPECT_EQ(resident, 0u);
  EXPECT_EQ(zmalloc_purge(), 0);  // nothing to ask: success, as Redis on libc
  EXPECT_EQ(zmalloc_stats_print(CountCalls, &calls), 0);
  EXPECT_EQ(calls, 0);
}

}  // namespace
