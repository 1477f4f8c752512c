"""Random variables backed by NumPy's ``Generator`` (PyTensor's ``pytensor.tensor.random``).

>>> import opcore, numpy as np
>>> from opcore.tensor.random import RandomStream
>>> srng = RandomStream(seed=1)
>>> x = srng.normal(0.0, 1.0, size=(3,))
>>> f = opcore.function([], x)
>>> a, b = f(), f()            # the stream advances on each call (default_update)
>>> bool(np.all(a != b))
True

The submodules load on first use, so ``import opcore`` does not import ``numpy.random``.
See ``docs/random.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_BASIC = ("uniform", "normal", "integers", "binomial", "bernoulli", "poisson", "gamma", "beta",
          "exponential", "choice", "permutation", "multinomial", "categorical", "dirichlet",
          "multivariate_normal", "DISTRIBUTIONS", "RandomVariable", "draw", "fresh_rng_variable",
          "UniformRV", "NormalRV", "IntegersRV", "RandomIntegersRV", "BinomialRV", "BernoulliRV",
          "PoissonRV", "GammaRV", "BetaRV", "ExponentialRV", "MultinomialRV", "CategoricalRV",
          "DirichletRV", "MultivariateNormalRV", "ChoiceRV", "PermutationRV")
_TYPE = ("RandomGeneratorSharedVariable", "RandomGeneratorType", "RandomStateSharedVariable",
         "RandomStateType", "RandomType", "random_generator_type", "random_state_type")
_WHERE = {**{n: "basic" for n in _BASIC}, **{n: "type" for n in _TYPE},
          "RandomStream": "utils"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
