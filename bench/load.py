#!/usr/bin/env python3
# Copyright (C) 2026 The ngx_squash authors
#
# Load for bench/edge.sh, with curl as the client:
#
#   load.py ttfb URL RUNS            time to the first byte of the response
#                                    (median, seconds), RUNS in turn
#   load.py streams URL N PIDFILE [RATE]
#                                    N downloads at once (curl --limit-rate
#                                    RATE if given) from fresh workers
#                                    (nginx reloaded first; its size cache
#                                    stays): seconds, aggregate MB/s,
#                                    errors, each worker's peak anonymous
#                                    memory (RssAnon: heap, pools,
#                                    buffers, not code pages), the most a
#                                    worker's grew, and that over the
#                                    streams that worker served (split:
#                                    the most client connections each
#                                    worker held at once, from ss)
#   load.py latency SMALL BIG N      N downloads of BIG at once, and SMALL
#                                    requested in a loop meanwhile, one
#                                    connection each (a socket, not curl):
#                                    p50, p99, max (ms), and p50 when idle
#   load.py mix WARM COLD PIDFILE    64 at once: 32 of WARM, 16 of COLD,
#                                    16 of WARM at 50 MB/s; as streams
#   load.py many URL TOTAL AT_ONCE   TOTAL downloads, AT_ONCE at a time:
#                                    how many were cut short
#   load.py cpu URL PIDFILE [PID]    one download with one worker: its
#                                    wall time, and the CPU time of the
#                                    worker's event loop (main thread), of
#                                    its other threads (a thread pool), of
#                                    PID (the registry) and of curl
#
# A download counts as an error when curl fails (a transfer cut short is
# curl's error 18) or gets fewer bytes than Content-Length.

import concurrent.futures
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse


def curl(url, rate=None):
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w",
           "%{http_code} %{size_download} %header{content-length}", url]
    if rate:
        cmd[1:1] = ["--limit-rate", rate]
    p = subprocess.run(cmd, capture_output=True, text=True)
    parts = p.stdout.split()
    size = int(parts[1]) if len(parts) > 1 else 0
    ok = (p.returncode == 0 and len(parts) == 3 and parts[0] == "200"
          and parts[1] == parts[2])
    return ok, size


def ttfb(url, runs):
    u = urllib.parse.urlsplit(url)
    times = []
    for _ in range(runs):
        s = socket.create_connection((u.hostname, u.port or 80))
        t0 = time.monotonic()
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % (u.path, u.hostname)).encode())
        s.recv(1)
        times.append(time.monotonic() - t0)
        s.close()
        time.sleep(0.2)
    print("%.4f" % statistics.median(times))


def workers(pidfile):
    master = open(pidfile).read().strip()
    out = subprocess.run(["pgrep", "-P", master], capture_output=True,
                         text=True).stdout.split()
    return [int(p) for p in out]


def fresh_workers(pidfile):
    """nginx reloaded (SIGHUP): new workers, none of the old left"""
    old = set(workers(pidfile))
    os.kill(int(open(pidfile).read().strip()), signal.SIGHUP)
    for _ in range(300):
        time.sleep(0.1)
        now = set(workers(pidfile))
        if len(now) == len(old) and not now & old:
            time.sleep(0.5)     # the new workers' start-up done
            return
    sys.exit("nginx was not reloaded")


def rss_kb(pid, key):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def clients(port):
    """established client connections to PORT, by the pid holding them"""
    out = subprocess.run(["ss", "-Htnp", "state", "established",
                          "sport = :%d" % port],
                         capture_output=True, text=True).stdout
    held = {}
    for pid in re.findall(r"pid=(\d+)", out):
        held[int(pid)] = held.get(int(pid), 0) + 1
    return held


