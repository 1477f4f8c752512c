"""Linear algebra through ``numpy.linalg`` (LAPACK): Theano's ``theano.tensor.nlinalg``.

Ops on matrices: ``matrix_inverse``, ``pinv``, ``det``, ``eig``, ``eigh``, ``svd``, ``qr``,
``lstsq``, ``tensorinv``, ``tensorsolve``; functions built from other ops: ``trace``,
``matrix_dot``, ``matrix_power``, ``norm``; and ``diag``/``extract_diag``/``alloc_diag`` (from
:mod:`opcore.tensor.construct`).  Gradients: inverse, pinv, det, eigh (Theano's), svd (with
``compute_uv=False``: the singular values).  Output dtypes follow NumPy for float inputs; integer
inputs give float64 as NumPy does (Theano kept the input dtype and failed at run time).
``svd`` and ``qr`` return a list of outputs in NumPy's order.
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import DisconnectedType, grad_not_implemented
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable, zeros_like
from opcore.tensor.construct import (AllocDiag, ExtractDiag, alloc_diag, diag,  # noqa: F401
                                     extract_diag, identity_like, tril, triu)
from opcore.tensor.math import abs as tabs
from opcore.tensor.math import dot, max as tmax, min as tmin, minimum, neq, outer, prod, sqrt
from opcore.tensor.linalg_grads import QRGrad, SVDGrad
from opcore.tensor.math import sum as tsum
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import EighUPLO, InputShapes, OutputShapes, QRMode


def _float_dtype(dtype: str) -> str:
    return dtype if dtype in ("float32", "float64", "complex64", "complex128") else "float64"


def _as_matrix(op: Any, x: Any, square: bool = False) -> Any:
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"{op}: {x} must be a matrix, got {x.ndim} dimension(s) ({x.type})")
    if square and None not in x.type.shape and x.type.shape[0] != x.type.shape[1]:
        raise ValueError(f"{op}: {x} must be square, its static shape is {x.type.shape}")
    return x


def _check_square(op: Any, a: np.ndarray) -> None:
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{op}: the matrix must be square, got shape {a.shape}")


def _mat(dtype: str, rows: Any = None, cols: Any = None) -> Any:
    return TensorType(dtype, shape=(rows, cols))()


class MatrixInverse(Op):
    """``numpy.linalg.inv`` of a square matrix; ``LinAlgError`` when singular."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = _as_matrix(self, x, square=True)
        return Apply(self, [x], [_mat(_float_dtype(x.dtype), *x.type.shape)])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        _check_square(self, inputs[0])
        out[0][0] = np.linalg.inv(inputs[0]).astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        xi = outputs[0]
        return [-matrix_dot(xi.T, gz[0], xi.T)]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        if eval_points[0] is None:
            return [None]
        xi = self(inputs[0])
        return [-matrix_dot(xi, eval_points[0], xi)]


matrix_inverse = MatrixInverse()


class MatrixPinv(Op):
    """``numpy.linalg.pinv`` (Moore-Penrose pseudo-inverse) of an ``(m, n)`` matrix: ``(n, m)``.

    ``hermitian=True`` uses the faster symmetric algorithm.  Gradient: Golub and Pereyra (1973).
    """

    __props__ = ("hermitian",)

    def __init__(self, hermitian: bool = False) -> None:
        self.hermitian = bool(hermitian)

    def make_node(self, x: Any) -> Apply:
        x = _as_matrix(self, x)
        m, n = x.type.shape
        return Apply(self, [x], [_mat(_float_dtype(x.dtype), n, m)])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.linalg.pinv(inputs[0], hermitian=self.hermitian).astype(
            node.outputs[0].dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0][::-1]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        (x,), (z,), (g,) = inputs, outputs, gz
        xz = dot(x, z)
        zx = dot(z, x)
        res = (-matrix_dot(z, g.T, z)
               + matrix_dot(z, z.T, g, identity_like(xz) - xz)
               + matrix_dot(identity_like(zx) - zx, g, z.T, z)).T
        return [res]


