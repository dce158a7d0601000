#!/usr/bin/env python3
# Copyright (C) 2026 The ngx_squash authors
#
# hostile_gzip.py DIR COUNT [SEED]: gzip blobs for the differential test
# of the gzip reader (t/diff/gzlist.go against t/diff/gzlist.c): every
# header field and flag (FTEXT, FHCRC right and wrong, FEXTRA of 0 to
# 65535 bytes, FNAME and FCOMMENT around Go's 511-byte limit, the reserved
# flags, other methods), trailers with a wrong CRC32 or ISIZE, members one
# after another, empty members, stored blocks, and what may follow a
# member (nothing, garbage, zeros, part of a header); then COUNT of those
# with bytes changed, cut or added at random.

import os
import random
import struct
import sys
import zlib


def member(data, flags=0, extra=b"", name=b"n", comment=b"c", hcrc=True,
           cm=8, crc=None, isize=None, level=6):
    h = bytearray(b"\x1f\x8b" + bytes([cm, flags]) + b"\0\0\0\0\0\xff")
    if flags & 4:
        h += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        h += name + b"\0"
    if flags & 16:
        h += comment + b"\0"
    if flags & 2:
        h += struct.pack("<H", (zlib.crc32(bytes(h)) + (0 if hcrc else 1))
                         & 0xffff)
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = co.compress(data) + co.flush()
    return bytes(h) + body + struct.pack(
        "<II", (zlib.crc32(data) if crc is None else crc) & 0xffffffff,
        (len(data) if isize is None else isize) & 0xffffffff)


def cases(rnd):
    text = b"".join(b"line %d of a layer\n" % i for i in range(2000))
    noise = bytes(rnd.getrandbits(8) for _ in range(3000))
    data = text + noise
    m = member(data)
    out = {
        "plain": m,
        "empty-blob": b"",
        "empty-member": member(b""),
        "two-members": m + member(b"second"),
        "three-empty-members": member(b"") * 3,
        "stored": member(data, level=0),
        "ftext": member(data, flags=1),
        "fhcrc": member(data, flags=2),
        "fhcrc-wrong": member(data, flags=2, hcrc=False),
        "all-flags": member(data, flags=0x1f, extra=b"xy" * 50),
        "all-flags-wrong-hcrc": member(data, flags=0x1e, hcrc=False),
        "fextra-0": member(data, flags=4, extra=b""),
        "fextra-65535": member(data, flags=4, extra=b"e" * 65535),
        "fname-511": member(data, flags=8, name=b"a" * 511),
        "fname-512": member(data, flags=8, name=b"a" * 512),
        "fname-latin1": member(data, flags=8, name=bytes(range(1, 256))),
        "fcomment-511": member(data, flags=16, comment=b"c" * 511),
        "fcomment-512": member(data, flags=16, comment=b"c" * 512),
        "fname-fcomment-511": member(data, flags=24, name=b"a" * 511,
                                     comment=b"c" * 511),
        "method-0": member(data, cm=0),
        "method-9": member(data, cm=9),
        "wrong-crc": member(data, crc=zlib.crc32(data) ^ 1),
        "wrong-isize": member(data, isize=len(data) + 1),
        "isize-mod-2^32": member(data, isize=len(data) + (1 << 32)),
        "cut-in-header": m[:5],
        "cut-in-body": m[:len(m) // 2],
        "cut-in-trailer": m[:-3],
        "then-garbage": m + b"garbage",
        "then-zero": m + b"\0",
        "then-zeros": m + b"\0" * 1024,
        "then-1f": m + b"\x1f",
        "then-1f8b": m + b"\x1f\x8b",
        "then-9-of-a-header": m + m[:9],
        "then-a-header": m + m[:10],
        "not-gzip": b"ustar tar, not gzip",
    }
    for bit in range(5, 8):
        out["reserved-flag-%d" % bit] = member(data, flags=1 << bit)
    return out


def mutate(rnd, blob):
    b = bytearray(blob)
    for _ in range(rnd.randint(1, 3)):
        what = rnd.randrange(6)
        if what == 0 and b:
            # a byte of the header or the trailer, where framing lives
            i = rnd.choice([rnd.randrange(min(len(b), 24)),
                            max(0, len(b) - 1 - rnd.randrange(8))])
            b[i] = rnd.getrandbits(8)
        elif what == 1 and len(b) > 4:
            b[3] = rnd.getrandbits(8)   # the flags
        elif what == 2 and b:
            del b[rnd.randrange(len(b)):]
        elif what == 3:
            b += bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 12)))
        elif what == 4:
            b += member(b"x" * rnd.randint(0, 100),
                        flags=rnd.getrandbits(8) & 0x1e)
        elif b:
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
    return bytes(b)


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    os.makedirs(out, exist_ok=True)
    base = cases(rnd)
    for name, blob in base.items():
        with open(os.path.join(out, name + ".gz"), "wb") as f:
            f.write(blob)
    names = sorted(base)
    for i in range(count):
        src = rnd.choice(names)
        with open(os.path.join(out, "%05d-%s.gz" % (i, src)), "wb") as f:
            f.write(mutate(rnd, base[src]))


if __name__ == "__main__":
    main()