def streams(urls, pidfile):
    """urls: (url, rate) a download"""
    fresh_workers(pidfile)
    pids = workers(pidfile)
    port = urllib.parse.urlsplit(urls[0][0]).port or 80
    base = {p: rss_kb(p, "RssAnon") for p in pids}
    peak = dict(base)
    split = dict.fromkeys(pids, 0)
    done = threading.Event()
    n = len(urls)

    def sample():
        i = 0
        while not done.is_set():
            for p in pids:
                peak[p] = max(peak[p], rss_kb(p, "RssAnon"))
            if i % 10 == 0:
                held = clients(port)
                for p in pids:
                    split[p] = max(split[p], held.get(p, 0))
            i += 1
            time.sleep(0.05)

    t = threading.Thread(target=sample)
    t.start()
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        res = list(ex.map(lambda u: curl(*u), urls))
    secs = time.monotonic() - t0
    done.set()
    t.join()

    errors = sum(1 for ok, _ in res if not ok)
    total = sum(size for _, size in res)
    grow = max(peak[p] - base[p] for p in pids) if pids else 0
    # a worker's growth over the streams it held (a worker the sampling
    # saw none on: over as many as an even split would give it)
    even = -(-n // max(1, len(pids)))
    per = max((peak[p] - base[p]) / (split[p] or even) for p in pids) \
        if pids else 0
    print("streams=%d seconds=%.2f aggregate_MBps=%.1f errors=%d "
          "split=%s peak_rss_kb=%s peak_rss_growth_kb=%d per_stream_kb=%.0f"
          % (n, secs, total / secs / 1e6, errors,
             "/".join(str(split[p]) for p in pids),
             "/".join(str(peak[p]) for p in pids), grow, per))


def latency(small, big, n):
    stop = threading.Event()
    lat = []

    u = urllib.parse.urlsplit(small)
    req = ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n"
           % (u.path, u.hostname)).encode()

    def get():
        # a new connection each time, read to its end: no client start-up
        t0 = time.monotonic()
        s = socket.create_connection((u.hostname, u.port or 80))
        s.sendall(req)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        ok = data.startswith(b"HTTP/1.1 200")
        return ok, (time.monotonic() - t0) * 1000

    def loop():
        while not stop.is_set():
            ok, ms = get()
            if ok:
                lat.append(ms)
            time.sleep(0.01)

    idle = sorted(get()[1] for _ in range(50))

    t = threading.Thread(target=loop)
    t.start()
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        res = list(ex.map(lambda _: curl(big), range(n)))
    stop.set()
    t.join()

    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("requests=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f big_errors=%d "
          "(idle: p50_ms=%.2f)"
          % (len(lat), statistics.median(lat), p99, lat[-1],
             sum(1 for ok, _ in res if not ok), statistics.median(idle)))


def many(url, total, at_once):
    with concurrent.futures.ThreadPoolExecutor(at_once) as ex:
        res = list(ex.map(lambda _: curl(url), range(total)))
    print("downloads=%d cut_short=%d" % (total,
                                         sum(1 for ok, _ in res if not ok)))


def cpu_seconds(path):
    """utime + stime of a /proc stat file, in seconds"""
    try:
        f = open(path).read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def threads_cpu(pid):
    """the main thread's CPU seconds, and the other threads'"""
    main, rest = 0.0, 0.0
    for tid in os.listdir("/proc/%d/task" % pid):
        t = cpu_seconds("/proc/%d/task/%s/stat" % (pid, tid))
        if int(tid) == pid:
            main = t
        else:
            rest += t
    return main, rest


def cpu(url, pidfile, other):
    pid = workers(pidfile)[0]
    m0, r0 = threads_cpu(pid)
    o0 = cpu_seconds("/proc/%d/stat" % other) if other else 0.0
    t0 = time.monotonic()
    p = subprocess.Popen(["curl", "-fsS", "-o", "/dev/null", url])
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.monotonic() - t0
    m1, r1 = threads_cpu(pid)
    o1 = cpu_seconds("/proc/%d/stat" % other) if other else 0.0
    c = ru.ru_utime + ru.ru_stime
    total = (m1 - m0) + (r1 - r0) + (o1 - o0) + c
    print("seconds=%.2f loop=%.2f threads=%.2f registry=%.2f curl=%.2f "
          "cores=%.2f%s" % (secs, m1 - m0, r1 - r0, o1 - o0, c,
                            total / secs, "" if status == 0 else " FAILED"))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "ttfb":
        ttfb(args[0], int(args[1]))
    elif cmd == "streams":
        rate = args[3] if len(args) > 3 else None
        streams([(args[0], rate)] * int(args[1]), args[2])
    elif cmd == "mix":
        streams([(args[0], None)] * 32 + [(args[1], None)] * 16
                + [(args[0], "50M")] * 16, args[2])
    elif cmd == "latency":
        latency(args[0], args[1], int(args[2]))
    elif cmd == "many":
        many(args[0], int(args[1]), int(args[2]))
    elif cmd == "cpu":
        cpu(args[0], args[1], int(args[2]) if len(args) > 2 else 0)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
