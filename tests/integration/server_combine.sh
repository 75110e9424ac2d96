#!/usr/bin/env bash
# server_combine.sh — POST /v1/audio/voices/combine as Kokoro-FastAPI's clients call it
# (remsky/Kokoro-FastAPI api/src/routers/openai_compatible.py, combine_voices): a JSON string
# "a+b" or a list, answered with a PyTorch .pt file of the mean voice pack. The file is read back
# by server/read_pt.py, a torch-free reader written from the zip + pickle formats, and the mix
# is checked as arithmetic: combine(a+b) = (combine(a+a) + combine(b+b)) / 2.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/server/common.bash"
for tool in curl python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
DATA=$(cd "${CHORUS_TEST_DATA:?}" && pwd)
cat > "$WORK/kokoro.toml" <<TOML
[kokoro]
model_path = "$DATA/kokoro/tiny.pth"
config_path = "$DATA/kokoro/tiny-config.json"
voices_path = "$DATA/kokoro/voices.npz"
TOML
export CHORUS_CONFIG=$WORK/kokoro.toml
start_server --api-key ck
J=(-H 'Authorization: Bearer ck' -H 'Content-Type: application/json')
post() { # post NAME BODY: status code; body to $WORK/NAME, headers to $WORK/NAME.h
    curl -s -o "$WORK/$1" -D "$WORK/$1.h" -w '%{http_code}' "${J[@]}" -d "$2" "$BASE/v1/audio/voices/combine"
}
check "a string a+b: 200" test "$(post ab '"af_test+bm_other"')" = 200
check "the answer is an octet-stream attachment named a+b.pt" sh -c \
    "tr -d '\r' < $WORK/ab.h | grep -qix 'Content-Type: application/octet-stream' &&
     tr -d '\r' < $WORK/ab.h | grep -qx 'Content-Disposition: attachment; filename=\"af_test+bm_other.pt\"'"
check "a list [a, b]: 200" test "$(post list '["af_test", "bm_other"]')" = 200
check "a list gives the same file as the string" cmp -s "$WORK/ab" "$WORK/list"
check "a+a: 200" test "$(post aa '"af_test+af_test"')" = 200
check "b+b: 200" test "$(post bb '"bm_other+bm_other"')" = 200
check "the .pt files read back and average exactly" python3 "$HERE/server/read_pt.py" "$WORK/ab" "$WORK/aa" "$WORK/bb"
st=$(post unknown '"af_test+af_nobody"')
check "an unknown voice is a 400 naming it ($st)" sh -c "[ $st = 400 ] && grep -q af_nobody $WORK/unknown"
check "one voice is a 400" test "$(post one '"af_test"')" = 400
check "a number is a 400" test "$(post num '42')" = 400
check "bad JSON is a 400" test "$(post bad '[\"af_test\",')" = 400
check "a list of 17 voices is a 400" test "$(post many "[$(printf '"af_test",%.0s' $(seq 16))\"af_test\"]")" = 400
check "without the key: 401" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '"af_test+bm_other"' "$BASE/v1/audio/voices/combine")" = 401
check "GET is a 405" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer ck' "$BASE/v1/audio/voices/combine")" = 405

# the exported mix is a voice file the engine speaks (voices folder holding just that file)
mkdir -p "$WORK/voices" && cp "$WORK/ab" "$WORK/voices/af_mix.pt"
stop_server
sed -i "s|^voices_path = .*|voices_path = \"$WORK/voices\"|" "$WORK/kokoro.toml"
start_server
st=$(curl -s -o "$WORK/mix.wav" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"model":"kokoro","voice":"af_mix","input":"Good morning.","response_format":"wav","stream":false}' \
    "$BASE/v1/audio/speech")
check "speech with the exported voice: 200 WAV ($st)" sh -c "[ $st = 200 ] && head -c 4 $WORK/mix.wav | grep -q RIFF"
stop_server
finish
