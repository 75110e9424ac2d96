#!/bin/bash
# symbols.sh — what the built libraries export. libchorus.a: every global symbol carries the
# chorus_ prefix (an embedder's own kokoro_g2p or cache_warn must not collide with ours).
# libchorus.so: exactly the functions include/chorus/*.h declare CHORUS_API, no more (internals stay
# hidden) and no fewer (each declared function is really there).
# One deliberate exception in both: create_audio_device_object, which stands in front of
# libpcaudio's so that libespeak-ng 1.51 opens no sound device when chorus initialises it
# (src/backends/espeak/espeak_shared.c; it passes every other caller on to libpcaudio).
# Env: CHORUS_BUILD (the build tree), CHORUS_SRC (the source tree).
set -euo pipefail
build=${CHORUS_BUILD:?}
headers=("${CHORUS_SRC:?}"/include/chorus/*.h)
fail=0

bad=$(nm -g --defined-only "$build/libchorus.a" 2>/dev/null |
      awk 'NF == 3 && $2 ~ /^[A-Z]$/ {print $3}' | grep -v '^chorus_' | grep -v '^__' |
      grep -vx 'create_audio_device_object' |
      sort -u || true) # (__*: the compiler's own, e.g. ASan's __odr_asan_gen_*)
if [ -n "$bad" ]; then
    echo "FAIL: libchorus.a defines global symbols without the chorus_ prefix:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    fail=1
fi

declared=$(cat "${headers[@]}" | grep -v '#define' | grep -o 'CHORUS_API[^(]*(' | sed -E 's/.*[^A-Za-z0-9_]([A-Za-z0-9_]+)\($/\1/' |
           sort -u)
exported=$(nm -D --defined-only "$build/libchorus.so" | awk '$2 ~ /^[TDRBVW]$/ {print $3}' |
           grep -v '^_' | grep -vx 'create_audio_device_object' | sort -u)
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$extra" ]; then
    echo "FAIL: libchorus.so exports symbols include/chorus/*.h do not declare CHORUS_API:" >&2
    echo "$extra" | sed 's/^/  /' >&2
    fail=1
fi
if [ -n "$missing" ]; then
    echo "FAIL: include/chorus/*.h declare functions libchorus.so does not export:" >&2
    echo "$missing" | sed 's/^/  /' >&2
    fail=1
fi
if ! nm -D --defined-only "$build/libchorus.so" | grep -qw 'T create_audio_device_object'; then
    echo "FAIL: libchorus.so does not export create_audio_device_object, so libespeak-ng 1.51 would" >&2
    echo "      probe a sound server (src/backends/espeak/espeak_shared.c)" >&2
    fail=1
fi
[ "$(echo "$declared" | wc -l)" -gt 50 ] || { echo "FAIL: too few declarations parsed" >&2; fail=1; }
[ $fail = 0 ] && echo "PASS: $(echo "$exported" | wc -l) exported functions, all chorus_"
exit $fail
