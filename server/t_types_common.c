/* t_types_common.c: the type_object_compute_size dispatcher (see
 * t_types_common.h). Per-type estimators are weak so that the server links
 * while a type module is still missing. */
#include "t_types_common.h"

#pragma weak hash_compute_size
#pragma weak set_compute_size
#pragma weak list_compute_size
#pragma weak zset_compute_size

size_t type_object_compute_size(robj *o, size_t samples) {
  size_t (*proc)(robj *, size_t) = NULL;
  switch (o->type) {
    case OBJ_HASH:
      proc = hash_compute_size;
      break;
    case OBJ_SET:
      proc = set_compute_size;
      break;
    case OBJ_LIST:
      proc = list_compute_size;
      break;
    case OBJ_ZSET:
      proc = zset_compute_size;
      break;
    default:
      break;
  }
  if (proc != NULL) {
    return proc(o, samples);
  }
  return sizeof(*o);
}
