// ae_test.cc: the event loop (server/ae.c): timers in order, re-arm and
// delete, level-triggered file events, handlers removing themselves, the
// before-sleep hook and dont_wait.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

extern "C" {
#include "server/event/ae.h"
}

namespace {

struct TimerLog {
  std::vector<int> fired;
  int rearm_left = 0;
};

struct TimerArg {
  TimerLog *log;
  int tag;
};

long long RecordTimer(ae_loop *, long long, void *data) {
  auto *a = static_cast<TimerArg *>(data);
  a->log->fired.push_back(a->tag);
  if (a->tag == 99 && a->log->rearm_left-- > 0) return 1;
  return AE_NOMORE;
}

void RunFor(ae_loop *loop, uint64_t ms) {
  uint64_t end = ae_monotonic_us() + ms * 1000;
  while (ae_monotonic_us() < end) {
    ae_set_dont_wait(loop, 1);  // never block once the timers are gone
    ae_process_events(loop);
  }
}

TEST(Ae, TimersFireInDeadlineOrder) {
  ae_loop *loop = ae_create(64);
  ASSERT_NE(loop, nullptr);
  TimerLog log;
  TimerArg a{&log, 3}, b{&log, 1}, c{&log, 2};
  ae_create_timer(loop, 30, RecordTimer, &a);
  ae_create_timer(loop, 5, RecordTimer, &b);
  ae_create_timer(loop, 15, RecordTimer, &c);
  RunFor(loop, 60);
  EXPECT_EQ(log.fired, (std::vector<int>{1, 2, 3}));
  ae_free(loop);
}

TEST(Ae, TimerRearmAndDelete) {
  ae_loop *loop = ae_create(64);
  TimerLog log;
  log.rearm_left = 3;
  TimerArg r{&log, 99}, d{&log, 7};
  ae_create_timer(loop, 1, RecordTimer, &r);
  long long id = ae_create_timer(loop, 10, RecordTimer, &d);
  EXPECT_EQ(ae_delete_timer(loop, id), 0);
  EXPECT_EQ(ae_delete_timer(loop, id), -1);
  RunFor(loop, 40);
  EXPECT_EQ(log.fired, (std::vector<int>{99, 99, 99, 99}));
  ae_free(loop);
}

struct FileCtx {
  int reads = 0;
  int fd = -1;
  bool remove_self = false;
};

void OnReadable(ae_loop *loop, int fd, void *data, int mask) {
  auto *ctx = static_cast<FileCtx *>(data);
  EXPECT_TRUE(mask & AE_READABLE);
  ctx->reads++;
  if (ctx->remove_self) ae_delete_file_event(loop, fd, AE_READABLE);
}

TEST(Ae, LevelTriggeredFileEvents) {
  ae_loop *loop = ae_create(1024);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  FileCtx ctx;
  ASSERT_EQ(ae_add_file_event(loop, p[0], AE_READABLE, OnReadable, &ctx), 0);
  EXPECT_EQ(ae_get_file_events(loop, p[0]), AE_READABLE);
  ASSERT_EQ(write(p[1], "x", 1), 1);
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  // Not drained: level-triggered fires again.
  EXPECT_EQ(ctx.reads, 2);
  ctx.remove_self = true;
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  EXPECT_EQ(ctx.reads, 3);
  EXPECT_EQ(ae_get_file_events(loop, p[0]), AE_NONE);
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  EXPECT_EQ(ctx.reads, 3);
  EXPECT_EQ(ae_add_file_event(loop, 5000, AE_READABLE, OnReadable, &ctx), -1);
  close(p[0]);
  close(p[1]);
  ae_free(loop);
}

int before_sleep_calls = 0;
void CountBeforeSleep(ae_loop *) { before_sleep_calls++; }

TEST(Ae, BeforeSleepAndDontWait) {
  ae_loop *loop = ae_create(64);
  ae_set_before_sleep(loop, CountBeforeSleep);
  TimerLog log;
  TimerArg t{&log, 1};
  ae_create_timer(loop, 10000, RecordTimer, &t);
  uint64_t start = ae_monotonic_us();
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  EXPECT_LT(ae_monotonic_us() - start, 100000u);
  EXPECT_EQ(before_sleep_calls, 1);
  ae_free(loop);
}

TEST(Ae, ResizeRefusesBelowWatchedFd) {
  ae_loop *loop = ae_create(64);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  FileCtx ctx;
  ASSERT_EQ(ae_add_file_event(loop, p[0], AE_READABLE, OnReadable, &ctx), 0);
  EXPECT_EQ(ae_resize(loop, p[0]), -1);
  EXPECT_EQ(ae_resize(loop, 128), 0);
  EXPECT_EQ(ae_get_setsize(loop), 128);
  close(p[0]);
  close(p[1]);
  ae_free(loop);
}

}  // namespace

