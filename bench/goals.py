#!/usr/bin/env python3
# Copyright (C) 2026 The ngx_squash authors
#
# Issue 11's goals, each as met or not, from what bench/edge.sh measured in
# its last run:
#
#   goals.py WORK [POOL_BUFFERS]
#
# WORK/edge.json (hyperfine, the "single" part) and WORK/results.txt (one
# line a figure: a key, then bench/load.py's key=value words).  A goal
# whose part was not run reads "not measured".  Prints a Markdown table.

import json
import os
import re
import sys

# bench/edge.sh's hyperfine names
SINGLE = {
    "igzip": "ISA-L floor (igzip -dc)",
    "fwarm": "one core's floor, warm (bench/floor.c)",
    "fcold": "one core's floor, cold (bench/floor.c)",
    "cold": "files, cold (smallest)",
    "squash": "files, warm",
    "pcold": "proxy_pass, cold (smallest)",
    "pwarm": "proxy_pass, warm",
    "tcold": "files, cold, thread pool",
    "twarm": "files, warm, thread pool",
    "tpcold": "proxy_pass, cold, thread pool",
    "tpwarm": "proxy_pass, warm, thread pool",
}


def load(work):
    means = {}
    try:
        res = json.load(open(os.path.join(work, "edge.json")))["results"]
    except OSError:
        res = []
    by_name = {r["command"]: r["mean"] for r in res}
    for key, name in SINGLE.items():
        if name in by_name:
            means[key] = by_name[name]

    lines = []
    try:
        for line in open(os.path.join(work, "results.txt")):
            key, _, rest = line.strip().partition(" ")
            words = {}
            for k, v in re.findall(r"(\w+)=([\d.]+)", rest):
                words.setdefault(k, v)      # not "(idle: p50_ms=...)"
            m = re.match(r"\w+: ([\d.]+)$", rest)
            if m:
                words["value"] = m.group(1)
            w = {k: float(v) for k, v in words.items()}
            m = re.search(r"split=([\d/]+)", rest)
            w["split"] = m.group(1) if m else "?"
            lines.append((key, w))
    except OSError:
        pass
    return means, lines


