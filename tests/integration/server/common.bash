# common.bash — helpers for the server_*.sh integration tests (sourced, not a test itself).
# start_server [serve options...]: starts `chorus serve` on 127.0.0.1 and an ephemeral port,
# sets PORT, BASE, SERVER_PID and SERVER_LOG; the EXIT trap stops it and removes $WORK.
set -u
: "${CHORUS_BIN:?CHORUS_BIN must name the chorus binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chorus-server-test.XXXXXX")
SERVER_PID=
export CHORUS_CONFIG=${CHORUS_CONFIG:-$WORK/none.toml}
export CHORUS_CACHE_DIR=$WORK/cache CHORUS_CACHE=1 # a private cache: the metrics test counts its hits
: > "$WORK/none.toml"
FAILS=0

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
check() { # check DESCRIPTION COMMAND...
    local d=$1; shift
    if "$@"; then ok "$d"; else fail "$d"; fi
}

start_server() {
    rm -f "$WORK/port"
    SERVER_LOG=$WORK/server.log
    "$CHORUS_BIN" serve --host 127.0.0.1 --port 0 --port-file "$WORK/port" "$@" 2>"$SERVER_LOG" &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        [ -s "$WORK/port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; echo "server did not start" >&2; exit 1; }
        sleep 0.05
    done
    [ -s "$WORK/port" ] || { echo "server did not write its port" >&2; exit 1; }
    PORT=$(cat "$WORK/port")
    BASE=http://127.0.0.1:$PORT
}

stop_server() { # stop_server: SIGTERM, wait, and return the exit status
    local st=0
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || st=$?
    SERVER_PID=
    return $st
}

# metric NAME: the value of one Prometheus sample line (exact name with labels)
metric() {
    curl -s "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed; server log:" >&2
        tail -n 40 "$SERVER_LOG" >&2 2>/dev/null
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
