#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
# ngx_squash build driver.
#
#   ./build.sh          install what is missing, build build/ngx_http_squash_module.so
#                       and the tools beside it
#   ./build.sh demo     build, then squash an embedded sample image through nginx
#   ./build.sh test     build, then run the whole suite (t/run-suite)
#   ./build.sh deb      build/deb/libnginx-mod-http-squash_<version>_<arch>.deb
#                       (debhelper, dh_nginx) for Debian's nginx
#   ./build.sh upstream [SRC]
#                       nginx SRC (a source tree; default: upstream 1.26.3,
#                       fetched as Debian trixie's orig tarball and checked)
#                       built without debug, with the module dynamic
#                       (build/upstream/dynamic) and static
#                       (build/upstream/static)
#
# The module builds against Debian's nginx-dev by default; NGX_SRC=DIR
# builds it against another configured-for-Debian source tree.
# Debian bookworm, as root (or with sudo) for the package installs.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")" && pwd)
BUILD="$ROOT/build"
NGX_SRC=${NGX_SRC:-/usr/share/nginx/src}
NGX_BUILD="$BUILD/nginx"

BUILD_PKGS="nginx nginx-dev gcc make libjansson-dev zlib1g-dev libzstd-dev
            libssl-dev libarchive-dev libisal-dev curl"
TEST_PKGS="libcmocka-dev perl libtest-base-perl libipc-run-perl
           libtext-diff-perl libtest-longstring-perl liblist-moreutils-perl
           libwww-perl docker-registry skopeo umoci podman libarchive-tools
           clang libclang-rt-14-dev valgrind procps docker.io apache2-utils
           openssl golang-go zstd python3"

say() { printf '==> %s\n' "$*" >&2; }

need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    if ! $sudo env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}" \
            >"$BUILD/apt.log" 2>&1; then
        $sudo apt-get update -q >>"$BUILD/apt.log" 2>&1
        $sudo env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}" \
            >>"$BUILD/apt.log" 2>&1 || {
                echo "apt-get install failed, see $BUILD/apt.log" >&2
                tail -20 "$BUILD/apt.log" >&2
                exit 1
            }
    fi
}

CORE="$ROOT/ngx_squash_module/core"
GLUE="$ROOT/ngx_squash_module/nginx"
CORE_SRCS="squash_digest.c squash_tar_reader.c squash_merger.c squash_decomp.c
           squash_layer.c squash_image.c squash_archive.c squash_job.c
           squash_distribution.c"
CORE_LIBS="-larchive -ljansson -lzstd -lz -lcrypto -lisal"
CFLAGS_STRICT="-O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -std=gnu11
               -DSQUASH_HAVE_ISAL=1"

