"""Theano's ``theano.gof``: the graph vocabulary and extension API under Theano's names.

``opcore.gof`` is Theano's name for :mod:`opcore.graph`; its modules (``graph``, ``op``, ``type``,
``fg``, ``opt``, ``optdb``, ``toolbox``, ``utils``, ``params_type``, ``null_type``,
``destroyhandler``) hold the names Theano code imports from them.  The optimizer classes are
adapters over opcore's rewrite engine (:mod:`opcore.graph.rewriting.optimizers`).

>>> import opcore.gof as gof, opcore.graph.basic as basic
>>> gof.Variable is basic.Variable and gof.graph.Apply is basic.Apply
True
"""

from opcore.gof import (destroyhandler, fg, graph, null_type, op, opt, optdb,  # noqa: F401
                        params_type, toolbox, type, utils)
from opcore.gof.fg import FunctionGraph, InconsistencyError, MissingInputError  # noqa: F401
from opcore.gof.graph import Apply, Constant, Node, Variable  # noqa: F401
from opcore.gof.op import COp, Op, OpenMPOp, PureOp, as_op  # noqa: F401
from opcore.gof.opt import (EquilibriumOptimizer, GlobalOptimizer, LocalOptGroup,  # noqa: F401
                            LocalOptimizer, MergeOptimizer, NavigatorOptimizer, OpRemove, OpSub,
                            Optimizer, PatternSub, SeqOptimizer, TopoOptimizer, in2out,
                            local_optimizer, optimizer, out2in)
from opcore.gof.optdb import (DB, EquilibriumDB, LocalGroupDB, ProxyDB, Query,  # noqa: F401
                              SequenceDB)
from opcore.gof.params_type import Params, ParamsType  # noqa: F401
from opcore.gof.toolbox import (Feature, NodeFinder, ReplaceValidate, Validator)  # noqa: F401
from opcore.gof.type import (CEnumType, EnumList, EnumType, Generic, Type,  # noqa: F401
                             generic)
from opcore.gof.utils import MethodNotDefined, object2  # noqa: F401
