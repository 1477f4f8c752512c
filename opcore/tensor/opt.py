"""Theano's ``theano.tensor.opt``: registering rewrites into opcore's phases.

``register_canonicalize``, ``register_stabilize``, ``register_specialize`` and
``register_uncanonicalize`` take a Theano local optimizer (or a ``fn(node)``), optionally tags and
``name=``, and register it with tag ``'fast_run'`` into that phase of ``opcore.function``'s
rewriting (see :mod:`opcore.compile.rewritedb`).  The optimizer classes of ``theano.gof.opt`` are
re-exported, as Theano's module did.
"""

from opcore.compile.rewritedb import (optdb, register_canonicalize,  # noqa: F401
                                       register_specialize, register_specialize_device,
                                       register_stabilize, register_uncanonicalize)
from opcore.graph.rewriting.optimizers import (EquilibriumOptimizer, LocalOptGroup,  # noqa: F401
                                               LocalOptimizer, MergeOptimizer, OpRemove, OpSub,
                                               Optimizer, PatternSub, TopoOptimizer, in2out,
                                               local_optimizer, out2in)
from opcore.tensor.basic import (NotScalarConstantError, Shape_i,  # noqa: F401
                                 get_scalar_constant_value)
