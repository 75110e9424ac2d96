#!/bin/sh
# make check-arm64: cross-compile the nn kernels, the Kokoro forward pass (and the tensor and pack
# files they load) and their unit tests for aarch64 with Debian's cross toolchain, then run the
# tests under qemu-user. Only those parts: the rest of chorus needs arm64 builds of all its
# libraries. BLAS is not linked: nn.c dlopens it at run time, here the arm64 OpenBLAS when
# libopenblas0:arm64 is installed (else the plain C loops); the nn kernels' test runs a second
# time on the plain C loops (CHORUS_NN_BLAS=0).
#
# Needs (docs/kokoro.md, "ARM64"): gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user, and
# jansson for arm64 (dpkg --add-architecture arm64; apt-get update; apt-get install
# libjansson-dev:arm64). Skips with a message, exit status 0, when any is missing.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-aarch64}
ROOT=/usr/aarch64-linux-gnu
LIBDIR=/usr/lib/aarch64-linux-gnu
OUT=${ARM64_BUILD:-$here/build-arm64}

skip() {
    echo "check-arm64: skipped: $1"
    echo "  install: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user;"
    echo "  dpkg --add-architecture arm64; apt-get update; apt-get install libjansson-dev:arm64"
    exit 0
}
command -v "$CC" >/dev/null 2>&1 || skip "no $CC (gcc-aarch64-linux-gnu)"
[ -d "$ROOT/lib" ] || skip "no $ROOT (libc6-dev-arm64-cross)"
command -v "$QEMU" >/dev/null 2>&1 || skip "no $QEMU (qemu-user)"
[ -e "$LIBDIR/libjansson.so" ] || skip "no $LIBDIR/libjansson.so (libjansson-dev:arm64)"

cd "$here"
mkdir -p "$OUT/generated/chorus"
# chorus_version.h as CMake writes it (the numbers do not matter to these tests)
ver=$(sed -n 's/^project(chorus VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
sed -e "s/@PROJECT_VERSION_MAJOR@/${ver%%.*}/" -e "s/@PROJECT_VERSION_MINOR@/0/" \
    -e "s/@PROJECT_VERSION_PATCH@/0/" -e "s/@PROJECT_VERSION@/$ver/" -e "s/@CHORUS_SOVERSION@/0/" \
    cmake/chorus_version.h.in >"$OUT/generated/chorus/chorus_version.h"
src="src/nn/nn.c src/nn/dconv.c src/nn/tensorfile.c src/nn/zip.c src/nn/packfile.c src/core/log.c
     src/backends/kokoro/kokoro_model.c"
flags="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wno-unused-parameter -Werror
       -Iinclude -I$OUT/generated -Isrc -Itests/unit"
status=0
for t in test_nn_kernels test_nn_tensorfile test_kokoro_model; do
    # shellcheck disable=SC2086
    $CC $flags -o "$OUT/$t" "tests/unit/$t.c" $src -ljansson -lm -lpthread -ldl
    file "$OUT/$t" 2>/dev/null | grep -q "ARM aarch64" || { echo "$t: not an aarch64 binary"; exit 1; }
done
# Each test with the arm64 OpenBLAS when installed (libopenblas0:arm64, dlopened as on x86),
# and the kernels' plain C fallback (CHORUS_NN_BLAS=0) for the nn kernels.
run() {
    blas=$1
    t=$2
    echo "check-arm64: $t (CHORUS_NN_BLAS=$blas)"
    # One OpenBLAS thread from the start (its pool of busy-waiting threads made dlopen take
    # minutes under qemu; nn.c sets one thread anyway) and no x86 core type from the host.
    # One chorus thread too (CHORUS_THREADS=2 to try more): Debian 12's qemu-user 7.2 stalled
    # for minutes on any guest that starts a second thread (even a ten-line pthread program;
    # docs/kokoro.md, "ARM64").
    if CHORUS_TEST_DATA="$here/tests/data" CHORUS_LOG=error CHORUS_NN_BLAS=$blas \
        CHORUS_THREADS=${CHORUS_THREADS:-1} OPENBLAS_NUM_THREADS=1 "$QEMU" -L "$ROOT" -E LD_LIBRARY_PATH="$LIBDIR" \
        -U OPENBLAS_CORETYPE "$OUT/$t"; then
        echo "check-arm64: $t passed"
    else
        echo "check-arm64: $t FAILED"
        status=1
    fi
}
for t in test_nn_kernels test_nn_tensorfile test_kokoro_model; do run 1 "$t"; done
run 0 test_nn_kernels
exit $status
