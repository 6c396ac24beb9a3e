"""The latency monitor (LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR / HELP,
latency-monitor-threshold) and per-command latency tracking (LATENCY HISTOGRAM, INFO
latencystats, latency-tracking, latency-tracking-info-percentiles) against Debian's
redis-server 7.0.

- Deterministic replies (HELP, errors and arity errors, an empty monitor, RESET counts, the
  DOCTOR texts with no event, the CONFIG directives and their errors, COMMAND INFO / DOCS of
  the subcommands, LATENCY refused from a script) byte for byte, RESP2 and RESP3.
- A `command` event made by DEBUG SLEEP with latency-monitor-threshold 1: LATEST, HISTORY,
  one sample per second keeping the worst, the all-time maximum, RESET (case-insensitive),
  and GRAPH checked against a model of Redis's sparkline that is itself checked against
  Redis; DOCTOR equal to Redis's report up to the measured numbers.
- Histograms: durations differ run to run, so the bucket counts are not compared; the
  commands present, their call counts and the shape are. Bucket bounds and percentiles must
  be values at hdr_histogram bucket edges (1 ns .. 1 s, 2 significant digits), as Redis
  prints them. CONFIG RESETSTAT clears them; latency-tracking no stops recording.
- INFO latencystats: in INFO all / everything / by name, after Errorstats and before Cluster,
  never in the default INFO.
"""

import re
import time

import pytest

from compare import compare_command_group

pytestmark = [
    pytest.mark.plain_only("transport-independent; runs once to keep ./runtest short"),
    pytest.mark.server_args("--enable-debug-command", "yes"),
    pytest.mark.redis_server_args("--enable-debug-command", "yes"),
]


# ---------------------------------------------------------------------------
# hdr_histogram's buckets (lowest 1, highest 1e9, 2 significant digits)
# ---------------------------------------------------------------------------
def bucket_of(ns):
    return max((ns | 255).bit_length() - 8, 0)


def lowest_equivalent(ns):
    b = bucket_of(ns)
    return (ns >> b) << b


def highest_equivalent(ns):
    b = bucket_of(ns)
    return lowest_equivalent(ns) + (1 << b) - 1


