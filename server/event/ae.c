/* ae.c: epoll event loop with a binary min-heap of timers (see ae.h).
 *
 * File events are level-triggered. Within one wakeup a callback for an fd
 * is skipped if an earlier callback in the same wakeup removed the fd's
 * interest in that event (e.g. the client was freed). */
#include "server/event/ae.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* AE_MAX_EPOLL_EVENTS bounds the events fetched per wakeup. */
#define AE_MAX_EPOLL_EVENTS 1024

typedef struct ae_file_event {
  int mask;
  int deferred; /* dispatched in the second pass (ae_set_deferred) */
  ae_file_proc *rproc;
  ae_file_proc *wproc;
  void *rdata;
  void *wdata;
} ae_file_event;

typedef struct ae_timer {
  long long id;
  uint64_t when_us; /* monotonic */
  ae_timer_proc *proc;
  void *client_data;
  int deleted;
} ae_timer;

struct ae_loop {
  int epfd;
  int setsize;
  ae_file_event *events;
  struct epoll_event *fired;
  int fired_size;
  ae_timer **heap; /* min-heap by when_us */
  int heap_len, heap_cap;
  long long next_timer_id;
  ae_before_sleep_proc *before_sleep;
  ae_before_sleep_proc *between_passes;
  int *deferred_fired;     /* indexes into fired[] kept for the second pass */
  ae_timer *running_timer; /* popped while its callback runs */
  int dont_wait;
  int stop;
};

uint64_t ae_monotonic_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

long long ae_ustime(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (long long)tv.tv_sec * 1000000LL + tv.tv_usec;
}

long long ae_mstime(void) { return ae_ustime() / 1000; }

ae_loop *ae_create(int setsize) {
  if (setsize <= 0) {
    return NULL;
  }
  ae_loop *loop = calloc(1, sizeof(*loop));
  if (loop == NULL) {
    return NULL;
  }
  loop->events = calloc((size_t)setsize, sizeof(ae_file_event));
  loop->fired_size =
      setsize < AE_MAX_EPOLL_EVENTS ? setsize : AE_MAX_EPOLL_EVENTS;
  loop->fired = calloc((size_t)loop->fired_size, sizeof(struct epoll_event));
  loop->deferred_fired = calloc((size_t)loop->fired_size, sizeof(int));
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->events == NULL || loop->fired == NULL ||
      loop->deferred_fired == NULL || loop->epfd == -1) {
    if (loop->epfd != -1) {
      close(loop->epfd);
    }
    free(loop->events);
    free(loop->fired);
    free(loop->deferred_fired);
    free(loop);
    return NULL;
  }
  loop->setsize = setsize;
  return loop;
}

void ae_free(ae_loop *loop) {
  if (loop == NULL) {
    return;
  }
  close(loop->epfd);
  for (int i = 0; i < loop->heap_len; i++) {
    free(loop->heap[i]);
  }
  free(loop->heap);
  free(loop->events);
  free(loop->fired);
  free(loop->deferred_fired);
  free(loop);
}

int ae_get_setsize(ae_loop *loop) { return loop->setsize; }

int ae_resize(ae_loop *loop, int setsize) {
  if (setsize == loop->setsize) {
    return 0;
  }
  if (setsize <= 0) {
    errno = EINVAL;
    return -1;
  }
  /* Refuse to shrink below a watched fd. */
  for (int fd = setsize; fd < loop->setsize; fd++) {
    if (loop->events[fd].mask != AE_NONE) {
      errno = EBUSY;
      return -1;
    }
  }
  ae_file_event *ev =
      realloc(loop->events, sizeof(ae_file_event) * (size_t)setsize);
  if (ev == NULL) {
    return -1;
  }
  if (setsize > loop->setsize) {
    memset(ev + loop->setsize, 0,
           sizeof(ae_file_event) * (size_t)(setsize - loop->setsize));
  }
  loop->events = ev;
  loop->setsize = setsize;
  return 0;
}

