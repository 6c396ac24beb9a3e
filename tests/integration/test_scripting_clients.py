"""Real-client Lua scenarios run against Redoubt and against Debian's redis-server 7.0.15 with the
same inputs; every observable outcome must be the same on both (and what is expected).

  - redis-py's Lock (Debian python3-redis, run with /usr/bin/python3): acquire, contention,
    extend, reacquire, release, release/extend/reacquire by a non-owner (LockNotOwnedError),
    expiry, blocking acquire; its scripts run through EVALSHA with the NOSCRIPT fallback.
  - a sliding-window rate limiter (ZREMRANGEBYSCORE/ZCARD/ZADD/PEXPIRE in Lua) as an EVALSHA
    script and as a FUNCTION library, and a fixed-window INCR/EXPIRE limiter;
  - a BullMQ-style job queue: add (INCR id, HSET job, LPUSH or ZADD delayed, cjson options),
    move-to-active (promote due delayed jobs, RPOPLPUSH, lock token, HINCRBY attempts) and
    move-to-finished (token check, LREM, ZADD completed/failed).
Timestamps are passed as arguments, so the decisions do not depend on the clock.
"""

from __future__ import annotations

import threading
import time

import redis
from redis.exceptions import LockError, LockNotOwnedError, ResponseError


def _both(server, redis_server):
    return (("redoubt", server.client()), ("redis", redis_server.client()))


# ---------------------------------------------------------------------------- redis-py Lock

def _bucket(pttl: int, lo: int, hi: int) -> str:
    return "in-range" if lo < pttl <= hi else f"out-of-range({pttl})"


def _lock_scenario(r: redis.Redis) -> list:
    out = []
    lock = r.lock("lock:res", timeout=10, blocking=False)
    out.append(("acquire", lock.acquire()))
    out.append(("locked/owned", lock.locked(), lock.owned()))
    out.append(("pttl", _bucket(r.pttl("lock:res"), 9000, 10000)))
    other = r.lock("lock:res", timeout=10, blocking=False)
    out.append(("other-acquire", other.acquire()))
    out.append(("other-acquire-blocking", other.acquire(blocking=True, blocking_timeout=0.3, sleep=0.05)))
    out.append(("other-owned", other.owned()))
    out.append(("extend", lock.extend(20)))
    out.append(("pttl-extended", _bucket(r.pttl("lock:res"), 28000, 30000)))
    out.append(("extend-replace", lock.extend(5, replace_ttl=True)))
    out.append(("pttl-replaced", _bucket(r.pttl("lock:res"), 4000, 5000)))
    out.append(("reacquire", lock.reacquire()))
    out.append(("pttl-reacquired", _bucket(r.pttl("lock:res"), 9000, 10000)))
    for name, op in (("other-release", other.release), ("other-extend", lambda: other.extend(1)),
                     ("other-reacquire", other.reacquire)):
        other.local.token = b"not-the-owner"  # a client holding a token that is not the owner's
        try:
            op()
            out.append((name, "no error"))
        except LockNotOwnedError as e:
            out.append((name, "LockNotOwnedError", str(e)))
    out.append(("still-owned", lock.owned(), r.get("lock:res") == lock.local.token))
    out.append(("release", lock.release()))
    out.append(("locked-after-release", lock.locked(), r.exists("lock:res")))
    try:
        lock.release()
        out.append(("release-twice", "no error"))
    except LockError as e:
        out.append(("release-twice", type(e).__name__, str(e)))
    # a lock that expires before its release
    short = r.lock("lock:short", timeout=0.2)
    out.append(("short-acquire", short.acquire(blocking=False)))
    time.sleep(0.4)
    try:
        short.release()
        out.append(("release-expired", "no error"))
    except LockNotOwnedError as e:
        out.append(("release-expired", "LockNotOwnedError", str(e)))
    # someone else took it after expiry: the old owner cannot extend it
    taker = r.lock("lock:short", timeout=5)
    out.append(("taker-acquire", taker.acquire(blocking=False)))
    short.local.token = b"stale"
    try:
        short.extend(1)
        out.append(("stale-extend", "no error"))
    except LockNotOwnedError:
        out.append(("stale-extend", "LockNotOwnedError"))
    out.append(("taker-release", taker.release()))
    # no timeout: extend is refused by the client, release works
    forever = r.lock("lock:forever")
    out.append(("forever-acquire", forever.acquire(blocking=False), r.pttl("lock:forever")))
    try:
        forever.extend(1)
    except LockError as e:
        out.append(("forever-extend", str(e)))
    out.append(("forever-release", forever.release()))
    # blocking acquire succeeds once the holder releases it from another thread
    holder = r.lock("lock:handoff", timeout=5, thread_local=False)
    out.append(("holder-acquire", holder.acquire(blocking=False)))
    timer = threading.Timer(0.3, holder.release)
    timer.start()
    waiter = r.lock("lock:handoff", timeout=5)
    t0 = time.monotonic()
    out.append(("waiter-acquire", waiter.acquire(blocking=True, blocking_timeout=3, sleep=0.05)))
    out.append(("waited", "yes" if time.monotonic() - t0 >= 0.2 else "no"))
    timer.join()
    out.append(("waiter-release", waiter.release()))
    with r.lock("lock:ctx", timeout=5) as ctx:
        out.append(("context-owned", ctx.owned()))
    out.append(("context-released", r.exists("lock:ctx")))
    scripts = [redis.lock.Lock.lua_release.sha, redis.lock.Lock.lua_extend.sha, redis.lock.Lock.lua_reacquire.sha]
    out.append(("scripts-cached", r.script_exists(*scripts)))
    return out


