"""A realistic redis-py (Debian python3-redis) session against Redoubt: an order
queue the way an application would write it.

- a producer pipelines each order as a hash, a list push and a sorted-set entry;
- three workers take orders with BLPOP (1 s timeout, so an idle worker wakes up
  and polls its stop flag) and reserve stock in a WATCH/MULTI/EXEC transaction
  that retries on WatchError, all three contending for the same stock keys;
- every completed order is published; a pub/sub listener thread collects them;
- a last BLPOP on the empty queue times out and returns None.

The end state is checked against what the orders must add up to, so a lost
wake-up, a transaction that applied twice or a dropped message fails the test.
Runs in plain and TLS mode (the harness's client carries the TLS settings).
"""

import threading
import time

import redis

ORDERS = 60
PRODUCTS = ["apple", "pear", "plum"]
STOCK_EACH = 1000


def test_order_queue_session(server):
    r = server.client(decode_responses=True)
    r.flushall()
    for p in PRODUCTS:
        r.set(f"stock:{p}", STOCK_EACH)

    # Listener thread: completion messages.
    listener = r.pubsub()
    listener.subscribe("orders:done")
    assert listener.get_message(timeout=2)["type"] == "subscribe"
    done_ids = []
    listener_stop = threading.Event()

    def listen():
        while not listener_stop.is_set():
            m = listener.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if m is not None and m["type"] == "message":
                done_ids.append(m["data"])

    lt = threading.Thread(target=listen)
    lt.start()

    # Workers: BLPOP with a timeout, then a WATCH retry loop per order.
    stop = threading.Event()
    errors = []

    def worker():
        w = server.client(decode_responses=True)
        try:
            while not stop.is_set():
                item = w.blpop("orders:queue", timeout=1)
                if item is None:
                    continue
                _, oid = item
                order = w.hgetall(f"order:{oid}")
                key = f"stock:{order['product']}"
                qty = int(order["qty"])
                with w.pipeline() as pipe:
                    while True:
                        try:
                            pipe.watch(key)
                            left = int(pipe.get(key))
                            pipe.multi()
                            pipe.set(key, left - qty)
                            pipe.hset(f"order:{oid}", "state", "done")
                            pipe.zrem("orders:pending", oid)
                            pipe.execute()
                            break
                        except redis.WatchError:
                            continue  # another worker changed the stock: retry
                w.publish("orders:done", oid)
        except Exception as exc:  # reported by the main thread
            errors.append(repr(exc))

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for t in workers:
        t.start()

    # Producer: one pipeline (MULTI-less) per batch of orders.
    expected_used = {p: 0 for p in PRODUCTS}
    for batch in range(0, ORDERS, 10):
        pipe = r.pipeline(transaction=False)
        for i in range(batch, batch + 10):
            product = PRODUCTS[i % len(PRODUCTS)]
            qty = 1 + i % 4
            expected_used[product] += qty
            pipe.hset(f"order:{i}", mapping={"product": product, "qty": qty, "state": "new"})
            pipe.zadd("orders:pending", {str(i): time.time()})
            pipe.rpush("orders:queue", i)
        replies = pipe.execute()
        assert replies[0::3] == [3] * 10  # three new fields per order hash
        time.sleep(0.05)

    deadline = time.time() + 20
    while time.time() < deadline and (r.zcard("orders:pending") or len(done_ids) < ORDERS):
        time.sleep(0.05)
    stop.set()
    for t in workers:
        t.join(5)
    listener_stop.set()
    lt.join(5)
    listener.close()

    assert errors == []
    assert r.zcard("orders:pending") == 0
    assert r.llen("orders:queue") == 0
    assert sorted(done_ids, key=int) == [str(i) for i in range(ORDERS)]
    for p in PRODUCTS:
        assert int(r.get(f"stock:{p}")) == STOCK_EACH - expected_used[p]
    assert all(r.hget(f"order:{i}", "state") == "done" for i in range(ORDERS))

    # A retry that must happen: another client writes between WATCH and EXEC.
    attempts = 0
    other = server.client()
    with r.pipeline() as pipe:
        while True:
            attempts += 1
            try:
                pipe.watch("stock:apple")
                left = int(pipe.get("stock:apple"))
                if attempts == 1:
                    other.incrby("stock:apple", 5)
                pipe.multi()
                pipe.set("stock:apple", left - 1)
                pipe.execute()
                break
            except redis.WatchError:
                continue
    assert attempts == 2
    assert int(r.get("stock:apple")) == STOCK_EACH - expected_used["apple"] + 5 - 1

    # Blocking pop with a timeout on an empty list returns None after ~the timeout.
    t0 = time.monotonic()
    assert r.blpop("orders:queue", timeout=0.3) is None
    assert time.monotonic() - t0 >= 0.25
