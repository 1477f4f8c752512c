"""Subprocess helper for the reliability tests: compile graph ``k`` and check its result."""

import sys

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode


def main(k: int) -> None:
    x = T.dvector("x")
    y = x * (k % 3 + 1) + T.exp(-x) * (k % 2 + 2)  # k % 6 distinct graphs
    f = opcore.function([x], y, mode=Mode(backend="c"))
    assert f.linker.c_nodes, "expected C nodes"
    a = np.linspace(0, 1, 7)
    want = a * (k % 3 + 1) + np.exp(-a) * (k % 2 + 2)
    np.testing.assert_allclose(f(a), want)
    print("OK", k)


if __name__ == "__main__":
    main(int(sys.argv[1]))
