#!/usr/bin/env python3
"""Soak client: N requests of mixed kinds through the gateway, each answer checked.

usage: soak_client.py PORT TOTAL PROCS GW_PID INTERVAL_S CSV_OUT

PROCS worker processes each keep one keep-alive connection (reopened when the
server closes it) and send their share of TOTAL requests, cycling through the
KINDS below. Every answer is checked against what that kind must give (status
and a marker in the body); a request that gets no complete answer is an error.
The main process samples the gateway's RSS (/proc/PID/status VmRSS) and fd count
every INTERVAL_S seconds into CSV_OUT ("seconds,requests_done,rss_kb,fds").

Last line on stdout: "SOAK requests=N answered=N unexpected=N seconds=S rate=R"
(exit 1 if any request was unanswered or unexpected, with the first few shown).
"""
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reliability"))
from rawhttp import Conn, proc_stats  # noqa: E402

MSG = '"messages":[{"role":"user","content":"soak %d"}]'

# name, path-body template, whether the body is SSE, expected status, marker that must
# appear in the body, marker that must NOT appear ("" = none).
KINDS = [
    ("mock", '{"model":"mock/m",' + MSG + '}', 200, '"content":"echo: soak', ""),
    ("mock-stream", '{"model":"mock/m","stream":true,' + MSG + '}', 200, "data: [DONE]", '"error"'),
    ("up", '{"model":"up/m",' + MSG + '}', 200, '"content":"echo: soak', ""),
    ("up-stream", '{"model":"up/m","stream":true,' + MSG + '}', 200, "data: [DONE]", '"error"'),
    ("mock2", '{"model":"mock/m",' + MSG + '}', 200, '"content":"echo: soak', ""),
    ("f500", '{"model":"f500/m",' + MSG + '}', 502, '{"error":{"message":"provider f500 returned HTTP 500', ""),
    # 200 + an SSE error event, or 502 when the RST overtook the head (Linux drops
    # unread received bytes on RST): either way a clear error, never [DONE].
    ("cut-stream", '{"model":"cut/m","stream":true,' + MSG + '}', (200, 502), '"error":{"message":"provider cut', "[DONE]"),
    ("fallback", '{"model":"f500/m","fallbacks":["up/m"],' + MSG + '}', 200, '"content":"echo: soak', ""),
    ("badjson", '{"model":"mock/m", "messages": [', 400, '"type":"invalid_request_error"', ""),
    ("up2", '{"model":"up/m",' + MSG + '}', 200, '"content":"echo: soak', ""),
]


def worker(idx, port, count, nprocs, done, bad, samples):
    conn = Conn(port)
    unexpected = 0
    for i in range(count):
        seq = idx + i * nprocs
        name, tmpl, want, marker, absent = KINDS[seq % len(KINDS)]
        body = tmpl.replace("%d", str(seq)) if "%d" in tmpl else tmpl
        ok, why = False, ""
        for attempt in range(2):   # a keep-alive connection the server just closed: retry once
            try:
                if conn.sock is None:
                    conn.open()
                status, resp, keep = conn.request(body)
                if not keep:
                    conn.close()
                text = resp.decode("utf-8", "replace")
                ok = (status in want if isinstance(want, tuple) else status == want) and marker in text and (not absent or absent not in text)
                why = "%s: HTTP %d %s" % (name, status, text[-300:])
                break
            except (OSError, ValueError, IndexError) as e:
                conn.close()
                why = "%s: %s" % (name, e)
                if attempt == 0 and isinstance(e, ConnectionError) and "status line" in str(e):
                    continue
                break
        if not ok:
            unexpected += 1
            if unexpected <= 3:
                samples.put(why)
        if i % 256 == 255 or i == count - 1:
            with done.get_lock():
                done.value += (i % 256) + 1
            with bad.get_lock():
                bad.value += unexpected
            unexpected = 0
    conn.close()


def main():
    port, total, nprocs, pid = (int(a) for a in sys.argv[1:5])
    interval = float(sys.argv[5])
    csv = open(sys.argv[6], "w")
    csv.write("seconds,requests_done,rss_kb,fds\n")
    done, bad = mp.Value("q", 0), mp.Value("q", 0)
    samples = mp.Queue()
    per = [total // nprocs + (1 if i < total % nprocs else 0) for i in range(nprocs)]
    procs = [mp.Process(target=worker, args=(i, port, per[i], nprocs, done, bad, samples))
             for i in range(nprocs)]
    t0 = time.monotonic()
    rss, fds = proc_stats(pid)
    csv.write("0,0,%d,%d\n" % (rss, fds))
    for p in procs:
        p.start()
    next_sample = t0 + interval
    while any(p.is_alive() for p in procs):
        time.sleep(min(0.2, max(0.0, next_sample - time.monotonic())))
        if time.monotonic() >= next_sample:
            rss, fds = proc_stats(pid)
            csv.write("%.1f,%d,%d,%d\n" % (time.monotonic() - t0, done.value, rss, fds))
            csv.flush()
            next_sample += interval
    for p in procs:
        p.join()
    secs = time.monotonic() - t0
    rss, fds = proc_stats(pid)
    csv.write("%.1f,%d,%d,%d\n" % (secs, done.value, rss, fds))
    csv.close()
    shown = []
    while not samples.empty() and len(shown) < 10:
        shown.append(samples.get())
    for s in shown:
        print("unexpected:", s)
    answered = done.value
    print("SOAK requests=%d answered=%d unexpected=%d seconds=%.1f rate=%.0f" %
          (total, answered, bad.value, secs, answered / secs if secs else 0))
    sys.exit(0 if answered == total and bad.value == 0 and all(p.exitcode == 0 for p in procs) else 1)


if __name__ == "__main__":
    main()
