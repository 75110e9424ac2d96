# SPDX-License-Identifier: GPL-3.0-or-later
"""The ctypes mirrors of chorus.h's structs match the C compiler's layout, and the library."""
import ctypes
import json
import os
import re
import subprocess

import pytest

import chorus
from chorus import _lib


def c_layout():
    exe = os.environ.get("CHORUS_ABI_LAYOUT")
    if not exe:
        pytest.skip("CHORUS_ABI_LAYOUT (the py_abi_layout program CTest builds) is not set")
    return json.loads(subprocess.run([exe], capture_output=True, check=True, text=True).stdout)


def test_struct_layouts_match_the_compiler():
    layout = c_layout()
    assert set(layout) == set(_lib.LAYOUTS)
    for name, cls in _lib.LAYOUTS.items():
        want = layout[name]
        assert ctypes.sizeof(cls) == want["size"], name
        got = {f: getattr(cls, f).offset for f, _ in cls._fields_}
        assert got == want["fields"], name


def test_defaults_come_from_the_library():
    r = _lib.Request()
    _lib.lib.chorus_request_init(ctypes.byref(r), ctypes.sizeof(r))
    assert r.size == ctypes.sizeof(r) and r.speed in (0.0, 1.0) and r.format == 0
    o = _lib.EngineOptions()
    _lib.lib.chorus_engine_options_init(ctypes.byref(o), ctypes.sizeof(o))
    assert o.size == ctypes.sizeof(o)


def test_library_version():
    s, n = chorus.library_version()
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", s)
    assert m, s
    assert n == (int(m[1]) << 16) | (int(m[2]) << 8) | int(m[3])
    want = os.environ.get("CHORUS_VERSION")
    if want:
        assert s == want


def test_a_zero_size_struct_is_refused_by_the_library(engine):
    """The sized-struct contract the package relies on: size 0 is E_INVALID, not garbage."""
    st = _lib.EngineStats()
    ptr = engine._h.enter()
    try:
        assert _lib.lib.chorus_engine_get_stats(ptr, ctypes.byref(st)) == _lib.E_INVALID
    finally:
        engine._h.leave()


def test_format_table_matches_the_library():
    from chorus import _args
    for name, value in _args.FORMAT_IDS.items():
        assert _lib.lib.chorus_format_from_name(name.encode()) == value, name
        assert _lib.lib.chorus_format_from_name(name.upper().encode()) == value, name
    for value in range(1, 7):
        assert _lib.lib.chorus_format_name(value).decode() in _args.FORMATS
    assert _lib.lib.chorus_format_name(7) is None  # CHORUS_FORMAT_COUNT_: the table is complete


def _python(code, env):
    import sys
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_library_search_order(tmp_path):
    import shutil
    from pathlib import Path
    pkg = Path(chorus.__file__).parent
    env = dict(os.environ)
    # a wrong CHORUS_LIBRARY is an ImportError that names it and says what to do
    env["CHORUS_LIBRARY"] = str(tmp_path / "nope.so")
    r = _python("import chorus", env)
    assert r.returncode != 0 and "nope.so" in r.stderr and "CHORUS_LIBRARY" in r.stderr
    # without it, a libchorus.so.1 next to the package is the one loaded
    shutil.copytree(pkg, tmp_path / "site" / "chorus")
    real = os.path.realpath(_lib.lib._name)
    shutil.copy(real, tmp_path / "site" / "chorus" / "libchorus.so.1")
    del env["CHORUS_LIBRARY"]
    env["PYTHONPATH"] = str(tmp_path / "site")
    r = _python("import chorus, chorus._lib as l; print(l.lib._name); "
                "print(chorus.library_version()[0])", env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == str(tmp_path / "site" / "chorus" / "libchorus.so.1")
