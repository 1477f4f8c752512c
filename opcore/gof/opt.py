"""Theano's ``theano.gof.opt``: optimizer classes over opcore's rewrite engine."""

from opcore.graph.rewriting.optimizers import (EquilibriumOptimizer,  # noqa: F401
                                               GlobalOptimizer, LocalOptGroup, LocalOptimizer,
                                               MergeOptimizer, NavigatorOptimizer, OpRemove,
                                               OpSub, Optimizer, PatternSub, SeqOptimizer,
                                               TopoOptimizer, in2out, local_optimizer,
                                               optimizer, out2in)

inplace_optimizer = optimizer
FromFunctionLocalOptimizer = LocalOptimizer
