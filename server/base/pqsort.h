/* pqsort.h: a partial quicksort that orders only what a range of ranks
 * needs, the one Redis uses for SORT ... BY ... LIMIT and for GEOSEARCH /
 * GEORADIUS with COUNT.
 *
 * The algorithm is Bentley and McIlroy's ("Engineering a Sort Function",
 * 1993: median-of-three or ninther pivot, three-way split with the equal
 * keys parked at both ends, insertion sort below 7 elements), except that
 * a part is only sorted further when it overlaps the wanted ranks. It is
 * not stable: the order of elements that compare equal is the one that
 * this exact sequence of swaps gives, which is why it is reproduced here
 * rather than replaced by another sort (replies must list ties as Redis
 * does). */
#ifndef REDOUBT_PQSORT_H
#define REDOUBT_PQSORT_H

#include <stddef.h>

/* pqsort sorts the |count| elements of |size| bytes at |base| far enough
 * that the ranks |first|..|last| (0-based, inclusive, first <= last <
 * count) hold the elements a full sort would put there; the others end up
 * on the right side of that range, in no particular order. */
void pqsort(void *base, size_t count, size_t size,
            int (*cmp)(const void *, const void *), size_t first, size_t last);

#endif
