"""Theano's ``theano.tests.unittest_tools`` (``utt``): seeds, ``verify_grad``, ``InferShapeTester``.

>>> import numpy as np, opcore.tensor as T
>>> verify_grad(lambda x: T.tanh(x).sum(), [np.array([0.1, -0.3])])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.gradient import verify_grad as _verify_grad
from opcore.testing.infer_shape import InferShapeTester  # noqa: F401

#: the seed Theano's test suite used by default (``unittests.rseed``)
DEFAULT_SEED = 666


def fetch_seed(pseed: int | None = None) -> int:
    """The test seed: ``pseed`` if given, else :data:`DEFAULT_SEED`."""
    return DEFAULT_SEED if pseed is None else int(pseed)


def seed_rng(pseed: int | None = None) -> int:
    """Seed NumPy's global generator with :func:`fetch_seed` and return the seed."""
    seed = fetch_seed(pseed)
    np.random.seed(seed)
    return seed


def verify_grad(op: Any, pt: Any, n_tests: int = 2, rng: Any = None, *args: Any,
                **kwargs: Any) -> None:
    """``opcore.gradient.verify_grad`` with a seeded generator when none is given."""
    if rng is None:
        rng = np.random.RandomState(fetch_seed())
    _verify_grad(op, pt, n_tests, rng, *args, **kwargs)


def assert_allclose(expected: Any, value: Any, rtol: float | None = None,
                    atol: float | None = None) -> None:
    """NumPy's ``assert_allclose`` with tolerances by dtype, as Theano's helper chose them."""
    value = np.asarray(value)
    narrow = np.asarray(expected).dtype == np.float32 or value.dtype == np.float32
    np.testing.assert_allclose(value, expected, rtol=rtol or (1e-4 if narrow else 1e-7),
                               atol=atol or (1e-5 if narrow else 1e-8))
