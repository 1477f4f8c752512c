"""Subprocess fuzz: C functions given wrong dtypes/ndims/shapes, views and empty arrays.

Every call must return a result equal to NumPy's or raise a Python exception; a crash kills the
process, which the calling test reports."""

import itertools

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore_cpu_c import CLinker


def graphs():
    x = T.dmatrix("x")
    v = T.dvector("v")
    yield "elemwise", [x, v], [T.exp(x) * v + 1]
    yield "reduce", [x], [x.sum(axis=0), x.max(axis=1)]
    yield "dot", [x, v], [T.dot(x, v), T.dot(x, x.T)]
    yield "index", [x, v], [x[1:, ::-1], T.inc_subtensor(x[0], v)]
    yield "shape", [x, v], [x.reshape((-1,)), T.concatenate([x, x]), T.alloc(v, 2, v.shape[0])]


def values():
    rng = np.random.RandomState(0)
    base = rng.rand(6, 4)
    yield from [base, base[::2], base[::-1, ::-1], base.T, base[:0], np.zeros((0, 0)),
                base.astype("float32"), base.astype("int64"), base[0], base[None],
                np.float64(3.0), base.astype(">f8"), rng.rand(3, 5)]


def main():
    n_ok = n_err = 0
    for name, ins, outs in graphs():
        f = opcore.function(ins, outs, mode=Mode(backend="c"), on_unused_input="ignore")
        g = opcore.function(ins, outs, mode=Mode(backend="py"), on_unused_input="ignore")
        # raw per-node thunks too: they see unfiltered inputs
        for node in f.maker.fgraph.toposort():
            for vals in itertools.product(list(values())[:8], repeat=len(node.inputs)):
                storage = {i: [val] for i, val in zip(node.inputs, vals)}
                storage.update({o: [None] for o in node.outputs})
                try:
                    CLinker().make_thunk(node, storage)()
                    n_ok += 1
                except Exception:
                    n_err += 1
                if len(node.inputs) > 2:
                    break
        vs = list(values())
        for args in itertools.product(vs, repeat=len(ins)):
            try:
                want = g(*args)
            except Exception:
                want = None
            try:
                got = f(*args)
            except Exception:
                n_err += 1
                continue
            n_ok += 1
            if want is not None:
                for a, b in zip(got, want):
                    np.testing.assert_allclose(a, b, rtol=1e-6)
    print("FUZZ", n_ok, n_err)


if __name__ == "__main__":
    main()
