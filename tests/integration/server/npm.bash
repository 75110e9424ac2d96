# npm.bash — install the Node clients (tests/integration/server/openai/package*.json) with
# `npm ci` into a cache keyed by the lock file, so later runs are offline and fast. Sourced by
# server_openai.sh and server_browser.sh; sets NODEDIR, or exits 0 with SKIP when npm fails.
SRC=$HERE/server/openai
SUM=$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -c1-16)
NODEDIR=${TMPDIR:-/tmp}/chorus-node-clients-$SUM
if [ ! -d "$NODEDIR/node_modules/openai" ] || [ ! -d "$NODEDIR/node_modules/playwright-core" ]; then
    TMPN=$(mktemp -d "$NODEDIR.XXXXXX")
    cp "$SRC/package.json" "$SRC/package-lock.json" "$TMPN/"
    if ! (cd "$TMPN" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
        echo "SKIP: npm ci failed (is the npm registry reachable?):"; tail -5 "$TMPN/npm.log"
        rm -rf "$TMPN"
        exit 0
    fi
    if ! mv -T "$TMPN" "$NODEDIR" 2>/dev/null; then rm -rf "$TMPN"; fi # another run won the race
fi
cp "$SRC"/*.mjs "$NODEDIR/"
