#!/bin/bash
# say_stream_input.sh — `chorus say --stream-input`: audio for a sentence comes out while the rest
# of the text has not been written yet (as from an LLM), the whole text is spoken once, and the
# output is one WAV stream an independent decoder (sox) reads.
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml
python3 - "$BIN" "$T" <<'EOF2'
import subprocess, sys, threading, time
binp, d = sys.argv[1], sys.argv[2]
passed = failed = 0
def check(c, m):
    global passed, failed
    if c: passed += 1
    else: failed += 1; print("FAIL:", m, file=sys.stderr)
p = subprocess.Popen([binp, "say", "--stream-input", "-F", "wav", "--timestamps", d + "/ts.json"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
got = bytearray()
first = []
def reader():
    while True:
        c = p.stdout.read1(65536)
        if not c: break
        if not first and len(got) + len(c) > 44: first.append(time.time())
        got.extend(c)
th = threading.Thread(target=reader); th.start()
p.stdin.write(b"The first sentence is complete. The sec"); p.stdin.flush()
time.sleep(3)
sent_rest = time.time()
check(first and first[0] < sent_rest, "no audio before the rest of the text was written")
p.stdin.write(b"ond one arrives later.\n"); p.stdin.close()
th.join(); err = p.stderr.read(); rc = p.wait()
check(rc == 0, f"exit {rc}: {err}")
open(d + "/out.wav", "wb").write(got)
check(got[:4] == b"RIFF" and got.count(b"RIFF") == 1, "not one WAV stream")
import json
ts = json.load(open(d + "/ts.json"))
words = [w["word"] for w in ts]
check(words[:3] == ["The", "first", "sentence"] and "arrives" in words and words.count("first") == 1,
      f"words {words}")
check(all(ts[i]["start"] <= ts[i + 1]["start"] for i in range(len(ts) - 1)), "word times go backwards")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF2
rc=$?
dur=$(sox --ignore-length "$T/out.wav" -n stat 2>&1 | awk '/Length/ {print $3}')
awk -v d="${dur:-0}" 'BEGIN { exit !(d > 2 && d < 12) }' || { echo "FAIL: decoded duration $dur"; exit 1; }
exit $rc
