/* pqsort.c: the partial quicksort of pqsort.h. Positions are element
 * indexes into the whole array, so a part is [lo, lo + n). */
#include "server/base/pqsort.h"

#include <string.h>

typedef struct pqsort_ctx {
  char *base;
  size_t size;
  int (*cmp)(const void *, const void *);
  size_t first, last; /* the wanted ranks */
} pqsort_ctx;

static char *pq_at(const pqsort_ctx *q, size_t i) {
  return q->base + i * q->size;
}

static int pq_cmp(const pqsort_ctx *q, size_t i, size_t j) {
  return q->cmp(pq_at(q, i), pq_at(q, j));
}

static void pq_swap(const pqsort_ctx *q, size_t i, size_t j) {
  if (i == j) {
    return;
  }
  char *a = pq_at(q, i), *b = pq_at(q, j);
  char tmp[64];
  size_t left = q->size;
  while (left > 0) {
    size_t chunk = left < sizeof(tmp) ? left : sizeof(tmp);
    memcpy(tmp, a, chunk);
    memcpy(a, b, chunk);
    memcpy(b, tmp, chunk);
    a += chunk;
    b += chunk;
    left -= chunk;
  }
}

/* pq_swap_runs exchanges the |n| elements from |i| with those from |j|,
 * pairwise. */
static void pq_swap_runs(const pqsort_ctx *q, size_t i, size_t j, size_t n) {
  for (size_t k = 0; k < n; k++) {
    pq_swap(q, i + k, j + k);
  }
}

/* The median of three positions, choosing among equal keys as the
 * reference does. */
static size_t pq_median3(const pqsort_ctx *q, size_t a, size_t b, size_t c) {
  if (pq_cmp(q, a, b) < 0) {
    if (pq_cmp(q, b, c) < 0) {
      return b;
    }
    return pq_cmp(q, a, c) < 0 ? c : a;
  }
  if (pq_cmp(q, b, c) > 0) {
    return b;
  }
  return pq_cmp(q, a, c) < 0 ? a : c;
}

/* pq_wanted: the part [lo, lo + n) holds at least one wanted rank. */
static int pq_wanted(const pqsort_ctx *q, size_t lo, size_t n) {
  return q->last >= lo && q->first < lo + n;
}

static size_t pq_min(size_t a, size_t b) { return a < b ? a : b; }

static void pq_sort_part(const pqsort_ctx *q, size_t lo, size_t n) {
  for (;;) {
    if (n < 7) {
      for (size_t m = lo + 1; m < lo + n; m++) {
        for (size_t l = m; l > lo && pq_cmp(q, l - 1, l) > 0; l--) {
          pq_swap(q, l, l - 1);
        }
      }
      return;
    }
    size_t mid = lo + n / 2;
    if (n > 7) {
      size_t left = lo, right = lo + n - 1;
      if (n > 40) {
        size_t d = n / 8;
        left = pq_median3(q, left, left + d, left + 2 * d);
        mid = pq_median3(q, mid - d, mid, mid + d);
        right = pq_median3(q, right - 2 * d, right - d, right);
      }
      mid = pq_median3(q, left, mid, right);
    }
    pq_swap(q, lo, mid); /* the pivot sits at lo during the split */

    /* Split: [lo+1, a) equal, [a, b) less, (c, d] greater, (d, end) equal. */
    size_t a = lo + 1, b = lo + 1, c = lo + n - 1, d = lo + n - 1;
    for (;;) {
      int r;
      while (b <= c && (r = pq_cmp(q, b, lo)) <= 0) {
        if (r == 0) {
          pq_swap(q, a, b);
          a++;
        }
        b++;
      }
      while (b <= c && (r = pq_cmp(q, c, lo)) >= 0) {
        if (r == 0) {
          pq_swap(q, c, d);
          d--;
        }
        c--;
      }
      if (b > c) {
        break;
      }
      pq_swap(q, b, c);
      b++;
      c--;
    }

    /* Move the parked equal keys to the middle. */
    size_t end = lo + n;
    size_t r = pq_min(a - lo, b - a);
    pq_swap_runs(q, lo, b - r, r);
    r = pq_min(d - c, end - d - 1);
    pq_swap_runs(q, b, end - r, r);

    size_t less = b - a, greater = d - c;
    if (less > 1 && pq_wanted(q, lo, less)) {
      pq_sort_part(q, lo, less);
    }
    if (greater <= 1 || !pq_wanted(q, end - greater, greater)) {
      return;
    }
    lo = end - greater; /* the greater part: iterate, do not recurse */
    n = greater;
  }
}

void pqsort(void *base, size_t count, size_t size,
            int (*cmp)(const void *, const void *), size_t first, size_t last) {
  pqsort_ctx q = {
      .base = base, .size = size, .cmp = cmp, .first = first, .last = last};
  pq_sort_part(&q, 0, count);
}