LOCK_EXPECTED = [
    ("acquire", True), ("locked/owned", True, True), ("pttl", "in-range"), ("other-acquire", False),
    ("other-acquire-blocking", False), ("other-owned", False), ("extend", True), ("pttl-extended", "in-range"),
    ("extend-replace", True), ("pttl-replaced", "in-range"), ("reacquire", True), ("pttl-reacquired", "in-range"),
    ("other-release", "LockNotOwnedError", "Cannot release a lock that's no longer owned"),
    ("other-extend", "LockNotOwnedError", "Cannot extend a lock that's no longer owned"),
    ("other-reacquire", "LockNotOwnedError", "Cannot reacquire a lock that's no longer owned"),
    ("still-owned", True, True), ("release", None), ("locked-after-release", False, 0),
    ("release-twice", "LockError", "Cannot release an unlocked lock"), ("short-acquire", True),
    ("release-expired", "LockNotOwnedError", "Cannot release a lock that's no longer owned"),
    ("taker-acquire", True), ("stale-extend", "LockNotOwnedError"), ("taker-release", None),
    ("forever-acquire", True, -1), ("forever-extend", "Cannot extend a lock with no timeout"),
    ("forever-release", None), ("holder-acquire", True), ("waiter-acquire", True), ("waited", "yes"),
    ("waiter-release", None), ("context-owned", True), ("context-released", 0),
    ("scripts-cached", [True, True, True]),
]


def test_redis_py_lock(server, redis_server):
    results = {}
    for label, r in _both(server, redis_server):
        r.script_flush()  # the first release/extend/reacquire goes through NOSCRIPT -> SCRIPT LOAD
        results[label] = _lock_scenario(r)
    assert results["redis"] == LOCK_EXPECTED  # the scenario itself, checked on Redis
    assert results["redoubt"] == results["redis"]


