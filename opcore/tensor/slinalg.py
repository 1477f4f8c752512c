"""Linear algebra through ``scipy.linalg``: Theano's ``theano.tensor.slinalg`` plus PyTensor's
``solve_triangular`` and ``cho_solve``.

SciPy is imported only when one of these ops runs (``opcore.optional.require``); without it
the op raises ``ImportError`` naming ``scipy``.  Building graphs and compiling never import it.

``solve(a, b, assume_a='gen', lower=False)`` follows SciPy; Theano's ``Solve(A_structure=...)``
spellings (``'general'``, ``'symmetric'``, ``'lower_triangular'``, ``'upper_triangular'``) are
accepted.  Gradients: ``cholesky`` (Murray 2016, "Differentiation of the Cholesky
decomposition"), ``solve``, ``solve_triangular``, ``cho_solve``, ``eigvalsh`` (standard and
generalized), ``expm`` (through the block-matrix form of its Fréchet derivative, Higham 2008
section 10.6) and ``kron`` (built from elementwise ops).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.op import Op
from opcore.optional import require
from opcore.tensor.basic import as_tensor_variable, zeros_like
from opcore.tensor.construct import alloc_diag, diagonal, tril, triu
from opcore.tensor.math import dot, outer
from opcore.tensor.nlinalg import eigh, matrix_dot
from opcore.tensor.shape import concatenate
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import InputShapes, OutputShapes


def _linalg(user: Any) -> Any:
    return require("scipy.linalg", str(user))


def _float_dtype(*dtypes: str) -> str:
    if all(d in ("float32", "complex64") for d in dtypes):
        return "complex64" if "complex64" in dtypes else "float32"
    return "complex128" if any(d.startswith("complex") for d in dtypes) else "float64"


def _matrix(op: Any, x: Any) -> Any:
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"{op}: {x} must be a matrix, got {x.ndim} dimension(s) ({x.type})")
    return x


def _rhs(op: Any, b: Any) -> Any:
    b = as_tensor_variable(b)
    if b.ndim not in (1, 2):
        raise TypeError(f"{op}: the right-hand side {b} must be a vector or a matrix")
    return b


def _outer_like(bbar: Any, c: Any) -> Any:
    return outer(bbar, c) if c.ndim == 1 else dot(bbar, c.T)


class Cholesky(Op):
    """``scipy.linalg.cholesky``: lower (default) or upper factor of a positive-definite matrix.

    ``on_error='raise'`` raises ``numpy.linalg.LinAlgError`` for a matrix that is not positive
    definite; ``'nan'`` returns a matrix of NaNs instead.
    """

    __props__ = ("lower", "on_error")

    def __init__(self, lower: bool = True, on_error: str = "raise") -> None:
        if on_error not in ("raise", "nan"):
            raise ValueError(f"Cholesky: on_error must be 'raise' or 'nan', got {on_error!r}")
        self.lower = bool(lower)
        self.on_error = on_error

    def make_node(self, x: Any) -> Apply:
        x = _matrix(self, x)
        return Apply(self, [x], [TensorType(_float_dtype(x.dtype), shape=x.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        sl = _linalg(self)
        try:
            z = sl.cholesky(inputs[0], lower=self.lower)
        except np.linalg.LinAlgError:
            if self.on_error == "raise":
                raise
            z = np.full_like(inputs[0], np.nan, dtype=node.outputs[0].dtype)
        out[0][0] = z.astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        L, g = outputs[0], gz[0]
        if not self.lower:
            L, g = L.T, g.T
        # Murray (2016), eq. 10: Phi(L^T dL) then two triangular solves
        phi = tril(dot(L.T, g))
        phi = phi - 0.5 * alloc_diag(diagonal(phi))
        s = SolveTriangular(lower=False)(L.T, SolveTriangular(lower=False)(L.T, phi.T).T)
        sym = s + s.T
        grad = tril(sym) - alloc_diag(diagonal(s))
        return [grad if self.lower else grad.T]


cholesky = Cholesky()

#: Theano's names for the matrix structures ``Solve(A_structure=...)`` accepts
MATRIX_STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular")
_STRUCTURES = {"general": ("gen", False), "symmetric": ("sym", False),
               "lower_triangular": ("lower_triangular", True),
               "upper_triangular": ("upper_triangular", False)}


class Solve(Op):
    """``scipy.linalg.solve(a, b, assume_a, lower)``; also ``assume_a`` of
    ``'lower_triangular'``/``'upper_triangular'`` (Theano's ``A_structure``) through
    ``scipy.linalg.solve_triangular``.  Output: shaped like ``b``."""

    __props__ = ("assume_a", "lower")

    def __init__(self, A_structure: str | None = None, lower: bool = False,
                 overwrite_A: bool = False, overwrite_b: bool = False,
                 assume_a: str | None = None) -> None:
        if A_structure is not None:
            if A_structure not in _STRUCTURES:
                raise ValueError(f"Solve: A_structure must be one of {sorted(_STRUCTURES)}, got "
                                 f"{A_structure!r}")
            assume_a, tri_lower = _STRUCTURES[A_structure]
            if A_structure.endswith("triangular"):
                lower = tri_lower
        assume_a = assume_a or "gen"
        if assume_a not in ("gen", "sym", "her", "pos", "lower_triangular", "upper_triangular"):
            raise ValueError(f"Solve: assume_a must be gen, sym, her or pos, got {assume_a!r}")
        self.assume_a = assume_a
        self.lower = bool(lower)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _matrix(self, a), _rhs(self, b)
        return Apply(self, [a, b], [TensorType(_float_dtype(a.dtype, b.dtype),
                                               shape=(None,) * b.ndim)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        sl = _linalg(self)
        a, b = inputs
        if self.assume_a.endswith("triangular"):
            x = sl.solve_triangular(a, b, lower=self.assume_a == "lower_triangular")
        else:
            x = sl.solve(a, b, assume_a=self.assume_a, lower=self.lower)
        out[0][0] = np.asarray(x, dtype=node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(shapes[0][1],) + tuple(shapes[1][1:])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        a, b = inputs
        c, cbar = outputs[0], gz[0]
        if self.assume_a.endswith("triangular"):
            lower = self.assume_a == "lower_triangular"
            bbar = SolveTriangular(lower=lower, trans=1)(a, cbar)
            abar = -_outer_like(bbar, c)
            return [tril(abar) if lower else triu(abar), bbar]
        if self.assume_a in ("sym", "her", "pos"):
            bbar = Solve(assume_a=self.assume_a, lower=self.lower)(a, cbar)
            abar = -_outer_like(bbar, c)
            # only one triangle is read: the other's share folds onto it
            if self.lower:
                return [tril(abar + abar.T) - alloc_diag(diagonal(abar)), bbar]
            return [triu(abar + abar.T) - alloc_diag(diagonal(abar)), bbar]
        bbar = Solve(assume_a="gen")(a.T, cbar)
        return [-_outer_like(bbar, c), bbar]


solve = Solve()
solve_lower_triangular = Solve(A_structure="lower_triangular")
solve_upper_triangular = Solve(A_structure="upper_triangular")
solve_symmetric = Solve(A_structure="symmetric")


def solve_sym(a: Any, b: Any, lower: bool = False) -> TensorVariable:
    return Solve(assume_a="sym", lower=lower)(a, b)


class SolveTriangular(Op):
    """``scipy.linalg.solve_triangular(a, b, trans, lower, unit_diagonal)``."""

    __props__ = ("lower", "trans", "unit_diagonal")

    def __init__(self, lower: bool = False, trans: Any = 0, unit_diagonal: bool = False) -> None:
        self.trans = {"N": 0, "T": 1, "C": 2}.get(trans, trans)
        if self.trans not in (0, 1, 2):
            raise ValueError(f"SolveTriangular: trans must be 0, 1, 2, 'N', 'T' or 'C', "
                             f"got {trans!r}")
        self.lower = bool(lower)
        self.unit_diagonal = bool(unit_diagonal)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _matrix(self, a), _rhs(self, b)
        return Apply(self, [a, b], [TensorType(_float_dtype(a.dtype, b.dtype),
                                               shape=(None,) * b.ndim)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        sl = _linalg(self)
        x = sl.solve_triangular(inputs[0], inputs[1], trans=self.trans, lower=self.lower,
                                unit_diagonal=self.unit_diagonal)
        out[0][0] = np.asarray(x, dtype=node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(shapes[0][1],) + tuple(shapes[1][1:])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        a, b = inputs
        c, cbar = outputs[0], gz[0]
        bbar = SolveTriangular(self.lower, 0 if self.trans else 1, self.unit_diagonal)(a, cbar)
        abar = -(_outer_like(bbar, c) if self.trans == 0 else _outer_like(c, bbar))
        abar = tril(abar) if self.lower else triu(abar)
        if self.unit_diagonal:
            abar = abar - alloc_diag(diagonal(abar))
        return [abar, bbar]


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False) -> TensorVariable:
    """Solve ``a x = b`` for a triangular ``a`` (``scipy.linalg.solve_triangular``)."""
    return SolveTriangular(lower, trans, unit_diagonal)(a, b)


class CholeskySolve(Op):
    """``scipy.linalg.cho_solve((c, lower), b)``: solve ``A x = b`` given the Cholesky factor
    ``c`` of ``A`` (only ``c``'s ``lower`` triangle is read)."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        self.lower = bool(lower)

    def make_node(self, c: Any, b: Any) -> Apply:
        c, b = _matrix(self, c), _rhs(self, b)
        return Apply(self, [c, b], [TensorType(_float_dtype(c.dtype, b.dtype),
                                               shape=(None,) * b.ndim)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        sl = _linalg(self)
        x = sl.cho_solve((inputs[0], self.lower), inputs[1])
        out[0][0] = np.asarray(x, dtype=node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(shapes[0][1],) + tuple(shapes[1][1:])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        c, b = inputs
        x, xbar = outputs[0], gz[0]
        bbar = self(c, xbar)
        abar = -_outer_like(bbar, x)
        sym = abar + abar.T
        # A = c c^T (lower) or c^T c (upper)
        if self.lower:
            return [tril(dot(sym, c)), bbar]
        return [triu(dot(c, sym)), bbar]


def cho_solve(c_and_lower: Any, b: Any) -> TensorVariable:
    """``cho_solve((c, lower), b)`` as in SciPy."""
    c, lower = c_and_lower
    return CholeskySolve(lower)(c, b)


class Eigvalsh(Op):
    """``scipy.linalg.eigvalsh(a, b, lower)``: ascending eigenvalues of the symmetric ``a``
    (generalized problem with a positive-definite ``b`` when given)."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        self.lower = bool(lower)

    def make_node(self, a: Any, b: Any = None) -> Apply:
        a = _matrix(self, a)
        ins = [a]
        dts = [a.dtype]
        if b is not None:
            b = _matrix(self, b)
            ins.append(b)
            dts.append(b.dtype)
        dt = _float_dtype(*dts)
        wdt = {"complex64": "float32", "complex128": "float64"}.get(dt, dt)
        return Apply(self, ins, [TensorType(wdt, shape=(a.type.shape[0],))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        sl = _linalg(self)
        b = inputs[1] if len(inputs) > 1 else None
        w = sl.eigh(inputs[0], b, lower=self.lower, eigvals_only=True)
        out[0][0] = w.astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(shapes[0][0],)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        g = gz[0]
        if len(inputs) == 1:
            w, v = eigh(inputs[0], "L" if self.lower else "U")
            ga = matrix_dot(v, alloc_diag(g), v.T)
            gb = None
        else:
            w, v = GeneralizedEigh(self.lower)(inputs[0], inputs[1])
            ga = matrix_dot(v, alloc_diag(g), v.T)
            gb = -matrix_dot(v, alloc_diag(g * w), v.T)
        fold = ((lambda m: tril(m) + triu(m, 1).T) if self.lower else
                (lambda m: triu(m) + tril(m, -1).T))
        return [fold(ga)] if gb is None else [fold(ga), fold(gb)]


class GeneralizedEigh(Op):
    """``scipy.linalg.eigh(a, b, lower)``: ``[w, v]`` of the generalized symmetric problem
    (used by the gradient of :class:`Eigvalsh`)."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        self.lower = bool(lower)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _matrix(self, a), _matrix(self, b)
        dt = _float_dtype(a.dtype, b.dtype)
        return Apply(self, [a, b], [TensorType(dt, shape=(None,))(),
                                    TensorType(dt, shape=(None, None))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        w, v = _linalg(self).eigh(inputs[0], inputs[1], lower=self.lower)
        out[0][0] = w.astype(node.outputs[0].dtype, copy=False)
        out[1][0] = v.astype(node.outputs[1].dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        n = shapes[0][0]
        return [(n,), (n, n)]


def eigvalsh(a: Any, b: Any = None, lower: bool = True) -> TensorVariable:
    """Eigenvalues of the symmetric ``a`` (``b``: the generalized problem), ascending.  Theano
    required ``b``; ``None`` (the default here) solves the standard problem."""
    return Eigvalsh(lower)(a, b)


class Expm(Op):
    """``scipy.linalg.expm``: the matrix exponential of a square matrix."""

    __props__ = ()

    def make_node(self, a: Any) -> Apply:
        a = _matrix(self, a)
        return Apply(self, [a], [TensorType(_float_dtype(a.dtype), shape=a.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        if inputs[0].shape[0] != inputs[0].shape[1]:
            raise ValueError(f"{self}: the matrix must be square, got shape {inputs[0].shape}")
        out[0][0] = _linalg(self).expm(inputs[0]).astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        # the adjoint of the Frechet derivative at A is the Frechet derivative at A^T:
        # expm([[A^T, G], [0, A^T]]) holds it in its upper-right block
        a, g = inputs[0], gz[0]
        n = a.shape[0]
        top = concatenate([a.T, g], axis=1)
        bottom = concatenate([zeros_like(a), a.T], axis=1)
        big = self(concatenate([top, bottom], axis=0))
        return [big[:n, n:]]


expm = Expm()


def kron(a: Any, b: Any) -> TensorVariable:
    """Kronecker product (``numpy.kron``) built from a broadcast product and a reshape.

    The ranks are aligned as NumPy does (the lower-rank operand gets leading length-1 axes).
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim + b.ndim <= 2 and (a.ndim == 0 or b.ndim == 0):
        return a * b
    nd = max(a.ndim, b.ndim)
    a = a.dimshuffle(["x"] * (nd - a.ndim) + list(range(a.ndim)))
    b = b.dimshuffle(["x"] * (nd - b.ndim) + list(range(b.ndim)))
    pa, pb = [], []
    for d in range(nd):
        pa += [d, "x"]
        pb += ["x", d]
    prod = a.dimshuffle(pa) * b.dimshuffle(pb)
    return prod.reshape([a.shape[d] * b.shape[d] for d in range(nd)], ndim=nd)


__all__ = [
    "MATRIX_STRUCTURES", "Cholesky", "CholeskySolve", "Eigvalsh", "Expm", "GeneralizedEigh", "Solve",
    "SolveTriangular", "cho_solve", "cholesky", "eigvalsh", "expm", "kron", "solve",
    "solve_lower_triangular", "solve_symmetric", "solve_triangular", "solve_upper_triangular",
]
