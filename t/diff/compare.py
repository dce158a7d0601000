#!/usr/bin/env python3
# Copyright (C) 2026 The ngx_squash authors
#
# compare.py GO-LISTING C-LISTING: for every layer the two listings name,
# ngx_squash's reader must list exactly what Go's archive/tar lists, or
# refuse the layer for a reason docs/design.md names ("Reading layers"),
# having listed the same entries up to there.  Prints the layers that
# break this, and a TAP line for the whole.

import re
import sys

# the documented refusals (docs/design.md, "Reading layers")
REFUSALS = [
    r"gnu sparse entry at offset \d+ is not supported",
    r"tar entry type '.' at offset \d+ is not supported",
    r"tar header records at offset \d+ exceed \d+ bytes",
]


def read(path):
    out, name = {}, None
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("== "):
                name = line[3:]
                out[name] = []
            else:
                out[name].append(line)
    return out


def main():
    go, c = read(sys.argv[1]), read(sys.argv[2])
    passed = failed = refused = 0
    for name in sorted(go):
        g, m = go[name], c.get(name)
        if m is None:
            print("missing from the C listing: %s" % name)
            failed += 1
            continue
        mm = [("error" if x.startswith("error: ") else x) for x in m]
        if mm == g:
            passed += 1
            continue
        last = m[-1] if m else ""
        why = last[len("error: "):] if last.startswith("error: ") else None
        if why and any(re.fullmatch(p, why) for p in REFUSALS) \
                and g[:len(m) - 1] == m[:-1]:
            passed += 1
            refused += 1
            continue
        failed += 1
        if failed <= 20:
            print("differs: %s\n  go: %s\n  c:  %s" % (
                name, "\n      ".join(g), "\n      ".join(m)))
    print("%s - %s: %d layers read as Go reads them (%d refused for a "
          "documented reason), %d not" % ("not ok" if failed else "ok",
                                          sys.argv[3] if len(sys.argv) > 3
                                          else "differential",
                                          passed, refused, failed))
    return 1 if failed else 0


sys.exit(main())
