#!/usr/bin/env python3
# Copyright (C) 2026 The ngx_squash authors
#
# hostile.py DIR COUNT [SEED]: writes COUNT small tar layers into DIR, made
# to find where a tar reader and Go's archive/tar part ways: header-only
# types that declare a size (with a tar entry hidden in the "data"),
# sizes at and around 2^33, 2^63 and 2^64 in octal, base-256 and pax,
# missing padding and end blocks, data cut short, GNU long names and
# links, pax overrides (path, linkpath, size, uid, times, xattrs) with
# good and bad values, ustar/star/GNU prefixes, duplicates, checksum
# variants, global headers, zero blocks in odd places.  The same SEED
# gives the same layers.

import os
import random
import sys

BLOCK = 512


def octal(v, width):
    s = "%o" % v
    if len(s) > width - 1:
        return None
    return (s.rjust(width - 1, "0") + "\0").encode()


def base256(v, width):
    if v < 0:
        v = (1 << (8 * width)) + v
        b = v.to_bytes(width, "big")
        return bytes([b[0] | 0x80]) + b[1:]
    b = v.to_bytes(width, "big") if v < (1 << (8 * width - 1)) else None
    if b is None:
        return None
    return bytes([b[0] | 0x80]) + b[1:]


def number(rng, v, width):
    """v in one of the encodings a writer (or an attacker) might use"""
    kind = rng.random()
    if kind < 0.55 and v >= 0:
        f = octal(v, width)
        if f is not None:
            style = rng.random()
            if style < 0.1:
                # space-terminated, leading spaces
                f = ("%o" % v).rjust(width - 1, " ").encode() + b" "
            elif style < 0.15:
                f = ("%o" % v).encode() + b"\0" * (width - len("%o" % v))
            elif style < 0.18:
                f = ("%o" % v).encode().ljust(width, b" ")
            return f[:width]
    if kind < 0.9:
        f = base256(v, width)
        if f is not None:
            return f
    # garbage
    return bytes(rng.choice(b"0123456789 \0x-+\x80\xff") for _ in range(width))


def checksum(b, style):
    u = sum(b[:148]) + 8 * 32 + sum(b[156:])
    s = sum((x - 256 if x > 127 else x) for x in b[:148]) + 8 * 32 \
        + sum((x - 256 if x > 127 else x) for x in b[156:])
    if style == "signed":
        v = s
    elif style == "bad":
        v = u + 1
    else:
        v = u
    if v < 0:
        return b"\xff" * 8
    if style == "space":
        return ("%06o" % v).encode() + b"\0 "
    return ("%06o" % v).encode() + b"\0 "


def header(rng, name=b"f", typeflag=b"0", size=0, link=b"", fmt="ustar",
           prefix=b"", mode=0o644, uid=0, gid=0, mtime=1700000000,
           size_field=None, cks="unsigned", devs=True):
    b = bytearray(BLOCK)
    b[0:100] = name[:100].ljust(100, b"\0")
    b[100:108] = octal(mode, 8) if mode >= 0 else number(rng, mode, 8)
    b[108:116] = number(rng, uid, 8) if rng.random() < 0.1 else octal(uid, 8)
    b[116:124] = octal(gid, 8)
    b[124:136] = size_field if size_field is not None else \
        (octal(size, 12) or base256(size, 12))
    b[136:148] = number(rng, mtime, 12) if rng.random() < 0.1 \
        else octal(mtime, 12)
    b[156:157] = typeflag
    b[157:257] = link[:100].ljust(100, b"\0")
    if fmt == "ustar" or fmt == "star":
        b[257:263] = b"ustar\0"
        b[263:265] = b"00"
        b[345:500] = prefix[:155].ljust(155, b"\0")
        if fmt == "star":
            b[476:488] = octal(mtime, 12)
            b[488:500] = octal(mtime, 12)
            b[508:512] = b"tar\0"
    elif fmt == "gnu":
        b[257:263] = b"ustar "
        b[263:265] = b" \0"
        if prefix:
            b[345:500] = prefix[:155].ljust(155, b"\0")
    if fmt != "v7" and devs:
        b[329:337] = octal(0, 8)
        b[337:345] = octal(0, 8)
        if rng.random() < 0.03:
            b[329:337] = b"99999999"
    b[148:156] = b" " * 8
    b[148:156] = checksum(bytes(b), cks)
    return bytes(b)


def pad(data):
    return data + b"\0" * ((BLOCK - len(data) % BLOCK) % BLOCK)


def pax_record(key, value):
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def meta(rng, typeflag, data, declared=None):
    size = len(data) if declared is None else declared
    return header(rng, name=b"././@PaxHeader" if typeflag in b"xg"
                  else b"././@LongLink", typeflag=typeflag, size=size,
                  fmt="ustar" if typeflag in b"xg" else "gnu") + pad(data)


INTERESTING = [0, 1, 11, 511, 512, 513, 1 << 33, (1 << 33) - 1,
               (1 << 33) + 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, 1 << 64,
               (1 << 64) + 512, -1, -512]


