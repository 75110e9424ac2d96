#!/bin/bash
# bench_deploy.sh — the reference deployment's numbers (docs/deploy.md), on loopback: nginx
# (deploy/nginx/chorus.conf) in front of 1 or 2 `chorus serve` instances sharing a cache in
# redis-server; closed-loop load (bench_deploy_load.py) of espeak requests, cached and uncached;
# then the cache-hit latency of one instance with its cache local only, in Redis only, and
# layered. Prints numbers only. Usage: bench_deploy.sh [CHORUS_BINARY] [SECONDS]
set -u
BIN=${1:-build/chorus}
SECS=${2:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port) NPORT=$(free_port) P1=$(free_port) P2=$(free_port) P3=$(free_port)
export HOME=$T/home CHORUS_LOG=error
mkdir -p "$HOME" "$T/nginx/logs"
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done

# start NAME PORT CACHE(0/1) LOCAL(true/false/only): an instance; INST_NAME holds its pid
start() {
    local cfg=$T/$1.toml
    if [ "$4" = only ]; then : >"$cfg"
    else printf '[cache]\nbackend = "redis://127.0.0.1:%s/0"\nlocal = %s\n' "$RPORT" "$4" >"$cfg"; fi
    CHORUS_CONFIG=$cfg CHORUS_CACHE=$3 CHORUS_CACHE_DIR=$T/cache_$1 "$BIN" serve -q --host 127.0.0.1 \
        --port "$2" 2>"$T/$1.log" &
    eval "INST_$1=$!"
    PIDS+=($!)
    for _ in $(seq 200); do curl -fs "http://127.0.0.1:$2/health" >/dev/null 2>&1 && return; sleep 0.05; done
    echo "instance $1 did not start: $(cat "$T/$1.log")" >&2; exit 1
}
stop() { local p; p=$(eval echo "\$INST_$1"); kill "$p"; wait "$p" 2>/dev/null; }

# nginx: the reference config; $2 is blank for one instance (its line is dropped)
nginx_conf() {
    sed -e "s/127.0.0.1:8101/127.0.0.1:$1/" -e "s/listen 8080;/listen 127.0.0.1:$NPORT;/" \
        "$SRC/deploy/nginx/chorus.conf" >"$T/nginx/chorus.conf"
    if [ -n "$2" ]; then sed -i "s/127.0.0.1:8102/127.0.0.1:$2/" "$T/nginx/chorus.conf"
    else sed -i "/127.0.0.1:8102/d" "$T/nginx/chorus.conf"; fi
    cat >"$T/nginx/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $T/nginx/body; proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fcgi; uwsgi_temp_path $T/nginx/uwsgi; scgi_temp_path $T/nginx/scgi;
    include $T/nginx/chorus.conf;
}
EOC
}
run_nginx() {
    nginx_conf "$@"
    "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx/stderr" &
    NGINX_PID=$!
    PIDS+=($!)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$NPORT/nginx-health" >/dev/null 2>&1 && return; sleep 0.05; done
}
stop_nginx() { kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null; }
LOAD="python3 $HERE/bench_deploy_load.py"
LB=http://127.0.0.1:$NPORT
echo "== bench_deploy: $(nproc) cores, ${SECS}s per line, espeak, WAV, through nginx"
for cache in 1 0; do
    mode=cached; [ $cache = 0 ] && mode=uncached
    start a "$P1" $cache true
    run_nginx "$P1" ""
    $LOAD "$LB" 4 "$SECS" $mode "1 instance, $mode"
    stop_nginx
    start b "$P2" $cache true
    run_nginx "$P1" "$P2"
    $LOAD "$LB" 4 "$SECS" $mode "2 instances, $mode"
    stop_nginx
    stop a
    stop b
done
echo "== cache hit latency (one instance, direct, one client, the same text)"
for where in only false true; do
    label="local directory"; [ $where = false ] && label="Redis only"; [ $where = true ] && label="layered (local first)"
    start c "$P3" 1 $where
    $LOAD "http://127.0.0.1:$P3" 1 "$SECS" same "hit: $label"
    stop c
done
