#!/usr/bin/env bash
# server_http.sh — `chorus serve` over plain HTTP with curl: every endpoint, every error status,
# the audio decoded by ffprobe/sox, SSE and captioned NDJSON parsed, the bounded queue (429/503),
# a client that disconnects, authentication, the non-loopback refusal, config voice tables and
# graceful shutdown. Binds 127.0.0.1 on ephemeral ports only.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
S=$HERE/server/streams.py
for tool in curl ffprobe sox python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

# post ENDPOINT JSON OUTFILE: prints the HTTP status; headers in OUTFILE.h
post() {
    curl -s -D "$3.h" -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" "$BASE$1"
}
header() { grep -i "^$1:" "$2.h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
is_error() { # is_error FILE CODE PARAM: OpenAI's envelope with that code and param
    python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["error"]
assert set(d) == {"message", "type", "param", "code"}, d
assert d["message"] and d["message"][0].islower() or d["message"][0] in "'\"", d
assert d["code"] == sys.argv[2], d
assert (d["param"] or "") == (sys.argv[3] if len(sys.argv) > 3 else ""), d
PY
}
duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }
pcm_duration() { sox -t raw -r "$2" -e signed -b 16 -c 1 "$1" -n stat 2>&1 | awk '/^Length/ {print $3}'; }
rms() { sox "$@" -n stat 2>&1 | awk '/^RMS +amplitude/ {print $3}'; }
gt() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$1" "$2"; }
between() { python3 -c "import sys; a,l,h=map(float,sys.argv[1:]); sys.exit(0 if l <= a <= h else 1)" "$1" "$2" "$3"; }

TEXT="Hello there. This is chorus speaking through an OpenAI compatible server."
# a client that stops reading holds its slot until --stall-timeout: long here, so the held
# slot below stays held however slow the build (server_limits.sh tests the cut)
start_server -j 1 --max-queue 1 --queue-timeout 1500 --max-body 200000 --max-input 5000 --grace 300 --stall-timeout 120000
W=$WORK

# ---------------------------------------------------------------- simple endpoints
check "GET /health" test "$(curl -s -o $W/h -w '%{http_code}' $BASE/health)" = 200
check "health says ok (tldw_chatbook's contract)" test "$(jq_py $W/h 'd["status"]')" = ok
check "GET / serves the page" sh -c "curl -sf $BASE/ | grep -q '<title>chorus'"
check "GET /v1/models" test "$(curl -s -o $W/m -w '%{http_code}' $BASE/v1/models)" = 200
check "models list shape" test "$(jq_py $W/m 'd["object"] + " " + str(sorted(x["id"] for x in d["data"] if x["object"] == "model"))')" = "list ['espeak', 'gpt-4o-mini-tts', 'tts-1', 'tts-1-hd']"
check "GET /v1/models/tts-1" test "$(curl -s -o /dev/null -w '%{http_code}' $BASE/v1/models/tts-1)" = 200
check "GET /v1/models/nope is 404" test "$(curl -s -o $W/mn -w '%{http_code}' $BASE/v1/models/nope)" = 404
check "unknown model envelope" is_error $W/mn model_not_found model
check "GET /v1/backends" test "$(curl -s -o $W/b -w '%{http_code}' $BASE/v1/backends)" = 200
check "espeak is available" test "$(jq_py $W/b '[x["available"] for x in d["data"] if x["name"] == "espeak"][0]')" = True
check "wav and pcm are listed formats" test "$(jq_py $W/b '"wav" in d["formats"] and "pcm" in d["formats"]')" = True
check "GET /v1/audio/voices" test "$(curl -s -o $W/v -w '%{http_code}' $BASE/v1/audio/voices)" = 200
check "voices have id and name, en-us among them" test "$(jq_py $W/v 'all("id" in x and "name" in x for x in d["voices"]) and any(x["id"] == "en-us" for x in d["voices"])')" = True
check "voices list the OpenAI aliases" test "$(jq_py $W/v 'd["aliases"]["alloy"]')" = en-us
check "legacy voices are strings" test "$(curl -s "$BASE/v1/audio/voices?legacy=true" | python3 -c 'import json,sys; v=json.load(sys.stdin)["voices"]; print(all(isinstance(x,str) for x in v) and len(v) > 10)')" = True
check "voices of an unknown backend: 404" test "$(curl -s -o $W/vb -w '%{http_code}' "$BASE/v1/audio/voices?backend=nope")" = 404
check "unknown backend envelope" is_error $W/vb model_not_found backend
check "unknown route: 404" test "$(curl -s -o $W/r -w '%{http_code}' $BASE/v2/nothing)" = 404
check "unknown route envelope" is_error $W/r not_found
check "GET on speech: 405" test "$(curl -s -D $W/g.h -o $W/g -w '%{http_code}' $BASE/v1/audio/speech)" = 405
check "405 names the allowed method" test "$(header Allow $W/g)" = POST

