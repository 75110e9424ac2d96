#!/bin/bash
# wyoming_zeroconf.sh — `chorus serve --wyoming ... --zeroconf`: without an Avahi daemon a
# one-line warning and the Wyoming server still answers; with one, `_wyoming._tcp` is announced
# under the given name and the bound port, as avahi-browse (Avahi's own client) resolves it.
# The daemons run in a private network, mount and PID namespace (unshare) with a veth pair of
# its own: nothing is multicast outside it, the host's /run and any running Avahi are untouched,
# and everything started there dies with the namespace.
set -u
BIN=${CHORUS_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.toml"
export CHORUS_CONFIG=$T/empty.toml
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi; }
describe() { # describe PORT: the type of the answer to a Wyoming describe
    python3 -c '
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"{\"type\": \"describe\"}\n")
print(json.loads(s.makefile("rb").readline())["type"])' "$1" 2>/dev/null
}
start() { # start LOG [options]: serve Wyoming alone on a free port, wait for its port file
    local log=$1; shift
    rm -f "$T/port"
    "$BIN" serve --wyoming-only --wyoming-port-file "$T/port" -q "$@" 2>"$log" &
    pid=$!
    for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
}

if "$BIN" serve --wyoming tcp://127.0.0.1:0 --zeroconf --help 2>&1 | grep -q -- --zeroconf; then :; else
    echo "SKIP: this chorus has no --zeroconf"; echo "0 passed, 0 failed"; exit 0
fi

# 1. no Avahi daemon reachable (a bus address where nothing listens): a warning, serving goes on
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/no-bus start "$T/noavahi.log" --wyoming tcp://127.0.0.1:0 --zeroconf
check "the server starts without Avahi" '[ -s "$T/port" ]'
check "one warning line says zeroconf is off" '[ "$(grep -c "warning: zeroconf" "$T/noavahi.log")" = 1 ]'
check "and Wyoming still answers describe" '[ "$(describe "$(cat "$T/port")")" = info ]'
kill $pid; wait $pid
check "and stops cleanly" '[ $? = 0 ]'
grep -q "built without Avahi" "$T/noavahi.log" && { echo "SKIP: built without Avahi (the warning is checked)"; echo "$passed passed, $failed failed"; [ $failed = 0 ]; exit; }

# 2. a real avahi-daemon in a namespace of our own
why=""
[ "$(id -u)" = 0 ] || why="needs root for its own network namespace and daemons"
for t in unshare avahi-daemon avahi-browse dbus-daemon ip; do
    [ -z "$why" ] && ! command -v $t >/dev/null && why="$t is not installed (scripts/debian-packages.txt)"
done
[ -z "$why" ] && ! unshare --net --mount --pid --fork --mount-proc true 2>/dev/null && why="unshare cannot make namespaces here"
if [ -n "$why" ]; then
    echo "SKIP: the announcement itself: $why"
    echo "$passed passed, $failed failed"; [ $failed = 0 ]; exit
fi
cat > "$T/ns.sh" <<NS
set -e
mount -t tmpfs tmpfs /run             # our own /run: dbus and avahi sockets and pid files
mkdir -p /run/dbus /run/avahi-daemon
ip link set lo up
ip link add zc0 type veth peer name zc1 # both ends in this namespace
ip link set zc0 multicast on up; ip link set zc1 up
ip addr add 192.0.2.1/24 dev zc0      # TEST-NET-1, inside the namespace only
dbus-daemon --system --fork --nopidfile
avahi-daemon -D --no-drop-root --no-chroot --no-rlimits
for _ in \$(seq 1 100); do avahi-browse -at >/dev/null 2>&1 && break; sleep 0.1; done
"$BIN" serve --wyoming-only --wyoming tcp://0.0.0.0:0 --insecure --wyoming-port-file "$T/port" -q \
    --zeroconf="chorus test" 2>"$T/avahi.log" &
for _ in \$(seq 1 200); do [ -s "$T/port" ] && grep -q announced "$T/avahi.log" && break; sleep 0.05; done
avahi-browse -rpt _wyoming._tcp > "$T/browse.txt" 2>&1 || true
kill %1; wait %1 || echo "server exit \$?" >> "$T/avahi.log"
NS
rm -f "$T/port"
timeout 60 unshare --net --mount --pid --fork --mount-proc bash "$T/ns.sh" > "$T/ns.out" 2>&1
if grep -q "Operation not supported\|Unknown device type" "$T/ns.out"; then
    echo "SKIP: the announcement itself: no veth interfaces here ($(head -1 "$T/ns.out"))"
    echo "$passed passed, $failed failed"; [ $failed = 0 ]; exit
fi
port=$(cat "$T/port" 2>/dev/null)
check "the server says it is announced" 'grep -q "announced over zeroconf as .chorus test." "$T/avahi.log"'
check "avahi-browse resolves _wyoming._tcp 'chorus test' on the bound port ($port)" \
    'grep -q "^=;.*;IPv4;chorus\\\\032test;_wyoming._tcp;local;.*;${port};" "$T/browse.txt"'
check "the server stopped cleanly in the namespace" '! grep -q "server exit" "$T/avahi.log"'
[ $failed = 0 ] || { cat "$T/ns.out" "$T/avahi.log" "$T/browse.txt"; }
echo "$passed passed, $failed failed"
[ $failed = 0 ]
