#!/usr/bin/env bash
# server_limits.sh — resource limits of `chorus serve` against misbehaving clients (issue 13):
# whole bodies bounded across connections (--max-held), non-reading clients cut (--stall-timeout),
# hang-ups and --grace 0 during "stream": false, endless chunked uploads, ambiguous framing,
# log forging, slowloris (--request-timeout, --max-client-conns). Raw-socket clients are in
# server/hostile.py. Binds 127.0.0.1 on ephemeral ports only.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
for tool in curl sox python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
export CHORUS_CACHE=0 # every request must reach the engine
W=$WORK
post() { # post JSON OUTFILE [curl args...]: prints the HTTP status
    local body=$1 out=$2; shift 2
    curl -s -o "$out" -w '%{http_code}' -H 'Content-Type: application/json' "$@" --data-binary "$body" "$BASE/v1/audio/speech"
}
err_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['error'][sys.argv[2]])" "$1" "$2"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
alive() { test "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health")" = 200; }
A37=$(printf 'a%.0s' $(seq 37))
H="python3 $HERE/server/hostile.py"
sentences() { python3 -c "import json,sys; print(json.dumps({'input': 'This sentence is repeated to make a long speech. ' * int(sys.argv[1]), 'response_format': 'pcm', 'stream': sys.argv[2] == 'stream'}))" "$1" "$2"; }
wait_zero() { # wait_zero NAME SECONDS
    local i
    for i in $(seq 1 $(($2 * 5))); do [ "$(metric "$1")" = 0 ] && return 0; sleep 0.2; done
    return 1
}
no_esc() { ! LC_ALL=C grep -q $'\x1b' "$1"; }
wait_metric() { # wait_metric NAME MIN SECONDS: until the sample is >= MIN
    local i
    for i in $(seq 1 $(($3 * 5))); do
        awk -v a="$(metric "$1")" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }' && return 0
        sleep 0.2
    done
    return 1
}

# ---------------------------------------------------------------- 4. whole bodies are bounded
# A client that never reads a "stream": false body keeps it in memory: it counts against
# --max-held until sent, so a second one is refused (503) instead of growing RSS.
sentences 40 whole > $W/big.json
start_server -j 4 --max-held 12000000 --stall-timeout 6000
rm -f $W/go
# 40 sentences: ~5 MB of PCM, more than loopback's socket buffers absorb; held as 8 MB
$H stall $PORT "$(cat $W/big.json)" $W/go 60 > $W/stall.out &
STALL=$!
check "a non-reading whole body is held (chorus_held_bytes)" wait_metric chorus_held_bytes 5000000 60
check "a second whole body past --max-held: 503" test "$(post @$W/big.json $W/h2)" = 503
check "... code server_overloaded, param stream" test "$(err_field $W/h2 code) $(err_field $W/h2 param)" = "server_overloaded stream"
# ---------------------------------------------------------------- 5. no progress: cut
check "the stalled reader is cut (stalled_response)" wait_metric 'chorus_connections_cut_total{reason="stalled_response"}' 1 60
touch $W/go; wait $STALL
check "... its connection is closed" test "$(cat $W/stall.out)" = closed
check "held bytes back to 0" wait_zero chorus_held_bytes 30
check "a whole body is served again" test "$(post '{"input":"hello again","response_format":"wav","stream":false}' $W/h3.wav)" = 200
stop_server
# a streamed reader that stops reading held the only slot for 120 s (MHD's idle timeout)
start_server -j 1 --stall-timeout 2000 --queue-timeout 60000
rm -f $W/go
$H stall $PORT "$(sentences 120 stream)" $W/go 90 > $W/stall2.out &
STALL=$!
check "the non-reading stream holds the slot" wait_metric chorus_generations_active 1 60
check "the next request gets the slot once it is cut" test "$(post '{"input":"next","response_format":"wav"}' $W/n.wav)" = 200
check "... because the stream was cut" test "$(metric 'chorus_connections_cut_total{reason="stalled_response"}')" -ge 1
touch $W/go; wait $STALL

# ---------------------------------------------------------------- 6. whole bodies see hang-ups
$H hangup $PORT "$(sentences 400 whole)"
check "a whole-body generation whose client left is cancelled" wait_metric 'chorus_generations_total{outcome="cancelled"}' 1 60
check "slot free after the hang-up" test "$(post '{"input":"after","response_format":"wav"}' $W/a.wav)" = 200
stop_server
start_server -j 1 --grace 0
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary "$(sentences 400 whole)" $BASE/v1/audio/speech &
CURL=$!
check "a whole-body generation is running" wait_metric chorus_generations_active 1 60
T0=$(date +%s)
stop_server
T1=$(date +%s)
check "--grace 0 stops a whole-body generation at once ($((T1 - T0)) s)" test $((T1 - T0)) -lt 10
wait $CURL 2>/dev/null

# ---------------------------------------------------------------- minor: upload, framing, log
start_server --max-body 200000 --max-buffered 100000
check "an endless chunked upload is cut (MB sent: $($H chunked $PORT 200 | tee $W/mb))" test "$(cat $W/mb)" -lt 50
check "server alive after the endless upload" alive
printf 'POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 14\r\nContent-Length: 15\r\n\r\n{"input":"hi"}' > $W/cl2
check "two different Content-Lengths: 400" sh -c "$H raw $PORT < $W/cl2 | grep -q ' 400 '"
printf 'POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 14\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' > $W/clte
check "Content-Length with Transfer-Encoding: 400" sh -c "$H raw $PORT < $W/clte | grep -q ' 400 '"
LONGURL=/v1/$(printf 'x%.0s' $(seq 3000))
check "a 3000-byte URL: 414 in the JSON envelope" test "$(curl -s -D $W/u.h -o $W/u -w '%{http_code}' "$BASE$LONGURL")" = 414
check "... with x-request-id" grep -qi '^x-request-id:' $W/u.h
check "... code uri_too_long" test "$(err_field $W/u code)" = uri_too_long
curl -s -o /dev/null "$BASE/nothing%0aFORGED%20line%1b%5b31m"
check "access log escapes a decoded newline" grep -q 'nothing\\x0aFORGED' "$SERVER_LOG"
check "... no forged log line" sh -c "! grep -q '^FORGED' '$SERVER_LOG'"
check "... no raw escape byte" no_esc "$SERVER_LOG"
check "whole body past --max-buffered: 400" test "$(post "$(sentences 20 whole)" $W/mb1)" = 400
check "... param stream (what to change)" test "$(err_field $W/mb1 param)" = stream
check "a bad sample_rate: 400" test "$(post '{"input":"hi","response_format":"wav","sample_rate":1}' $W/sr)" = 400
check "... param sample_rate" test "$(err_field $W/sr param)" = sample_rate
check "a NUL in the input: 400" test "$(post '{"input":"hi\u0000there"}' $W/nul)" = 400
check "... refused as invalid JSON, never truncated" test "$(err_field $W/nul code)" = invalid_json
stop_server

# ---------------------------------------------------------------- slowloris and per-client cap
start_server --max-client-conns 4 --request-timeout 1500
$H slowloris $PORT 4 20 > $W/slow.out &
SLOW=$!
sleep 0.5
check "/health from another client while one trickles 4 sockets" test "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 $BASE/health)" = 200
wait $SLOW
check "all trickling sockets were cut by --request-timeout" test "$(cat $W/slow.out)" = 4
check "... counted as slow_request" test "$(metric 'chorus_connections_cut_total{reason="slow_request"}')" -ge 4
stop_server

finish
