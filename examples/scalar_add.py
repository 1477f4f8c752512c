"""The tutorial's first steps: add two scalars, then two matrices.

Run: python examples/scalar_add.py
"""

import numpy as np

import opcore as theano  # Theano code ports by changing this import
import opcore.tensor as T
from opcore import function

x = T.dscalar("x")
y = T.dscalar("y")
z = x + y
f = function([x, y], z)
print("f(2, 3) =", f(2, 3))
print("f(16.3, 12.1) =", f(16.3, 12.1))
print("z.eval({x: 16.3, y: 12.1}) =", z.eval({x: 16.3, y: 12.1}))
print("pp(z):", theano.pp(z))
assert np.allclose(f(16.3, 12.1), 28.4)

a = T.dmatrix("a")
b = T.dmatrix("b")
g = function([a, b], a + b)
out = g([[1, 2], [3, 4]], [[10, 20], [30, 40]])
print("matrix sum:\n", out)
assert np.array_equal(out, [[11.0, 22.0], [33.0, 44.0]])
