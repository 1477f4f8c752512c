"""The distributions: one :class:`RandomVariable` subclass each, backed by NumPy.

Every function takes its parameters, then ``size=None, rng=None, dtype=None`` and returns the
draws; the updated generator is ``draws.owner.outputs[0]``.  With ``rng=None`` a fresh shared
generator (seeded from the OS) is made and its ``default_update`` set, so each call of a compiled
function draws new numbers.  Use :class:`opcore.tensor.random.RandomStream` for seeded streams.

The sampling algorithms are NumPy's (``numpy.random.Generator``; ``RandomState`` for Theano's
``RandomStreams``), called once per node evaluation.
"""

from __future__ import annotations

import typing
from typing import Any, Sequence

import numpy as np

from opcore.compile.sharedvalue import SharedVariable, shared
from opcore.graph.basic import Apply, Variable
from opcore.tensor.basic import as_tensor_variable, cast
from opcore.tensor.random.binomial_draws import bernoulli_draws
from opcore.tensor.random.op import RandomVariable, sum_to_param
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import (ArrayLike, DrawSize, DTypeLike, InputShapes, NumPyRNG,
                                 OutputShapes, ShapeLike, TensorLike)


def _as_generator_call(rng, numpy_name: str, legacy_name: str | None = None):
    """The bound method for a Generator, or the RandomState spelling of it."""
    if isinstance(rng, np.random.Generator):
        return getattr(rng, numpy_name)
    return getattr(rng, legacy_name or numpy_name)


class UniformRV(RandomVariable):
    """``uniform(low, high)``: floats in ``[low, high)``; reparameterised gradient."""

    name = "uniform"
    ndims_params = (0, 0)
    param_names = ("low", "high")

    def draw_values(self, rng: NumPyRNG, params: list[Any], size: DrawSize, dtype: DTypeLike
                   ) -> ArrayLike:
        low, high = params
        if dtype == "float32" and isinstance(rng, np.random.Generator):
            shape = size if size is not None else np.broadcast_shapes(low.shape, high.shape)
            r = rng.random(shape, dtype=np.float32)
            if low.ndim == high.ndim == 0 and low == 0 and high == 1:
                return r
            return low.astype(np.float32) + (high - low).astype(np.float32) * r
        return rng.uniform(low, high, size=size)

    def param_grads(self, params: list[Variable], draws: Variable, gz: Variable
                    ) -> list[Variable] | None:
        low, high = typing.cast("list[TensorVariable]", params)
        u = (typing.cast("TensorVariable", draws) - low) / (high - low)
        return [sum_to_param(gz * (1 - u), low), sum_to_param(gz * u, high)]


class NormalRV(RandomVariable):
    """``normal(loc, scale)``; reparameterised gradient ``d/dloc = 1``, ``d/dscale = z``."""

    name = "normal"
    ndims_params = (0, 0)
    param_names = ("loc", "scale")

    def draw_values(self, rng: NumPyRNG, params: list[Any], size: DrawSize, dtype: DTypeLike
                   ) -> ArrayLike:
        loc, scale = params
        if dtype == "float32" and isinstance(rng, np.random.Generator):
            shape = size if size is not None else np.broadcast_shapes(loc.shape, scale.shape)
            z = rng.standard_normal(shape, dtype=np.float32)
            return loc.astype(np.float32) + scale.astype(np.float32) * z
        return rng.normal(loc, scale, size=size)

    def param_grads(self, params: list[Variable], draws: Variable, gz: Variable
                    ) -> list[Variable] | None:
        loc, scale = typing.cast("list[TensorVariable]", params)
        z = (typing.cast("TensorVariable", draws) - loc) / scale
        return [sum_to_param(gz, loc), sum_to_param(typing.cast("TensorVariable", gz) * z, scale)]


class IntegersRV(RandomVariable):
    """``integers(low, high)``: ints in ``[low, high)`` (``RandomState.randint`` for legacy)."""

    name = "integers"
    ndims_params = (0, 0)
    param_names = ("low", "high")
    default_dtype = "int64"

    def rng_fn(self, rng: NumPyRNG, low: np.ndarray, high: np.ndarray, size: DrawSize) -> ArrayLike:
        return _as_generator_call(rng, "integers", "randint")(low, high, size=size)