def pinv(x: Any, hermitian: bool = False) -> TensorVariable:
    """Moore-Penrose pseudo-inverse of the matrix ``x`` (``numpy.linalg.pinv``)."""
    return MatrixPinv(hermitian)(x)


class Det(Op):
    """``numpy.linalg.det`` of a square matrix: a scalar.  Gradient ``g * det * inv(x).T``."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = _as_matrix(self, x, square=True)
        return Apply(self, [x], [TensorType(_float_dtype(x.dtype), shape=())()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        _check_square(self, inputs[0])
        out[0][0] = np.asarray(np.linalg.det(inputs[0]), dtype=node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [()]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [typing.cast("TensorVariable", gz[0]) * outputs[0] * matrix_inverse(inputs[0]).T]


det = Det()


class Eig(Op):
    """``numpy.linalg.eig``: eigenvalues ``w`` and right eigenvectors ``v`` (columns), complex
    when the spectrum is (the output dtype is complex for every input, as NumPy may need it)."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = _as_matrix(self, x, square=True)
        dt = "complex64" if x.dtype in ("float32", "complex64") else "complex128"
        n = x.type.shape[0]
        return Apply(self, [x], [TensorType(dt, shape=(n,))(), _mat(dt, n, n)])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        _check_square(self, inputs[0])
        w, v = np.linalg.eig(inputs[0])
        out[0][0] = w.astype(node.outputs[0].dtype)
        out[1][0] = v.astype(node.outputs[1].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        n = shapes[0][0]
        return [(n,), (n, n)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [grad_not_implemented(self, 0, inputs[0], "eig of a general matrix")]


eig = Eig()


class Eigh(Op):
    """``numpy.linalg.eigh(x, UPLO)``: ascending eigenvalues and orthonormal eigenvectors of a
    symmetric (Hermitian) matrix, reading only its ``UPLO`` triangle.  Gradient as Theano's."""

    __props__ = ("UPLO",)

    def __init__(self, UPLO: str = "L") -> None:
        if UPLO not in ("L", "U"):
            raise ValueError(f"Eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO: EighUPLO = typing.cast("EighUPLO", UPLO)  # checked above

    def make_node(self, x: Any) -> Apply:
        x = _as_matrix(self, x, square=True)
        dt = _float_dtype(x.dtype)
        wdt = {"complex64": "float32", "complex128": "float64"}.get(dt, dt)
        n = x.type.shape[0]
        return Apply(self, [x], [TensorType(wdt, shape=(n,))(), _mat(dt, n, n)])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        _check_square(self, inputs[0])
        w, v = np.linalg.eigh(inputs[0], self.UPLO)
        out[0][0] = w.astype(node.outputs[0].dtype, copy=False)
        out[1][0] = v.astype(node.outputs[1].dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        n = shapes[0][0]
        return [(n,), (n, n)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        (x,), (w, v) = inputs, outputs
        gw, gv = gz
        # dA = V (diag(gw) + F * (V^T gV)^T) V^T with F[n, m] = 1 / (w[n] - w[m]) off the
        # diagonal; eigh reads one triangle only, so the other's contribution folds onto it
        ident = identity_like(v)
        diff = w.dimshuffle(0, "x") - w.dimshuffle("x", 0)
        F = (1 - ident) / (diff + ident)
        inner = alloc_diag(gw) + F * dot(v.T, gv).T
        g = matrix_dot(v, inner, v.T)
        if self.UPLO == "L":
            return [tril(g) + triu(g, 1).T]
        return [triu(g) + tril(g, -1).T]


def eigh(a: Any, UPLO: str = "L") -> list:
    """``[w, v]`` of the symmetric matrix ``a`` (``numpy.linalg.eigh``)."""
    return Eigh(UPLO)(a)


class SVD(Op):
    """``numpy.linalg.svd``: ``[u, s, vt]`` (``compute_uv``) or the singular values ``s``.

    Gradient: of the singular values (``compute_uv=False``): ``u diag(g) vt``.
    """

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices: bool = True, compute_uv: bool = True) -> None:
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)

    def make_node(self, x: Any) -> Apply:
        x = _as_matrix(self, x)
        dt = _float_dtype(x.dtype)
        sdt = {"complex64": "float32", "complex128": "float64"}.get(dt, dt)
        s = TensorType(sdt, shape=(None,))()
        if self.compute_uv:
            return Apply(self, [x], [_mat(dt), s, _mat(dt)])
        return Apply(self, [x], [s])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        res: tuple[Any, ...]
        if self.compute_uv:
            res = tuple(np.linalg.svd(inputs[0], full_matrices=self.full_matrices, compute_uv=True))
        else:
            res = (np.linalg.svd(inputs[0], full_matrices=self.full_matrices, compute_uv=False),)
        for cell, val, var in zip(out, res, node.outputs):
            cell[0] = val.astype(var.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        m, n = shapes[0]
        k = minimum(m, n)
        if not self.compute_uv:
            return [(k,)]
        if self.full_matrices:
            return [(m, m), (k,), (n, n)]
        return [(m, k), (k,), (k, n)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        x = inputs[0]
        if not self.compute_uv:
            u, _, vt = SVD(False, True)(x)
            return [matrix_dot(u, alloc_diag(gz[0]), vt)]
        if self.full_matrices:
            return [grad_not_implemented(self, 0, x, "the singular vectors of full_matrices=True "
                                         "are not unique; use full_matrices=False")]
        u, s, vt = outputs
        gu, gs, gvt = (zeros_like(o) if g is None or isinstance(g.type, DisconnectedType) else g
                       for o, g in zip(outputs, gz))
        return [SVDGrad()(x, u, s, vt, gu, gs, gvt)]


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True
        ) -> TensorVariable | list[TensorVariable]:
    """Singular value decomposition (``numpy.linalg.svd``): ``[u, s, vt]`` or ``s``."""
    return SVD(full_matrices, compute_uv)(a)


class QRFull(Op):
    """``numpy.linalg.qr(x, mode)`` for mode ``reduced``, ``complete``, ``r`` or ``raw``."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "reduced") -> None:
        if mode not in ("reduced", "complete", "r", "raw"):
            raise ValueError(f"qr: mode must be reduced, complete, r or raw, got {mode!r}")
        self.mode: QRMode = typing.cast("QRMode", mode)  # checked above

    def make_node(self, x: Any) -> Apply:
        x = _as_matrix(self, x)
        dt = _float_dtype(x.dtype)
        if self.mode == "r":
            return Apply(self, [x], [_mat(dt)])
        if self.mode == "raw":
            return Apply(self, [x], [_mat(dt), TensorType(dt, shape=(None,))()])
        return Apply(self, [x], [_mat(dt), _mat(dt)])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        res = np.linalg.qr(inputs[0], mode=self.mode)
        parts: tuple[Any, ...] = (res,) if self.mode == "r" else tuple(res)
        for cell, val, var in zip(out, parts, node.outputs):
            cell[0] = np.asarray(val).astype(var.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        m, n = shapes[0]
        k = minimum(m, n)
        if self.mode == "reduced":
            return [(m, k), (k, n)]
        if self.mode == "complete":
            return [(m, m), (m, n)]
        if self.mode == "r":
            return [(k, n)]
        return [(n, m), (k,)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        x = inputs[0]
        if self.mode in ("raw", "complete"):
            return [grad_not_implemented(self, 0, x, f"mode={self.mode!r}; use 'reduced' or 'r'")]
        gq: Variable
        if self.mode == "r":
            q, r = QRFull("reduced")(x)
            gq, gr = zeros_like(q), gz[0]
        else:
            q, r = outputs
            gq, gr = (zeros_like(o) if g is None or isinstance(g.type, DisconnectedType) else g
                      for o, g in zip(outputs, gz))
        return [QRGrad()(x, q, r, gq, gr)]


def qr(a: Any, mode: str = "reduced") -> TensorVariable | list[TensorVariable]:
    """QR decomposition (``numpy.linalg.qr``): ``[q, r]`` (``reduced``/``complete``), ``r``
    (mode ``'r'``) or ``[h, tau]`` (``raw``)."""
    return QRFull(mode)(a)


class Lstsq(Op):
    """``numpy.linalg.lstsq(a, b, rcond)``: ``[x, residuals, rank, s]``."""

    __props__ = ()

    def make_node(self, a: Any, b: Any, rcond: Any = -1) -> Apply:
        a = _as_matrix(self, a)
        b = as_tensor_variable(b)
        if b.ndim not in (1, 2):
            raise TypeError(f"{self}: b {b} must be a vector or a matrix")
        rcond = as_tensor_variable(rcond)
        dt = _float_dtype(a.dtype if a.dtype == b.dtype else "float64")
        x = TensorType(dt, shape=(None,) * b.ndim)()
        return Apply(self, [a, b, rcond], [x, TensorType(dt, shape=(None,))(),
                                           TensorType("int64", shape=())(),
                                           TensorType(dt, shape=(None,))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a, b, rcond = inputs
        rc = None if float(rcond) == -1 else float(rcond)
        res = np.linalg.lstsq(a, b, rcond=rc)
        for cell, val, var in zip(out, res, node.outputs):
            cell[0] = np.asarray(val).astype(var.dtype)

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [grad_not_implemented(self, i, v, "lstsq") for i, v in enumerate(inputs)]


lstsq = Lstsq()


def matrix_dot(*args: Any) -> TensorVariable:
    """``args[0] @ args[1] @ ...`` (Theano's ``matrix_dot``)."""
    rval = args[0]
    for a in args[1:]:
        rval = dot(rval, a)
    return rval


def trace(X: Any) -> TensorVariable:
    """Sum of the main diagonal of the matrix ``X``."""
    X = as_tensor_variable(X)
    if X.ndim != 2:
        raise TypeError(f"trace: {X} must be a matrix, got {X.ndim} dimension(s)")
    return tsum(extract_diag(X))


def matrix_power(M: Any, n: int) -> TensorVariable:
    """``M`` multiplied by itself ``n`` times (``n`` a Python int; negative: of the inverse),
    by repeated squaring (``numpy.linalg.matrix_power``)."""
    M = _as_matrix("matrix_power", M)
    if int(n) != n:
        raise TypeError(f"matrix_power: n must be an int, got {n!r}")
    n = int(n)
    if n < 0:
        M, n = matrix_inverse(M), -n
    if n == 0:
        return identity_like(M)
    result = None
    base = M
    while n:
        if n & 1:
            result = base if result is None else dot(result, base)
        n >>= 1
        if n:
            base = dot(base, base)
    return typing.cast("TensorVariable", result)  # set: n >= 1 has a lowest set bit


def norm(x: Any, ord: Any) -> TensorVariable:
    """Vector or matrix norm (``numpy.linalg.norm`` for the orders Theano supports).

    Vectors: ``ord`` an int/float, ``inf``, ``-inf``.  Matrices: ``'fro'``, ``inf``, ``-inf``,
    ``1``, ``-1``.  Raises ``ValueError`` for other orders or ranks.
    """
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise ValueError("norm: x must be a vector or a matrix, got a scalar")
    if x.ndim == 1:
        if ord is None or ord == 2:
            return sqrt(tsum(tabs(x) ** 2))
        if ord == np.inf:
            return tmax(tabs(x))
        if ord == -np.inf:
            return tmin(tabs(x))
        if ord == 0:
            return tsum(neq(x, 0).astype(_float_dtype(x.dtype)))
        if isinstance(ord, str):
            raise ValueError(f"norm: order {ord!r} is not defined for vectors")
        return tsum(tabs(x) ** ord) ** (1.0 / ord)
    if x.ndim == 2:
        if ord is None or ord == "fro":
            return sqrt(tsum(tabs(x) ** 2))
        if ord == np.inf:
            return tmax(tsum(tabs(x), 1))
        if ord == -np.inf:
            return tmin(tsum(tabs(x), 1))
        if ord == 1:
            return tmax(tsum(tabs(x), 0))
        if ord == -1:
            return tmin(tsum(tabs(x), 0))
        raise ValueError(f"norm: order {ord!r} is not supported for matrices (use 'fro', "
                         f"inf, -inf, 1 or -1)")
    raise ValueError(f"norm: {x} has {x.ndim} dimensions; only vectors and matrices")


class TensorInv(Op):
    """``numpy.linalg.tensorinv(a, ind)``."""

    __props__ = ("ind",)

    def __init__(self, ind: int = 2) -> None:
        self.ind = int(ind)

    def make_node(self, a: Any) -> Apply:
        a = as_tensor_variable(a)
        if not 0 < self.ind <= a.ndim:
            raise ValueError(f"{self}: ind must be in 1..{a.ndim} for {a}")
        return Apply(self, [a], [TensorType(_float_dtype(a.dtype), shape=(None,) * a.ndim)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.linalg.tensorinv(inputs[0], self.ind).astype(node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        s = list(shapes[0])
        return [tuple(s[self.ind:] + s[:self.ind])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        # tensorinv is inv of a reshaped to (p, q), reshaped back: d inv(M) = -inv(M).T g inv(M).T
        (a,), (x,), (g,) = inputs, outputs, gz
        p = prod(a.shape[:self.ind])
        q = prod(a.shape[self.ind:])
        minv = x.reshape((q, p), ndim=2)
        gm = -matrix_dot(minv.T, g.reshape((q, p), ndim=2), minv.T)
        return [gm.reshape(a.shape, ndim=a.ndim)]


def tensorinv(a: Any, ind: int = 2) -> TensorVariable:
    """The inverse of ``a`` w.r.t. ``tensordot`` over its first ``ind`` axes."""
    return TensorInv(ind)(a)


class TensorSolve(Op):
    """``numpy.linalg.tensorsolve(a, b, axes)``."""

    __props__ = ("axes",)

    def __init__(self, axes: Any = None) -> None:
        self.axes = None if axes is None else tuple(int(a) for a in axes)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        nd = a.ndim - b.ndim
        if nd < 1:
            raise ValueError(f"{self}: a ({a.ndim}-d) must have more dimensions than b "
                             f"({b.ndim}-d)")
        dt = _float_dtype(a.dtype if a.dtype == b.dtype else "float64")
        return Apply(self, [a, b], [TensorType(dt, shape=(None,) * nd)()])

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        a = shapes[0]
        order = self._order(len(a))
        return [tuple(a[d] for d in order[len(shapes[1]):])]

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.linalg.tensorsolve(inputs[0], inputs[1], self.axes).astype(
            node.outputs[0].dtype)

    def _order(self, nd: int) -> list:
        """The transpose NumPy applies to ``a``: the ``axes`` moved to the end."""
        if self.axes is None:
            return list(range(nd))
        ax = [a % nd for a in self.axes]
        return [d for d in range(nd) if d not in ax] + ax

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        # x = solve(M, b.ravel()) with M the (transposed) a reshaped square
        (a, b), (x,), (g,) = inputs, outputs, gz
        order = self._order(a.ndim)
        at = a.dimshuffle(order)
        n = prod(x.shape)
        m = at.reshape((n, n), ndim=2)
        bbar = dot(matrix_inverse(m).T, g.flatten())
        mbar = -outer(bbar, x.flatten())
        back = [order.index(d) for d in range(a.ndim)]
        return [mbar.reshape(at.shape, ndim=a.ndim).dimshuffle(back),
                bbar.reshape(b.shape, ndim=b.ndim)]


def tensorsolve(a: Any, b: Any, axes: Any = None) -> TensorVariable:
    """Solve ``tensordot(a, x, axes=b.ndim) = b`` for ``x`` (``numpy.linalg.tensorsolve``)."""
    return TensorSolve(axes)(a, b)


__all__ = [
    "AllocDiag", "Det", "Eig", "Eigh", "ExtractDiag", "Lstsq", "MatrixInverse", "MatrixPinv", "QRFull", "SVD", "TensorInv",
    "TensorSolve", "alloc_diag", "det", "diag", "eig", "eigh", "extract_diag", "lstsq",
    "matrix_dot", "matrix_inverse", "matrix_power", "norm", "pinv", "qr", "svd", "tensorinv",
    "tensorsolve", "trace",
]