# ---------------------------------------------------------------- audio
check "speech wav: 200" test "$(post /v1/audio/speech "{\"model\":\"tts-1\",\"input\":\"$TEXT\",\"voice\":\"alloy\",\"response_format\":\"wav\"}" $W/a.wav)" = 200
check "wav content type" test "$(header Content-Type $W/a.wav)" = audio/wav
check "streamed with chunked encoding" test "$(header Transfer-Encoding $W/a.wav)" = chunked
check "alloy maps to en-us on espeak" test "$(header x-chorus-voice $W/a.wav)" = en-us
check "wav decodes as 16-bit mono" test "$(ffprobe -v error -show_entries stream=codec_name,channels -of csv=p=0 $W/a.wav)" = "pcm_s16le,1"
D1=$(duration $W/a.wav)
check "wav holds speech ($D1 s)" gt "$D1" 2.0
check "wav is not silence" gt "$(rms $W/a.wav)" 0.01

check "speech pcm: 200" test "$(post /v1/audio/speech "{\"input\":\"$TEXT\",\"voice\":\"echo\",\"response_format\":\"pcm\"}" $W/a.pcm)" = 200
check "pcm content type" test "$(header Content-Type $W/a.pcm)" = audio/pcm
check "pcm is 24 kHz" test "$(header x-chorus-sample-rate $W/a.pcm)" = 24000
check "pcm has whole samples" test $(( $(stat -c %s $W/a.pcm) % 2 )) = 0
check "pcm at 24 kHz holds speech" gt "$(pcm_duration $W/a.pcm 24000)" 2.0
check "pcm is not silence" gt "$(rms -t raw -r 24000 -e signed -b 16 -c 1 $W/a.pcm)" 0.01

check "stream false: 200" test "$(post /v1/audio/speech "{\"input\":\"$TEXT\",\"response_format\":\"wav\",\"stream\":false}" $W/w.wav)" = 200
check "stream false has a Content-Length" test -n "$(header Content-Length $W/w.wav)"
DATA=$(od -An -t u4 -j 40 -N 4 $W/w.wav | tr -d ' ')
check "stream false wav header has the exact data size" test "$DATA" = $(( $(stat -c %s $W/w.wav) - 44 ))

check "speed 2: 200" test "$(post /v1/audio/speech "{\"input\":\"$TEXT\",\"response_format\":\"wav\",\"speed\":2.0}" $W/fast.wav)" = 200
check "speed 2 is shorter" python3 -c "import sys; sys.exit(0 if float('$(duration $W/fast.wav)') < 0.75 * float('$D1') else 1)"
check "volume 0.5: 200" test "$(post /v1/audio/speech "{\"input\":\"$TEXT\",\"response_format\":\"wav\",\"volume_multiplier\":0.5}" $W/quiet.wav)" = 200
R1=$(rms $W/a.wav); R2=$(rms $W/quiet.wav)
check "volume_multiplier 0.5 halves the level ($R1 -> $R2)" between "$(python3 -c "print($R2/$R1)")" 0.4 0.6
check "voice object: 200" test "$(post /v1/audio/speech "{\"input\":\"hello\",\"voice\":{\"id\":\"en-gb\"},\"response_format\":\"wav\"}" $W/vo.wav)" = 200
check "voice object id is used" test "$(header x-chorus-voice $W/vo.wav)" = en-gb
check "Kokoro extras accepted" test "$(post /v1/audio/speech "{\"model\":\"espeak\",\"input\":\"Call 555 at 10am.\",\"response_format\":\"wav\",\"lang_code\":\"a\",\"normalization_options\":{\"normalize\":false,\"url_normalization\":false},\"stream\":true,\"return_download_link\":false}" $W/k.wav)" = 200
check "backend options pass through" test "$(post /v1/audio/speech "{\"model\":\"espeak\",\"input\":\"hello\",\"response_format\":\"wav\",\"options\":{\"pitch\":80}}" $W/o.wav)" = 200
check "backend/model form" test "$(post /v1/audio/speech "{\"model\":\"espeak/default\",\"input\":\"hello\",\"response_format\":\"wav\"}" $W/bm.wav)" = 200

