#!/usr/bin/env python3
"""Writes the tiny numpy-made .npy files of Tests/RuntimeTests/NPYTests.swift.

Run: $(bash Tools/litert/venv.sh) Tools/litert/make_npy_samples.py
The values are simple formulas so the Swift test can state them independently.
"""
import os

import numpy as np
from numpy.lib import format as npf

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
out = os.path.join(root, "Tests", "RuntimeTests", "Fixtures", "npy")
os.makedirs(out, exist_ok=True)


def save(name, arr, version=None):
    path = os.path.join(out, name)
    if version is None:
        np.save(path, arr)  # numpy picks version 1.0
    else:
        with open(path, "wb") as f:
            npf.write_array(f, arr, version=version)


# f4 [2, 3]: value = i * 0.5 - 1 for i in C order, plus specials at the end
f4 = (np.arange(6, dtype=np.float32) * np.float32(0.5) - np.float32(1)).reshape(2, 3)
save("f4_2x3.npy", f4)
save("f4_2x3_v2.npy", f4, version=(2, 0))
save("f4_2x3_v3.npy", f4, version=(3, 0))
save("f4_specials.npy", np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, 3.4028235e38, 0.1], dtype=np.float32))
save("f4_scalar.npy", np.float32(2.5).reshape(()))
save("f4_empty_0x3.npy", np.zeros((0, 3), dtype=np.float32))
# u1 [1, 2, 2, 3] (NHWC): value = (i * 37) % 256
save("u1_1x2x2x3.npy", ((np.arange(12) * 37) % 256).astype(np.uint8).reshape(1, 2, 2, 3))
# i4 [4]: -2, -1, 2147483647, -2147483648
save("i4_4.npy", np.array([-2, -1, 2**31 - 1, -(2**31)], dtype="<i4"))
# f8 [3]: 1/3, -2.5, 1e300
save("f8_3.npy", np.array([1 / 3, -2.5, 1e300], dtype="<f8"))
# rejected: Fortran order, big-endian, structured
save("f4_2x3_fortran.npy", np.asfortranarray(f4))
save("f4_big_endian.npy", f4.astype(">f4"))
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))

# The fixtures' input value transform x = Float32(p) * scale + offset (float32,
# multiply then add, each rounded), for every uint8 value, under both presets.
p = np.arange(256, dtype=np.uint8)
save("u1_all_256.npy", p)
for name, scale, offset in [("detector", 2.0 / 255.0, -1.0), ("landmark", 1.0 / 255.0, 0.0)]:
    prod = np.multiply(p.astype(np.float32), np.float32(scale), dtype=np.float32)
    save(f"f4_all_256_{name}.npy", np.add(prod, np.float32(offset), dtype=np.float32))
print("wrote", sorted(os.listdir(out)))
print("scale bits:", hex(np.float32(2 / 255).view(np.uint32)), hex(np.float32(1 / 255).view(np.uint32)))
