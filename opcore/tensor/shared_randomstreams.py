"""Theano's ``RandomStreams``: NumPy ``RandomState`` streams held in shared variables.

Same names, signatures and seeding as ``theano.tensor.shared_randomstreams``: a stream built with
``RandomStreams(seed)`` seeds each new draw's ``RandomState`` with
``RandomState(seed).randint(2**30)`` in order of creation, and calls the same ``RandomState``
method with the same arguments, so the numbers equal Theano's.

>>> import opcore
>>> from opcore.tensor.shared_randomstreams import RandomStreams
>>> srng = RandomStreams(seed=234)
>>> rv_u = srng.uniform((2, 2))
>>> f = opcore.function([], rv_u)
>>> bool((f() != f()).any())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.compile.sharedvalue import shared, SharedVariable
from opcore.config import config
from opcore.graph.basic import Variable
from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.construct import specify_shape
from opcore.tensor.random.basic import (BinomialRV, ChoiceRV, MultinomialRV, NormalRV,
                                        PermutationRV, PoissonRV, RandomIntegersRV, UniformRV)
from opcore.tensor.random.op import RandomVariable
from opcore.tensor.hints import DTypeLike, ShapeLike, TensorLike


def _float_dtype(dtype, *params) -> str:
    if dtype is not None:
        return dtype
    return np.result_type(config.floatX, *[as_tensor_variable(p).dtype for p in params]).name


def _size(size, ndim):
    if ndim is not None and isinstance(size, (tuple, list)) and len(size) != ndim:
        raise ValueError(f"size {tuple(size)} has {len(size)} dimensions but ndim={ndim}")
    if isinstance(size, (tuple, list)) and not size:
        return None  # Theano: an empty size means "the shape of the parameters"
    if isinstance(size, Variable) and ndim is not None and size.ndim == 1 \
            and size.type.shape[0] is None:
        return specify_shape(size, (ndim,))  # a shape vector of unknown length: ndim tells
    return size


class RandomStreams:
    """A factory of NumPy ``RandomState`` random variables (Theano's ``RandomStreams``).

    ``seed``: None or an int in [0, 2**30); each draw gets its own shared ``RandomState``
    variable whose ``default_update`` advances it when a compiled function runs.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.state_updates: list = []
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.RandomState(seed)

    def updates(self) -> list:
        """The ``(shared RandomState, updated RandomState)`` pairs of all draws so far."""
        return list(self.state_updates)

    def seed(self, seed: int | None = None) -> None:
        """Re-initialise every stream: stream ``k`` gets ``RandomState(r_k)`` where ``r_k`` is
        the k-th ``randint(2**30)`` of ``RandomState(seed)``."""
        if seed is None:
            seed = self.default_instance_seed
        seedgen = np.random.RandomState(seed)
        for old_r, _ in self.state_updates:
            old_r_seed = seedgen.randint(2 ** 30)
            old_r.set_value(np.random.RandomState(int(old_r_seed)), borrow=True)

    def __getitem__(self, item: SharedVariable) -> Any:
        return item.get_value(borrow=True)

    def __setitem__(self, item: SharedVariable, val: Any) -> None:
        item.set_value(val, borrow=True)

    def gen(self, op: RandomVariable, *args: Any, **kwargs: Any) -> Variable:
        """Draw from ``op(rng, *args, **kwargs)`` with a new seeded shared ``RandomState``."""
        seed = int(self.gen_seedgen.randint(2 ** 30))
        rng = shared(np.random.RandomState(seed))
        rng.tag.is_rng = True
        out = op(rng, *args, **kwargs)
        new_r = out.owner.outputs[0]
        out.tag.rng = rng
        out.tag.update = (rng, new_r)
        self.state_updates.append((rng, new_r))
        rng.default_update = new_r
        return out

    def uniform(self, size: ShapeLike | None = None, low: TensorLike = 0.0,
                high: TensorLike = 1.0, ndim: int | None = None,
                dtype: DTypeLike = None) -> Variable:
        """Floats uniform in [low, high); ``dtype`` defaults to the upcast of floatX, low, high."""
        return self.gen(UniformRV(_float_dtype(dtype, low, high)), _size(size, ndim), low, high)

    def normal(self, size: ShapeLike | None = None, avg: TensorLike = 0.0, std: TensorLike = 1.0,
               ndim: int | None = None, dtype: DTypeLike = None) -> Variable:
        return self.gen(NormalRV(_float_dtype(dtype, avg, std)), _size(size, ndim), avg, std)

    def binomial(self, size: ShapeLike | None = None, n: TensorLike = 1, p: TensorLike = 0.5,
                 ndim: int | None = None, dtype: str = "int64",
                 prob: TensorLike | None = None) -> Variable:
        if prob is not None:
            p = prob
        return self.gen(BinomialRV(dtype), _size(size, ndim), n, p)

    def random_integers(self, size: ShapeLike | None = None, low: TensorLike = 0,
                        high: TensorLike = 1, ndim: int | None = None,
                        dtype: str = "int64") -> Variable:
        """Ints in [low, high], both inclusive."""
        return self.gen(RandomIntegersRV(dtype), _size(size, ndim), low, high)

    def choice(self, size: ShapeLike | None = None, a: TensorLike = 2, replace: bool = True,
               p: TensorLike | None = None, ndim: int | None = None,
               dtype: DTypeLike = "int64") -> Variable:
        """Elements of ``a`` (or of ``range(a)``), with probabilities ``p``; a scalar for
        ``size=None``."""
        if p is None:
            p = np.zeros((0,), dtype="float64")
        return self.gen(ChoiceRV(dtype, replace=replace), _size(size, ndim), a, p)

    def poisson(self, size: ShapeLike | None = None, lam: TensorLike | None = None,
                ndim: int | None = None, dtype: str = "int64") -> Variable:
        return self.gen(PoissonRV(dtype), _size(size, ndim), 1.0 if lam is None else lam)

    def permutation(self, size: ShapeLike | None = None, n: TensorLike = 1,
                    ndim: int | None = None, dtype: str = "int64") -> Variable:
        """Permutations of ``range(n)``, shape ``size + (n,)``."""
        return self.gen(PermutationRV(dtype), _size(size, ndim), n)

    def multinomial(self, size: ShapeLike | None = None, n: TensorLike = 1,
                    pvals: TensorLike = (0.5, 0.5), ndim: int | None = None,
                    dtype: str = "int64") -> Variable:
        return self.gen(MultinomialRV(dtype), _size(size, ndim), n, pvals)
