#include <stddef.h>
#include <stdint.h>
static unsigned sink;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned s = 0;
  for (size_t i = 0; i < size; i++) { s += data[i]; }
  sink = s;
  return 0;
}
