/* intset.c: sorted integer arrays with adaptive width (see intset.h). */
#include "server/ds/intset.h"

#include <stdlib.h>
#include <string.h>

#include "server/base/log.h"
#include "server/base/zmalloc.h"

static uint32_t intset_value_encoding(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) {
    return INTSET_ENC_INT64;
  }
  if (v < INT16_MIN || v > INT16_MAX) {
    return INTSET_ENC_INT32;
  }
  return INTSET_ENC_INT16;
}

static int64_t intset_get_encoded(const intset *is, uint32_t pos,
                                  uint32_t enc) {
  if (enc == INTSET_ENC_INT64) {
    int64_t v64;
    memcpy(&v64, is->contents + (size_t)pos * sizeof(v64), sizeof(v64));
    return v64;
  }
  if (enc == INTSET_ENC_INT32) {
    int32_t v32;
    memcpy(&v32, is->contents + (size_t)pos * sizeof(v32), sizeof(v32));
    return v32;
  }
  int16_t v16;
  memcpy(&v16, is->contents + (size_t)pos * sizeof(v16), sizeof(v16));
  return v16;
}

static int64_t intset_get_at(const intset *is, uint32_t pos) {
  return intset_get_encoded(is, pos, is->encoding);
}

static void intset_set_at(intset *is, uint32_t pos, int64_t value) {
  if (is->encoding == INTSET_ENC_INT64) {
    int64_t v64 = value;
    memcpy(is->contents + (size_t)pos * sizeof(v64), &v64, sizeof(v64));
  } else if (is->encoding == INTSET_ENC_INT32) {
    int32_t v32 = (int32_t)value;
    memcpy(is->contents + (size_t)pos * sizeof(v32), &v32, sizeof(v32));
  } else {
    int16_t v16 = (int16_t)value;
    memcpy(is->contents + (size_t)pos * sizeof(v16), &v16, sizeof(v16));
  }
}

intset *intset_new(void) {
  intset *is = zmalloc(sizeof(intset));
  is->encoding = INTSET_ENC_INT16;
  is->length = 0;
  return is;
}

void intset_free(intset *is) { zfree(is); }

intset *intset_dup(const intset *is) {
  size_t n = intset_blob_len(is);
  intset *copy = zmalloc(n);
  memcpy(copy, is, n);
  return copy;
}

static intset *intset_resize(intset *is, uint32_t len) {
  size_t size = (size_t)len * is->encoding;
  return zrealloc(is, sizeof(intset) + size);
}

/* Binary search: returns 1 and *pos = index if found, else 0 and *pos =
 * insertion point. */
