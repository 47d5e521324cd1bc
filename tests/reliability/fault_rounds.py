#!/usr/bin/env python3
"""fault_rounds.py GW_PORT GW_PID MOCK_PORT ROUNDS - every upstream fault at once, in rounds, with
healthy traffic beside it; checks each client's answer, that healthy traffic is unaffected,
and that the gateway's fds and RSS after the last round are back to their level after the
first (warm-up) round. The providers are set up by test_fault_baseline.sh.

Tolerances (RSS is noisy: glibc keeps freed arenas, h2o keeps pools): RSS +12 MB over 2
further rounds that each move 3 x 32 MiB huge responses and ~150 failed requests, or no
higher at the end than in an earlier round (a leak grows round after round). fds: the
ones that are not connections to the mock upstream must be back exactly (+2); idle upstream
connections are libcurl's cache, bounded by UP_MAXCONNECTS (64) per worker (2 here).
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawhttp import chat, proc_stats, socket_ports  # noqa: E402

PORT, PID, MOCK, ROUNDS = (int(a) for a in sys.argv[1:5])
FD_SLACK, RSS_SLACK_KB, UPSTREAM_CAP = 2, 12 * 1024, 2 * 64
# Sanitizer builds: 3x the time limits; ASan's quarantine (up to 256 MB of freed memory
# held back) makes RSS say nothing about leaks there, which LSan checks instead.
SLOW = 1 if os.environ.get("SLUICE_BUILD", "build") == "build" else 3
if SLOW > 1:
    RSS_SLACK_KB = 300 * 1024
M = '"messages":[{"role":"user","content":"a b c d e f g h"}]'


def body(model, stream=False, fallbacks=None):
    fb = ',"fallbacks":[%s]' % ",".join('"%s"' % f for f in fallbacks) if fallbacks else ""
    return '{"model":"%s/m"%s%s,%s}' % (model, ',"stream":true' if stream else "", fb, M)


def sse_error(p):  # an error event naming the provider, and no [DONE]
    return lambda s, t: s == 200 and '"error":{"message":"provider %s' % p in t and "[DONE]" not in t


def http_error(status, text):
    return lambda s, t: s == status and text in t and t.startswith('{"error":{"message":')


def either(*checks):
    return lambda s, t: any(c(s, t) for c in checks)


def ok_echo(s, t):
    return s == 200 and ("echo: a b c d e f g h" in t or "[DONE]" in t)


# name, request body, check, copies per round, max seconds per request
CASES = [
    ("refused", body("refused"), http_error(502, "cannot connect to provider refused"), 10, 5),
    ("refused-stream", body("refused", True), either(http_error(502, "cannot connect"), sse_error("refused")), 5, 5),
    ("reset-before-headers", body("reset"), http_error(502, "provider reset failed"), 10, 5),
    ("reset-before-headers-stream", body("reset", True), either(http_error(502, "provider reset"), sse_error("reset")), 5, 5),
    ("reset-mid-stream", body("midreset", True), either(sse_error("midreset"), http_error(502, "provider midreset")), 10, 5),
    ("reset-mid-body", body("midreset"), http_error(502, "provider midreset"), 5, 5),
    ("stall", body("stall"), http_error(504, "timed out"), 4, 4),
    ("stall-mid-stream", body("midstall", True), sse_error("midstall"), 4, 4),
    ("5xx-storm-500", body("f500"), http_error(502, "provider f500 returned HTTP 500"), 30, 5),
    ("5xx-storm-503", body("f503"), http_error(503, "provider f503 returned HTTP 503"), 30, 5),
    ("5xx-storm-stream", body("f500", True), either(http_error(502, "HTTP 500"), sse_error("f500")), 10, 5),
    ("malformed-json", body("badjson"), http_error(502, "not a JSON object"), 10, 5),
    ("malformed-sse", body("badsse", True), sse_error("badsse"), 10, 5),
    ("huge", body("huge"), lambda s, t: s == 200 and len(t) > 32 * 1024 * 1024, 2, 20),
    ("huge-stream", body("huge", True), lambda s, t: s == 200 and t.rstrip().endswith("data: [DONE]"), 1, 20),
    ("drip", body("drip"), http_error(504, "timed out"), 4, 4),
    ("fallback-refused", body("refused", fallbacks=["up/m"]), ok_echo, 5, 5),
    ("fallback-reset", body("reset", True, fallbacks=["up/m"]), ok_echo, 5, 5),
    ("fallback-503", body("f503", fallbacks=["up/m"]), ok_echo, 5, 5),
    ("fallback-stall", body("stall", fallbacks=["up/m"]), ok_echo, 3, 4),
]

failures = []
lock = threading.Lock()


def run_case(name, b, check, limit):
    t0 = time.monotonic()
    try:
        status, text = chat(PORT, b, timeout=limit * SLOW + 10)
    except OSError as e:
        status, text = -1, "client error: %s" % e
    el = time.monotonic() - t0
    if not check(status, text) or el > limit * SLOW:
        with lock:
            failures.append("%s: HTTP %d after %.1f s: %s" % (name, status, el, text[-300:]))


def healthy(stop, stats):
    """Sequential healthy requests during the fault phase: all must succeed quickly."""
    i = 0
    while not stop.is_set():
        b = body("up", stream=(i % 2 == 1))
        t0 = time.monotonic()
        try:
            status, text = chat(PORT, b, timeout=10)
        except OSError as e:
            status, text = -1, str(e)
        el = time.monotonic() - t0
        stats["n"] += 1
        stats["worst"] = max(stats["worst"], el)
        if not ok_echo(status, text) or el > 5.0 * SLOW:   # huge replies, python threads, 2 shared cores
            with lock:
                failures.append("healthy traffic: HTTP %d after %.2f s: %s" % (status, el, text[-200:]))
        i += 1


def settle(timeout=10.0):
    """Waits until no client connection is left on the gateway (the phase's requests are
    all finished); returns (rss, fds other than upstream connections, upstream conns)."""
    end = time.monotonic() + timeout
    while True:
        time.sleep(0.3)
        ports = socket_ports(PID)
        clients = sum(1 for lp, rp in ports if lp == PORT and rp != 0)
        if clients == 0 or time.monotonic() > end:
            break
    rss, fds = proc_stats(PID)
    up = sum(1 for lp, rp in ports if rp == MOCK)
    return rss, fds - up, up


marks = []
for rnd in range(ROUNDS):
    stop, stats = threading.Event(), {"n": 0, "worst": 0.0}
    h = threading.Thread(target=healthy, args=(stop, stats))
    h.start()
    threads = [threading.Thread(target=run_case, args=(n, b, c, lim))
               for (n, b, c, copies, lim) in CASES for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    h.join()
    rss, fds, up = settle()
    marks.append((rss, fds))
    print("round %d: %d fault requests, %d healthy (worst %.2f s), RSS %d KB, fds %d + %d idle upstream"
          % (rnd + 1, len(threads), stats["n"], stats["worst"], rss, fds, up))
    if up > UPSTREAM_CAP:
        failures.append("%d upstream connections open (cap %d)" % (up, UPSTREAM_CAP))
    if failures:
        break

for f in failures[:15]:
    print("FAIL:", f)
if failures:
    sys.exit(1)
base_rss, base_fds = marks[0]
end_rss, end_fds = marks[-1]
if end_fds > base_fds + FD_SLACK:
    print("FAIL: fds %d after the warm-up round, %d at the end" % (base_fds, end_fds))
    sys.exit(1)
# A leak grows with every round; allocator noise goes up and down. So the end must be
# within the slack of the warm-up round, or at least no higher than a round before it.
if end_rss > base_rss + RSS_SLACK_KB and end_rss > max(r for r, _ in marks[:-1]):
    print("FAIL: RSS %d KB after the warm-up round, %d KB at the end (rounds: %s)"
          % (base_rss, end_rss, ", ".join(str(r) for r, _ in marks)))
    sys.exit(1)
print("ok: faults x%d rounds: fds %d -> %d, RSS %d -> %d KB" % (ROUNDS, base_fds, end_fds, base_rss, end_rss))