namespace {

long long self_timer_id = -1;
int self_calls = 0;
long long SelfDeleting(ae_loop *loop, long long id, void *) {
  self_calls++;
  EXPECT_EQ(id, self_timer_id);
  EXPECT_EQ(ae_delete_timer(loop, id), 0);
  return 1;  // asks to re-arm, but the timer was deleted
}

TEST(Ae, TimerMayDeleteItself) {
  ae_loop *loop = ae_create(64);
  self_timer_id = ae_create_timer(loop, 1, SelfDeleting, nullptr);
  RunFor(loop, 30);
  EXPECT_EQ(self_calls, 1);
  ae_free(loop);
}

}  // namespace

namespace {

// Deferred fds run in a second pass, after every other ready fd and the
// between-passes hook, whatever order epoll reports them in; the mark goes
// away with the fd's last event, so the next owner of the fd starts normal.
std::vector<std::string> *order_log = nullptr;
void LogRead(ae_loop *, int fd, void *data, int) {
  char buf[16];
  (void)!read(fd, buf, sizeof(buf));
  order_log->push_back(static_cast<const char *>(data));
}
void LogBetween(ae_loop *) { order_log->push_back("between"); }

TEST(Ae, DeferredFdsRunInTheSecondPass) {
  std::vector<std::string> log;
  order_log = &log;
  ae_loop *loop = ae_create(1024);
  ae_set_between_passes(loop, LogBetween);
  int a[2], b[2], c[2];
  ASSERT_EQ(pipe(a), 0);
  ASSERT_EQ(pipe(b), 0);
  ASSERT_EQ(pipe(c), 0);
  // Registered (and made ready) first, so epoll is likely to report it first.
  ASSERT_EQ(ae_add_file_event(loop, a[0], AE_READABLE, LogRead,
                              const_cast<char *>("deferred")),
            0);
  ae_set_deferred(loop, a[0], 1);
  ASSERT_EQ(ae_add_file_event(loop, b[0], AE_READABLE, LogRead,
                              const_cast<char *>("normal1")),
            0);
  ASSERT_EQ(ae_add_file_event(loop, c[0], AE_READABLE, LogRead,
                              const_cast<char *>("normal2")),
            0);
  ASSERT_EQ(write(a[1], "x", 1), 1);
  ASSERT_EQ(write(b[1], "x", 1), 1);
  ASSERT_EQ(write(c[1], "x", 1), 1);
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[2], "between");
  EXPECT_EQ(log[3], "deferred");

  // Only deferred events ready: no hook call (nothing to flush).
  log.clear();
  ASSERT_EQ(write(a[1], "x", 1), 1);
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  EXPECT_EQ(log, std::vector<std::string>{"deferred"});

  // Unwatching clears the mark.
  ae_delete_file_event(loop, a[0], AE_READABLE);
  ASSERT_EQ(ae_add_file_event(loop, a[0], AE_READABLE, LogRead,
                              const_cast<char *>("again")),
            0);
  log.clear();
  ASSERT_EQ(write(a[1], "x", 1), 1);
  ASSERT_EQ(write(b[1], "x", 1), 1);
  ae_set_dont_wait(loop, 1);
  ae_process_events(loop);
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(std::count(log.begin(), log.end(), "between"), 0);
  for (int *p : {a, b, c}) {
    close(p[0]);
    close(p[1]);
  }
  ae_free(loop);
  order_log = nullptr;
}

}  // namespace