def test_redis_py_lock_release_is_evalsha(server, redis_server):
    """release() sends EVALSHA (and only falls back to SCRIPT LOAD on NOSCRIPT)."""
    for label, r in _both(server, redis_server):
        r.script_flush()
        r.config_resetstat()
        lock = r.lock("lock:stats", timeout=5)
        assert lock.acquire(blocking=False)
        lock.release()
        lock = r.lock("lock:stats", timeout=5)
        assert lock.acquire(blocking=False)
        lock.release()
        stats = r.info("commandstats")
        assert stats.get("cmdstat_evalsha", {}).get("calls") == 3, (label, stats.get("cmdstat_evalsha"))
        assert stats.get("cmdstat_script|load", {}).get("calls") == 1, (label, stats)
        noscript = r.info("errorstats").get("errorstat_NOSCRIPT")  # redis-py 4.3 leaves "count=1" as text
        assert noscript in ({"count": 1}, "count=1"), (label, noscript)


# ---------------------------------------------------------------------------- rate limiters

SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
"""

SLIDING_WINDOW_LIB = ("#!lua name=ratelimit\n"
                      "local function allow(keys, args)\n" + SLIDING_WINDOW.replace("KEYS", "keys").replace("ARGV", "args")
                      + "end\nredis.register_function('rl_allow', allow)\n")

FIXED_WINDOW = """
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if c > tonumber(ARGV[2]) then return {0, c, redis.call('PTTL', KEYS[1]) > 0 and 1 or 0} end
return {1, c, 1}
"""


def _requests():
    """(client, timestamp ms) pairs: bursts, gaps, and two clients interleaved."""
    base = 1_700_000_000_000
    seq = []
    for i in range(8):
        seq.append(("alice", base + i * 50))
    for i in range(4):
        seq.append(("bob", base + 100 + i * 10))
    seq += [("alice", base + 1_000), ("alice", base + 1_049), ("alice", base + 1_051), ("alice", base + 1_400),
            ("bob", base + 5_000), ("alice", base + 9_999), ("alice", base + 10_000)]
    return seq


def _simulate(seq, window, limit):
    logs, out = {}, []
    for i, (who, now) in enumerate(seq):
        log = [t for t in logs.get(who, []) if t > now - window]
        if len(log) < limit:
            log.append(now)
            out.append([1, limit - len(log), 0])
        else:
            out.append([0, 0, min(log) + window - now])
        logs[who] = log
    return out


def test_sliding_window_rate_limiter(server, redis_server):
    window, limit = 1000, 5
    seq = _requests()
    expected = _simulate(seq, window, limit)
    results = {}
    for label, r in _both(server, redis_server):
        script = r.register_script(SLIDING_WINDOW)
        assert r.function_load(SLIDING_WINDOW_LIB) == b"ratelimit"
        decisions, via_fcall = [], []
        for i, (who, now) in enumerate(seq):
            decisions.append(script(keys=[f"rl:{who}"], args=[now, window, limit, f"{now}-{i}"]))
            via_fcall.append(r.fcall("rl_allow", 1, f"rlf:{who}", now, window, limit, f"{now}-{i}"))
        state = [r.zcard("rl:alice"), r.zrange("rl:alice", 0, -1, withscores=True), r.zcard("rl:bob")]
        pttl = r.pttl("rl:alice")
        assert 0 < pttl <= window, (label, pttl)
        results[label] = (decisions, via_fcall, state)
    assert results["redis"][0] == expected
    assert results["redis"][1] == expected
    assert results["redoubt"] == results["redis"]


def test_fixed_window_rate_limiter(server, redis_server):
    results = {}
    for label, r in _both(server, redis_server):
        limiter = r.register_script(FIXED_WINDOW)
        results[label] = [limiter(keys=["fw:ip"], args=[60_000, 3]) for _ in range(5)]
        results[label].append(r.get("fw:ip"))
    assert results["redis"] == [[1, 1, 1], [1, 2, 1], [1, 3, 1], [0, 4, 1], [0, 5, 1], b"5"]
    assert results["redoubt"] == results["redis"]


# ---------------------------------------------------------------------------- BullMQ-style queue

ADD_JOB = """
-- KEYS: wait, id counter, delayed; ARGV: prefix, name, data, timestamp, opts (json)
local opts = cjson.decode(ARGV[5])
local id = redis.call('INCR', KEYS[2])
local jobKey = ARGV[1] .. id
redis.call('HSET', jobKey, 'name', ARGV[2], 'data', ARGV[3], 'timestamp', ARGV[4], 'attempts', 0,
           'maxAttempts', opts.attempts or 1, 'status', 'waiting')
