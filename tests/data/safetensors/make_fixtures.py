#!/usr/bin/env python3
"""Writes the safetensors fixtures that tests/unit/runtime/SafetensorsTest.cpp reads, with the
reference implementation (pip install safetensors; written with safetensors 0.8.0):

  all_dtypes.safetensors   every dtype weft reads, a scalar, an empty tensor, one metadata key
  no_metadata.safetensors  one tensor and no "__metadata__"

The test checks the values and that weft writes the same tensors to the same bytes. Run from
anywhere: /work/venv/bin/python tests/data/safetensors/make_fixtures.py
"""
import os

import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))

save_file(
    {
        "w": np.array([[0.5, 0.25, -1.0], [2.0, 1e-3, 3.5]], dtype=np.float32),
        "scale": np.array(-1.5, dtype=np.float64),
        "ids": np.array([7, -1, 0, -2147483648], dtype=np.int32),
        "big": np.array([[1 << 40, -(1 << 62)], [3, 4]], dtype=np.int64),
        "mask": np.array([True, False, True]),
        "empty": np.zeros((0, 3), dtype=np.float32),
    },
    os.path.join(here, "all_dtypes.safetensors"),
    # One key only: the reference writer orders metadata by a hash map, so more keys would make
    # the file's bytes vary from run to run.
    metadata={"format": "np"},
)
save_file({"x": np.array([1.0, 2.0], dtype=np.float64)}, os.path.join(here, "no_metadata.safetensors"))