class RandomIntegersRV(IntegersRV):
    """Theano's ``random_integers(low, high)``: ints in ``[low, high]`` (both inclusive)."""

    name = "random_integers"

    def rng_fn(self, rng: NumPyRNG, low: np.ndarray, high: np.ndarray, size: DrawSize) -> ArrayLike:
        if isinstance(rng, np.random.Generator):
            return rng.integers(low, high, size=size, endpoint=True)
        return rng.randint(low, np.asarray(high) + 1, size=size)


class BinomialRV(RandomVariable):
    name = "binomial"
    ndims_params = (0, 0)
    param_names = ("n", "p")
    default_dtype = "int64"

    def rng_fn(self, rng: NumPyRNG, n: np.ndarray, p: np.ndarray, size: DrawSize) -> ArrayLike:
        # n == 1 everywhere: a Bernoulli draw (NumPy's draws, vectorised)
        n = np.asarray(n)
        if n.dtype.kind in "iu" and n.size and (n == 1).all():
            try:
                pb = np.broadcast_to(p, np.broadcast_shapes(n.shape, np.shape(p)))
            except ValueError:
                pb = None  # NumPy raises its shape-mismatch error below
            draws = None if pb is None else bernoulli_draws(rng, pb, size)
            if draws is not None:
                return draws
        return rng.binomial(n, p, size=size)


class BernoulliRV(RandomVariable):
    """``bernoulli(p)``: 1 with probability ``p`` (NumPy's ``binomial(1, p)``)."""

    name = "bernoulli"
    ndims_params = (0,)
    param_names = ("p",)
    default_dtype = "int64"

    def rng_fn(self, rng: NumPyRNG, p: np.ndarray, size: DrawSize) -> ArrayLike:
        draws = bernoulli_draws(rng, p, size)
        return rng.binomial(1, p, size=size) if draws is None else draws


class PoissonRV(RandomVariable):
    name = "poisson"
    ndims_params = (0,)
    param_names = ("lam",)
    default_dtype = "int64"


class GammaRV(RandomVariable):
    """``gamma(shape, scale)`` as NumPy parameterises it."""

    name = "gamma"
    ndims_params = (0, 0)
    param_names = ("shape", "scale")


class BetaRV(RandomVariable):
    name = "beta"
    ndims_params = (0, 0)
    param_names = ("alpha", "beta")


class ExponentialRV(RandomVariable):
    name = "exponential"
    ndims_params = (0,)
    param_names = ("scale",)


class MultinomialRV(RandomVariable):
    """``multinomial(n, pvals)``: counts of ``n`` trials; one draw has shape ``(k,)``."""

    name = "multinomial"
    ndim_supp = 1
    ndims_params = (0, 1)
    param_names = ("n", "pvals")
    default_dtype = "int64"

    def supp_shape(self, params: Sequence[Variable]) -> list[Any]:
        return [params[1].shape[-1]]

    def static_supp_shape(self, params: Sequence[Variable]) -> tuple[int | None, ...]:
        return (params[1].type.shape[-1],)

    def rng_fn(self, rng: NumPyRNG, n: np.ndarray, pvals: np.ndarray, size: DrawSize) -> ArrayLike:
        if isinstance(rng, np.random.Generator):
            return rng.multinomial(n, pvals, size=size)
        batch = size if size is not None else np.broadcast_shapes(np.shape(n), pvals.shape[:-1])
        n = np.broadcast_to(n, batch)
        pvals = np.broadcast_to(pvals, tuple(batch) + pvals.shape[-1:])
        out = np.empty(tuple(batch) + pvals.shape[-1:], dtype="int64")
        for idx in np.ndindex(*batch):
            out[idx] = rng.multinomial(int(n[idx]), pvals[idx])
        return out


class CategoricalRV(RandomVariable):
    """``categorical(p)``: an index drawn with probabilities ``p`` (last axis)."""

    name = "categorical"
    ndims_params = (1,)
    param_names = ("p",)
    default_dtype = "int64"

    def rng_fn(self, rng: NumPyRNG, p: np.ndarray, size: DrawSize) -> ArrayLike:
        batch = size if size is not None else p.shape[:-1]
        cdf = np.cumsum(p, axis=-1)
        cdf = cdf / cdf[..., -1:]
        u = rng.random(batch) if isinstance(rng, np.random.Generator) else rng.random_sample(batch)
        idx = (np.asarray(u)[..., None] >= cdf).sum(axis=-1)
        return np.minimum(idx, p.shape[-1] - 1)


