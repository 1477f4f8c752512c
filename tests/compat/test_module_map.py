"""Theano's module map as real opcore modules, and the runner's names for them."""

from __future__ import annotations

import importlib
import io

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compat.theano.modmap import REFUSED, RENAMED, missing_why, opcore_name, refused

# Theano module -> names Theano code imports from it
MODULES = {
    "opcore.gof": ["Apply", "Variable", "Constant", "Op", "COp", "Type", "Generic", "generic",
                   "FunctionGraph", "toolbox", "opt", "utils", "graph", "ParamsType", "Params",
                   "EnumList", "EnumType", "CEnumType", "Optimizer", "LocalOptimizer",
                   "local_optimizer", "PatternSub", "OpSub", "OpRemove", "TopoOptimizer",
                   "EquilibriumOptimizer", "MergeOptimizer", "Query", "InconsistencyError"],
    "opcore.gof.graph": ["Apply", "Variable", "Constant", "inputs", "ancestors", "io_toposort",
                         "clone", "variables", "ops", "orphans"],
    "opcore.gof.opt": ["in2out", "out2in", "SeqOptimizer", "LocalOptGroup", "optimizer"],
    "opcore.gof.optdb": ["SequenceDB", "EquilibriumDB", "LocalGroupDB", "ProxyDB", "Query"],
    "opcore.gof.toolbox": ["Feature", "ReplaceValidate", "NodeFinder"],
    "opcore.gof.type": ["Type", "Generic", "EnumList", "CType"],
    "opcore.gof.op": ["Op", "COp", "PureOp", "OpenMPOp"],
    "opcore.gof.params_type": ["ParamsType", "Params"],
    "opcore.gof.utils": ["MethodNotDefined", "flatten", "uniq"],
    "opcore.tensor.opt": ["register_canonicalize", "register_stabilize", "register_specialize",
                          "register_uncanonicalize", "local_optimizer", "in2out"],
    "opcore.tensor.inplace": ["add_inplace", "mul_inplace", "exp_inplace", "neg_inplace"],
    "opcore.tensor.var": ["TensorVariable", "TensorConstant", "_tensor_py_operators"],
    "opcore.tensor.utils": ["shape_of_variables", "hash_from_ndarray"],
    "opcore.tensor.basic": ["as_tensor_variable"],
    "opcore.tensor.type": ["TensorType"],
    "opcore.tensor.elemwise": ["Elemwise", "DimShuffle", "CAReduce"],
    "opcore.tensor.subtensor": [],
    "opcore.tensor.blas": [],
    "opcore.compile": ["optdb", "function", "shared", "Mode", "get_default_mode"],
    "opcore.compile.ops": ["ViewOp", "view_op", "DeepCopyOp", "deep_copy_op", "Shape_i",
                           "as_op", "register_view_op_c_code"],
    "opcore.compile.mode": ["Mode", "get_mode", "get_default_mode"],
    "opcore.compile.function_module": ["Function", "FunctionMaker", "UnusedInputError"],
    "opcore.compile.sharedvalue": ["SharedVariable", "shared"],
    "opcore.compile.io": ["In", "Out"],
    "opcore.scan_module": ["scan", "until"],
    "opcore.scan_module.scan_utils": ["until", "clone"],
    "opcore.scan_module.scan_op": ["Scan"],
    "opcore.typed_list": ["TypedListType", "append", "getitem", "length"],
    "opcore.misc.pkl_utils": ["dump", "load"],
    "opcore.gpuarray": ["dnn"],
    "opcore.gpuarray.dnn": ["dnn_present", "dnn_available"],
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_with_theano_names(module):
    mod = importlib.import_module(module)
    missing = [n for n in MODULES[module] if not hasattr(mod, n)]
    assert not missing, f"{module} lacks {missing}"


def test_lazy_top_level_packages():
    assert opcore.gof is importlib.import_module("opcore.gof")
    assert opcore.typed_list is importlib.import_module("opcore.typed_list")


def test_name_mapping():
    assert opcore_name("theano") == "opcore"
    assert opcore_name("theano.tensor.nnet.conv") == "opcore.tensor.nnet.conv"
    assert opcore_name("theano.sandbox.gpuarray.dnn") == "opcore.gpuarray.dnn"
    assert refused("theano.sandbox.cuda.dnn") == REFUSED["theano.sandbox.cuda"]
    assert refused("theano.sandbox.rng_mrg") is None
    assert "opcore-nnet" in missing_why("opcore.tensor.nnet.foo")
    assert all(v.startswith("opcore") for v in RENAMED.values())


def test_gpuarray_without_device():
    import opcore.gpuarray as gpuarray

    assert opcore.config.device == "cpu" and gpuarray.pygpu_activated is False
    assert gpuarray.dnn.dnn_present() is False and gpuarray.dnn.dnn_available() is False
    assert "cuDNN" in gpuarray.dnn.dnn_available.msg
    with pytest.raises(RuntimeError, match="cuDNN"):
        gpuarray.dnn.dnn_conv(None, None)


def test_inplace_functions_overwrite_their_first_input():
    from opcore.tensor.inplace import exp_inplace, mul_inplace

    x, y = T.dvectors("x", "y")
    f = opcore.function([opcore.In(x, mutable=True), y], mul_inplace(x, y), mode="FAST_COMPILE")
    v, w = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out = f(v, w)
    np.testing.assert_allclose(out, [3.0, 8.0])
    np.testing.assert_allclose(v, [3.0, 8.0])
    assert str(exp_inplace.op) == "Elemwise{exp,inplace}"


def test_pkl_utils_round_trip_with_npy_members():
    import zipfile

    from opcore.misc.pkl_utils import dump, load

    w = opcore.shared(np.arange(6.0).reshape(2, 3), name="w")
    x = T.dvector("x")
    f = opcore.function([x], T.dot(w, x))
    buf = io.BytesIO()
    dump((w, f), buf)
    buf.seek(0)
    names = zipfile.ZipFile(buf).namelist()
    assert "pkl" in names and any(n.startswith("array_") for n in names)
    buf.seek(0)
    w2, f2 = load(buf)
    np.testing.assert_allclose(w2.get_value(), w.get_value())
    np.testing.assert_allclose(f2(np.ones(3)), w.get_value() @ np.ones(3))


def test_compile_ops_view_and_deep_copy():
    from opcore.compile.ops import deep_copy_op, view_op

    x = T.dvector("x")
    f = opcore.function([x], [view_op(x) + 1, deep_copy_op(x)], mode="FAST_COMPILE")
    v = np.array([1.0, 2.0])
    a, b = f(v)
    np.testing.assert_allclose(a, v + 1)
    np.testing.assert_allclose(b, v)
    assert b is not v


def test_scan_over_a_typed_list_non_sequence():
    """Theano's typed_list page: scan indexes a typed list passed as a non-sequence."""
    import opcore.typed_list as tl

    a = tl.TypedListType(T.dvector)()
    s, _ = opcore.scan(fn=lambda i, lst: lst[i].sum(), non_sequences=[a],
                       sequences=[T.arange(tl.length(a), dtype="int64")])
    f = opcore.function([a], s)
    np.testing.assert_allclose(f([np.array([1.0, 2, 3]), np.array([4.0, 5])]), [6.0, 9.0])


def test_grad_is_named_only_when_cost_and_wrt_are_named():
    x = T.dscalar("x")
    y = x ** 2
    assert T.grad(y, x).name is None
    y.name = "y"
    assert T.grad(y, x).name == "(dy/dx)"
