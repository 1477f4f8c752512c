"""Installing the sparse plugin must not make every process import SciPy at its first compile."""

from __future__ import annotations

import subprocess
import sys


def test_dense_compile_does_not_import_scipy():
    code = ("import sys, numpy as np, opcore, opcore.tensor as T\n"
            "x = T.dmatrix('x')\n"
            "f = opcore.function([x], T.dot(x, x) + 1)\n"
            "assert (f(np.eye(2)) == np.eye(2) + 1).all()\n"
            "from opcore.plugins import get_host\n"
            "assert get_host().records['sparse'].status == 'loaded'\n"
            "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", r.stdout