# SSE
check "sse: 200" test "$(post /v1/audio/speech "{\"input\":\"$TEXT\",\"response_format\":\"wav\",\"stream_format\":\"sse\"}" $W/s.sse)" = 200
check "sse content type" test "$(header Content-Type $W/s.sse)" = text/event-stream
check "sse events parse, done comes last" sh -c "python3 $S sse $W/s.sse $W/s.wav >/dev/null"
check "sse deltas form one wav" gt "$(duration $W/s.wav)" 2.0

# captioned
CAP="{\"input\":\"$TEXT\",\"response_format\":\"pcm\"}"
check "captioned: 200" test "$(post /v1/audio/speech/captioned "$CAP" $W/c.nd)" = 200
check "captioned is NDJSON" test "$(header Content-Type $W/c.nd)" = application/x-ndjson
OUT=$(python3 $S ndjson $W/c.nd $W/c.pcm "$TEXT") || fail "captioned lines parse"
NW=${OUT% *}; LAST=${OUT#* }
check "captions cover the words ($NW)" test "$NW" -ge 10
CD=$(pcm_duration $W/c.pcm 24000)
check "last word ends inside the audio ($LAST <= $CD)" python3 -c "import sys; sys.exit(0 if $LAST <= $CD + 0.05 and $LAST > 0.5 * $CD else 1)"
check "/dev/captioned_speech alias" test "$(post /dev/captioned_speech "$CAP" $W/c2.nd)" = 200
check "captioned stream false: one JSON" test "$(post /v1/audio/speech/captioned "{\"input\":\"$TEXT\",\"response_format\":\"wav\",\"stream\":false}" $W/c3.json)" = 200
check "whole captioned object parses" python3 $S json $W/c3.json $W/c3.wav "$TEXT"
check "whole captioned audio decodes" gt "$(duration $W/c3.wav)" 2.0

# ---------------------------------------------------------------- errors
e400() { # e400 DESCRIPTION BODY CODE PARAM
    local st
    st=$(post /v1/audio/speech "$2" $W/e)
    check "$1: 400" test "$st" = 400
    check "$1: envelope" is_error $W/e "$3" "$4"
    check "$1: not retried" test "$(header x-should-retry $W/e)" = false
}
e400 "bad json" '{"input": "x",' invalid_json ""
e400 "not an object" '["input"]' invalid_json ""
e400 "missing input" '{"model":"tts-1"}' missing_required_parameter input
e400 "input is a number" '{"input":5}' invalid_type input
e400 "empty input" '{"input":""}' invalid_value input
e400 "speed out of range" '{"input":"x","speed":9}' invalid_value speed
e400 "unknown format name" '{"input":"x","response_format":"ogg-vorbis"}' invalid_value response_format
e400 "bad stream_format" '{"input":"x","stream_format":"websocket"}' invalid_value stream_format
e400 "unknown voice" '{"input":"x","voice":"nosuchvoice"}' invalid_value voice
check "unknown voice message names it" grep -q "unknown voice 'nosuchvoice'" $W/e
e400 "bad normalization option" '{"input":"x","normalization_options":{"normalize":"maybe"}}' invalid_type normalization_options
e400 "volume out of range" '{"input":"x","volume_multiplier":-1}' invalid_value volume_multiplier
e400 "unknown backend option" '{"input":"x","options":{"nosuch":1}}' invalid_value options
e400 "duplicate keys" '{"input":"x","input":"y"}' invalid_json ""
for f in mp3 opus flac aac; do
    if [ "$(jq_py $W/b "'$f' in d['formats']")" = False ]; then
        e400 "format $f missing from this build" "{\"input\":\"x\",\"response_format\":\"$f\"}" unsupported_format response_format
    fi
done
e400 "voice that looks like a path" '{"input":"x","voice":"../../../etc/passwd"}' invalid_value voice
e400 "model that looks like a path" '{"input":"x","model":"espeak/../../etc/passwd"}' invalid_value model
check "unknown model: 404" test "$(post /v1/audio/speech '{"input":"x","model":"nosuchbackend"}' $W/e)" = 404
check "unknown model envelope" is_error $W/e model_not_found model
python3 -c "import json; print(json.dumps({'input': 'word ' * 1200}))" > $W/long6k.json
check "input over --max-input: 400" test "$(post /v1/audio/speech @$W/long6k.json $W/e)" = 400
check "input too long envelope" is_error $W/e string_above_max_length input
head -c 300000 /dev/zero | tr '\0' 'a' | sed 's/^/{"input":"/; s/$/"}/' > $W/huge.json
check "body over --max-body: 413" test "$(post /v1/audio/speech @$W/huge.json $W/e)" = 413
check "413 envelope" is_error $W/e request_too_large
check "413 with chunked upload" test "$(curl -s -o $W/e -w '%{http_code}' -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @$W/huge.json $BASE/v1/audio/speech)" = 413

# ---------------------------------------------------------------- load, disconnects
python3 -c "import json; print(json.dumps({'input': 'This sentence is repeated to make a long speech. ' * 90, 'response_format': 'pcm'}))" > $W/long.json
FREED=$(python3 $S disconnect $PORT $W/long.json) || fail "disconnect"
check "a client that hangs up frees its slot (${FREED}s)" python3 -c "import sys; sys.exit(0 if $FREED < 0.2 else 1)"
check "the cancelled generation is counted" gt "$(metric 'chorus_generations_total{outcome="cancelled"}')" 0
python3 $S hold $PORT $W/long.json & HOLD=$!
for _ in $(seq 100); do [ "$(metric chorus_generations_active)" = 1 ] && break; sleep 0.02; done
check "the held generation has the only slot" test "$(metric chorus_generations_active)" = 1
QD=$(python3 $S queued-disconnect $PORT) || fail "queued disconnect"
check "a queued client that hangs up leaves the queue (${QD}s)" python3 -c "import sys; sys.exit(0 if $QD < 0.2 else 1)"
post /v1/audio/speech '{"input":"waits in the queue","response_format":"wav"}' $W/q503 > $W/q503.st &
QP=$!
for _ in $(seq 100); do [ "$(metric chorus_generations_queued)" = 1 ] && break; sleep 0.02; done
check "queue full: 429" test "$(post /v1/audio/speech '{"input":"one too many"}' $W/e)" = 429
check "429 envelope" is_error $W/e rate_limit_exceeded
check "429 has Retry-After" test -n "$(header Retry-After $W/e)"
check "429 may be retried" test "$(header x-should-retry $W/e)" = true
wait $QP
check "queue timeout: 503" test "$(cat $W/q503.st)" = 503
check "503 envelope" is_error $W/q503 server_overloaded
check "503 has Retry-After" test -n "$(header Retry-After $W/q503)"
kill $HOLD; wait $HOLD 2>/dev/null
for _ in $(seq 100); do [ "$(metric chorus_generations_active)" = 0 ] && break; sleep 0.02; done
check "speech works again once the slot is free" test "$(post /v1/audio/speech '{"input":"free again","response_format":"wav"}' $W/again.wav)" = 200

# ---------------------------------------------------------------- metrics
curl -s $BASE/metrics > $W/metrics
check "metrics: requests by status" grep -q '^chorus_http_requests_total{endpoint="/v1/audio/speech",status="200"} [1-9]' $W/metrics
check "metrics: 429 counted" grep -q '^chorus_http_requests_total{endpoint="/v1/audio/speech",status="429"} 1$' $W/metrics
check "metrics: ttfb histogram" grep -q '^chorus_time_to_first_byte_seconds_count [1-9]' $W/metrics
check "metrics: real-time factor" grep -q '^chorus_real_time_factor_count [1-9]' $W/metrics
check "metrics: bytes out" grep -q '^chorus_bytes_out_total [1-9]' $W/metrics
check "metrics: every sample line is NAME{labels} NUMBER" python3 -c "
import re, sys
for l in open('$W/metrics'):
    if l.startswith('#') or not l.strip(): continue
    assert re.match(r'^[a-z_]+(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? [0-9.e+-]+$', l.strip()), l
"

# the audio cache: the same request again is served from it (once its entry is stored)
# (the entry is stored after the response ends, so ask again until it is there)
H0=$(metric chorus_cache_hits_total)
post /v1/audio/speech '{"input":"A sentence for the cache.","response_format":"wav"}' $W/c1.wav >/dev/null
for _ in $(seq 50); do
    sleep 0.1
    post /v1/audio/speech '{"input":"A sentence for the cache.","response_format":"wav"}' $W/c2.wav >/dev/null
    [ "$(metric chorus_cache_hits_total)" != "$H0" ] && break
done
check "metrics: a repeated request is a cache hit ($H0 -> $(metric chorus_cache_hits_total))" gt "$(metric chorus_cache_hits_total)" "$H0"
check "the cached audio is the same audio" cmp -s $W/c1.wav $W/c2.wav

# ---------------------------------------------------------------- graceful shutdown
python3 $S hold $PORT $W/long.json & HOLD=$!
for _ in $(seq 100); do [ "$(metric chorus_generations_active)" = 1 ] && break; sleep 0.02; done
stop_server; ST=$?
check "SIGTERM with a stream in flight: exit 0" test $ST = 0
check "shutdown is logged" grep -q 'chorus serve: stopped' $SERVER_LOG
check "no new connections after shutdown" sh -c "! curl -s -m 2 $BASE/health"
kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null

# ---------------------------------------------------------------- auth
start_server --api-key s3cret-one --api-key s3cret-two
check "no key: 401" test "$(curl -s -D $W/u.h -o $W/u -w '%{http_code}' $BASE/v1/models)" = 401
check "401 envelope" is_error $W/u invalid_api_key
check "401 asks for Bearer" sh -c "grep -qi '^WWW-Authenticate: Bearer' $W/u.h"
check "wrong key: 401" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-on' $BASE/v1/models)" = 401
check "longer wrong key: 401" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-one1' $BASE/v1/models)" = 401
check "second key: 200" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-two' $BASE/v1/models)" = 200
check "speech with a key" test "$(curl -s -o $W/k.wav -w '%{http_code}' -H 'Authorization: Bearer s3cret-one' -d '{"input":"secret","response_format":"wav"}' $BASE/v1/audio/speech)" = 200
check "speech without a key: 401" test "$(curl -s -o /dev/null -w '%{http_code}' -d '{"input":"secret"}' $BASE/v1/audio/speech)" = 401
check "/health needs no key" test "$(curl -s -o /dev/null -w '%{http_code}' $BASE/health)" = 200
stop_server
check "keys never reach the log" sh -c "! grep -q s3cret $SERVER_LOG"

# ---------------------------------------------------------------- refusals and config
"$CHORUS_BIN" serve --host 0.0.0.0 --port 0 2>$W/refuse.log; ST=$?
check "non-loopback without a key is refused (exit $ST)" test $ST = 2
check "the refusal says what to do" grep -q -- '--api-key' $W/refuse.log
cat > $W/cfg.toml <<'TOML'
[server]
max_input_chars = 20
[server.voices]
alloy = "en-gb"
narrator = "en-gb-x-rp"
TOML
CHORUS_CONFIG=$W/cfg.toml start_server
check "config maps alloy" test "$(post /v1/audio/speech '{"input":"hi","voice":"alloy","response_format":"wav"}' $W/cv.wav)" = 200
check "config alloy is en-gb" test "$(header x-chorus-voice $W/cv.wav)" = en-gb
post /v1/audio/speech '{"input":"hi","voice":"narrator","response_format":"wav"}' $W/cn.wav >/dev/null
check "config adds a voice alias" test "$(header x-chorus-voice $W/cn.wav)" = en-gb-x-rp
check "config max_input_chars" test "$(post /v1/audio/speech '{"input":"this text is longer than twenty characters"}' $W/e)" = 400
stop_server

# graceful shutdown lets a stream in flight finish: a slow reader gets the whole audio
start_server --grace 20000
GR='{"input":"Shutdown waits for this sentence to reach its slow reader, every last sample of it.","response_format":"pcm"}'
post /v1/audio/speech "$GR" $W/full.pcm >/dev/null
curl -s --limit-rate 60k -o $W/slow.pcm -H 'Content-Type: application/json' --data-binary "$GR" $BASE/v1/audio/speech &
CURL=$!
# stop only once the slow reader is receiving (a fixed sleep raced a loaded machine)
for _ in $(seq 1000); do [ -s $W/slow.pcm ] && break; sleep 0.02; done
stop_server; ST=$?
wait $CURL; CST=$?
check "SIGTERM during a slow download: exit 0" test $ST = 0
check "the slow reader's transfer completed" test $CST = 0
check "the slow reader got every byte ($(stat -c %s $W/slow.pcm) of $(stat -c %s $W/full.pcm))" cmp -s $W/full.pcm $W/slow.pcm
finish
