/* ae.h: a small epoll event loop with millisecond timers.
 *
 * One loop per process. File events are level-triggered; a callback is
 * invoked once per wakeup per ready mask. Timers are one-shot unless the
 * callback returns a positive number of milliseconds to re-arm. */
#ifndef REDOUBT_AE_H
#define REDOUBT_AE_H

#include <stdint.h>

#define AE_NONE 0
#define AE_READABLE 1
#define AE_WRITABLE 2

/* AE_NOMORE, returned from a timer callback, deletes the timer. */
#define AE_NOMORE -1

typedef struct ae_loop ae_loop;

typedef void ae_file_proc(ae_loop *loop, int fd, void *client_data, int mask);
/* ae_timer_proc returns the delay in milliseconds until the next call, or
 * AE_NOMORE. */
typedef long long ae_timer_proc(ae_loop *loop, long long id, void *client_data);
typedef void ae_before_sleep_proc(ae_loop *loop);

/* ae_create returns a loop that can watch file descriptors 0..setsize-1, or
 * NULL on failure. */
ae_loop *ae_create(int setsize);
void ae_free(ae_loop *loop);

/* ae_add_file_event adds |mask| to the events watched on |fd|; a later call
 * with another mask keeps the earlier one. The proc for the added mask is
 * replaced. Returns 0 or -1 (errno set, e.g. ERANGE past setsize). */
int ae_add_file_event(ae_loop *loop, int fd, int mask, ae_file_proc *proc,
                      void *client_data);
/* ae_delete_file_event stops watching |mask| on |fd|. Safe to call on a fd
 * that is not watched. */
void ae_delete_file_event(ae_loop *loop, int fd, int mask);
/* ae_get_file_events returns the mask watched on |fd|. */
int ae_get_file_events(ae_loop *loop, int fd);
/* ae_resize grows the fd capacity. Returns 0 or -1. */
int ae_resize(ae_loop *loop, int setsize);
int ae_get_setsize(ae_loop *loop);

/* ae_create_timer calls |proc| after |milliseconds|. Returns the timer id
 * (>= 0) or -1. */
long long ae_create_timer(ae_loop *loop, long long milliseconds,
                          ae_timer_proc *proc, void *client_data);
int ae_delete_timer(ae_loop *loop, long long id);

/* ae_set_before_sleep sets a hook run before every wait (flush replies,
 * process pending TLS bytes, ...). */
void ae_set_before_sleep(ae_loop *loop, ae_before_sleep_proc *proc);
/* ae_set_deferred marks |fd| (which must be watched) for the second
 * dispatch pass of each wakeup, after every other ready fd and the
 * between_passes hook; the mark is cleared when the fd stops being
 * watched. For work that can wait a few microseconds (TLS handshakes in
 * progress, new connections, handshaker answers). */
void ae_set_deferred(ae_loop *loop, int fd, int deferred);
/* ae_is_deferred returns 1 if |fd| is watched and marked deferred, else 0. */
int ae_is_deferred(ae_loop *loop, int fd);
/* ae_set_between_passes sets a hook run between the two passes when both
 * have events (flush the replies of the first pass). */
void ae_set_between_passes(ae_loop *loop, ae_before_sleep_proc *proc);
/* ae_set_dont_wait makes the next wait return immediately (pending input
 * buffered in user space must be processed). */
void ae_set_dont_wait(ae_loop *loop, int dont_wait);

/* ae_main runs until ae_stop. */
void ae_main(ae_loop *loop);
void ae_stop(ae_loop *loop);
/* ae_process_events runs one iteration: waits at most until the nearest
 * timer. Returns the number of events processed. */
int ae_process_events(ae_loop *loop);

/* Monotonic and wall clocks. */
long long ae_mstime(void);      /* wall clock, milliseconds since epoch */
long long ae_ustime(void);      /* wall clock, microseconds since epoch */
uint64_t ae_monotonic_us(void); /* monotonic microseconds */

#endif
