"""Gradients by finite differences (verify_grad_sparse), bad input, shared values, the C kernels."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import opcore
import opcore.tensor as T
import opcore.sparse as sparse
from opcore_sparse.testing import PY, compile_fn, healthy_backends, rand_sparse
from opcore_sparse import ckernels


def _pt(*kinds, fmt="csr", shape=(5, 4), seed=0):
    rng = np.random.default_rng(seed)
    m, n = shape
    out = []
    for j, k in enumerate(kinds):
        if k == "s":
            out.append(rand_sparse(shape, 0.5, fmt, seed=seed + j))
        elif k == "sk":
            out.append(rand_sparse((n, 3), 0.5, fmt, seed=seed + j))
        else:
            shp = {"d": shape, "dk": (n, 3), "dm": (3, m), "vm": (m,), "vn": (n,), "c": (),
                   "xk": (m, 3), "yk": (n, 3)}[k]
            out.append(rng.random(shp) + 0.5)
    return out


# name: (op on symbolic inputs, point kinds, structured)
GRADS = {
    "structured_dot": (sparse.structured_dot, "s dk", True),
    "dot_sd": (sparse.dot, "s dk", False),
    "dot_ds": (sparse.dot, "dm s", False),
    "dot_sv": (sparse.dot, "s vn", False),
    "dot_ss": (sparse.dot, "s sk", False),
    "add_ss": (sparse.add, "s s", False),
    "add_sd": (sparse.add, "s d", True),
    "mul_ss": (sparse.mul, "s s", True),
    "mul_sd": (sparse.mul, "s d", True),
    "mul_scalar": (sparse.mul, "s c", True),
    "transpose": (sparse.transpose, "s", False),
    "dense_from_sparse": (sparse.DenseFromSparse(False), "s", False),
    "dense_from_sparse_structured": (sparse.dense_from_sparse, "s", True),
    "sum_all": (sparse.sp_sum, "s", False),
    "sum_0_sparse_grad": (lambda x: sparse.sp_sum(x, 0, True), "s", True),
    "sum_1": (lambda x: sparse.sp_sum(x, 1), "s", False),
    "sigmoid": (sparse.structured_sigmoid, "s", True),
    "exp": (sparse.structured_exp, "s", True),
    "log": (sparse.structured_log, "s", True),
    "pow": (sparse.structured_pow, "s c", True),
    "minimum": (lambda x: sparse.structured_minimum(x, 0.9), "s", True),
    "maximum": (lambda x: sparse.structured_maximum(x, 0.9), "s", True),
    "structured_add": (sparse.structured_add, "s c", True),
    "neg": (sparse.neg, "s", True),
    "row_scale": (sparse.row_scale, "s vm", True),
    "col_scale": (sparse.col_scale, "s vn", True),
    "sampling_dot": (sparse.sampling_dot, "xk yk s", True),
    "csr_from_dense": (sparse.csr_from_dense, "d", False),
}


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradient_matches_finite_differences(name, fmt):
    op, kinds, structured = GRADS[name]
    pt = _pt(*kinds.split(), fmt=fmt)
    sparse.verify_grad_sparse(op, pt, structured=structured, mode=PY)


def test_structured_dot_gradient_is_sparse_on_the_pattern():
    x, y = sparse.csr_matrix("x", dtype="float64"), T.dmatrix("y")
    gx = opcore.grad(T.sum(sparse.structured_dot(x, y) ** 2), x)
    assert sparse.is_sparse(gx)
    a = rand_sparse((6, 5), 0.3)
    b = np.random.default_rng(0).random((5, 2))
    got = compile_fn([x, y], gx)(a, b)
    dense = 2 * (a @ b) @ b.T  # the full gradient; the structured one is it on a's pattern
    rows, cols = a.nonzero()
    expected = np.zeros(a.shape)
    expected[rows, cols] = dense[rows, cols]
    np.testing.assert_allclose(got.toarray(), expected, rtol=1e-12)
    assert got.nnz <= a.nnz


def test_dot_gradient_wrt_sparse_is_dense():
    x, y = sparse.csr_matrix("x", dtype="float64"), T.dmatrix("y")
    gx = opcore.grad(T.sum(sparse.dot(x, y)), x)
    a, b = rand_sparse((4, 3), 0.5), np.random.default_rng(0).random((3, 2))
    np.testing.assert_allclose(compile_fn([x, y], gx)(a, b), np.ones((4, 2)) @ b.T)


# -- bad input --------------------------------------------------------------------------------
def test_format_mismatch_is_a_clear_type_error():
    x, y = sparse.csr_matrix("x", dtype="float64"), sparse.csc_matrix("y", dtype="float64")
    with pytest.raises(TypeError, match="format mismatch.*csr.*csc"):
        sparse.add(x, y)
    with pytest.raises(TypeError, match="format mismatch"):
        sparse.mul(x, y)


def test_dtype_mix_is_a_clear_type_error():
    x, y = sparse.csr_matrix("x", dtype="float32"), T.dmatrix("y")
    with pytest.raises(TypeError, match="different dtypes.*float32.*float64"):
        sparse.structured_dot(x, y)
    with pytest.raises(TypeError, match="different dtypes"):
        sparse.add(x, sparse.csr_matrix("z", dtype="float64"))


def test_wrong_values_at_call_time():
    x = sparse.csr_matrix("x", dtype="float64")
    f = compile_fn([x], sparse.sp_sum(x))
    with pytest.raises(TypeError, match="expected a csr matrix, got a csc matrix"):
        f(sp.eye(3, format="csc"))
    with pytest.raises(TypeError, match="expected a scipy.sparse csr matrix.*ndarray"):
        f(np.eye(3))
    with pytest.raises(TypeError, match="cannot safely cast.*complex128"):
        f(sp.eye(3, format="csr", dtype="complex128"))
    assert float(f(sp.eye(3, format="csr", dtype="float32"))) == 3.0  # safe upcast is fine


def test_shape_mismatch_at_run_time():
    x, y = sparse.csr_matrix("x", dtype="float64"), T.dmatrix("y")
    f = compile_fn([x, y], sparse.structured_dot(x, y))
    with pytest.raises(ValueError, match=r"not aligned \(4 != 3\)"):
        f(rand_sparse((5, 4), 0.5), np.ones((3, 2)))
    z = sparse.csr_matrix("z", dtype="float64")
    g = compile_fn([x, z], sparse.add(x, z))
    with pytest.raises(ValueError, match=r"shape mismatch: \(5, 4\) vs \(4, 5\)"):
        g(rand_sparse((5, 4), 0.5), rand_sparse((4, 5), 0.5))


def test_unsorted_indices_are_sorted_on_input():
    a = sp.csr_matrix((np.array([1.0, 2.0]), np.array([2, 0]), np.array([0, 2, 2])), shape=(2, 3))
    assert not a.has_sorted_indices
    x = sparse.csr_matrix("x", dtype="float64")
    data = compile_fn([x], sparse.csm_data(x))(a)
    np.testing.assert_array_equal(data, [2.0, 1.0])
    assert not a.has_sorted_indices  # the caller's matrix is left alone


def test_csm_rejects_bad_structure():
    d, i, p, s = T.dvector("d"), T.ivector("i"), T.ivector("p"), T.lvector("s")
    f = compile_fn([d, i, p, s], sparse.CSR(d, i, p, s))
    args = np.ones(2), np.array([0, 5], "int32"), np.array([0, 1, 2], "int32")
    with pytest.raises(ValueError, match="CSM.*(invalid sparse structure|index)"):
        f(*args, np.array([2, 3], "int64"))
    with pytest.raises(ValueError, match="indptr has 3 entries, expected 4"):
        f(np.ones(2), np.array([0, 1], "int32"), args[2], np.array([3, 3], "int64"))
    m = f(np.array([1.0, 2.0]), np.array([1, 0], "int32"), np.array([0, 2, 2], "int32"),
          np.array([2, 2], "int64"))
    np.testing.assert_array_equal(m.toarray(), [[2.0, 1.0], [0.0, 0.0]])


def test_as_sparse_variable_rejects_dense():
    with pytest.raises(TypeError, match="not a sparse type"):
        sparse.as_sparse_variable(T.dmatrix("m"))
    with pytest.raises(TypeError, match="format must be one of"):
        sparse.SparseType("coo", "float64")


# -- shared values, constants -----------------------------------------------------------------
def test_shared_sparse_value_and_update():
    a = rand_sparse((4, 3), 0.5)
    s = opcore.shared(a, name="s")
    assert isinstance(s, sparse.SparseSharedVariable) and s.type.format == "csr"
    y = T.dmatrix("y")
    f = opcore.function([y], sparse.structured_dot(s, y), updates=[(s, s * 2.0)], mode=PY)
    b = np.ones((3, 2))
    np.testing.assert_allclose(f(b), a @ b)
    np.testing.assert_allclose(f(b), 2 * (a @ b))
    np.testing.assert_allclose(s.get_value().toarray(), 4 * a.toarray())


def test_constant_operand():
    a = rand_sparse((3, 3), 0.5)
    x = sparse.csr_matrix("x", dtype="float64")
    got = compile_fn([x], sparse.add(x, a))(a)
    np.testing.assert_allclose(got.toarray(), 2 * a.toarray())


# -- the C kernels ----------------------------------------------------------------------------
def _lib():
    try:
        return ckernels.build_standalone(openmp=False)
    except RuntimeError as exc:
        pytest.skip(f"no working C compiler: {exc}")


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,density", [((1, 1), 1.0), ((40, 30), 0.05), ((7, 50), 0.0),
                                           ((64, 64), 0.3)])
def test_standalone_kernel_matches_scipy(fmt, dtype, shape, density):
    lib = _lib()
    a = rand_sparse(shape, density, fmt, dtype)
    b = np.random.default_rng(3).random((shape[1], 37)).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ckernels.run_standalone(lib, a, b), a @ b, rtol=tol, atol=tol)


def test_standalone_kernel_rejects_out_of_range_indices():
    lib = _lib()
    a = sp.csr_matrix((np.ones(1), np.array([0]), np.array([0, 1])), shape=(1, 2))
    a.indices[0] = 7  # corrupt after construction
    with pytest.raises(ValueError, match="invalid sparse structure"):
        ckernels.run_standalone(lib, a, np.ones((2, 2)))


needs_c = pytest.mark.skipif("c" not in healthy_backends(),
                             reason="the cpu_c backend (opcore-cpu-c) is not installed or healthy")


@needs_c
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_c_backend_runs_the_kernel(fmt, dtype):
    x, y = sparse.matrix(fmt, "x", dtype), T.matrix("y", dtype=dtype)
    f = compile_fn([x, y], sparse.structured_dot(x, y), backend="c")
    kinds = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    assert "SparseDenseDotKernel" in kinds  # the rewrite put the C kernel op in
    a = rand_sparse((300, 200), 0.02, fmt, dtype)
    b = np.random.default_rng(0).random((200, 9)).astype(dtype)
    got = f(a, b)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, a @ b, rtol=1e-5 if dtype == "float32" else 1e-12)


@needs_c
def test_c_backend_kernel_rejects_bad_structure():
    d, i, p, s, b = (T.dvector("d"), T.ivector("i"), T.ivector("p"), T.lvector("s"),
                     T.dmatrix("b"))
    f = compile_fn([d, i, p, s, b], sparse.SparseDenseDotKernel("csr")(d, i, p, s, b), "c")
    good = [np.ones(1), np.array([1], "int32"), np.array([0, 1], "int32"),
            np.array([1, 2], "int64"), np.ones((2, 3))]
    np.testing.assert_allclose(f(*good), np.ones((1, 3)))
    bad = list(good)
    bad[1] = np.array([9], "int32")
    with pytest.raises(ValueError, match="invalid sparse structure|index"):
        f(*bad)
    bad = list(good)
    bad[4] = np.ones((5, 3))
    with pytest.raises(ValueError, match="aligned"):
        f(*bad)


@pytest.mark.parametrize("name", ["structured_dot", "sigmoid", "mul_scalar", "sum_1", "add_sd"])
def test_float32_gradients(name):
    op, kinds, structured = GRADS[name]
    pt = [p.astype("float32") for p in _pt(*kinds.split())]
    sparse.verify_grad_sparse(op, pt, structured=structured, mode=PY)


def test_compiled_function_pickles():
    import pickle

    x, y = sparse.csc_matrix("x", dtype="float64"), T.dmatrix("y")
    f = opcore.function([x, y], [sparse.structured_dot(x, y), sparse.sp_sum(x * 2.0, 0)],
                        mode=PY)
    g = pickle.loads(pickle.dumps(f))
    a, b = rand_sparse((4, 3), 0.5, "csc"), np.ones((3, 2))
    for got, want in zip(g(a, b), f(a, b)):
        np.testing.assert_allclose(got, want)


def test_eval_and_debugprint():
    a = rand_sparse((3, 4), 0.5)
    x = sparse.csr_matrix("x", dtype="float64")
    out = sparse.dense_from_sparse(sparse.structured_exp(x).T)
    np.testing.assert_allclose(out.eval({x: a}), _expm_stored(a).T)
    text = opcore.printing.debugprint(out, file="str")
    assert "StructuredUnary{fn=exp}" in text and "Transpose" in text


def _expm_stored(a):
    e = a.copy()
    e.data = np.exp(e.data)
    return e.toarray()


@pytest.mark.parametrize("build", [sparse.structured_dot, sparse.dot],
                         ids=["structured_dot", "dot"])
def test_rewrite_sparse_dot_to_kernel_keeps_values(build):
    from opcore.compile import Mode

    x, y = sparse.csr_matrix("x", dtype="float64"), T.dmatrix("y")
    out = build(x, y)
    plain = opcore.function([x, y], out, mode=Mode(backend="py", optimizer=None))
    rewritten = opcore.function([x, y], out, mode=Mode(backend="py"))
    before = [type(n.op).__name__ for n in plain.maker.fgraph.toposort()]
    after = [type(n.op).__name__ for n in rewritten.maker.fgraph.toposort()]
    assert before == [type(out.owner.op).__name__]
    assert after == ["CSMProperties", "SparseDenseDotKernel"]
    a, b = rand_sparse((7, 5), 0.4), np.random.default_rng(0).random((5, 3))
    np.testing.assert_allclose(rewritten(a, b), plain(a, b), rtol=1e-12)
    np.testing.assert_allclose(rewritten(a, b), a @ b, rtol=1e-12)


def test_rewrite_leaves_vector_and_dense_sparse_products_alone():
    from opcore_sparse.rewrites import local_sparse_dot_to_kernel

    x, v, m = sparse.csr_matrix("x", dtype="float64"), T.dvector("v"), T.dmatrix("m")
    assert local_sparse_dot_to_kernel(None, sparse.dot(x, v).owner) is None
    assert local_sparse_dot_to_kernel(None, sparse.dot(m, x).owner) is None
    ix = sparse.csr_matrix("ix", dtype="int64")
    assert local_sparse_dot_to_kernel(None, sparse.dot(ix, T.lmatrix("lm")).owner) is None


def test_type_values_eq_and_filter_details():
    t = sparse.SparseType("csr", "float64")
    a = rand_sparse((4, 5), 0.5)
    b = a.copy()
    b.data = b.data + 1e-9
    assert t.values_eq(a, a.copy()) and not t.values_eq(a, b)
    assert t.values_eq_approx(a, b) and not t.values_eq_approx(a, a * 2)
    assert not t.values_eq_approx(a, rand_sparse((5, 4), 0.5))
    assert t.is_valid_value(a) and not t.is_valid_value(a.tocsc())
    assert isinstance(t.filter(sp.csr_array(a)), sp.csr_matrix)  # sparse arrays are accepted
    with pytest.raises(TypeError, match="2-d"):
        t.filter(sp.coo_array(np.ones(3)))
    with pytest.raises(TypeError, match="expected dtype float64, got float32"):
        t.filter(a.astype("float32"), strict=True)
    assert t == sparse.SparseType("csr", np.float64) and t != sparse.SparseType("csc", "float64")


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_kernel_op_gradient(fmt):
    a = rand_sparse((5, 4), 0.5, fmt)
    idx, ptr = a.indices.astype("int32"), a.indptr.astype("int32")
    shape = np.array(a.shape, dtype="int64")
    op = sparse.SparseDenseDotKernel(fmt)
    b = np.random.default_rng(0).random((4, 3))
    opcore.gradient.verify_grad(lambda d, bb: op(d, idx, ptr, shape, bb), [a.data.copy(), b],
                                mode=PY)
