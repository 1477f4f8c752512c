"""``T.var`` is the variance function even after Theano's module ``theano.tensor.var`` is
imported (both names exist in Theano; the function wins on the package)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def test_var_stays_the_function_after_importing_the_module():
    code = ("import numpy as np\n"
            "import opcore, opcore.tensor as T\n"
            "import opcore.tensor.var\n"
            "from opcore.tensor.var import TensorVariable\n"
            "from opcore.tensor.math import var\n"
            "assert T.var is var, T.var\n"
            "x = T.dvector('x')\n"
            "v = opcore.function([x], T.var(x))(np.array([1.0, 2.0, 4.0]))\n"
            "print(repr(float(v)))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) == np.var([1.0, 2.0, 4.0])
