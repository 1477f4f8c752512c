"""``RandomStream``: a seeded factory of random variables, each with its own shared generator."""

from __future__ import annotations

import functools
import typing
from typing import Any, Callable

import numpy as np

from opcore.compile.sharedvalue import shared
from opcore.graph.basic import Apply, Variable
from opcore.tensor.random import basic
from opcore.tensor.random.basic import DISTRIBUTIONS, draw
from opcore.tensor.random.op import RandomVariable
from opcore.tensor.hints import ShapeLike, TensorLike


class RandomStream:
    """Random variables from NumPy ``Generator``s seeded from one ``seed``.

    Every draw (``srng.normal(0, 1, size=(2, 3))``) gets its own shared generator, seeded from
    ``numpy.random.SeedSequence(seed)`` spawns, whose ``default_update`` is the generator after the
    draw: a compiled function advances it on each call (unless built with
    ``no_default_updates``).  ``seed(s)`` reseeds every generator of the stream at once.

    Methods: ``uniform, normal, integers, binomial, bernoulli, poisson, gamma, beta,
    exponential, choice, permutation, multinomial, categorical, dirichlet,
    multivariate_normal`` (parameters, then ``size=None, dtype=...``).

    >>> import opcore
    >>> from opcore.tensor.random import RandomStream
    >>> srng = RandomStream(seed=42)
    >>> f = opcore.function([], srng.uniform(0, 1, size=(2,)))
    >>> bool((f() != f()).all())
    True
    """

    def __init__(self, seed: int | None = None, namespace: Any = None) -> None:
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.SeedSequence(seed)
        self.state_updates: list = []

    def updates(self) -> list:
        """The ``(shared_rng, new_rng)`` pairs of every draw made so far."""
        return list(self.state_updates)

    def seed(self, seed: int | None = None) -> None:
        """Reseed every generator of this stream deterministically from ``seed``."""
        if seed is None:
            seed = self.default_instance_seed
        self.gen_seedgen = np.random.SeedSequence(seed)
        for old_r, _ in self.state_updates:
            old_r.set_value(np.random.default_rng(self.gen_seedgen.spawn(1)[0]), borrow=True)

    def gen(self, op: RandomVariable | Callable[..., Variable], *params: TensorLike,
            size: ShapeLike | None = None, **kwargs: Any) -> Variable:
        """Draw from ``op`` (a :class:`RandomVariable` instance or distribution function)."""
        rng = shared(np.random.default_rng(self.gen_seedgen.spawn(1)[0]), borrow=True)
        rng.tag.is_rng = True
        if callable(op) and not hasattr(op, "make_node"):
            out = op(*params, size=size, rng=rng, **kwargs)
        else:
            out = draw(typing.cast("RandomVariable", op), *params, size=size, rng=rng)
        new_rng = typing.cast("Apply", out.owner).outputs[0]  # a draw is a node's output
        rng.default_update = new_rng
        self.state_updates.append((rng, new_rng))
        return out

    def __getattr__(self, name: str) -> Callable[..., Variable]:
        if name in DISTRIBUTIONS:
            return functools.partial(self.gen, getattr(basic, name))
        raise AttributeError(f"RandomStream has no distribution {name!r}")