def pax_value(rng, key):
    if key == b"size":
        return rng.choice([b"0", b"11", b"+11", b"-1", b"011", b"",
                           b"9223372036854775807", b"9223372036854775808",
                           b"18446744073709551615", b"1x", b" 11",
                           str(rng.randint(0, 2000)).encode()])
    if key in (b"uid", b"gid"):
        return rng.choice([b"0", b"1000", b"-5", b"", b"abc", b"+7",
                           b"99999999999999999999"])
    if key in (b"mtime", b"atime", b"ctime"):
        return rng.choice([b"1700000000", b"1700000000.5", b"-1.25",
                           b"1700000000.1234567891", b"", b"1.", b".5",
                           b"1e9", b"12.3x"])
    if key in (b"path", b"linkpath"):
        return rng.choice([b"pax/name", b"", b"dir/", b"a\0b",
                           b"x" * 300, b"./secret", b"../up"])
    return b"v"


def entry(rng, out, names):
    """one entry, maybe with meta records and hostile fields"""
    name = rng.choice(names)
    data = bytes(rng.getrandbits(8) for _ in range(rng.choice(
        [0, 1, 11, 100, 511, 512, 513, 1500])))
    typeflag = rng.choice([b"0", b"0", b"0", b"\0", b"5", b"2", b"1", b"3",
                           b"4", b"6", b"7", b"x", b"g", b"L", b"K", b"S",
                           b"D", b"A", b"M"])
    fmt = rng.choice(["ustar", "ustar", "gnu", "v7", "star"])
    prefix = b""
    if rng.random() < 0.1:
        prefix = rng.choice([b"pre", b"p" * 155, b"\xffbad", b"deep/dir"])
    link = rng.choice([b"", b"f", b"target", b"../x"]) \
        if typeflag in (b"1", b"2") or rng.random() < 0.05 else b""
    if rng.random() < 0.1 and typeflag in (b"0", b"\0"):
        name = name + b"/"

    recs = b""
    if rng.random() < 0.3:
        n = rng.randint(1, 4)
        body = b""
        for _ in range(n):
            key = rng.choice([b"path", b"linkpath", b"size", b"uid", b"gid",
                              b"mtime", b"atime", b"ctime",
                              b"SCHILY.xattr.user.a",
                              b"SCHILY.xattr.security.capability",
                              b"comment", b"GNU.sparse.major"])
            body += pax_record(key, pax_value(rng, key))
        if rng.random() < 0.05:
            body += rng.choice([b"5 a=\n", b"3 x\n", b"10 k=v\n",
                                b"99 short=\n", b"\0\0"])
        recs += meta(rng, b"x", body)
        if rng.random() < 0.2:
            recs += meta(rng, b"x", pax_record(b"uid", b"42"))
    if rng.random() < 0.15:
        long = b"long/" + b"n" * rng.choice([90, 150, 300]) + \
            rng.choice([b"", b"/", b"\0junk"])
        recs += meta(rng, b"L", long)
    if rng.random() < 0.08:
        recs += meta(rng, b"K", b"longlink/" + b"t" * 120)
    if rng.random() < 0.05:
        recs += meta(rng, b"g", pax_record(b"uid", rng.choice([b"1", b"x"])))

    out += recs

    declared = len(data)
    size_field = None
    if rng.random() < 0.25:
        declared = rng.choice(INTERESTING + [len(data), 1024])
        size_field = number(rng, declared, 12)
    elif rng.random() < 0.05:
        size_field = number(rng, len(data), 12)

    if typeflag in (b"5", b"3", b"4", b"6", b"2", b"1") and \
            rng.random() < 0.5:
        # the smuggling trick: a header-only entry whose "data" is a tar
        # header of a file the upper layer deleted
        inner = header(rng, name=b"secret", size=5) + pad(b"owned")
        data = inner
        declared = len(inner)
        size_field = octal(declared, 12)

    if typeflag in (b"x", b"g", b"L", b"K"):
        # a meta record alone, or one with a bad size
        size_field = number(rng, len(data), 12) if rng.random() < 0.5 \
            else None

    cks = rng.choice(["unsigned"] * 8 + ["signed", "bad", "space"])
    mode = rng.choice([0o644, 0o755, 0o4755, 0o100644, -1]) \
        if rng.random() < 0.1 else 0o644
    h = header(rng, name=name, typeflag=typeflag, size=len(data), link=link,
               fmt=fmt, prefix=prefix, mode=mode, size_field=size_field,
               cks=cks)
    out += h
    if rng.random() < 0.03:
        out += h  # a duplicate header
    out += pad(data)
    return out


def layer(rng):
    names = [b"f", b"a/b", b"./c", b"dir/", b"secret", b"etc/passwd",
             b"x" * 99, b"y" * 100, b".wh.f", b"a/.wh..wh..opq"]
    out = b""
    for _ in range(rng.randint(0, 5)):
        out = entry(rng, out, names)
        if rng.random() < 0.03:
            out += b"\0" * BLOCK  # a lone zero block
    end = rng.random()
    if end < 0.6:
        out += b"\0" * (2 * BLOCK)
    elif end < 0.7:
        out += b"\0" * BLOCK
    elif end < 0.75:
        out += b"\0" * (2 * BLOCK) + b"trailing garbage"
    if rng.random() < 0.3 and out:
        # cut anywhere: inside data, padding, a header, the end blocks
        out = out[:rng.randint(0, len(out))]
    elif rng.random() < 0.1 and out:
        # cut at the end of the last entry's data (as umoci insert)
        out = out.rstrip(b"\0")
    return out


def main():
    d, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    for i in range(count):
        with open(os.path.join(d, "h%05d.tar" % i), "wb") as f:
            f.write(layer(rng))


main()
