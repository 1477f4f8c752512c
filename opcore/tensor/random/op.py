"""``RandomVariable``: one draw from a NumPy generator as an op.

A random variable node takes ``(rng, size, *params)`` and returns ``(new_rng, draws)``:

- ``rng`` is a generator variable (:mod:`opcore.tensor.random.type`), usually shared;
- ``size`` is an int64 vector: the batch shape of the draws, or an empty vector for "the
  broadcast shape of the parameters" (NumPy's ``size=None``);
- ``params`` are the distribution's parameters, broadcast against each other as NumPy does.

The draws have shape ``size + support_shape`` (``support_shape`` is ``()`` for scalar
distributions, ``(k,)`` for ``multinomial``/``dirichlet``/``multivariate_normal``).  The op's
``perform`` copies the generator (unless ``inplace``) and makes exactly one call into NumPy.

Gradients: the draws are disconnected from ``rng`` and ``size``; parameters get the
reparameterisation gradient where a distribution defines one (:meth:`RandomVariable.param_grads`),
otherwise an undefined gradient whose message names the parameter.
"""

from __future__ import annotations

import typing
from typing import Any, Sequence

import copy

import numpy as np

from opcore.config import config
from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.null import NullType, disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import _static_dims, as_shape_vector, as_tensor_variable, cast, constant
from opcore.tensor.random.type import RandomType
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorConstant, TensorVariable
from opcore.tensor.hints import (DrawSize, DTypeLike, InputShapes, NumPyRNG, OutputShapes, ShapeLike,
                                 TensorLike)


def shape_vector(size: Any) -> Variable:
    """``size`` as an int64 vector whose static length is known when ``size`` is a tuple."""
    v = as_shape_vector(size)
    if isinstance(v, Constant) and v.type.shape[0] is None:
        data = np.asarray(v.data, dtype="int64").reshape(-1)
        v = TensorConstant(TensorType("int64", shape=data.shape), data)
    return v


def normalize_size(size: Any) -> Variable:
    """``size`` as an int64 vector variable; ``None`` becomes the empty vector.

    Raises ``ValueError`` for a negative constant entry and ``TypeError`` for a size that is
    not a vector of integers."""
    if size is None:
        return TensorConstant(TensorType("int64", shape=(0,)), np.zeros((0,), dtype="int64"))
    if isinstance(size, (int, np.integer)):
        size = (size,)
    if isinstance(size, (list, tuple)):
        for s in size:
            if isinstance(s, (int, np.integer)) and s < 0:
                raise ValueError(f"size {tuple(size)} has a negative dimension")
    v = shape_vector(size)
    if v.ndim != 1 or not v.dtype.startswith(("int", "uint")):
        raise TypeError(f"size must be a vector of integers, got {size} ({getattr(v, 'type', '')})")
    if v.type.shape[0] is None:
        raise TypeError(f"size {size} has a symbolic length; give a vector whose length is known "
                        "(a tuple of scalars, or x.shape)")
    return v


