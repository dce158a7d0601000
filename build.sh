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
#
# Debian bookworm, as root (or with sudo) for the package installs.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")" && pwd)
BUILD="$ROOT/build"
NGX_SRC=/usr/share/nginx/src
NGX_BUILD="$BUILD/nginx"

BUILD_PKGS="nginx nginx-dev gcc make libjansson-dev zlib1g-dev libzstd-dev
            libssl-dev libarchive-dev curl"
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

CORE_SRCS="squash_tar_reader.c squash_merger.c squash_decomp.c squash_layer.c
           squash_image.c squash_archive.c"
CORE_LIBS="-larchive -ljansson -lzstd -lz -lcrypto"
CFLAGS_STRICT="-O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -std=gnu11"

configure_nginx() {
    # re-configure only when the addon script or the flags change
    local stamp="$NGX_BUILD/.configured" want
    # shellcheck disable=SC1090
    . "$NGX_SRC/conf_flags"
    want=$(printf '%s\n' "${NGX_CONF_FLAGS[@]}" | sha256sum | cut -c1-16)
    want="$want $(sha256sum "$ROOT/config" | cut -c1-16)"
    if [ -f "$NGX_BUILD/Makefile" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    say "configuring nginx $(dpkg-query -W -f='${Version}' nginx-dev) for the module"
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
        for x in "${srcs[@]}" "$ROOT"/ngx_squash_module/*.h; do
            [ "$x" -nt "$out" ] && newer=1
        done
        [ -z "$newer" ] && return 0
    fi
    say "compiling $(basename "$out")"
    # shellcheck disable=SC2086
    gcc $CFLAGS_STRICT -I"$ROOT/ngx_squash_module" -o "$out" "${srcs[@]}" "${libs[@]}"
}

core_srcs() {
    local f
    for f in $CORE_SRCS; do printf '%s\n' "$ROOT/ngx_squash_module/$f"; done
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
    for f in "$ROOT"/ngx_squash_module/ngx_http_squash_*.c; do
        # shellcheck disable=SC2086
        (cd "$NGX_SRC" && cc $cflags -Werror -DNGX_DEBUG=0 $incs \
            -I "$ROOT/ngx_squash_module" -fsyntax-only "$f") || {
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
    build_c "$BUILD/squash-tarlist" "$ROOT/t/diff/tarlist.c" \
        "$ROOT/ngx_squash_module/squash_tar_reader.c" -- -lcrypto
    # shellcheck disable=SC2086
    build_c "$BUILD/squash-fuzz-merged" "$ROOT/t/fuzz/fuzz_merge.c" \
        "${core[@]}" -- -DSQUASH_FUZZ_MAIN $CORE_LIBS
    if [ "$BUILD/fuzz-merge" -ot "$ROOT/t/fuzz/fuzz_merge.c" ] \
        || [ -n "$(find "$ROOT/ngx_squash_module" -newer "$BUILD/fuzz-merge" 2>/dev/null)" ]
    then
        say "compiling fuzz-merge"
        # shellcheck disable=SC2086
        clang -g -O1 -fsanitize=fuzzer,address -I"$ROOT/ngx_squash_module" \
            -o "$BUILD/fuzz-merge" "$ROOT/t/fuzz/fuzz_merge.c" "${core[@]}" \
            $CORE_LIBS
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
    do_deb
    exec "$ROOT/t/run-suite" "$BUILD"
    ;;
deb)
    mkdir -p "$BUILD"
    do_deb
    ;;
*)
    echo "usage: $0 [build|demo|test|deb]" >&2
    exit 2
    ;;
esac