def main():
    work = sys.argv[1]
    pool = sys.argv[2] if len(sys.argv) > 2 else "4 256k"
    means, lines = load(work)
    rows = []

    def row(goal, measured, met):
        rows.append((goal, measured,
                     "not measured" if met is None
                     else "met" if met else "not met"))

    def found(key):
        return [w for k, w in lines if k == key]

    def ratio(goal, a, b, limit):
        if a in means and b in means:
            r = means[a] / means[b]
            row(goal, "%.2f s / %.2f s = %.2f" % (means[a], means[b], r),
                r <= limit)
        else:
            row(goal, "", None)

    for loc, what in (("pcold", "cold"), ("pwarm", "warm")):
        ratio("one stream, proxy_pass, %s: ≤ 1.5 × igzip -dc" % what,
              loc, "igzip", 1.5)
    for loc, what in (("tpcold", "cold"), ("tpwarm", "warm")):
        ratio("one stream, proxy_pass, %s, thread pool (squash_buffers %s):"
              " ≤ 1.25 × igzip -dc" % (what, pool), loc, "igzip", 1.25)
    for cold, warm, what in (("pcold", "pwarm", "proxy_pass"),
                             ("cold", "squash", "files"),
                             ("tpcold", "tpwarm", "proxy_pass, thread pool"),
                             ("tcold", "twarm", "files, thread pool")):
        ratio("cold ≤ 1.1 × warm, %s" % what, cold, warm, 1.1)

    for loc, what, limit in (("pcold", "cold", 0.1), ("pwarm", "warm", 0.01),
                             ("tpcold", "cold, thread pool", 0.1),
                             ("tpwarm", "warm, thread pool", 0.01)):
        w = found("ttfb-" + loc)
        goal = "first byte, proxy_pass, %s: < %d ms" % (what, limit * 1000)
        if w:
            v = w[0]["value"]
            row(goal, "%.1f ms" % (v * 1000), v < limit)
        else:
            row(goal, "", None)

    for loc, what in (("squash", "squash_yield_after 256k"),
                      ("twarm", "thread pool")):
        w = found("latency-" + loc)
        goal = ("a 4 KB request during 8 downloads from files, %s:"
                " p99 < 50 ms" % what)
        if w:
            row(goal, "p50 %.1f ms, p99 %.1f ms, errors %d"
                % (w[0]["p50_ms"], w[0]["p99_ms"], w[0]["big_errors"]),
                w[0]["p99_ms"] < 50 and w[0]["big_errors"] == 0)
        else:
            row(goal, "", None)

    w = found("streams-mix")
    goal = ("64 at once (32 warm, 16 cold, 16 at 50 MB/s), two workers:"
            " no error")
    if w:
        row(goal, "%d errors" % w[0]["errors"], w[0]["errors"] == 0)
    else:
        row(goal, "", None)

    for key, what in (("streams-squash", "warm"),
                      ("streams-twarm", "warm, thread pool (squash_buffers %s)"
                       % pool)):
        series = found(key)
        one = [w for w in series if w["streams"] == 1]
        for w in series:
            if w["streams"] == 1 or not one:
                continue
            r = w["aggregate_MBps"] / one[0]["aggregate_MBps"]
            row("%d streams, %s: aggregate ≥ 1.8 × one stream, no error"
                % (w["streams"], what),
                "%.0f MB/s / %.0f MB/s = %.2f, %d errors (split %s)"
                % (w["aggregate_MBps"], one[0]["aggregate_MBps"], r,
                   w["errors"], w["split"]),
                r >= 1.8 and w["errors"] == 0)
        if not series:
            row("streams, %s: aggregate ≥ 1.8 × one stream" % what, "", None)

    if not any(k.startswith("streams-") for k, _ in lines):
        row("streams at once: worker RSS < 1 MiB a stream", "", None)
    for key, what in (("streams-squash", "warm"),
                      ("streams-mix", "mixed"),
                      ("streams-twarm", "warm, thread pool (squash_buffers %s)"
                       % pool),
                      ("streams-tcold", "cold, thread pool (squash_buffers %s)"
                       % pool)):
        for w in found(key):
            if w["streams"] == 1:
                continue    # a first download: code pages, the path tree
            row("%d streams, %s: worker RSS < 1 MiB a stream"
                % (w["streams"], what),
                "%.0f KiB (split %s)" % (w["per_stream_kb"], w["split"]),
                w["per_stream_kb"] < 1024)

    w = found("aio")
    goal = "aio threads: 1,000 downloads, 32 at a time, none cut short"
    if w:
        row(goal, "%d of %d cut short" % (w[0]["cut_short"],
                                          w[0]["downloads"]),
            w[0]["cut_short"] == 0)
    else:
        row(goal, "", None)

    print("| goal | measured | |")
    print("|---|---|---|")
    for goal, measured, verdict in rows:
        print("| %s | %s | %s |" % (goal, measured, verdict))

    floors(means)


def floors(means):
    """Not goals: the module without a pool against what its download must
    compute on one core (bench/floor.c), and that floor's own cold/warm."""

    if "fcold" not in means or "fwarm" not in means:
        return

    print()
    print("One core's floor (bench/floor.c: the blobs' SHA-256 and ISA-L"
          " inflate; cold also hashes the tar for the diff_ids and for"
          " layer.tar), not a goal:")
    print()
    print("| | floor | measured | ratio |")
    print("|---|---|---|---|")
    print("| floor, cold ÷ warm | %.2f s / %.2f s | | %.2f |"
          % (means["fcold"], means["fwarm"], means["fcold"] / means["fwarm"]))
    for loc, what, floor in (("pcold", "proxy_pass, cold", "fcold"),
                             ("pwarm", "proxy_pass, warm", "fwarm"),
                             ("cold", "files, cold", "fcold"),
                             ("squash", "files, warm", "fwarm")):
        if loc in means:
            print("| %s, no pool | %.2f s | %.2f s | %.2f |"
                  % (what, means[floor], means[loc],
                     means[loc] / means[floor]))


if __name__ == "__main__":
    main()