static uint8_t intset_search(const intset *is, int64_t value, uint32_t *pos) {
  if (is->length == 0) {
    if (pos) {
      *pos = 0;
    }
    return 0;
  }
  int64_t lo = 0, hi = (int64_t)is->length - 1;
  if (value > intset_get_at(is, (uint32_t)hi)) {
    if (pos) {
      *pos = is->length;
    }
    return 0;
  }
  if (value < intset_get_at(is, 0)) {
    if (pos) {
      *pos = 0;
    }
    return 0;
  }
  while (lo <= hi) {
    int64_t mid = lo + (hi - lo) / 2;
    int64_t cur = intset_get_at(is, (uint32_t)mid);
    if (cur == value) {
      if (pos) {
        *pos = (uint32_t)mid;
      }
      return 1;
    }
    if (cur < value) {
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (pos) {
    *pos = (uint32_t)lo;
  }
  return 0;
}

/* Widen every member to the encoding of value, then add value, which is
 * either below or above every member (it did not fit the old width). */
static intset *intset_upgrade_and_add(intset *is, int64_t value) {
  uint32_t old_enc = is->encoding;
  uint32_t len = is->length;
  int prepend = value < 0 ? 1 : 0;
  is->encoding = intset_value_encoding(value);
  is = intset_resize(is, len + 1);
  /* Back to front so nothing is overwritten before it is read. */
  for (uint32_t i = len; i-- > 0;) {
    intset_set_at(is, i + (uint32_t)prepend,
                  intset_get_encoded(is, i, old_enc));
  }
  intset_set_at(is, prepend ? 0 : len, value);
  is->length = len + 1;
  return is;
}

intset *intset_add(intset *is, int64_t value, uint8_t *success) {
  if (success) {
    *success = 1;
  }
  if (intset_value_encoding(value) > is->encoding) {
    return intset_upgrade_and_add(is, value);
  }
  uint32_t pos;
  if (intset_search(is, value, &pos)) {
    if (success) {
      *success = 0;
    }
    return is;
  }
  server_assert(is->length < INTSET_MAX_LENGTH);
  is = intset_resize(is, is->length + 1);
  if (pos < is->length) {
    memmove(is->contents + (size_t)(pos + 1) * is->encoding,
            is->contents + (size_t)pos * is->encoding,
            (size_t)(is->length - pos) * is->encoding);
  }
  intset_set_at(is, pos, value);
  is->length++;
  return is;
}

intset *intset_remove(intset *is, int64_t value, int *success) {
  uint32_t pos;
  if (success) {
    *success = 0;
  }
  if (intset_value_encoding(value) <= is->encoding &&
      intset_search(is, value, &pos)) {
    if (success) {
      *success = 1;
    }
    if (pos < is->length - 1) {
      memmove(is->contents + (size_t)pos * is->encoding,
              is->contents + (size_t)(pos + 1) * is->encoding,
              (size_t)(is->length - pos - 1) * is->encoding);
    }
    is->length--;
    is = intset_resize(is, is->length);
  }
  return is;
}

uint8_t intset_find(const intset *is, int64_t value) {
  return intset_value_encoding(value) <= is->encoding &&
         intset_search(is, value, NULL);
}

int64_t intset_random(const intset *is) {
  server_assert(is->length > 0);
  return intset_get_at(is, (uint32_t)((unsigned long)random() % is->length));
}

uint8_t intset_get(const intset *is, uint32_t pos, int64_t *value) {
  if (pos < is->length) {
    *value = intset_get_at(is, pos);
    return 1;
  }
  return 0;
}

uint32_t intset_len(const intset *is) { return is->length; }

size_t intset_blob_len(const intset *is) {
  return sizeof(intset) + (size_t)is->length * is->encoding;
}

int64_t intset_min(const intset *is) { return intset_get_at(is, 0); }

int64_t intset_max(const intset *is) {
  return intset_get_at(is, is->length - 1);
}

int intset_validate(const unsigned char *p, size_t size) {
  if (size < sizeof(intset)) {
    return 0;
  }
  uint32_t enc, len;
  memcpy(&enc, p, sizeof(enc));
  memcpy(&len, p + 4, sizeof(len));
  if (enc != INTSET_ENC_INT16 && enc != INTSET_ENC_INT32 &&
      enc != INTSET_ENC_INT64) {
    return 0;
  }
  if (len == 0 || len > INTSET_MAX_LENGTH) {
    return 0;
  }
  if ((size - sizeof(intset)) != (size_t)len * enc) {
    return 0;
  }
  /* The bytes may be unaligned: read members with memcpy. */
  const unsigned char *members = p + sizeof(intset);
  int64_t prev = 0;
  for (uint32_t i = 0; i < len; i++) {
    int64_t cur;
    if (enc == INTSET_ENC_INT64) {
      int64_t v;
      memcpy(&v, members + (size_t)i * enc, sizeof(v));
      cur = v;
    } else if (enc == INTSET_ENC_INT32) {
      int32_t v;
      memcpy(&v, members + (size_t)i * enc, sizeof(v));
      cur = v;
    } else {
      int16_t v;
      memcpy(&v, members + (size_t)i * enc, sizeof(v));
      cur = v;
    }
    if (i == 0) {
      prev = cur;
      continue;
    }
    if (cur <= prev) {
      return 0;
    }
    prev = cur;
  }
  return 1;
}
