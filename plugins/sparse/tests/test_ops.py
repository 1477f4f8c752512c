"""Every sparse op against scipy.sparse on random matrices (table driven), on every backend."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import opcore.tensor as T
import opcore.sparse as sparse
from opcore_sparse.testing import compile_fn, healthy_backends, rand_sparse, to_dense

SHAPES = [(5, 4), (1, 7), (23, 17)]
DENSITIES = [0.0, 0.2, 1.0]
K = 3


def _sig(d):
    return 1.0 / (1.0 + np.exp(-d))


def _structured(f):
    def ref(a, *rest):
        out = a.copy()
        out.data = f(out.data, *rest)
        return out
    return ref


# name: (input kinds, graph builder, scipy/numpy reference)
# kinds: s = sparse (m, n); s2 = another sparse (m, n); d = dense (m, n); dk = dense (n, K);
#        sk = sparse (n, K); dm = dense (K, m); vn = vector (n,); vm = vector (m,);
#        c = scalar; xk = dense (m, K); yk = dense (n, K)
CASES = {
    "dense_from_sparse": ("s", sparse.dense_from_sparse, lambda a: a.toarray()),
    "transpose": ("s", lambda x: x.T, lambda a: a.T),
    "csm_roundtrip": ("s", lambda x: sparse.CSM(x.format)(*sparse.csm_properties(x)), lambda a: a),
    "sp_shape": ("s", lambda x: x.shape, lambda a: np.array(a.shape)),
    "add_ss": ("s s2", sparse.add, lambda a, b: a + b),
    "add_sd": ("s d", sparse.add, lambda a, b: a.toarray() + b),
    "sub_ss": ("s s2", lambda x, y: x - y, lambda a, b: a - b),
    "mul_ss": ("s s2", sparse.mul, lambda a, b: a.multiply(b)),
    "mul_sd": ("s d", sparse.mul, lambda a, b: a.multiply(b)),
    "mul_scalar": ("s c", lambda x, c: x * c, lambda a, c: a * c),
    "neg": ("s", lambda x: -x, lambda a: -a),
    "sum_all": ("s", lambda x: sparse.sp_sum(x), lambda a: a.sum()),
    "sum_0": ("s", lambda x: sparse.sp_sum(x, 0), lambda a: np.asarray(a.sum(0)).ravel()),
    "sum_1": ("s", lambda x: sparse.sp_sum(x, 1), lambda a: np.asarray(a.sum(1)).ravel()),
    "structured_dot": ("s dk", sparse.structured_dot, lambda a, b: a @ b),
    "structured_dot_ds": ("dm s", sparse.structured_dot, lambda b, a: b @ a.toarray()),
    "dot_sd": ("s dk", sparse.dot, lambda a, b: a @ b),
    "dot_sv": ("s vn", sparse.dot, lambda a, v: a @ v),
    "dot_ds": ("dm s", sparse.dot, lambda b, a: b @ a.toarray()),
    "dot_ss": ("s sk", sparse.dot, lambda a, b: a @ b),
    "kernel": ("s dk", sparse.sparse_dense_dot_kernel, lambda a, b: a @ b),
    "sigmoid": ("s", sparse.structured_sigmoid, _structured(_sig)),
    "exp": ("s", sparse.structured_exp, _structured(np.exp)),
    "log": ("s", sparse.structured_log, _structured(np.log)),
    "pow": ("s c", sparse.structured_pow, _structured(lambda d, c: d ** c)),
    "minimum": ("s c", sparse.structured_minimum, _structured(np.minimum)),
    "maximum": ("s c", sparse.structured_maximum, _structured(np.maximum)),
    "structured_add": ("s c", sparse.structured_add, _structured(lambda d, c: d + c)),
    "row_scale": ("s vm", sparse.row_scale, lambda a, v: sp.diags(v) @ a),
    "col_scale": ("s vn", sparse.col_scale, lambda a, v: a @ sp.diags(v)),
    "sampling_dot": ("xk yk s", sparse.sampling_dot, lambda x, y, p: p.multiply(x @ y.T)),
    "ones_like": ("s", sparse.sp_ones_like, _structured(np.ones_like)),
}


def make_inputs(kinds, shape, density, fmt, dtype="float64", seed=0):
    """Symbolic inputs and values for one table row."""
    m, n = shape
    rng = np.random.default_rng(seed + 100)
    syms, vals = [], []
    for j, kind in enumerate(kinds.split()):
        if kind in ("s", "s2", "sk"):
            shp = (n, K) if kind == "sk" else shape
            vals.append(rand_sparse(shp, density, fmt, dtype, seed + j))
            syms.append(sparse.matrix(fmt, f"in{j}", dtype))
            continue
        shp = {"d": shape, "dk": (n, K), "dm": (K, m), "vn": (n,), "vm": (m,), "c": (),
               "xk": (m, K), "yk": (n, K)}[kind]
        vals.append((rng.random(shp) + 0.5).astype(dtype))
        syms.append(T.TensorType(dtype, shape=(None,) * len(shp))(f"in{j}"))
    return syms, vals


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("density", DENSITIES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_scipy(name, shape, density, fmt):
    kinds, build, ref = CASES[name]
    syms, vals = make_inputs(kinds, shape, density, fmt)
    out = build(*syms)
    got = compile_fn(syms, out)(*vals)
    expected = ref(*vals)
    if sparse.is_sparse(out):
        assert sp.issparse(got) and got.format == out.type.format, (name, type(got))
        assert out.type.is_valid_value(got) and got.has_sorted_indices
    np.testing.assert_allclose(to_dense(got), to_dense(expected), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["structured_dot", "dot_sd", "mul_sd", "add_ss", "sigmoid",
                                  "sampling_dot", "sum_0"])
def test_float32_and_float64_keep_dtype(name, dtype):
    kinds, build, ref = CASES[name]
    syms, vals = make_inputs(kinds, (6, 5), 0.4, "csr", dtype)
    got = compile_fn(syms, build(*syms))(*vals)
    assert got.dtype == dtype
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(to_dense(got), to_dense(ref(*vals)), rtol=tol, atol=tol)


@pytest.mark.parametrize("backend", healthy_backends())
@pytest.mark.parametrize("name", ["structured_dot", "dot_sd", "dot_ds", "add_sd", "mul_ss",
                                  "sum_1", "kernel", "sampling_dot", "transpose"])
def test_every_backend_agrees_with_scipy(name, backend):
    kinds, build, ref = CASES[name]
    for fmt in ("csr", "csc"):
        syms, vals = make_inputs(kinds, (9, 7), 0.3, fmt)
        got = compile_fn(syms, build(*syms), backend)(*vals)
        np.testing.assert_allclose(to_dense(got), to_dense(ref(*vals)), rtol=1e-10, atol=1e-12)


OPS = [sparse.CSM("csr"), sparse.CSM("csc"), sparse.csm_properties, sparse.dense_from_sparse,
       sparse.DenseFromSparse(False), sparse.csr_from_dense, sparse.csc_from_dense,
       sparse.transpose, sparse.Add(), sparse.Mul(), sparse.SpSum(0, True), sparse.SpSum(None),
       sparse.StructuredUnary("exp"), sparse.RowColScale(1), sparse.SamplingDot(),
       sparse.StructuredDot(), sparse.Dot(), sparse.SparseDenseDotKernel("csc"),
       sparse.DataAtPattern("csr"), sparse.sp_shape]


@pytest.mark.parametrize("op", OPS, ids=str)
def test_op_identity_copy_and_pickle(op):
    for other in (copy.deepcopy(op), pickle.loads(pickle.dumps(op))):
        assert other == op and hash(other) == hash(op)
    for prop in op.__props__:
        assert f"{prop}=" in str(op)


@pytest.mark.parametrize("name", ["transpose", "add_sd", "structured_dot", "dot_ss", "sum_0",
                                  "sum_1", "sampling_dot", "dense_from_sparse", "kernel"])
def test_infer_shape_matches_value(name):
    from opcore.testing.contract import call_infer_shape

    kinds, build, _ = CASES[name]
    syms, vals = make_inputs(kinds, (6, 4), 0.5, "csr")
    out = build(*syms)
    node = out.owner
    shapes = [tuple(v.shape[i] for i in range(v.ndim)) for v in node.inputs]
    (inferred,) = call_infer_shape(node.op, node, shapes)
    got = compile_fn(syms, [out] + [T.as_tensor_variable(d) for d in inferred])(*vals)
    assert tuple(int(d) for d in got[1:]) == got[0].shape


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kernel_op_contract_on_every_backend(fmt, dtype):
    from opcore.testing import check_op_contract

    a = rand_sparse((8, 6), 0.3, fmt, dtype)
    b = np.random.default_rng(1).random((6, 4)).astype(dtype)
    values = [a.data, a.indices.astype("int32"), a.indptr.astype("int32"),
              np.array(a.shape, dtype="int64"), b]
    report = check_op_contract(sparse.SparseDenseDotKernel(fmt), values)
    assert "perform" in report.checked and "backend:py" in report.checked
    if "c" in healthy_backends():
        assert "backend:c" in report.checked, report.skipped


def test_data_at_pattern_contract():
    from opcore.testing import check_op_contract

    a = rand_sparse((5, 4), 0.5)
    g = np.random.default_rng(2).random((5, 4))
    values = [g, a.indices.astype("int32"), a.indptr.astype("int32"),
              np.array(a.shape, dtype="int64")]
    report = check_op_contract(sparse.DataAtPattern("csr"), values, check_grad=False)
    assert "perform" in report.checked
    rows = np.repeat(np.arange(5), np.diff(a.indptr))
    storage = [[None]]
    node = sparse.DataAtPattern("csr").make_node(T.dmatrix(), *values[1:])
    node.op.perform(node, values, storage)
    np.testing.assert_array_equal(storage[0][0], g[rows, a.indices])