local delay = tonumber(opts.delay or 0)
if delay > 0 then
  redis.call('ZADD', KEYS[3], tonumber(ARGV[4]) + delay, id)
  redis.call('HSET', jobKey, 'status', 'delayed')
elseif opts.lifo then
  redis.call('RPUSH', KEYS[1], id)
else
  redis.call('LPUSH', KEYS[1], id)
end
return tostring(id)
"""

MOVE_TO_ACTIVE = """
-- KEYS: wait, active, delayed; ARGV: prefix, now, token, lock duration
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('LPUSH', KEYS[1], id)
  redis.call('HSET', ARGV[1] .. id, 'status', 'waiting')
end
local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if not id then return false end
local jobKey = ARGV[1] .. id
redis.call('SET', jobKey .. ':lock', ARGV[3], 'PX', ARGV[4])
redis.call('HSET', jobKey, 'status', 'active', 'processedOn', ARGV[2])
redis.call('HINCRBY', jobKey, 'attempts', 1)
return {id, redis.call('HGETALL', jobKey)}
"""

MOVE_TO_FINISHED = """
-- KEYS: active, completed, failed, wait; ARGV: prefix, id, token, now, value, target
local jobKey = ARGV[1] .. ARGV[2]
if redis.call('EXISTS', jobKey) == 0 then return -1 end
if redis.call('GET', jobKey .. ':lock') ~= ARGV[3] then return -2 end
redis.call('DEL', jobKey .. ':lock')
if redis.call('LREM', KEYS[1], -1, ARGV[2]) == 0 then return -3 end
if ARGV[6] == 'completed' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
  redis.call('HSET', jobKey, 'status', 'completed', 'returnvalue', ARGV[5], 'finishedOn', ARGV[4])
  return 0