static uint32_t ae_mask_to_epoll(int mask) {
  uint32_t e = 0;
  if (mask & AE_READABLE) {
    e |= EPOLLIN;
  }
  if (mask & AE_WRITABLE) {
    e |= EPOLLOUT;
  }
  return e;
}

int ae_add_file_event(ae_loop *loop, int fd, int mask, ae_file_proc *proc,
                      void *client_data) {
  if (fd < 0 || fd >= loop->setsize) {
    errno = ERANGE;
    return -1;
  }
  ae_file_event *fe = &loop->events[fd];
  int newmask = fe->mask | mask;
  if (newmask != fe->mask) {
    struct epoll_event ee;
    memset(&ee, 0, sizeof(ee));
    ee.events = ae_mask_to_epoll(newmask);
    ee.data.fd = fd;
    int op = fe->mask == AE_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(loop->epfd, op, fd, &ee) == -1) {
      return -1;
    }
  }
  fe->mask = newmask;
  if (mask & AE_READABLE) {
    fe->rproc = proc;
    fe->rdata = client_data;
  }
  if (mask & AE_WRITABLE) {
    fe->wproc = proc;
    fe->wdata = client_data;
  }
  return 0;
}

void ae_delete_file_event(ae_loop *loop, int fd, int mask) {
  if (fd < 0 || fd >= loop->setsize) {
    return;
  }
  ae_file_event *fe = &loop->events[fd];
  if (fe->mask == AE_NONE) {
    return;
  }
  int newmask = fe->mask & ~mask;
  if (newmask == fe->mask) {
    return;
  }
  struct epoll_event ee;
  memset(&ee, 0, sizeof(ee));
  ee.events = ae_mask_to_epoll(newmask);
  ee.data.fd = fd;
  /* Errors are ignored: the fd may already be closed. */
  (void)epoll_ctl(loop->epfd,
                  newmask == AE_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD, fd, &ee);
  fe->mask = newmask;
  if (newmask == AE_NONE) {
    fe->deferred = 0; /* the next owner of this fd starts normal */
  }
  if (!(newmask & AE_READABLE)) {
    fe->rproc = NULL;
    fe->rdata = NULL;
  }
  if (!(newmask & AE_WRITABLE)) {
    fe->wproc = NULL;
    fe->wdata = NULL;
  }
}

int ae_get_file_events(ae_loop *loop, int fd) {
  if (fd < 0 || fd >= loop->setsize) {
    return AE_NONE;
  }
  return loop->events[fd].mask;
}

/* ---- timers: binary min-heap keyed by when_us ---- */

static void ae_heap_swap(ae_loop *loop, int a, int b) {
  ae_timer *t = loop->heap[a];
  loop->heap[a] = loop->heap[b];
  loop->heap[b] = t;
}

static void ae_heap_up(ae_loop *loop, int i) {
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (loop->heap[parent]->when_us <= loop->heap[i]->when_us) {
      break;
    }
    ae_heap_swap(loop, parent, i);
    i = parent;
  }
}

static void ae_heap_down(ae_loop *loop, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < loop->heap_len && loop->heap[l]->when_us < loop->heap[m]->when_us) {
      m = l;
    }
    if (r < loop->heap_len && loop->heap[r]->when_us < loop->heap[m]->when_us) {
      m = r;
    }
    if (m == i) {
      break;
    }
    ae_heap_swap(loop, i, m);
    i = m;
  }
}

static ae_timer *ae_heap_pop(ae_loop *loop) {
  ae_timer *top = loop->heap[0];
  loop->heap_len--;
  if (loop->heap_len > 0) {
    loop->heap[0] = loop->heap[loop->heap_len];
    ae_heap_down(loop, 0);
  }
  return top;
}

