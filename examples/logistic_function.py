"""The logistic function applied elementwise, and several outputs at once.

Run: python examples/logistic_function.py
"""

import numpy as np

import opcore
import opcore.tensor as T

x = T.dmatrix("x")
s = 1 / (1 + T.exp(-x))
logistic = opcore.function([x], s)
out = logistic([[0, 1], [-1, -2]])
print("logistic:\n", out)

# the same values through tanh: s(x) = (1 + tanh(x / 2)) / 2
s2 = (1 + T.tanh(x / 2)) / 2
logistic2 = opcore.function([x], s2)
assert np.allclose(out, logistic2([[0, 1], [-1, -2]]))

# several outputs: elementwise difference, absolute and squared differences
a, b = T.dmatrices("a, b")
diff = a - b
f = opcore.function([a, b], [diff, abs(diff), diff ** 2])
d, ad, sq = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
print("diff:\n", d, "\nabs:\n", ad, "\nsquared:\n", sq)
assert np.array_equal(sq, [[1, 0], [1, 4]])
