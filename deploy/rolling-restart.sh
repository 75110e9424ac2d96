#!/bin/sh
# deploy/rolling-restart.sh — restart chorus@INSTANCE units one at a time, each only after the
# previous one answers /health "ready" again, so nginx always has a live instance.
#   rolling-restart.sh 01 02 03
set -eu
for i in "$@"; do
    systemctl restart "chorus@$i"      # SIGTERM: finishes its streams, then exits
    port="81$i"
    n=0
    until curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"state": *"ready"'; do
        n=$((n + 1))
        [ "$n" -lt 300 ] || { echo "chorus@$i is not ready after 30 s" >&2; exit 1; }
        sleep 0.1
    done
    # nginx skips an instance that refused a connection for fail_timeout (1 s in
    # deploy/nginx/chorus.conf): let that pass before the next instance goes down
    sleep 2
    echo "chorus@$i ready"
done
