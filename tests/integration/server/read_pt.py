#!/usr/bin/env python3
"""read_pt.py AB AA BB — read PyTorch .pt files without torch and check a voice mix.

The reader follows the formats, not torch's code: a .pt file is a zip (PKWARE APPNOTE) holding
ARCHIVE/data.pkl, a pickle whose persistent ids name storages ARCHIVE/data/KEY (raw little-endian
values), rebuilt by torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...).
Checks: each file is one float32 tensor of shape [N, 1, 256] with contiguous strides, every value
finite, and AB == (AA + BB) / 2 within float rounding (AA = a+a is a, BB = b+b is b).
"""
import array
import pickle
import sys
import zipfile


class Storage:
    def __init__(self, kind, key, count):
        self.kind, self.key, self.count = kind, key, count


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild(storage, offset, size, stride, *rest):
    return Tensor(storage, offset, size, stride)


class Reader(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild
        if module == "torch" and name.endswith("Storage"):
            return name
        if (module, name) == ("collections", "OrderedDict"):
            import collections
            return collections.OrderedDict
        raise pickle.UnpicklingError("unexpected global %s.%s" % (module, name))

    def persistent_load(self, pid):
        tag, kind, key, location, count = pid
        assert tag == "storage", pid
        return Storage(kind, key, count)


def load(path):
    z = zipfile.ZipFile(path)
    assert z.testzip() is None, "CRC mismatch in " + path
    pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
    assert len(pkl) == 1, z.namelist()
    prefix = pkl[0][: -len("data.pkl")]
    t = Reader(z.open(pkl[0])).load()
    assert isinstance(t, Tensor), type(t)
    assert t.storage.kind == "FloatStorage", t.storage.kind
    n, one, d = t.size
    assert one == 1 and d == 256 and n > 0, t.size
    assert t.stride == (256, 256, 1) and t.offset == 0, (t.stride, t.offset)
    raw = z.read(prefix + "data/" + t.storage.key)
    v = array.array("f")
    v.frombytes(raw)
    if sys.byteorder != "little":
        v.byteswap()
    assert len(v) == t.storage.count == n * d, (len(v), t.storage.count, n * d)
    assert all(x == x and abs(x) < 1e30 for x in v), "non-finite value"
    return v


def main():
    ab, aa, bb = (load(p) for p in sys.argv[1:4])
    assert len(ab) == len(aa) == len(bb)
    worst = max(abs(x - (y + z) / 2) for x, y, z in zip(ab, aa, bb))
    scale = max(abs(x) for x in ab) or 1.0
    assert worst <= 1e-6 * scale, "mix differs from the mean by %g" % worst
    assert any(y != z for y, z in zip(aa, bb)), "the two voices are the same"
    print("ok: %d values, mean of the two voices within %g" % (len(ab), worst))


if __name__ == "__main__":
    main()