class DirichletRV(RandomVariable):
    """``dirichlet(alpha)``; one draw has shape ``(k,)``."""

    name = "dirichlet"
    ndim_supp = 1
    ndims_params = (1,)
    param_names = ("alpha",)

    def supp_shape(self, params: Sequence[Variable]) -> list[Any]:
        return [params[0].shape[-1]]

    def static_supp_shape(self, params: Sequence[Variable]) -> tuple[int | None, ...]:
        return (params[0].type.shape[-1],)

    def rng_fn(self, rng: NumPyRNG, alpha: np.ndarray, size: DrawSize) -> ArrayLike:
        if alpha.ndim == 1:
            return rng.dirichlet(alpha, size=size)
        batch = size if size is not None else alpha.shape[:-1]
        g = rng.standard_gamma(np.broadcast_to(alpha, tuple(batch) + alpha.shape[-1:]))
        return g / g.sum(axis=-1, keepdims=True)


class MultivariateNormalRV(RandomVariable):
    """``multivariate_normal(mean, cov)``; one draw has shape ``(k,)``."""

    name = "multivariate_normal"
    ndim_supp = 1
    ndims_params = (1, 2)
    param_names = ("mean", "cov")

    def supp_shape(self, params: Sequence[Variable]) -> list[Any]:
        return [params[0].shape[-1]]

    def static_supp_shape(self, params: Sequence[Variable]) -> tuple[int | None, ...]:
        return (params[0].type.shape[-1],)

    def rng_fn(self, rng: NumPyRNG, mean: np.ndarray, cov: np.ndarray, size: DrawSize) -> ArrayLike:
        if mean.ndim == 1 and cov.ndim == 2:
            return rng.multivariate_normal(mean, cov, size=size)
        batch = size if size is not None else np.broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
        k = mean.shape[-1]
        mean = np.broadcast_to(mean, tuple(batch) + (k,))
        cov = np.broadcast_to(cov, tuple(batch) + (k, k))
        out = np.empty(tuple(batch) + (k,))
        for idx in np.ndindex(*batch):
            out[idx] = rng.multivariate_normal(mean[idx], cov[idx])
        return out


class ChoiceRV(RandomVariable):
    """``choice(a, p)``: elements of ``a`` (or of ``range(a)`` for a scalar ``a``); draws have
    shape ``size``.  ``replace`` is a property of the op; an empty ``p`` means uniform."""

    __props__ = ("dtype", "inplace", "replace")
    name = "choice"
    ndims_params = (1, 1)
    param_names = ("a", "p")
    default_dtype = "int64"

    def __init__(self, dtype: DTypeLike = None, inplace: bool = False, replace: bool = True
                 ) -> None:
        super().__init__(dtype, inplace)
        self.replace = bool(replace)

    def batch_static(self, params: Sequence[Variable]) -> tuple[int | None, ...]:
        return ()

    # a choice's own parameters narrow the base's *params
    def make_node(self, rng: Variable, size: ShapeLike | None,  # type: ignore[override]
                  a: TensorLike, p: TensorLike) -> Apply:
        a = as_tensor_variable(a)
        if a.ndim > 1:
            raise ValueError(f"choice: a must be a scalar or a vector, got {a.type}")
        return super().make_node(rng, size, a, p)

    def params_ndims(self, params: Sequence[Variable]) -> tuple[int, ...]:
        return (params[0].ndim, 1)

    def out_dtype(self, params: Sequence[Variable]) -> str:
        return super().out_dtype(params) if params[0].ndim == 0 else params[0].dtype

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        size = typing.cast("TensorVariable", node.inputs[1])  # the draw-size vector
        return [None, [size[i] for i in range(size.type.shape[0])]]

    def rng_fn(self, rng: NumPyRNG, a: np.ndarray, p: np.ndarray, size: DrawSize) -> ArrayLike:
        a = a.item() if np.ndim(a) == 0 else a
        return rng.choice(a, size=size, replace=self.replace, p=p if np.size(p) else None)


