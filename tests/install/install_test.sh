#!/bin/bash
# install_test.sh — `cmake --install` of the build into a temporary DESTDIR, then a small
# program (consumer.c) built against that installed copy three ways (pkg-config, libchorus.a,
# CMake's find_package(chorus)) and run; the WAV each writes is decoded with sox (an independent
# decoder) and must hold speech-like audio. Also checks the file set and the SONAME.
# Env: CHORUS_BUILD (the build tree), CHORUS_SRC (the source tree), CC.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${CHORUS_BUILD:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/chorus-test
dest=$tmp/dest
root=$dest$prefix

fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$dest cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" ||
    { cat "$tmp/install.log"; fail "cmake --install"; }
libdir=$(ls -d "$root"/lib*/ | head -1)
libdir=${libdir%/}
for f in include/chorus/chorus.h include/chorus/chorus_version.h bin/chorus; do
    [ -f "$root/$f" ] || fail "not installed: $f"
done
for f in libchorus.a libchorus.so pkgconfig/chorus.pc cmake/chorus/chorusConfig.cmake \
         cmake/chorus/chorusConfigVersion.cmake cmake/chorus/chorusTargets.cmake; do
    [ -e "$libdir/$f" ] || fail "not installed: ${libdir#"$root"/}/$f"
done
soname=$(objdump -p "$libdir/libchorus.so" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = libchorus.so.1 ] || fail "SONAME is '$soname', expected libchorus.so.1"
[ -e "$libdir/$soname" ] || fail "$soname not installed"
# the installed headers stand alone: each quoted include names an installed header
for h in "$root/include/chorus/"*.h; do
    for inc in $(sed -n 's/^#include "\(.*\)"/\1/p' "$h"); do
        [ -f "$root/include/$inc" ] || [ -f "$root/include/chorus/$inc" ] ||
            fail "installed $(basename "$h") includes \"$inc\", which is not installed"
    done
done

check_wav() { # FILE LABEL: decode with sox; at least 0.5 s of non-silent mono audio
    local d rms
    d=$(sox --i -D "$1") || fail "$2: sox cannot read $1"
    awk -v d="$d" 'BEGIN { exit !(d > 0.5 && d < 30) }' || fail "$2: duration $d s"
    rms=$(sox "$1" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
    awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' || fail "$2: RMS amplitude $rms (silent)"
    echo "$2: $d s, RMS $rms"
}

export LD_LIBRARY_PATH=$libdir CHORUS_CONFIG=/dev/null CHORUS_CACHE=0

# 1. pkg-config (chorus.pc locates the prefix from its own place, so DESTDIR needs nothing more)
export PKG_CONFIG_PATH=$libdir/pkgconfig
incdir=$(realpath "$(pkg-config --variable=includedir chorus)")
[ "$incdir" = "$(realpath "$root/include")" ] || fail "chorus.pc's includedir $incdir is not the prefix's"
pkg-config --exists chorus || fail "pkg-config does not find chorus"
[ "$(pkg-config --modversion chorus)" = "$(sed -n 's/^#define CHORUS_VERSION_STRING "\(.*\)"/\1/p' \
    "$root/include/chorus/chorus_version.h")" ] || fail "chorus.pc version differs from the header"
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer_pc" "$here/consumer.c" \
    $(pkg-config --cflags --libs chorus) || fail "build with pkg-config"
"$tmp/consumer_pc" "$tmp/pc.wav" || fail "consumer (pkg-config) failed"
deps=$(ldd "$tmp/consumer_pc")
grep -qF "libchorus.so.1 => $libdir/" <<< "$deps" ||
    fail "consumer (pkg-config) does not use the installed libchorus.so.1: $deps"
check_wav "$tmp/pc.wav" pkg-config

# 1b. the static library, its dependencies shared (docs/embedding.md)
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer_static" "$here/consumer.c" \
    $(pkg-config --cflags chorus) "$(pkg-config --variable=libdir chorus)/libchorus.a" \
    $(pkg-config --libs $(pkg-config --print-requires-private chorus)) \
    $(pkg-config --variable=static_libs chorus) || fail "build with libchorus.a"
deps=$(ldd "$tmp/consumer_static")
grep -q libchorus <<< "$deps" && fail "the static consumer still loads libchorus.so"
"$tmp/consumer_static" "$tmp/static.wav" || fail "consumer (static) failed"
check_wav "$tmp/static.wav" static

# 2. CMake find_package(chorus)
unset PKG_CONFIG_PATH
cmake -S "$here" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_C_COMPILER="${CC:-cc}" \
    -DCMAKE_BUILD_TYPE=Release > "$tmp/cm.log" 2>&1 || { cat "$tmp/cm.log"; fail "cmake configure"; }
cmake --build "$tmp/cm" > "$tmp/cmb.log" 2>&1 || { cat "$tmp/cmb.log"; fail "cmake build"; }
"$tmp/cm/consumer" "$tmp/cmake.wav" || fail "consumer (find_package) failed"
check_wav "$tmp/cmake.wav" find_package
# the imported target carries the include directory; nothing from the source tree leaks in
if grep -rqF "$CHORUS_SRC" "$libdir/cmake/chorus/" "$libdir/pkgconfig/"; then
    fail "the installed CMake package or chorus.pc names the source tree"
fi
echo "PASS"
