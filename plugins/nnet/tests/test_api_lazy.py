"""``opcore.tensor.nnet`` loads its convolution/pooling/... families at first use, and every name
is the family module's own (the same objects an eager import gave)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import numpy as np

import opcore_nnet.api as api


def test_every_lazy_name_is_its_modules_object() -> None:
    for module, names in api._FAMILIES.items():
        mod = importlib.import_module(f"opcore_nnet.{module}")
        for name in names:
            assert getattr(api, name) is getattr(mod, name), (module, name)
            assert name in dir(api)
    for module in ("conv", "extras"):  # star-exported families: their whole __all__
        mod = importlib.import_module(f"opcore_nnet.{module}")
        assert sorted(api._FAMILIES[module]) == sorted(mod.__all__), module
    assert api.abstract_conv2d is importlib.import_module("opcore_nnet.conv").conv2d
    for sub in api._SUBMODULES:
        assert type(getattr(api, sub)).__name__ == "module"
        assert getattr(api, sub) is importlib.import_module(f"opcore_nnet.api.{sub}")


def test_an_mlp_graph_loads_no_convolution_and_a_conv_name_loads_it() -> None:
    code = (
        "import sys, json, numpy as np, opcore, opcore.tensor as T\n"
        "x = T.dmatrix('x')\n"
        "f = opcore.function([x], T.nnet.softmax(x))\n"
        "before = sorted(m for m in ('opcore_nnet.conv', 'opcore_nnet.abstract_conv',"
        " 'opcore_nnet.bn', 'opcore_nnet.neighbours', 'opcore_nnet.corr') if m in sys.modules)\n"
        "out = f(np.array([[1.0, 2.0, 3.0]])).tolist()\n"
        "from opcore.tensor.nnet import conv2d\n"
        "print(json.dumps({'before': before, 'out': out,"
        " 'conv': 'opcore_nnet.conv' in sys.modules, 'name': conv2d.__module__}))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["before"] == []
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(found["out"][0], np.exp(z) / np.exp(z).sum())
    assert found["conv"] and found["name"] == "opcore_nnet.conv"


def test_a_star_import_gives_the_lazy_names_and_submodules() -> None:
    ns: dict = {}
    exec("from opcore.tensor.nnet import *", ns)
    assert ns["conv2d"] is importlib.import_module("opcore_nnet.conv").conv2d
    assert ns["pool_2d"] is importlib.import_module("opcore_nnet.pool").pool_2d
    assert ns["softmax"] is api.softmax
    assert ns["conv"] is importlib.import_module("opcore_nnet.api.conv")
