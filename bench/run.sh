#!/bin/sh
# Run the benchmarks that exist in the build folder ($1, default build/). Prints numbers only;
# nothing here asserts a time.
set -eu
B=${1:-build}
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ -x "$B/bench/bench_espeak" ]; then
    echo "== espeak: chorus vs the raw espeak-ng command"
    for n in 0 50000; do
        "$B/bench/bench_espeak" --chars $n
        "$B/bench/bench_espeak" --chars $n --raw
    done
fi
if [ -x "$B/chorus" ] && command -v ffprobe >/dev/null; then
    echo "== bench_book"
    sh "$(dirname "$0")/bench_book.sh" "$B/chorus"
fi
if [ -x "$B/chorus" ]; then
    echo "== bench_stream_input"
    sh "$(dirname "$0")/bench_stream_input.sh" "$B/chorus"
fi
if [ -x "$B/chorus" ] && command -v redis-server >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
    bash "$(dirname "$0")/bench_deploy.sh" "$B/chorus"
fi
if [ -x "$B/bench/bench_pull" ] && [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 "$(dirname "$0")/bench_python.py" "$B"
fi
for b in "$B"/bench/bench_*; do
    case "$b" in */bench_espeak|*/bench_pull) continue ;; esac
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
