#!/bin/bash
# ctest.sh — CTest's python_bindings test (tests/CMakeLists.txt): installs the package with pip
# from a copy of bindings/python (as a user would: Debian's setuptools, no build isolation, no
# index), then runs the pytest suite against that installed copy and the build's libchorus.so.
# Env: CHORUS_PYTHON (the interpreter, /usr/bin/python3), CHORUS_LIBRARY, CHORUS_SRC,
# CHORUS_PRELOAD (the ASan runtime in the sanitizer build, preloaded into pytest only).
set -eu
PY=${CHORUS_PYTHON:-/usr/bin/python3}
SRC=${CHORUS_SRC:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if ! "$PY" -c 'import pytest, setuptools' 2>/dev/null; then
    echo "python_bindings: $PY lacks pytest or setuptools: install python3-pytest and" \
         "python3-setuptools (scripts/debian-packages.txt; make deps)" >&2
    exit 1
fi
cp -r "$SRC/bindings/python" "$T/pkg"
rm -rf "$T/pkg/build" "$T/pkg"/src/*.egg-info
"$PY" -m pip install --quiet --no-build-isolation --no-deps --no-index --disable-pip-version-check \
    --target "$T/site" "$T/pkg" > "$T/pip.log" 2>&1 || { cat "$T/pip.log" >&2; exit 1; }
test -f "$T/site/chorus/py.typed" || { echo "python_bindings: py.typed was not installed" >&2; exit 1; }
cd "$T"
export PYTHONPATH="$T/site" CHORUS_FAKES="$SRC/tests/fakes" PYTHONDONTWRITEBYTECODE=1
if [ -n "${CHORUS_PRELOAD:-}" ]; then
    # Python itself is not built with ASan: its runtime must come first, and CPython's arenas
    # are not leaks (chorus's leaks are caught by the C suite; here the engine stats and RSS).
    export LD_PRELOAD="$CHORUS_PRELOAD" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
fi
exec "$PY" -m pytest -q -p no:cacheprovider "$T/pkg/tests" "$@"