class PermutationRV(RandomVariable):
    """``permutation(x)``: a shuffled copy of the vector ``x``, or of ``range(x)`` for an int.

    With ``size`` (Theano's ``permutation(size, n)``), ``size`` independent permutations of
    ``range(n)`` with shape ``size + (n,)``."""

    name = "permutation"
    ndim_supp = 1
    ndims_params = (0,)
    param_names = ("x",)
    default_dtype = None

    # a permutation's one parameter narrows the base's *params
    def make_node(self, rng: Variable, size: ShapeLike | None,  # type: ignore[override]
                  x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim > 1:
            raise ValueError(f"permutation: x must be an int or a vector, got {x.type}")
        return super().make_node(rng, size, x)

    def params_ndims(self, params: Sequence[Variable]) -> tuple[int, ...]:
        return (params[0].ndim,)

    def batch_static(self, params: Sequence[Variable]) -> tuple[int | None, ...]:
        return ()

    def out_dtype(self, params: Sequence[Variable]) -> str:
        if self.dtype is not None:
            return np.dtype(self.dtype).name
        return "int64" if params[0].ndim == 0 else params[0].dtype

    def supp_shape(self, params: Sequence[Variable]) -> list[Any]:
        x = params[0]
        return [cast(x, "int64")] if x.ndim == 0 else [x.shape[0]]

    def static_supp_shape(self, params: Sequence[Variable]) -> tuple[int | None, ...]:
        x = params[0]
        if x.ndim:
            return (x.type.shape[0],)
        data = getattr(x, "data", None)
        return (int(data),) if data is not None else (None,)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        size = typing.cast("TensorVariable", node.inputs[1])  # the draw-size vector
        return [None, [size[i] for i in range(size.type.shape[0])]
                + self.supp_shape(node.inputs[2:])]

    def rng_fn(self, rng: NumPyRNG, x: np.ndarray, size: DrawSize) -> ArrayLike:
        x = x.item() if np.ndim(x) == 0 else x
        if size is None:
            return rng.permutation(x)
        n = x if np.ndim(x) == 0 else len(x)
        out = np.empty(tuple(size) + (n,), dtype=np.asarray(x).dtype if np.ndim(x) else "int64")
        for idx in np.ndindex(*size):
            out[idx] = rng.permutation(x)
        return out


#: name -> op class, in the order the issue of NumPy's API lists them
DISTRIBUTIONS: dict[str, type] = {
    "uniform": UniformRV, "normal": NormalRV, "integers": IntegersRV, "binomial": BinomialRV,
    "bernoulli": BernoulliRV, "poisson": PoissonRV, "gamma": GammaRV, "beta": BetaRV,
    "exponential": ExponentialRV, "choice": ChoiceRV, "permutation": PermutationRV,
    "multinomial": MultinomialRV, "categorical": CategoricalRV, "dirichlet": DirichletRV,
    "multivariate_normal": MultivariateNormalRV,
}


def fresh_rng_variable(seed: Any = None) -> Variable:
    """A new shared ``Generator`` variable (``seed=None``: OS entropy)."""
    v = shared(np.random.default_rng(seed), borrow=True)
    v.tag.is_rng = True
    return v


def draw(op: RandomVariable, *params: TensorLike, size: ShapeLike | None = None,
         rng: Variable | None = None) -> Variable:
    """Apply ``op`` and hook the generator update on as the rng's ``default_update``."""
    own = rng is None
    if rng is None:
        rng = fresh_rng_variable()
    out = op(rng, size, *params)
    new_rng = out.owner.outputs[0]
    if own or getattr(rng, "default_update", None) is None:
        if isinstance(rng, SharedVariable):  # a shared generator (it holds the value)
            rng.default_update = new_rng
    out.tag.rng = rng
    out.tag.update = (rng, new_rng)
    return out


def uniform(low: TensorLike = 0.0, high: TensorLike = 1.0, size: ShapeLike | None = None,
            rng: Variable | None = None, dtype: str | None = None) -> Variable:
    """Floats uniform in ``[low, high)``; shape ``size`` or the broadcast shape of low/high."""
    return draw(UniformRV(dtype), low, high, size=size, rng=rng)


def normal(loc: TensorLike = 0.0, scale: TensorLike = 1.0, size: ShapeLike | None = None,
           rng: Variable | None = None, dtype: str | None = None) -> Variable:
    """Normal draws with mean ``loc`` and standard deviation ``scale``."""
    return draw(NormalRV(dtype), loc, scale, size=size, rng=rng)


def integers(low: TensorLike, high: TensorLike | None = None, size: ShapeLike | None = None,
             rng: Variable | None = None, dtype: str = "int64") -> Variable:
    """Ints in ``[low, high)`` (``integers(high)`` means ``[0, high)``)."""
    if high is None:
        low, high = 0, low
    return draw(IntegersRV(dtype), low, high, size=size, rng=rng)


def binomial(n: TensorLike, p: TensorLike, size: ShapeLike | None = None,
             rng: Variable | None = None, dtype: str = "int64") -> Variable:
    return draw(BinomialRV(dtype), n, p, size=size, rng=rng)


def bernoulli(p: TensorLike, size: ShapeLike | None = None, rng: Variable | None = None,
              dtype: str = "int64") -> Variable:
    return draw(BernoulliRV(dtype), p, size=size, rng=rng)


def poisson(lam: TensorLike = 1.0, size: ShapeLike | None = None, rng: Variable | None = None,
            dtype: str = "int64") -> Variable:
    return draw(PoissonRV(dtype), lam, size=size, rng=rng)


def gamma(shape: TensorLike, scale: TensorLike = 1.0, size: ShapeLike | None = None,
          rng: Variable | None = None, dtype: str | None = None,
          rate: Variable | float | np.ndarray | None = None) -> Variable:
    """Gamma draws; give ``scale`` (NumPy) or ``rate`` (= 1/scale)."""
    if rate is not None:
        scale = 1.0 / as_tensor_variable(rate) if isinstance(rate, Variable) else 1.0 / rate
    return draw(GammaRV(dtype), shape, scale, size=size, rng=rng)


def beta(alpha: TensorLike, beta: TensorLike, size: ShapeLike | None = None,
         rng: Variable | None = None, dtype: str | None = None) -> Variable:
    return draw(BetaRV(dtype), alpha, beta, size=size, rng=rng)


def exponential(scale: TensorLike = 1.0, size: ShapeLike | None = None, rng: Variable | None = None,
                dtype: str | None = None) -> Variable:
    return draw(ExponentialRV(dtype), scale, size=size, rng=rng)


def choice(a: TensorLike, size: ShapeLike | None = None, replace: bool = True,
           p: TensorLike | None = None, rng: Variable | None = None, dtype: DTypeLike = None
           ) -> Variable:
    """Elements of ``a`` (or of ``range(a)``), with probabilities ``p``; shape ``size``."""
    if p is None:
        p = np.zeros((0,), dtype="float64")
    return draw(ChoiceRV(dtype, replace=replace), a, p, size=size, rng=rng)


def permutation(x: TensorLike, size: ShapeLike | None = None, rng: Variable | None = None,
                dtype: str | None = None) -> Variable:
    """A shuffled copy of the vector ``x``, or a permutation of ``range(x)``."""
    return draw(PermutationRV(dtype), x, size=size, rng=rng)


def multinomial(n: TensorLike, pvals: TensorLike, size: ShapeLike | None = None,
                rng: Variable | None = None, dtype: str = "int64") -> Variable:
    return draw(MultinomialRV(dtype), n, pvals, size=size, rng=rng)


def categorical(p: TensorLike, size: ShapeLike | None = None, rng: Variable | None = None,
                dtype: str = "int64") -> Variable:
    return draw(CategoricalRV(dtype), p, size=size, rng=rng)


def dirichlet(alpha: TensorLike, size: ShapeLike | None = None, rng: Variable | None = None,
              dtype: str | None = None) -> Variable:
    return draw(DirichletRV(dtype), alpha, size=size, rng=rng)


def multivariate_normal(mean: TensorLike, cov: TensorLike, size: ShapeLike | None = None,
                        rng: Variable | None = None, dtype: str | None = None) -> Variable:
    return draw(MultivariateNormalRV(dtype), mean, cov, size=size, rng=rng)