# LATENCY HISTOGRAM's keys: levels 1024 ns * 2^k, each reported as the highest value of its
# bucket in us (1, 2, 4, 8, 16, 33, 66, ...); past the last bucket, 1073741.
HISTOGRAM_KEYS = [highest_equivalent(1024 << k) // 1000 for k in range(20)] + [1073741]


def usec_field_ns(text):
    """'10027.007' (us, %.3f) -> 10027007 ns."""
    whole, _, frac = text.partition(".")
    assert len(frac) == 3, text
    return int(whole) * 1000 + int(frac)


# ---------------------------------------------------------------------------
# Redis's sparkline (src/sparkline.c) as LATENCY GRAPH uses it: 80 columns, 4 rows, filled
# ---------------------------------------------------------------------------
def graph_label(elapsed):
    if elapsed < 60:
        return "%ds" % elapsed
    if elapsed < 3600:
        return "%dm" % (elapsed // 60)
    if elapsed < 86400:
        return "%dh" % (elapsed // 3600)
    return "%dd" % (elapsed // 86400)


def render_graph(event, history, all_time_high, now):
    values = [lat for _, lat in history]
    labels = [graph_label(now - t) for t, _ in history]
    low, high = min(values), max(values)
    out = "%s - high %d ms, low %d ms (all time high %d ms)\n" % (event, high, low, all_time_high)
    out += "-" * 80 + "\n"
    relmax = (high - low) or 1
    for start in range(0, len(values), 80):
        if start:
            out += "\n"
        chunk, chunk_labels = values[start:start + 80], labels[start:start + 80]
        for row in range(4):
            line = ""
            for v in chunk:
                step = min(max(int(int((v - low) * 12) / relmax), 0), 11)
                idx = step - (4 - row - 1) * 3
                line += "_o#"[idx] if 0 <= idx < 3 else ("|" if idx >= 3 else " ")
            out += line + "\n"
        out += " " * len(chunk) + "\n"
        for r in range(max(len(lbl) for lbl in chunk_labels)):
            out += "".join(lbl[r] if len(lbl) > r else " " for lbl in chunk_labels) + "\n"
    return out.encode()


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def call(c, *args):
    reply = c.call(*args)
    assert not isinstance(reply, Exception), (args, reply)
    return reply


def pairs(flat):
    """A RESP2 map (flat array) as a dict."""
    return dict(zip(flat[0::2], flat[1::2]))


def histograms(c, *names):
    """LATENCY HISTOGRAM as {name: (calls, {bound_us: cumulative})}, from RESP2."""
    out = {}
    for name, body in pairs(call(c, "LATENCY", "HISTOGRAM", *names)).items():
        body = pairs(body)
        assert list(body) == [b"calls", b"histogram_usec"], body
        out[name.decode()] = (body[b"calls"], pairs(body[b"histogram_usec"]))
    return out


def check_histogram(name, calls, buckets):
    assert calls > 0, name
    bounds = list(buckets)
    assert bounds and all(b in HISTOGRAM_KEYS for b in bounds), (name, bounds)
    assert bounds == sorted(bounds), (name, bounds)
    counts = list(buckets.values())
    assert all(a < b for a, b in zip(counts, counts[1:])), (name, buckets)
    assert counts[-1] == calls, (name, calls, buckets)


def latencystats(c):
    """INFO latencystats as {command: [(percentile, ns), ...]}."""
    text = bytes(call(c, "INFO", "latencystats")).decode()
    lines = [l for l in text.split("\r\n") if l]
    assert lines[0] == "# Latencystats", text
    out = {}
    for line in lines[1:]:
        field, _, value = line.partition(":")
        assert field.startswith("latency_percentiles_usec_"), line
        fields = []
        for item in value.split(",") if value else []:
            p, _, v = item.partition("=")
            assert p.startswith("p"), line
            fields.append((p[1:], usec_field_ns(v)))
        out[field[len("latency_percentiles_usec_"):]] = fields
    return out


def wait_for_next_second():
    now = time.time()
    time.sleep(int(now) + 1.02 - now)


# ---------------------------------------------------------------------------
# Byte-for-byte tables
# ---------------------------------------------------------------------------
MONITOR_TABLE = [
    ["LATENCY", "HELP"],
    ["latency", "help"],
    ["LATENCY", "LATEST"],
    ["LATENCY", "HISTORY", "command"],
    ["LATENCY", "HISTORY", "no-such-event"],
    ["LATENCY", "GRAPH", "command"],
    ["LATENCY", "GRAPH", "a%sb" % "%s"],
    ["LATENCY", "RESET"],
    ["LATENCY", "RESET", "command", "fork", "COMMAND"],
    ["LATENCY", "DOCTOR"],
    # arity and subcommand errors
    ["LATENCY"],
    ["LATENCY", "FOO"],
    ["LATENCY", "HISTORY"],
    ["LATENCY", "HISTORY", "a", "b"],
    ["LATENCY", "GRAPH"],
    ["LATENCY", "LATEST", "x"],
    ["LATENCY", "DOCTOR", "x"],
    ["LATENCY", "HELP", "x"],
    # histograms of commands without data, unknown names, numbers
    ["LATENCY", "HISTOGRAM", "no-such-command"],
    ["LATENCY", "HISTOGRAM", "no|such", "config|nosuch", "get|x", "123", "a|b|c"],
    # the directives
    ["CONFIG", "GET", "latency-monitor-threshold"],
    ["CONFIG", "GET", "latency-tracking"],
    ["CONFIG", "GET", "latency-tracking-info-percentiles"],
    ["CONFIG", "SET", "latency-monitor-threshold", "-1"],
    ["CONFIG", "SET", "latency-monitor-threshold", "abc"],
    ["CONFIG", "SET", "latency-tracking", "maybe"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "-0.5"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "abc"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "1e1 0 100 99.99 50.50 0.001"],
    ["CONFIG", "GET", "latency-tracking-info-percentiles"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", ""],
    ["CONFIG", "GET", "latency-tracking-info-percentiles"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9"],
    # monitoring on, nothing slow enough: "no spike" and still no event
    ["CONFIG", "SET", "latency-monitor-threshold", "100000"],
    ["CONFIG", "GET", "latency-monitor-threshold"],
    ["LATENCY", "DOCTOR"],
    ["LATENCY", "LATEST"],
    ["LATENCY", "RESET"],
    ["CONFIG", "SET", "latency-monitor-threshold", "0"],
    # refused from scripts; the command table
    ["EVAL", "return redis.pcall('latency','latest')", "0"],
    ["EVAL", "return redis.pcall('latency','help')", "0"],
    ["COMMAND", "INFO", "latency|doctor", "latency|graph", "latency|help", "latency|histogram",
     "latency|history", "latency|latest", "latency|reset"],
    ["COMMAND", "DOCS", "latency|histogram"],
    ["COMMAND", "DOCS", "latency|reset"],
    ["COMMAND", "DOCS", "latency|help"],
]


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_deterministic_replies_match_redis(server, redis_server, resp3):
    compare_command_group(server, redis_server, MONITOR_TABLE, ["latency"], "lat", resp3)


# ---------------------------------------------------------------------------
# The monitor: a `command` event
# ---------------------------------------------------------------------------
def test_command_event_latest_history_graph(server, redis_server):
    # 3 ms: well above what the LATENCY commands themselves take (DOCTOR reads smaps).
    conns = [(srv.name, srv.raw()) for srv in (server, redis_server)]
    for _, c in conns:
        assert call(c, "CONFIG", "SET", "latency-monitor-threshold", "3") == b"OK"
        assert call(c, "LATENCY", "LATEST") == []

    # Two spikes in one second keep one sample, the worse of the two.
    wait_for_next_second()
    start = int(time.time())
    for _, c in conns:
        call(c, "DEBUG", "SLEEP", "0.006")
        call(c, "DEBUG", "SLEEP", "0.012")
    for name, c in conns:
        latest = call(c, "LATENCY", "LATEST")
        assert len(latest) == 1, (name, latest)
        event, when, last, high = latest[0]
        assert event == b"command" and when == start, (name, latest)
        assert 12 <= last < 1000 and high == last, (name, latest)
        assert call(c, "LATENCY", "HISTORY", "command") == [[when, last]], name
        assert call(c, "LATENCY", "HISTORY", "COMMAND") == [], name  # names are exact

    # A later second, a smaller spike: a second sample; the all-time high stays.
    wait_for_next_second()
    for _, c in conns:
        call(c, "DEBUG", "SLEEP", "0.004")
    for name, c in conns:
        history = call(c, "LATENCY", "HISTORY", "command")
        assert len(history) == 2 and history[0][0] < history[1][0], (name, history)
        assert 4 <= history[1][1] < history[0][1], (name, history)
        event, when, last, high = call(c, "LATENCY", "LATEST")[0]
        assert [when, last] == history[1] and high == history[0][1], name
        # GRAPH: the model renders Redis's graph exactly, and ours the same way.
        before = int(time.time())
        graph = bytes(call(c, "LATENCY", "GRAPH", "command"))
        after = int(time.time())
        expected = [render_graph("command", history, high, now) for now in range(before, after + 1)]
        assert graph in expected, (name, graph, expected)

    # DOCTOR: the same report, up to the measured numbers.
    reports = []
    for name, c in conns:
        report = bytes(call(c, "LATENCY", "DOCTOR")).decode()
        assert report.startswith("Dave, I have observed latency spikes"), (name, report)
        reports.append(re.sub(r"\d+(\.\d+)?", "N", report))
    assert reports[0] == reports[1]

    for name, c in conns:
        call(c, "CONFIG", "SET", "latency-monitor-threshold", "1000")
        assert call(c, "LATENCY", "RESET", "nope", "Command") == 1, name
        assert call(c, "LATENCY", "LATEST") == [], name
        err = c.call("LATENCY", "GRAPH", "command")
        assert isinstance(err, Exception), name
        assert bytes(call(c, "LATENCY", "DOCTOR")).startswith(b"Dave, no latency spike"), name
        assert call(c, "CONFIG", "SET", "latency-monitor-threshold", "0") == b"OK"
        assert bytes(call(c, "LATENCY", "DOCTOR")).startswith(b"I'm sorry, Dave"), name


def test_threshold_filters_samples(server):
    """A latency below latency-monitor-threshold is not recorded; one at or above is."""
    with server.raw() as c:
        call(c, "CONFIG", "SET", "latency-monitor-threshold", "50")
        call(c, "DEBUG", "SLEEP", "0.002")
        assert call(c, "LATENCY", "LATEST") == []
        call(c, "CONFIG", "SET", "latency-monitor-threshold", "1")
        call(c, "DEBUG", "SLEEP", "0.002")
        history = call(c, "LATENCY", "HISTORY", "command")
        assert len(history) == 1 and history[0][1] >= 2
        assert call(c, "LATENCY", "RESET") == 1


# ---------------------------------------------------------------------------
# Tracking: LATENCY HISTOGRAM and INFO latencystats
# ---------------------------------------------------------------------------
WORKLOAD = [["SET", "k", "v"]] * 5 + [["GET", "k"]] * 3 + [["CONFIG", "GET", "maxmemory"]] * 2 + \
    [["CLIENT", "ID"], ["PING"], ["DEBUG", "SLEEP", "0"]]


def run_workload(c):
    assert call(c, "CONFIG", "RESETSTAT") == b"OK"
    for cmd in WORKLOAD:
        call(c, *cmd)


def test_histogram_calls_and_shape_match_redis(server, redis_server):
    results = []
    for srv in (server, redis_server):
        with srv.raw() as c:
            run_workload(c)
            named = histograms(c, "set", "GET", "config", "client", "no-such", "set")
            for name, (calls, buckets) in named.items():
                check_histogram(name, calls, buckets)
            # In argument order; a container lists its subcommands that have data.
            order = list(pairs(call(c, "LATENCY", "HISTOGRAM", "set", "get", "client", "config|get")))
            everything = histograms(c)
            for name, (calls, buckets) in everything.items():
                check_histogram(name, calls, buckets)
            results.append(({n: v[0] for n, v in named.items()}, order,
                             {n: v[0] for n, v in everything.items()}))
    ours, theirs = results
    assert ours == theirs
    assert ours[0] == {"set": 5, "get": 3, "config|get": 2, "config|resetstat": 1, "client|id": 1}
    assert ours[1] == [b"set", b"get", b"client|id", b"config|get"]
    assert ours[2] == {"config|resetstat": 1, "set": 5, "get": 3, "config|get": 2,
                       "client|id": 1, "ping": 1, "debug": 1, "latency|histogram": 2}


def test_histogram_resp3_is_a_map_of_maps(server, redis_server):
    shapes = []
    for srv in (server, redis_server):
        with srv.raw() as c:
            call(c, "HELLO", "3")
            run_workload(c)
            reply = call(c, "LATENCY", "HISTOGRAM", "set", "config|get")
            assert isinstance(reply, dict) and list(reply) == [b"set", b"config|get"]
            for body in reply.values():
                assert isinstance(body, dict) and isinstance(body[b"histogram_usec"], dict)
            shapes.append({k: (v[b"calls"], list(v)) for k, v in reply.items()})
    assert shapes[0] == shapes[1]


def test_resetstat_clears_histograms(server, redis_server):
    for srv in (server, redis_server):
        with srv.raw() as c:
            run_workload(c)
            assert call(c, "CONFIG", "RESETSTAT") == b"OK"
            # Only the RESETSTAT itself, recorded once it ran.
            assert {n: v[0] for n, v in histograms(c).items()} == {"config|resetstat": 1}, srv.name
            assert sorted(latencystats(c)) == ["config|resetstat", "latency|histogram"], srv.name


def test_info_latencystats_fields_and_percentiles(server, redis_server):
    names = []
    for srv in (server, redis_server):
        with srv.raw() as c:
            run_workload(c)
            call(c, "DEBUG", "SLEEP", "0.01")
            stats = latencystats(c)
            names.append(sorted(stats))
            for cmd, fields in stats.items():
                assert [p for p, _ in fields] == ["50", "99", "99.9"], (srv.name, cmd)
                values = [ns for _, ns in fields]
                assert values == sorted(values), (srv.name, cmd, values)
                for ns in values:
                    assert ns == highest_equivalent(ns), (srv.name, cmd, ns)
            # DEBUG SLEEP 0 and 0.01: p50 is the fast one, p99 at least 10 ms.
            debug = dict(stats["debug"])
            assert debug["50"] < 10_000_000 <= debug["99"] < 20_000_000, (srv.name, debug)

            assert call(c, "CONFIG", "SET", "latency-tracking-info-percentiles",
                        "0 12.5 100") == b"OK"
            stats = latencystats(c)
            for cmd, fields in stats.items():
                assert [p for p, _ in fields] == ["0", "12.5", "100"], (srv.name, cmd)
                (_, p0), (_, p12), (_, p100) = fields
                assert p0 == lowest_equivalent(p0), (srv.name, cmd, p0)
                assert p12 == highest_equivalent(p12) and p100 == highest_equivalent(p100)
                assert p0 <= p12 <= p100, (srv.name, cmd, fields)
            assert dict(stats["debug"])["100"] >= 10_000_000, srv.name

            call(c, "CONFIG", "SET", "latency-tracking-info-percentiles", "")
            text = bytes(call(c, "INFO", "latencystats")).decode()
            assert "\r\nlatency_percentiles_usec_set:\r\n" in text, text

            # latency-tracking no: an empty section, and calls are no longer counted.
            call(c, "CONFIG", "SET", "latency-tracking", "no")
            assert bytes(call(c, "INFO", "latencystats")) == b"# Latencystats\r\n", srv.name
            call(c, "SET", "k", "v")
            assert histograms(c, "set")["set"][0] == 5, srv.name
            call(c, "CONFIG", "SET", "latency-tracking", "yes")
            call(c, "SET", "k", "v")
            assert histograms(c, "set")["set"][0] == 6, srv.name
    assert names[0] == names[1]


def test_info_section_placement(server, redis_server):
    for srv in (server, redis_server):
        with srv.raw() as c:
            call(c, "SET", "k", "v")
            for args, present in (((), False), (("default",), False), (("all",), True),
                                  (("everything",), True), (("LatencyStats",), True),
                                  (("server", "latencystats"), True)):
                text = bytes(call(c, "INFO", *args)).decode()
                headers = [l[2:] for l in text.split("\r\n") if l.startswith("# ")]
                assert ("Latencystats" in headers) == present, (srv.name, args, headers)
                if present and "Errorstats" in headers:
                    i = headers.index("Latencystats")
                    assert headers[i - 1] == "Errorstats" and headers[i + 1] == "Cluster", headers
                if present:
                    assert re.search(r"\r\nlatency_percentiles_usec_set:p50=\d+\.\d{3},"
                                     r"p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n", text), (srv.name, args)


def test_directives_from_the_command_line(server_factory):
    srv = server_factory("--latency-monitor-threshold", "7", "--latency-tracking-info-percentiles",
                         "90 99.99", "--latency-tracking", "yes")
    with srv.raw() as c:
        assert call(c, "CONFIG", "GET", "latency-monitor-threshold") == \
            [b"latency-monitor-threshold", b"7"]
        call(c, "PING")
        stats = latencystats(c)
        assert [p for p, _ in stats["ping"]] == ["90", "99.99"]
    assert "latency-monitor-threshold is accepted but not implemented" not in srv.log_text()
    assert "latency-tracking-info-percentiles is accepted but not" not in srv.log_text()