static int ae_heap_push(ae_loop *loop, ae_timer *t) {
  if (loop->heap_len == loop->heap_cap) {
    int cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
    ae_timer **h = realloc(loop->heap, sizeof(ae_timer *) * (size_t)cap);
    if (h == NULL) {
      return -1;
    }
    loop->heap = h;
    loop->heap_cap = cap;
  }
  loop->heap[loop->heap_len++] = t;
  ae_heap_up(loop, loop->heap_len - 1);
  return 0;
}

long long ae_create_timer(ae_loop *loop, long long milliseconds,
                          ae_timer_proc *proc, void *client_data) {
  ae_timer *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    return -1;
  }
  if (milliseconds < 0) {
    milliseconds = 0;
  }
  t->id = loop->next_timer_id++;
  t->when_us = ae_monotonic_us() + (uint64_t)milliseconds * 1000ULL;
  t->proc = proc;
  t->client_data = client_data;
  if (ae_heap_push(loop, t) == -1) {
    free(t);
    return -1;
  }
  return t->id;
}

int ae_delete_timer(ae_loop *loop, long long id) {
  /* A callback may delete its own timer: it is not in the heap then. */
  if (loop->running_timer != NULL && loop->running_timer->id == id &&
      !loop->running_timer->deleted) {
    loop->running_timer->deleted = 1;
    return 0;
  }
  /* Timers are few (cron and a handful of module timers): a linear scan is
   * fine. Marked deleted, reaped when they reach the top. */
  for (int i = 0; i < loop->heap_len; i++) {
    if (loop->heap[i]->id == id && !loop->heap[i]->deleted) {
      loop->heap[i]->deleted = 1;
      return 0;
    }
  }
  return -1;
}

/* ae_process_timers runs the timers that are due. Timers created by a
 * callback during this pass wait for the next pass (id check), so a timer
 * re-arming with 0 ms cannot starve file events. */
static int ae_process_timers(ae_loop *loop) {
  int processed = 0;
  long long max_id = loop->next_timer_id - 1;
  uint64_t now = ae_monotonic_us();
  /* Budget: at most the number of timers present now. */
  int budget = loop->heap_len;
  ae_timer **rearm = NULL;
  int rearm_len = 0, rearm_cap = 0;

  while (loop->heap_len > 0 && budget-- > 0) {
    ae_timer *t = loop->heap[0];
    if (t->deleted) {
      ae_heap_pop(loop);
      free(t);
      continue;
    }
    if (t->when_us > now || t->id > max_id) {
      break;
    }
    ae_heap_pop(loop);
    ae_timer *outer = loop->running_timer; /* nested loops (loading) */
    loop->running_timer = t;
    long long ret = t->proc(loop, t->id, t->client_data);
    loop->running_timer = outer;
    processed++;
    if (ret != AE_NOMORE && !t->deleted) {
      if (ret < 0) {
        ret = 0;
      }
      t->when_us = ae_monotonic_us() + (uint64_t)ret * 1000ULL;
      /* Re-armed timers go back after the pass so they do not run twice. */
      if (rearm_len == rearm_cap) {
        int cap = rearm_cap ? rearm_cap * 2 : 8;
        ae_timer **r = realloc(rearm, sizeof(ae_timer *) * (size_t)cap);
        if (r == NULL) {
          free(t);
          continue;
        }
        rearm = r;
        rearm_cap = cap;
      }
      rearm[rearm_len++] = t;
    } else {
      free(t);
    }
  }
  for (int i = 0; i < rearm_len; i++) {
    if (ae_heap_push(loop, rearm[i]) == -1) {
      free(rearm[i]);
    }
  }
  free(rearm);
  return processed;
}

/* ae_wait_ms returns how long the next wait may block: -1 forever, 0 not at
 * all, else milliseconds until the nearest timer. */
