"""``InferShapeTester``: shapes computed without computing values (Theano's test helper)."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from opcore.compile import Mode, function


class InferShapeTester:
    """Base class for tests of ``infer_shape``; subclass it in a test module.

    :meth:`_compile_and_check` compiles ``outputs`` and, separately, their shapes; the shapes must
    equal the real ones and (``check_topo``) the shape graph must not contain ``cls`` nodes, i.e.
    the rewrites answered the shape from ``infer_shape`` without running the op.

    >>> import numpy as np, opcore.tensor as T
    >>> from opcore.testing import InferShapeTester
    >>> x = T.dmatrix("x")
    >>> InferShapeTester()._compile_and_check([x], [x.T], [np.ones((2, 3))], None,
    ...                                        check_topo=False)
    """

    mode: Any = None

    def setup_method(self, method: Any = None) -> None:
        """pytest calls this before each test; the mode defaults to FAST_RUN."""
        if self.mode is None:
            self.mode = Mode(optimizer="fast_run")

    def _compile_and_check(self, inputs: Sequence[Any], outputs: Sequence[Any],
                           numeric_inputs: Sequence[Any], cls: type | None,
                           excluding: Sequence[str] | None = None, warn: bool = True,
                           check_topo: bool = True) -> None:
        mode = self.mode if self.mode is not None else Mode(optimizer="fast_run")
        if excluding:
            mode = mode.excluding(*excluding)
        outputs = list(outputs)
        values = function(list(inputs), outputs, mode=mode,
                                 on_unused_input="ignore")(*numeric_inputs)
        if not isinstance(values, (list, tuple)):
            values = [values]
        shape_fn = function(list(inputs), [o.shape for o in outputs], mode=mode,
                                   on_unused_input="ignore")
        shapes = shape_fn(*numeric_inputs)
        if not isinstance(shapes, (list, tuple)):
            shapes = [shapes]
        for k, (shape, value) in enumerate(zip(shapes, values)):
            real = np.asarray(value).shape
            if tuple(int(s) for s in np.asarray(shape)) != real:
                raise AssertionError(f"output {k}: inferred shape {tuple(shape)} but the value "
                                     f"has shape {real}")
            if warn and real and all(s == 1 for s in real):

                warnings.warn(f"output {k} has shape {real}: use inputs whose dimensions differ "
                              f"and are not 1, or shape bugs can hide", stacklevel=2)
        if check_topo and cls is not None:
            nodes = shape_fn.maker.fgraph.toposort()
            found = [n for n in nodes if isinstance(n.op, cls)]
            if found:
                raise AssertionError(f"the shape graph still computes {found[0].op}: its "
                                     f"infer_shape was not used")