def _broadcast_static(shapes: Sequence[tuple]) -> tuple:
    """NumPy broadcasting of static shapes (None = unknown length)."""
    n = max((len(s) for s in shapes), default=0)
    out = []
    for k in range(n):
        dims = [s[len(s) - n + k] for s in shapes if len(s) - n + k >= 0]
        known = [d for d in dims if d is not None and d != 1]
        if known:
            if len(set(known)) > 1:
                raise ValueError(f"parameters of shapes {list(shapes)} do not broadcast")
            out.append(known[0])
        elif all(d == 1 for d in dims):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def sum_to_param(g: Variable, param: Variable) -> Variable:
    """Sum an output-shaped gradient ``g`` down to the shape of ``param`` (undo broadcasting)."""
    nextra = g.ndim - param.ndim
    if nextra > 0:
        g = g.sum(axis=tuple(range(nextra)))
    axes = tuple(i for i in range(param.ndim) if param.type.shape[i] == 1 and g.type.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.dtype != param.dtype and param.dtype.startswith("float"):
        g = cast(g, param.dtype)
    return g


class RandomVariable(Op):
    """Base of the NumPy-backed random variables.

    Subclasses set ``name`` (the NumPy ``Generator`` method called by default), ``ndim_supp``
    (rank of one draw), ``ndims_params`` (rank of one value of each parameter), ``param_names``
    and ``dtype`` (``"floatX"``, an int dtype, or ``None`` for "the parameters' dtype").
    """

    __props__: tuple[str, ...] = ("dtype", "inplace")
    name = "random_variable"
    ndim_supp = 0
    ndims_params: tuple[int, ...] = ()
    param_names: tuple[str, ...] = ()
    default_dtype: str | None = "floatX"
    default_output = 1

    def __init__(self, dtype: DTypeLike = None, inplace: bool = False) -> None:
        self.dtype = dtype if dtype is not None else self.default_dtype
        self.inplace = inplace
        if inplace:
            self.destroy_map = {0: [0]}

    def __str__(self) -> str:
        inplace = ", inplace" if self.inplace else ""
        return f"{type(self).__name__}{{{self.name}, {self.dtype}{inplace}}}"

    # -- building -----------------------------------------------------------------------------
    def out_dtype(self, params: Sequence[Variable]) -> str:
        if self.dtype == "floatX":
            return config.floatX
        if self.dtype is None:
            return np.result_type(*[p.dtype for p in params]).name if params else config.floatX
        return np.dtype(self.dtype).name

    def supp_shape(self, params: Sequence[Variable]) -> list:
        """Symbolic shape of one draw (empty for scalar distributions)."""
        if self.ndim_supp == 0:
            return []
        raise NotImplementedError(f"{self} must define supp_shape")

    def static_supp_shape(self, params: Sequence[Variable]) -> tuple:
        if self.ndim_supp == 0:
            return ()
        return (None,) * self.ndim_supp

    def params_ndims(self, params: Sequence[Variable]) -> tuple:
        """Rank of one value of each parameter (the rest of a parameter's axes are batch axes)."""
        return self.ndims_params

    def batch_static(self, params: Sequence[Variable]) -> tuple:
        shapes = [p.type.shape[:p.ndim - nd] for p, nd in zip(params, self.params_ndims(params))]
        try:
            return _broadcast_static(shapes)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from None

    def make_node(self, rng: Variable, size: ShapeLike | None, *params: TensorLike) -> Apply:
        if not isinstance(rng, Variable) or not isinstance(rng.type, RandomType):
            raise TypeError(f"{self.name}: rng must be a generator variable (opcore.shared("
                            f"np.random.default_rng(seed))), got {rng!r}")
        size = normalize_size(size)
        if len(params) != len(self.ndims_params):
            raise TypeError(f"{self.name} takes {len(self.ndims_params)} parameters "
                            f"{self.param_names}, got {len(params)}")
        tparams = [as_tensor_variable(p) for p in params]
        for p, nd, pname in zip(tparams, self.params_ndims(tparams), self.param_names):
            if p.ndim < nd:
                raise ValueError(f"{self.name}: parameter '{pname}' needs at least {nd} "
                                 f"dimension(s), got {p.ndim} ({p.type})")
        nsize = size.type.shape[0]
        if nsize:
            batch = tuple(_static_dims(size, nsize))
            # the parameters must broadcast to the requested batch shape
            pb = self.batch_static(tparams)
            if len(pb) > nsize:
                raise ValueError(f"{self.name}: size {batch} has fewer dimensions than the "
                                 f"parameters' batch shape {pb}")
        else:
            batch = self.batch_static(tparams)
        shape = tuple(batch) + tuple(self.static_supp_shape(tparams))
        out = TensorType(self.out_dtype(tparams), shape=shape)()
        return Apply(self, [rng, size, *tparams], [rng.type(), out])

    # -- running ------------------------------------------------------------------------------
    def rng_fn(self, rng: NumPyRNG, *args: Any) -> Any:
        """Call NumPy: ``args`` are the parameter values followed by ``size`` (None or a tuple)."""
        *params, size = args
        return getattr(rng, self.name)(*params, size=size)

    def draw_values(self, rng: NumPyRNG, params: list[Any], size: DrawSize, dtype: str
                    ) -> Any:
        """The draws as NumPy computes them (``rng_fn``); a distribution may draw directly in
        ``dtype`` when NumPy can (float32 uniform/normal from a ``Generator``)."""
        return self.rng_fn(rng, *params, size)

    def perform(self, node: Apply, inputs: list[Any], outputs: list[list[Any]]) -> None:
        rng, size, *params = inputs
        if not self.inplace:
            rng = copy.deepcopy(rng)
        size = tuple(size.tolist()) if len(size) else None
        draws = self.draw_values(rng, params, size, node.outputs[1].dtype)
        outputs[0][0] = rng
        outputs[1][0] = np.asarray(draws, dtype=node.outputs[1].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        rng, size, *params = node.inputs
        nsize = size.type.shape[0]
        if nsize:
            vec = typing.cast("TensorVariable", size)  # the draw-size vector
            batch = [vec[i] for i in range(nsize)]
        else:
            pshapes = shapes[2:]
            nb = node.outputs[1].ndim - self.ndim_supp
            batch = []
            for k in range(nb):
                dim = None
                for p, ps, nd in zip(params, pshapes, self.params_ndims(params)):
                    pb = p.ndim - nd
                    j = k - (nb - pb)
                    if j < 0 or p.type.shape[j] == 1:
                        continue
                    dim = ps[j]
                    break
                batch.append(dim if dim is not None else constant(np.int64(1)))
        return [None, list(batch) + list(self.supp_shape(params))]

    # -- gradients ----------------------------------------------------------------------------
    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True, False], [False, False]] + [[False, True] for _ in node.inputs[2:]]

    def param_grads(self, params: list[Variable], draws: Variable, gz: Variable
                    ) -> list[Variable] | None:
        """Reparameterisation gradients of the parameters, or None (not differentiable)."""
        return None

    def L_op(self, inputs: list[Variable], outputs: list[Variable], output_grads: list[Variable]
            ) -> list[Variable]:
        rng, size, *params = inputs
        gz = output_grads[1]
        pgrads: list[Variable] | None
        if gz is None or isinstance(gz.type, NullType) or getattr(gz.type, "dtype", None) is None:
            pgrads = [disconnected_type() for _ in params]
        else:
            pgrads = self.param_grads(params, outputs[1], gz)
            if pgrads is None:
                pgrads = [NullType(
                    f"{self.name}: the draws are not differentiable with respect to parameter "
                    f"'{pname}' ({p}); only the location/scale parameters of normal and uniform "
                    "have a reparameterisation gradient")()
                    for p, pname in zip(params, self.param_names)]
        return [disconnected_type(), disconnected_type()] + list(pgrads)

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None, None]


class UndefinedGrad(Op):
    """Identity whose gradient is undefined (Theano's ``gradient.undefined_grad``), naming
    ``param``: marks the parameters of ``MRG_RandomStreams`` draws as not differentiable.  The
    rewrite ``remove_undefined_grad`` drops it from compiled graphs."""

    __props__ = ("param",)
    view_map = {0: [0]}

    def __init__(self, param: str = "") -> None:
        self.param = param

    def make_node(self, x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[Any], outputs: list[list[Any]]) -> None:
        outputs[0][0] = inputs[0]

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [NullType(f"no gradient is defined with respect to the parameter "
                         f"'{self.param}' of a random sampling op ({inputs[0]})")()]


def undefined_grad(x: TensorLike, param: str = "") -> Variable:
    """``x`` unchanged, but ``grad`` through it raises, naming ``param``."""
    return UndefinedGrad(param)(x)
