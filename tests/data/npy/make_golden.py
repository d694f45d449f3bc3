#!/usr/bin/env python3
"""Writes the golden .npy files for tests/unit/runtime/NpyTest.cpp (run once; committed).

NumPy is not installed on the machine these were made on, so the bytes are assembled by hand
following the .npy format spec (numpy/lib/format.py, NEP 1) exactly as `np.save` writes them:
magic, version, little-endian header length, the dict literal with keys in sorted order and a
trailing ', ', padded with spaces and one '\\n' so that the data starts on a 64-byte boundary.
"""
import struct

def npy(descr, shape, data, version=(1, 0), fortran=False):
    shape_s = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_s)
    lenfmt = "<H" if version[0] == 1 else "<I"
    prefix = 6 + 2 + struct.calcsize(lenfmt)
    total = (prefix + len(d) + 1 + 63) // 64 * 64
    d = d + " " * (total - prefix - len(d) - 1) + "\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(lenfmt, len(d)) + d.encode("latin1") + data

files = {
    # np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    "f4_2x3.npy": npy("<f4", (2, 3), struct.pack("<6f", 0, .25, .5, .75, 1, 1.25)),
    # np.float64(-1.5) as a 0-d array
    "f8_scalar.npy": npy("<f8", (), struct.pack("<d", -1.5)),
    "i4_4.npy": npy("<i4", (4,), struct.pack("<4i", 1, -2, 2147483647, -2147483648)),
    "i8_2x2.npy": npy("<i8", (2, 2), struct.pack("<4q", 1, -1, 2**40, -(2**62))),
    "b1_3.npy": npy("|b1", (3,), bytes([1, 0, 1])),
    "f4_empty_0x3.npy": npy("<f4", (0, 3), b""),
    "v2_i4_2.npy": npy("<i4", (2,), struct.pack("<2i", 7, 8), version=(2, 0)),
    "v3_f8_2.npy": npy("<f8", (2,), struct.pack("<2d", 0.5, 2.0), version=(3, 0)),
    "bad_fortran.npy": npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), fortran=True),
    "bad_bigendian.npy": npy(">f4", (2,), struct.pack(">2f", 1, 2)),
    "bad_u1.npy": npy("|u1", (2,), bytes([1, 2])),
    "bad_truncated.npy": npy("<f8", (4,), struct.pack("<3d", 1, 2, 3)),
    "bad_magic.npy": b"\x93NUMPX\x01\x00" + npy("<f4", (1,), b"\0\0\0\0")[8:],
}
for name, data in files.items():
    with open(name, "wb") as f:
        f.write(data)
