#!/usr/bin/env python3
"""Writes the golden .npy files for tests/unit/runtime/NpyTest.cpp with NumPy itself.

Run from any directory: `python3 tests/data/npy/make_golden.py` (needs `pip install numpy`);
the files land next to this script and are committed. Every file is what NumPy's own writer
(np.save, or np.lib.format.write_array for an explicit format version) produced, so the
byte-for-byte test in NpyTest.cpp compares weft's writer with NumPy's, not with a copy of
weft's reading of the spec. The bad_* files start from NumPy's bytes too, then are edited to
be wrong in one named way.
"""
import io
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def saved(a, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, a, allow_pickle=False)
    else:
        np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return buf.getvalue()


# Arrays weft reads, and writes back byte for byte: every supported dtype (<f4 <f8 <i4 <i8 |b1),
# a scalar, a 0-size array, rank 3, all C order (fortran_order False).
good = {
    "f4_2x3.npy": np.arange(6, dtype=np.float32).reshape(2, 3) / np.float32(4),
    "f8_scalar.npy": np.array(-1.5, dtype=np.float64),
    "i4_4.npy": np.array([1, -2, 2**31 - 1, -(2**31)], dtype=np.int32),
    "i8_2x2.npy": np.array([[1, -1], [2**40, -(2**62)]], dtype=np.int64),
    "b1_3.npy": np.array([True, False, True]),
    "f4_empty_0x3.npy": np.zeros((0, 3), dtype=np.float32),
    # rank 3: element [i, j, k] = (12 i + 4 j + k) / 8 - 1
    "f8_2x3x4.npy": np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8 - 1,
    "i8_scalar.npy": np.array(-(2**63), dtype=np.int64),
    "b1_2x0x2.npy": np.zeros((2, 0, 2), dtype=np.bool_),
    # Headers past one 64-byte block: NumPy adds 21 - len(repr(shape[0])) spaces of room for
    # the first dim to grow before padding, and pads a header that is already aligned by a
    # further 64 bytes. Rank 15: the growth room alone carries it into the third block.
    "i4_rank15.npy": np.arange(6, dtype=np.int32).reshape((2,) + (1,) * 13 + (3,)),
    # Rank 14 with a last dim of 100: magic + length + dict + growth room + '\n' is exactly
    # 128 bytes, so NumPy pads a full extra block.
    "f4_rank14_aligned.npy": np.arange(100, dtype=np.float32).reshape((1,) * 13 + (100,)),
}
files = {name: saved(a) for name, a in good.items()}

# Format versions weft reads but does not write.
files["v2_i4_2.npy"] = saved(np.array([7, 8], dtype=np.int32), version=(2, 0))
files["v3_f8_2.npy"] = saved(np.array([0.5, 2.0], dtype=np.float64), version=(3, 0))

# Files weft rejects with a message naming the problem.
files["bad_fortran.npy"] = saved(np.asfortranarray(np.arange(1, 5, dtype=np.float32).reshape(2, 2)))
files["bad_bigendian.npy"] = saved(np.array([1, 2], dtype=">f4"))
files["bad_u1.npy"] = saved(np.array([1, 2], dtype=np.uint8))
files["bad_truncated.npy"] = saved(np.array([1, 2, 3, 4], dtype=np.float64))[:-8]
files["bad_magic.npy"] = saved(np.zeros(1, dtype=np.float32)).replace(b"NUMPY", b"NUMPX", 1)

assert b"'fortran_order': True" in files["bad_fortran.npy"]
for name, data in files.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