end
local attempts = tonumber(redis.call('HGET', jobKey, 'attempts'))
local maxAttempts = tonumber(redis.call('HGET', jobKey, 'maxAttempts'))
if attempts < maxAttempts then
  redis.call('RPUSH', KEYS[4], ARGV[2])
  redis.call('HSET', jobKey, 'status', 'waiting', 'failedReason', ARGV[5])
  return 1
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('HSET', jobKey, 'status', 'failed', 'failedReason', ARGV[5], 'finishedOn', ARGV[4])
return 0
"""

Q = "bull:mail:"
WAIT, ACTIVE, DELAYED, COMPLETED, FAILED, IDS = (Q + s for s in ("wait", "active", "delayed", "completed",
                                                                  "failed", "id"))


def _queue_scenario(r: redis.Redis) -> list:
    add, take, finish = (r.register_script(s) for s in (ADD_JOB, MOVE_TO_ACTIVE, MOVE_TO_FINISHED))
    t0 = 1_700_000_000_000
    out = []

    def add_job(name, data, ts, opts):
        return add(keys=[WAIT, IDS, DELAYED], args=[Q, name, data, ts, opts])

    def take_job(now, token):
        return take(keys=[WAIT, ACTIVE, DELAYED], args=[Q, now, token, 30_000])

    def finish_job(job_id, token, now, value, target):
        return finish(keys=[ACTIVE, COMPLETED, FAILED, WAIT], args=[Q, job_id, token, now, value, target])

    out.append(("add", [add_job("welcome", '{"to":"a@example.com"}', t0, "{}"),
                        add_job("welcome", '{"to":"b@example.com"}', t0 + 1, '{"attempts":2}'),
                        add_job("digest", '{"to":"c@example.com"}', t0 + 2, '{"delay":5000}'),
                        add_job("urgent", '{"to":"d@example.com"}', t0 + 3, '{"lifo":true}'),
                        add_job("welcome", '{"to":"e@example.com"}', t0 + 4, "{}")]))
    out.append(("bad-opts", _error(lambda: add_job("x", "{}", t0, "{not json"))))
    out.append(("queues", r.lrange(WAIT, 0, -1), r.zrange(DELAYED, 0, -1, withscores=True)))
    j1 = take_job(t0 + 10, "tok-1")
    out.append(("take-1", j1))
    j2 = take_job(t0 + 11, "tok-2")
    out.append(("take-2", j2))
    out.append(("finish-wrong-token", finish_job(j1[0], "tok-2", t0 + 20, "x", "completed")))
    out.append(("finish-unknown", finish_job("999", "tok-1", t0 + 20, "x", "completed")))
    out.append(("finish-1", finish_job(j1[0], "tok-1", t0 + 21, '{"sent":true}', "completed")))
    out.append(("finish-1-again", finish_job(j1[0], "tok-1", t0 + 22, "x", "completed")))
    out.append(("fail-no-retry", finish_job(j2[0], "tok-2", t0 + 23, "SMTP timeout", "failed")))
    drained, finished = [], []
    while len(drained) < 10:
        job = take_job(t0 + 100, "tok-d")
        if job is None:
            break
        drained.append(job[0])
        bounce = job[0] == b"2"  # job 2 allows 2 attempts: retried once, then failed
        finished.append(finish_job(job[0], "tok-d", t0 + 101, "SMTP 550" if bounce else "ok",
                                   "failed" if bounce else "completed"))
    out.append(("drained", drained, finished))
    out.append(("nothing-due", take_job(t0 + 4_000, "tok-x")))
    out.append(("delayed-promoted", take_job(t0 + 5_002, "tok-late")))
    out.append(("lock-ttl", 0 < r.pttl(Q + "3:lock") <= 30_000))
    out.append(("final-lists", r.lrange(WAIT, 0, -1), r.lrange(ACTIVE, 0, -1), r.zrange(DELAYED, 0, -1)))
    out.append(("completed", r.zrange(COMPLETED, 0, -1, withscores=True)))
    out.append(("failed", r.zrange(FAILED, 0, -1, withscores=True)))
    out.append(("jobs", [r.hgetall(Q + str(i)) for i in range(1, 6)]))
    out.append(("counter", r.get(IDS)))
    return out


def _error(fn):
    try:
        return ("no error", fn())
    except ResponseError as e:
        return ("error", str(e))


def test_bullmq_style_queue(server, redis_server):
    results = {label: _queue_scenario(r) for label, r in _both(server, redis_server)}
    got = dict((x[0], x[1:]) for x in results["redis"])
    assert got["add"] == ([b"1", b"2", b"3", b"4", b"5"],)
    assert got["bad-opts"][0][0] == "error" and "Expected" in got["bad-opts"][0][1]
    assert got["queues"] == ([b"5", b"2", b"1", b"4"], [(b"3", 1_700_000_005_002.0)])
    assert got["take-1"][0][0] == b"4" and got["take-2"][0][0] == b"1"
    assert [got[k][0] for k in ("finish-wrong-token", "finish-unknown", "finish-1", "finish-1-again",
                                "fail-no-retry")] == [-2, -1, 0, -2, 0]
    assert got["drained"] == ([b"2", b"2", b"5"], [1, 0, 0])
    assert got["nothing-due"] == (None,) and got["delayed-promoted"][0][0] == b"3"
    assert got["lock-ttl"] == (True,)
    assert got["final-lists"] == ([], [b"3"], [])
    assert got["completed"] == ([(b"4", 1_700_000_000_021.0), (b"5", 1_700_000_000_101.0)],)
    assert got["failed"] == ([(b"1", 1_700_000_000_023.0), (b"2", 1_700_000_000_101.0)],)
    assert results["redoubt"] == results["redis"]
