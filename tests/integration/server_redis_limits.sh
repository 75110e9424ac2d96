#!/bin/bash
# server_redis_limits.sh — account-wide limits: two `chorus serve` instances share Debian's
# redis-server (started here on a loopback port) and the OpenAI fake (tests/fakes/fake_tts.py,
# which logs how many requests it was serving when each arrived). With [openai]
# max_concurrent_global = 2, six concurrent requests split over both instances all succeed and
# the provider never sees more than 2 at once; an instance killed with SIGKILL while holding a
# slot gives it back when its lease expires (the other instance's request then goes through);
# with Redis gone, requests still run (without the global limit).
set -u
BIN=${CHORUS_BIN:?}
FAKES=${CHORUS_FAKES:?}
T=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home CHORUS_CACHE=0 CHORUS_LOG=warn
unset CHORUS_CACHE_DIR OPENAI_API_KEY CHORUS_CACHE_BACKEND CHORUS_REDIS_PASSWORD
mkdir -p "$HOME"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
KEY=sk-limit-test-0123456789abcdef
command -v redis-server >/dev/null || { echo "redis-server missing: make deps" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
start_redis() {
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >"$T/redis.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=($REDIS_PID)
    for _ in $(seq 100); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
    echo "redis-server did not start: $(cat "$T/redis.log")" >&2; exit 1
}
start_redis

# the fake: each speech request streams ~1.2 s (delays between its first chunks)
python3 "$FAKES/fake_tts.py" --provider openai --key "$KEY" --log "$T/fake.log" --chunk 2048 \
    --delay-ms 70 >"$T/fake.port" 2>"$T/fake.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q PORT "$T/fake.port" 2>/dev/null && break; sleep 0.05; done
FPORT=$(awk '/PORT/ {print $2}' "$T/fake.port")
[ -n "$FPORT" ] || { echo "fake did not start: $(cat "$T/fake.err")" >&2; exit 1; }

cat >"$T/chorus.toml" <<EOF
[chorus]
redis = "redis://127.0.0.1:$RPORT/0"
global_lease_ms = 1500
queue_timeout_ms = 20000
[openai]
base_url = "http://127.0.0.1:$FPORT/v1"
api_key = "$KEY"
max_concurrent_global = 2
EOF
export CHORUS_CONFIG=$T/chorus.toml

# start_server N: instance N on its own port (SRV_N, SRVPID_N)
start_server() {
    "$BIN" serve --host 127.0.0.1 --port 0 --port-file "$T/srv$1.port" 2>"$T/srv$1.log" &
    local pid=$!
    PIDS+=($pid)
    for _ in $(seq 200); do [ -s "$T/srv$1.port" ] && break; sleep 0.05; done
    [ -s "$T/srv$1.port" ] || { echo "server $1 did not start: $(cat "$T/srv$1.log")" >&2; exit 1; }
    eval "SRV_$1=http://127.0.0.1:$(cat "$T/srv$1.port")"
    eval "SRVPID_$1=$pid"
}
start_server 1
start_server 2
speech() { # speech URL OUT TEXT: prints the HTTP status
    curl -s -m 60 -o "$2" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"model\":\"openai/tts-1\",\"input\":\"$3\",\"voice\":\"alloy\",\"response_format\":\"mp3\"}" "$1/v1/audio/speech"
}
max_inflight() { python3 -c '
import json,sys
m=0
for l in open(sys.argv[1]):
    j=json.loads(l)
    if j.get("path","").endswith("/audio/speech"): m=max(m,j.get("inflight",0))
print(m)' "$T/fake.log"; }

# six concurrent requests, three on each instance
for i in 1 2 3 4 5 6; do
    srv=$SRV_1; [ $((i % 2)) = 0 ] && srv=$SRV_2
    (speech "$srv" "$T/out$i.mp3" "Request number $i asks the provider for speech." >"$T/code$i") &
done
wait_jobs() { for j in $(jobs -p); do case " ${PIDS[*]} " in *" $j "*) ;; *) wait "$j";; esac; done; }
wait_jobs
codes=$(for i in 1 2 3 4 5 6; do printf "%s " "$(cat "$T/code$i")"; done)
check '[ "$codes" = "200 200 200 200 200 200 " ]' "six requests did not all succeed: $codes"
n=$(grep -c '/audio/speech' "$T/fake.log")
check '[ "$n" = 6 ]' "the provider got $n requests, want 6"
m=$(max_inflight)
check '[ "$m" = 2 ]' "the provider saw $m requests at once, want exactly 2 (the global limit)"
for i in 1 6; do
    d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/out$i.mp3" 2>/dev/null)
    check 'awk -v d="${d:-0}" "BEGIN{exit !(d > 1)}"' "out$i.mp3 does not decode (duration '$d')"
done
check '[ "$(redis-cli -p "$RPORT" zcard chorus:limit:openai)" = 0 ]' "leases left behind after every request ended"

# kill -9 an instance holding a slot: its lease expires and the slot returns
sed -i 's/max_concurrent_global = 2/max_concurrent_global = 1/' "$T/chorus.toml"
kill "$SRVPID_1" "$SRVPID_2"; wait "$SRVPID_1" "$SRVPID_2" 2>/dev/null
rm -f "$T"/srv*.port
start_server 1
start_server 2
long=$(printf 'This is a long request that holds its slot while it streams. %.0s' 1 2 3 4 5 6)
(speech "$SRV_1" "$T/long.mp3" "$long" >"$T/codelong") &
for _ in $(seq 200); do [ "$(redis-cli -p "$RPORT" zcard chorus:limit:openai)" = 1 ] && break; sleep 0.05; done
check '[ "$(redis-cli -p "$RPORT" zcard chorus:limit:openai)" = 1 ]' "instance 1 holds no lease"
kill -9 "$SRVPID_1"
code=$(speech "$SRV_2" "$T/after.mp3" "The slot came back.")
check '[ "$code" = 200 ]' "instance 2 did not get the dead instance's slot back (HTTP $code)"
check '[ "$(redis-cli -p "$RPORT" zcard chorus:limit:openai)" = 0 ]' "the dead instance's lease is still there"
wait_jobs

# Redis gone: requests still run
kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
code=$(speech "$SRV_2" "$T/noredis.mp3" "Redis is away.")
check '[ "$code" = 200 ]' "a request failed while Redis was down (HTTP $code): $(tail -3 "$T/srv2.log")"
check 'grep -q "unreachable" "$T/srv2.log"' "no warning that Redis is unreachable"
check '! grep -q "$KEY" "$T/srv2.log"' "the API key reached the log"

echo "server_redis_limits: $pass passed, $fail failed"
[ "$fail" = 0 ]
