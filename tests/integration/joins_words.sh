#!/bin/bash
# joins_words.sh — pauses at chunk joins, word timestamps, SSML with espeak, MP3 over HTTP.
# The audio is decoded with sox (an independent decoder); silences are found in it, not taken
# from chorus's own word times.
#  - A text spoken as one chunk and the same text cut into chunks of 20 characters
#    ([espeak] max_chunk_chars) have the same pauses after a sentence and after a clause
#    (libespeak-ng leaves 150-360 ms there inside one synthesis; before this test existed the
#    joins left 5-70 ms and the next word started on top of the last one).
#  - Every written word gets one entry with its whole span ("don't", "O'Brien's", "3rd-year",
#    the function words espeak-ng merges); a word ends where its sound ends, before the pause.
#  - --ssml with espeak: chorus normalizes the text ($12.50 is read as an amount), spans point at
#    the document's text, a <break> is silence that no word runs through.
#  - HTTP mp3 is a plain stream without the Info frame (files have it: test_timing).
set -u
BIN=${CHORUS_BIN:?}
for tool in sox python3 curl; do command -v $tool >/dev/null || { echo "SKIP: no $tool"; exit 0; }; done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.toml"
printf '[espeak]\nmax_chunk_chars = 20\n' > "$T/small.toml"
export CHORUS_CACHE=0 CHORUS_CACHE_DIR=$T/cache CHORUS_CONFIG=$T/empty.toml
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

say() { # say CONFIG NAME TEXT [options]
    local cfg=$1 name=$2 text=$3; shift 3
    CHORUS_CONFIG=$T/$cfg.toml "$BIN" say -q -b espeak "$@" -o "$T/$name.wav" --timestamps "$T/$name.json" "$text"
}

# --- joins --------------------------------------------------------------------------------
TEXT="The wind moved in the old trees. A farmer walked to the barn, carrying a pail."
say empty one "$TEXT" || fail=$((fail + 1))
say small many "$TEXT" || fail=$((fail + 1))
cat > "$T/pauses.py" <<'PY'
import json, subprocess, struct, sys
QUIET = 0.0031622777 * 32768  # -50 dBFS

def load(name):
    raw = subprocess.run(["sox", name + ".wav", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-"],
                         capture_output=True, check=True).stdout
    rate = int(subprocess.run(["soxi", "-r", name + ".wav"], capture_output=True, text=True).stdout)
    return struct.unpack("<%dh" % (len(raw) // 2), raw), rate, json.load(open(name + ".json"))

def silence_between(pcm, rate, a, b):
    """Longest run of quiet samples between times a and b (seconds)."""
    best = run = 0
    for x in pcm[int(a * rate):int(b * rate)]:
        run = run + 1 if abs(x) < QUIET else 0
        best = max(best, run)
    return best / rate

def pause_after(name, word):
    pcm, rate, words = load(name)
    i = [w["word"] for w in words].index(word)
    return silence_between(pcm, rate, words[i]["start"], words[i + 1]["start"] + 0.02)

base, name = sys.argv[1], sys.argv[2]
for word, kind, lo in (("trees", "sentence", 0.2), ("barn", "clause", 0.1)):
    one, many = pause_after(base + "/one", word), pause_after(base + "/" + name, word)
    print("%s pause after '%s': one chunk %.0f ms, chunks of 20 characters %.0f ms" % (kind, word, one * 1000, many * 1000))
    assert one >= lo and many >= lo, (word, one, many)
    assert abs(many - one) <= max(0.35 * one, 0.04), (word, one, many)
PY
check "python3 '$T/pauses.py' '$T' many" "join pauses match the one-chunk pauses"

# no word ends after the next one starts; every word has an entry
cat > "$T/words.py" <<'PY'
import json, sys
words = json.load(open(sys.argv[1]))
text = sys.argv[2]
want = [w.strip('.,;:!?"') for w in text.split()]
got = [w["word"] for w in words]
assert got == want, (got, want)
for w in words:
    assert text[w["offset"]:w["offset"] + w["length"]] == w["word"], w
    assert w["end"] >= w["start"], w
for a, b in zip(words, words[1:]):
    assert a["end"] <= b["start"] + 1e-6, (a, b)
for word, gap in zip(sys.argv[3::2], sys.argv[4::2]):
    i = got.index(word)
    assert words[i + 1]["start"] - words[i]["end"] >= float(gap), (words[i], words[i + 1])
print("%d words, all whole, none overlapping" % len(words))
PY
check "python3 '$T/words.py' '$T/many.json' \"\$TEXT\" trees 0.15 barn 0.08" "chunked words"
check "python3 '$T/words.py' '$T/one.json' \"\$TEXT\" trees 0.15 barn 0.08" "one-chunk words"

# --- word spans ---------------------------------------------------------------------------
W="I don't think it's O'Brien's 3rd-year exam; of the books that have been read, a few."
say empty words "$W" || fail=$((fail + 1))
check "python3 '$T/words.py' '$T/words.json' \"\$W\" exam 0.1" "contractions, hyphens, merged function words"

# --- SSML with espeak -----------------------------------------------------------------------
S='<speak>It costs $12.50 today. <break time="1s"/> Then it stops.</speak>'
say empty ssml "$S" --ssml || fail=$((fail + 1))
say empty plain 'It costs $12.50 today.' || fail=$((fail + 1))
say empty raw 'It costs $12.50 today.' --no-normalize || fail=$((fail + 1))
cat > "$T/ssml.py" <<'PY'
import json, sys
doc = sys.argv[2]
words = json.load(open(sys.argv[1] + "/ssml.json"))
got = [(w["word"], doc[w["offset"]:w["offset"] + w["length"]]) for w in words]
assert [g[0] for g in got] == ["It", "costs", "$12.50", "today", "Then", "it", "stops"], got
assert all(a == b for a, b in got), got
plain = json.load(open(sys.argv[1] + "/plain.json"))
raw = json.load(open(sys.argv[1] + "/raw.json"))
amount = lambda ws: [w for w in ws if w["word"] == "$12.50"][0]
d_ssml, d_plain, d_raw = (amount(ws)["end"] - amount(ws)["start"] for ws in (words, plain, raw))
print("'$12.50' lasts %.2f s in SSML, %.2f s as normalized text, %.2f s as espeak-ng reads it" % (d_ssml, d_plain, d_raw))
assert abs(d_ssml - d_plain) <= 0.1 * d_plain, (d_ssml, d_plain)
today, then = words[3], words[4]
assert 0.95 <= then["start"] - today["end"] <= 1.1, (today, then)
PY
check "python3 '$T/ssml.py' '$T' \"\$S\"" "ssml: normalized, spans in the text, break not in a word"

# --- HTTP mp3: a stream, no Info frame ----------------------------------------------------------
"$BIN" serve --host 127.0.0.1 --port 0 --port-file "$T/port" 2>"$T/server.log" &
SERVER=$!
for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
code=$(curl -s -o "$T/http.mp3" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"input":"Streamed, not tagged.","response_format":"mp3"}' "http://127.0.0.1:$(cat "$T/port")/v1/audio/speech")
kill -TERM $SERVER; wait $SERVER
check "[ '$code' = 200 ] && [ -s '$T/http.mp3' ] && ! head -c 200 '$T/http.mp3' | grep -qa -e Info -e Xing" "HTTP mp3 has no Info/Xing frame (HTTP $code)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
