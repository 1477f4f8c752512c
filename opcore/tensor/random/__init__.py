"""Random variables backed by NumPy's ``Generator`` (PyTensor's ``pytensor.tensor.random``).

>>> import opcore, numpy as np
>>> from opcore.tensor.random import RandomStream
>>> srng = RandomStream(seed=1)
>>> x = srng.normal(0.0, 1.0, size=(3,))
>>> f = opcore.function([], x)
>>> a, b = f(), f()            # the stream advances on each call (default_update)
>>> bool(np.all(a != b))
True

See ``docs/random.md``.
"""

from __future__ import annotations

from opcore.tensor.random.basic import *  # noqa: F401,F403
from opcore.tensor.random.basic import DISTRIBUTIONS, RandomVariable, draw  # noqa: F401
from opcore.tensor.random.type import (RandomGeneratorSharedVariable,  # noqa: F401
                                       RandomGeneratorType, RandomStateSharedVariable,
                                       RandomStateType, RandomType, random_generator_type,
                                       random_state_type)
from opcore.tensor.random.utils import RandomStream  # noqa: F401