configure_nginx() {
    # re-configure only when the source, the addon script or the flags change
    local stamp="$NGX_BUILD/.configured" want
    if [ -f "$NGX_SRC/conf_flags" ]; then
        # Debian's nginx-dev: the flags its nginx was built with
        # shellcheck disable=SC1090
        . "$NGX_SRC/conf_flags"
    else
        NGX_CONF_FLAGS=(--with-compat --with-threads --with-http_ssl_module
                        --with-http_v2_module)
    fi
    want=$(printf '%s\n' "${NGX_CONF_FLAGS[@]}" | sha256sum | cut -c1-16)
    want="$NGX_SRC $want $(sha256sum "$ROOT/config" | cut -c1-16)"
    if [ -f "$NGX_BUILD/Makefile" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    say "configuring nginx in $NGX_SRC for the module"
    mkdir -p "$NGX_BUILD"
    (cd "$NGX_SRC" && ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="-g -O2 -Wextra -Wno-unused-parameter" \
        --add-dynamic-module="$ROOT" --builddir="$NGX_BUILD") \
        >"$NGX_BUILD/configure.log" 2>&1 || {
            tail -30 "$NGX_BUILD/configure.log" >&2
            exit 1
        }
    echo "$want" >"$stamp"
}

build_c() {
    # build_c OUT SRC... -- compiles when any input is newer than OUT
    local out="$1"; shift
    local srcs=() libs=() x newer=
    while [ $# -gt 0 ] && [ "$1" != -- ]; do srcs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    libs=("$@")
    if [ -f "$out" ]; then
        for x in "${srcs[@]}" "$CORE"/*.h; do
            [ "$x" -nt "$out" ] && newer=1
        done
        [ -z "$newer" ] && return 0
    fi
    say "compiling $(basename "$out")"
    # shellcheck disable=SC2086
    gcc $CFLAGS_STRICT -I"$CORE" -o "$out" "${srcs[@]}" "${libs[@]}"
}

core_srcs() {
    local f
    for f in $CORE_SRCS; do printf '%s\n' "$CORE/$f"; done
}

check_nodebug() {
    # Debian's nginx is configured --with-debug; most others are not, and
    # ngx_log_debugN() then expands to nothing.  The glue must build
    # both ways: compile it once more with NGX_DEBUG off (the auto
    # headers define it only #ifndef).
    local var incs cflags f
    for var in ALL_INCS CFLAGS; do
        make -s -f "$NGX_BUILD/Makefile" -C "$NGX_SRC" \
            --eval "print-$var: ; @echo \$($var)" "print-$var"
    done >"$NGX_BUILD/flags"
    incs=$(sed -n 1p "$NGX_BUILD/flags")
    cflags=$(sed -n 2p "$NGX_BUILD/flags")
    for f in "$GLUE"/ngx_http_squash_*.c; do
        # shellcheck disable=SC2086
        (cd "$NGX_SRC" && cc $cflags -Werror -DNGX_DEBUG=0 $incs \
            -I "$CORE" -I "$GLUE" -fsyntax-only "$f") || {
                echo "$(basename "$f") does not build without --with-debug" >&2
                exit 1
            }
    done
}

do_build() {
    mkdir -p "$BUILD"
    need_pkgs $BUILD_PKGS
    configure_nginx
    say "building the module"
    make -s -f "$NGX_BUILD/Makefile" -C "$NGX_SRC" modules \
        >"$NGX_BUILD/make.log" 2>&1 || { cat "$NGX_BUILD/make.log" >&2; exit 1; }
    check_nodebug
    "$ROOT/tools/check-glue-order" "$GLUE" || exit 1
    # a shared object links with symbols missing: Debian's nginx, which it
    # is built for, must load it
    if [ -f "$NGX_SRC/conf_flags" ]; then
        printf 'load_module %s;\nevents {}\n' \
            "$NGX_BUILD/ngx_http_squash_module.so" >"$NGX_BUILD/load.conf"
        /usr/sbin/nginx -t -q -p "$NGX_BUILD" -e stderr \
            -c "$NGX_BUILD/load.conf" -g "pid $NGX_BUILD/load.pid;" || {
                echo "nginx does not load the module" >&2
                exit 1
            }
    fi
    # replaced, never rewritten in place: a running nginx may map it
    cp -p "$NGX_BUILD/ngx_http_squash_module.so" "$BUILD/.module.so.tmp"
    mv -f "$BUILD/.module.so.tmp" "$BUILD/ngx_http_squash_module.so"

    mapfile -t core < <(core_srcs)
    # shellcheck disable=SC2086
    build_c "$BUILD/squash-mkimage" "$ROOT/tools/squash_mkimage.c" "${core[@]}" -- $CORE_LIBS
    # shellcheck disable=SC2086
    build_c "$BUILD/squash-tartool" "$ROOT/tools/squash_tartool.c" -- -larchive -lcrypto
    say "built $BUILD/ngx_http_squash_module.so"
}

do_build_tests() {
    need_pkgs $TEST_PKGS
    mapfile -t core < <(core_srcs)
    # shellcheck disable=SC2086
    build_c "$BUILD/unit-tests" "$ROOT"/t/unit/*.c "${core[@]}" -- -lcmocka $CORE_LIBS
    # the same with zlib's inflate (the build without ISA-L)
    # shellcheck disable=SC2086
    build_c "$BUILD/unit-tests-zlib" "$ROOT"/t/unit/*.c "${core[@]}" -- \
        -USQUASH_HAVE_ISAL -lcmocka $CORE_LIBS
    build_c "$BUILD/squash-tarlist" "$ROOT/t/diff/tarlist.c" \
        "$CORE/squash_tar_reader.c" -- -lcrypto
    # the gzip reader, with ISA-L and with zlib, for t/diff/run
    build_c "$BUILD/squash-gzlist" "$ROOT/t/diff/gzlist.c" \
        "$CORE/squash_decomp.c" -- -lisal -lz -lzstd -lcrypto
    build_c "$BUILD/squash-gzlist-zlib" "$ROOT/t/diff/gzlist.c" \
        "$CORE/squash_decomp.c" -- -USQUASH_HAVE_ISAL -lz -lzstd -lcrypto
    # shellcheck disable=SC2086
    build_c "$BUILD/squash-fuzz-merged" "$ROOT/t/fuzz/fuzz_merge.c" \
        "${core[@]}" -- -DSQUASH_FUZZ_MAIN $CORE_LIBS
    if [ "$BUILD/fuzz-merge" -ot "$ROOT/t/fuzz/fuzz_merge.c" ] \
        || [ -n "$(find "$CORE" -newer "$BUILD/fuzz-merge" 2>/dev/null)" ]
    then
        say "compiling fuzz-merge"
        # shellcheck disable=SC2086
        clang -g -O1 -fsanitize=fuzzer,address -I"$CORE" \
            -o "$BUILD/fuzz-merge" "$ROOT/t/fuzz/fuzz_merge.c" "${core[@]}" \
            $CORE_LIBS
    fi
    # the decompressor, with ISA-L and with zlib
    if [ "$BUILD/fuzz-decomp" -ot "$ROOT/t/fuzz/fuzz_decomp.c" ] \
        || [ -n "$(find "$CORE" -newer "$BUILD/fuzz-decomp" 2>/dev/null)" ]
    then
        say "compiling fuzz-decomp"
        clang -g -O1 -fsanitize=fuzzer,address -DSQUASH_HAVE_ISAL=1 \
            -I"$CORE" -o "$BUILD/fuzz-decomp" "$ROOT/t/fuzz/fuzz_decomp.c" \
            "$CORE/squash_decomp.c" -lisal -lz -lzstd
        clang -g -O1 -fsanitize=fuzzer,address -I"$CORE" \
            -o "$BUILD/fuzz-decomp-zlib" "$ROOT/t/fuzz/fuzz_decomp.c" \
            "$CORE/squash_decomp.c" -lz -lzstd
    fi
}

do_deb() {
    local src="$BUILD/deb/src"

    need_pkgs $BUILD_PKGS debhelper dpkg-dev
    say "building the Debian package"
    rm -rf "$BUILD/deb"
    mkdir -p "$src"
    (cd "$ROOT" && tar --exclude=./build --exclude='./t/servroot*' \
        --exclude=./.git -cf - .) | tar -xf - -C "$src"
    (cd "$src" && dpkg-buildpackage -us -uc -b) >"$BUILD/deb/build.log" 2>&1 \
        || { tail -30 "$BUILD/deb/build.log" >&2; exit 1; }
    rm -rf "$src"
    say "built $(ls "$BUILD"/deb/libnginx-mod-http-squash_*.deb \
                 | grep -v dbgsym)"
}

UPSTREAM_VERSION=1.26.3
UPSTREAM_SHA256=69ee2b237744036e61d24b836668aad3040dda461fe6f570f1787eab570c75aa
UPSTREAM="$BUILD/upstream"

fetch_upstream() {
    # nginx's own tarball, as Debian trixie ships it (nginx_X.orig.tar.gz);
    # a deb-src entry for trixie is added for the download only
    local tgz="$UPSTREAM/nginx_$UPSTREAM_VERSION.orig.tar.gz"
    local list=/etc/apt/sources.list.d/ngx-squash-trixie-src.list
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo

    mkdir -p "$UPSTREAM"
    if [ ! -s "$tgz" ]; then
        need_pkgs dpkg-dev
        say "fetching nginx $UPSTREAM_VERSION (Debian trixie's orig tarball)"
        echo 'deb-src http://deb.debian.org/debian trixie main' \
            | $sudo tee "$list" >/dev/null
        $sudo apt-get update -q -o Dir::Etc::sourcelist="$list" \
            -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 \
            >"$UPSTREAM/apt.log" 2>&1 || true
        # the Debian part may be gone from the mirror: the tarball is enough
        (cd "$UPSTREAM" && apt-get source --download-only \
            nginx/trixie >>"$UPSTREAM/apt.log" 2>&1) || true
        $sudo rm -f "$list"
        [ -s "$tgz" ] || {
            echo "could not fetch $tgz, see $UPSTREAM/apt.log" >&2
            exit 1
        }
    fi
    echo "$UPSTREAM_SHA256  $tgz" | sha256sum -c --quiet - || {
        echo "$tgz: sha256 mismatch" >&2
        exit 1
    }
    if [ ! -x "$UPSTREAM/nginx-$UPSTREAM_VERSION/configure" ]; then
        tar -xzf "$tgz" -C "$UPSTREAM"
    fi
    echo "$UPSTREAM/nginx-$UPSTREAM_VERSION"
}

build_upstream() {
    # build_upstream SRC: nginx without debug, the module dynamic and static
    local src="$1" how obj flags want
    need_pkgs $BUILD_PKGS libpcre2-dev
    for how in dynamic static; do
        obj="$UPSTREAM/$how"
        flags=(--with-compat --with-threads --with-http_ssl_module
               --with-http_v2_module --builddir="$obj"
               --with-cc-opt="-g -O2 -Wextra -Wno-unused-parameter")
        if [ "$how" = dynamic ]; then
            flags+=(--add-dynamic-module="$ROOT")
        else
            flags+=(--add-module="$ROOT")
        fi
        say "nginx $(basename "$src") without debug, the module $how (zlib)"
        mkdir -p "$obj"
        want="$src $(printf '%s\n' "${flags[@]}" | sha256sum | cut -c1-16)"
        want="$want $(sha256sum "$ROOT/config" | cut -c1-16)"
        if [ ! -f "$obj/Makefile" ] \
            || [ "$(cat "$obj/.configured" 2>/dev/null)" != "$want" ]
        then
            # the build with zlib's inflate: the suite runs both
            (cd "$src" && SQUASH_NO_ISAL=1 ./configure "${flags[@]}") \
                >"$obj/configure.log" 2>&1 \
                || { tail -30 "$obj/configure.log" >&2; exit 1; }
            echo "$want" >"$obj/.configured"
        fi
        if grep -q 'define NGX_DEBUG  1' "$obj/ngx_auto_config.h"; then
            echo "$src is configured with debug" >&2
            exit 1
        fi
        make -s -j"$(nproc)" -f "$obj/Makefile" -C "$src" \
            >"$obj/make.log" 2>&1 || { tail -40 "$obj/make.log" >&2; exit 1; }
    done
    say "built $UPSTREAM/dynamic/nginx (+ ngx_http_squash_module.so)" \
        "and $UPSTREAM/static/nginx"
}

case "${1:-build}" in
build)
    do_build
    ;;
demo)
    do_build
    exec "$ROOT/tools/demo.sh" "$BUILD"
    ;;
test)
    do_build
    do_build_tests
    build_upstream "$(fetch_upstream)"
    do_deb
    exec "$ROOT/t/run-suite" "$BUILD"
    ;;
deb)
    mkdir -p "$BUILD"
    do_deb
    ;;
upstream)
    mkdir -p "$BUILD"
    build_upstream "${2:-$(fetch_upstream)}"
    ;;
*)
    echo "usage: $0 [build|demo|test|deb|upstream [SRC]]" >&2
    exit 2
    ;;
esac
