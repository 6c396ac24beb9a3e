/* lazyfree.c: the lazy-free thread (see lazyfree.h).
 *
 * Ownership and threading: jobs are allocated by the main thread and
 * queued under |lf.lock|; from then on the thread owns the job and what it
 * names, frees both, and touches nothing else. The queue's mutex orders
 * the main thread's last writes to an object before the thread's frees.
 * The counters are atomics read by INFO. Keyspaces wait in |lf.held| (main
 * thread only) until a 0 ms timer hands them over after the current
 * command: see lazyfree_release_keyspace. */
#include "server/core/lazyfree.h"

#include <pthread.h>
#include <signal.h>

#include "server/base/log.h"
#include "server/base/zmalloc.h"
#include "server/core/server.h"

typedef enum { LAZYFREE_OBJECT, LAZYFREE_KEYSPACE } lazyfree_kind;

typedef struct lazyfree_job {
  lazyfree_kind kind;
  robj *object;  /* LAZYFREE_OBJECT */
  dict *keys;    /* LAZYFREE_KEYSPACE: the key dict (owns keys and values) */
  dict *expires; /* and the expires dict (borrows the keys) */
  size_t count;  /* objects this job frees, for the counters */
  struct lazyfree_job *next;
} lazyfree_job;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  lazyfree_job *head, *tail; /* queue to the thread, under |lock| */
  int thread_started;        /* main thread only */
  lazyfree_job *held;        /* keyspaces waiting for the timer (main) */
  long long held_timer;      /* -1 when not armed (main) */
  size_t pending;            /* atomic */
  size_t freed;              /* atomic */
} lf = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
    .held_timer = -1,
};

/* ------------------------------------------------------------------ */
/* The thread                                                           */
/* ------------------------------------------------------------------ */
static void lazyfree_run_job(lazyfree_job *job) {
  if (job->kind == LAZYFREE_OBJECT) {
    decr_ref_count(job->object);
  } else {
    dict_release(job->expires); /* first: it borrows the keys */
    dict_release(job->keys);
  }
  __atomic_sub_fetch(&lf.pending, job->count, __ATOMIC_RELAXED);
  __atomic_add_fetch(&lf.freed, job->count, __ATOMIC_RELAXED);
  zfree(job);
}

static void *lazyfree_thread_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lf.lock);
  for (;;) {
    while (lf.head == NULL) {
      pthread_cond_wait(&lf.cond, &lf.lock);
    }
    lazyfree_job *job = lf.head;
    lf.head = job->next;
    if (lf.head == NULL) {
      lf.tail = NULL;
    }
    pthread_mutex_unlock(&lf.lock);
    lazyfree_run_job(job);
    pthread_mutex_lock(&lf.lock);
  }
  return NULL;
}

/* lazyfree_job_new returns a job of |kind| for |count| objects, counted
 * as pending until it has run. */
static lazyfree_job *lazyfree_job_new(lazyfree_kind kind, size_t count) {
  lazyfree_job *job = zcalloc(sizeof(*job));
  job->kind = kind;
  job->count = count;
  __atomic_add_fetch(&lf.pending, count, __ATOMIC_RELAXED);
  return job;
}

/* lazyfree_submit hands |job| to the thread, started on first use. If the
 * thread cannot be started the job runs here. */
static void lazyfree_submit(lazyfree_job *job) {
  job->next = NULL;
  if (!lf.thread_started) {
    /* Signals are the main thread's business (a SIGTERM delivered to the
     * thread would not wake the event loop): it starts with them blocked
     * and keeps that mask. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGALRM);
    sigaddset(&block, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t tid;
    int rc = pthread_create(&tid, NULL, lazyfree_thread_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
      server_log(LL_WARNING,
                 "Can't start the lazy free thread: freeing in place");
      lazyfree_run_job(job);
      return;
    }
    pthread_detach(tid);
    lf.thread_started = 1;
  }
  pthread_mutex_lock(&lf.lock);
  if (lf.tail != NULL) {
    lf.tail->next = job;
  } else {
    lf.head = job;
  }
  lf.tail = job;
  pthread_cond_signal(&lf.cond);
  pthread_mutex_unlock(&lf.lock);
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */
size_t lazyfree_free_effort(robj *o) {
  if (o->type == OBJ_STRING) {
    return 1;
  }
  const object_type_ops *ops = object_type_ops_of(o->type);
  return ops->free_effort != NULL ? ops->free_effort(o) : 1;
}

void lazyfree_release_value(robj *o) {
  /* A value someone else still references (refcount > 1) cannot be
   * reclaimed now: dropping our reference is all there is to do. */
  if (o->refcount != 1 || lazyfree_free_effort(o) <= LAZYFREE_THRESHOLD) {
    decr_ref_count(o);
    return;
  }
  lazyfree_job *job = lazyfree_job_new(LAZYFREE_OBJECT, 1);
  job->object = o;
  lazyfree_submit(job);
}

/* ------------------------------------------------------------------ */
/* Keyspaces                                                            */
/* ------------------------------------------------------------------ */
static long long lazyfree_held_timer_proc(ae_loop *loop, long long id,
                                          void *data) {
  (void)loop;
  (void)id;
  (void)data;
  lf.held_timer = -1;
  /* The list holds one keyspace per database flushed meanwhile at most. */
  while (lf.held != NULL) {
    lazyfree_job *job = lf.held;
    lf.held = job->next;
    lazyfree_submit(job);
  }
  return AE_NOMORE;
}

void lazyfree_release_keyspace(dict *keys, dict *expires) {
  lazyfree_job *job = lazyfree_job_new(LAZYFREE_KEYSPACE, dict_size(keys));
  job->keys = keys;
  job->expires = expires;
  /* Held until the current command (and any MULTI or script around it)
   * has dropped its references to values of this keyspace. */
  if (lf.held_timer == -1 && server.el != NULL) {
    lf.held_timer =
        ae_create_timer(server.el, 0, lazyfree_held_timer_proc, NULL);
  }
  if (lf.held_timer == -1) {
    lazyfree_run_job(job); /* no event loop (or no timer): free it here */
    return;
  }
  job->next = lf.held;
  lf.held = job;
}

/* ------------------------------------------------------------------ */
/* Counters                                                             */
/* ------------------------------------------------------------------ */
size_t lazyfree_pending_objects(void) {
  return __atomic_load_n(&lf.pending, __ATOMIC_RELAXED);
}

size_t lazyfree_freed_objects(void) {
  return __atomic_load_n(&lf.freed, __ATOMIC_RELAXED);
}

void lazyfree_reset_stats(void) {
  __atomic_store_n(&lf.freed, 0, __ATOMIC_RELAXED);
}