static int ae_wait_ms(ae_loop *loop) {
  if (loop->dont_wait) {
    return 0;
  }
  /* Reap deleted timers at the top so they do not shorten the wait. */
  while (loop->heap_len > 0 && loop->heap[0]->deleted) {
    free(ae_heap_pop(loop));
  }
  if (loop->heap_len == 0) {
    return -1;
  }
  uint64_t now = ae_monotonic_us();
  uint64_t when = loop->heap[0]->when_us;
  if (when <= now) {
    return 0;
  }
  uint64_t ms = (when - now + 999) / 1000;
  return ms > 3600000 ? 3600000 : (int)ms;
}

/* ae_dispatch runs the handlers of one fired event. */
static void ae_dispatch(ae_loop *loop, int fd, uint32_t ev) {
  int mask = 0;
  if (ev & EPOLLIN) {
    mask |= AE_READABLE;
  }
  if (ev & EPOLLOUT) {
    mask |= AE_WRITABLE;
  }
  /* Errors and hangups wake both directions so the owner sees them. */
  if (ev & (EPOLLERR | EPOLLHUP)) {
    mask |= AE_READABLE | AE_WRITABLE;
  }
  ae_file_event *fe = &loop->events[fd];
  int fired = 0;
  if (fe->mask & mask & AE_READABLE) {
    fe->rproc(loop, fd, fe->rdata, mask);
    fired++;
  }
  /* The read callback may have removed or replaced the fd's events. */
  fe = &loop->events[fd];
  if (fe->mask & mask & AE_WRITABLE) {
    if (!fired || fe->wproc != fe->rproc || fe->wdata != fe->rdata) {
      fe->wproc(loop, fd, fe->wdata, mask);
    }
  }
}

/* ae_process_events waits once and dispatches in two passes: first every
 * fd not marked deferred, then (after the between_passes hook, which
 * flushes replies) the deferred ones. Work that can wait a little, such as
 * TLS handshakes in progress, so never delays the replies to requests that
 * arrived in the same wakeup. */
int ae_process_events(ae_loop *loop) {
  int processed = 0;
  if (loop->before_sleep != NULL) {
    loop->before_sleep(loop);
  }
  int timeout = ae_wait_ms(loop);
  loop->dont_wait = 0;
  int n = epoll_wait(loop->epfd, loop->fired, loop->fired_size, timeout);
  int ndeferred = 0;
  for (int j = 0; j < n; j++) {
    int fd = loop->fired[j].data.fd;
    if (fd < 0 || fd >= loop->setsize) {
      continue;
    }
    if (loop->events[fd].deferred) {
      loop->deferred_fired[ndeferred++] = j;
      continue;
    }
    ae_dispatch(loop, fd, loop->fired[j].events);
    processed++;
  }
  if (ndeferred > 0 && processed > 0 && loop->between_passes != NULL) {
    loop->between_passes(loop);
  }
  for (int k = 0; k < ndeferred; k++) {
    int j = loop->deferred_fired[k];
    ae_dispatch(loop, loop->fired[j].data.fd, loop->fired[j].events);
    processed++;
  }
  processed += ae_process_timers(loop);
  return processed;
}

void ae_set_deferred(ae_loop *loop, int fd, int deferred) {
  if (fd >= 0 && fd < loop->setsize && loop->events[fd].mask != AE_NONE) {
    loop->events[fd].deferred = deferred != 0;
  }
}

int ae_is_deferred(const ae_loop *loop, int fd) {
  return fd >= 0 && fd < loop->setsize && loop->events[fd].mask != AE_NONE &&
         loop->events[fd].deferred;
}

void ae_set_between_passes(ae_loop *loop, ae_before_sleep_proc *proc) {
  loop->between_passes = proc;
}

void ae_set_before_sleep(ae_loop *loop, ae_before_sleep_proc *proc) {
  loop->before_sleep = proc;
}

void ae_set_dont_wait(ae_loop *loop, int dont_wait) {
  loop->dont_wait = dont_wait;
}

void ae_main(ae_loop *loop) {
  loop->stop = 0;
  while (!loop->stop) {
    ae_process_events(loop);
  }
}

void ae_stop(ae_loop *loop) { loop->stop = 1; }
