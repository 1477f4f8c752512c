"""The tensor namespace loads its op families on first use and still offers every name.

``import opcore.tensor`` leaves construct, extra_ops, special, basic_extras, gradient_ops and
xlogx unimported; ``T.<name>`` imports the family at the first read.  These checks run in fresh
interpreters (the test session has imported everything already).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import numpy as np
from scipy.special import logsumexp

import opcore.tensor as T

LAZY = ("construct", "extra_ops", "special", "basic_extras", "gradient_ops", "xlogx")


def _fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_lazy_lists_are_the_modules_exports() -> None:
    # construct, special, basic_extras: the package exports their whole __all__
    for module in ("construct", "special", "basic_extras"):
        mod = importlib.import_module(f"opcore.tensor.{module}")
        assert sorted(T._FAMILIES[module]) == sorted(mod.__all__), module
    for module, names in T._FAMILIES.items():
        mod = importlib.import_module(f"opcore.tensor.{module}")
        for name in names:
            assert getattr(T, name) is getattr(mod, name), (module, name)
            assert name in dir(T)


def test_import_leaves_the_families_unloaded_and_a_name_loads_its_family() -> None:
    found = _fresh(
        "import sys, json, opcore, opcore.tensor as T\n"
        f"lazy = {LAZY!r}\n"
        "before = [m for m in lazy if 'opcore.tensor.' + m in sys.modules]\n"
        "x = T.dmatrix('x')\n"
        "r = opcore.function([x], [T.triu(x), T.cumsum(x), T.logsumexp(x), T.ptp(x),"
        " T.consider_constant(x), T.xlogy0(x, x), T.xlogx.xlogx(x)])\n"
        "import numpy as np\n"
        "v = np.arange(1.0, 7.0).reshape(2, 3)\n"
        "out = [o.tolist() for o in r(v)]\n"
        "after = [m for m in lazy if 'opcore.tensor.' + m in sys.modules]\n"
        "print(json.dumps({'before': before, 'after': after, 'out': out,"
        " 'module': type(T.extra_ops).__name__}))")
    assert found["before"] == []
    assert sorted(found["after"]) == sorted(LAZY)
    assert found["module"] == "module"
    v = np.arange(1.0, 7.0).reshape(2, 3)
    triu, cumsum, lse, ptp, same, xly, xlx = (np.asarray(o) for o in found["out"])
    np.testing.assert_allclose(triu, np.triu(v))
    np.testing.assert_allclose(cumsum, np.cumsum(v))  # axis=None: flattened, as NumPy
    np.testing.assert_allclose(lse, logsumexp(v))
    np.testing.assert_allclose(ptp, np.ptp(v))
    np.testing.assert_allclose(same, v)
    np.testing.assert_allclose(xly, v * np.log(v))
    np.testing.assert_allclose(xlx, v * np.log(v))


def test_sort_stays_a_function_after_its_module_is_imported() -> None:
    found = _fresh("import json, opcore.tensor as T\nimport opcore.tensor.sort\n"
                   "print(json.dumps({'callable': callable(T.sort),"
                   " 'module': type(T.sort).__name__}))")
    assert found == {"callable": True, "module": "function"}


def test_a_star_import_still_gives_every_lazy_name() -> None:
    # `from opcore.tensor import *` (Theano code does it) gives the lazy families' names too
    ns: dict = {}
    exec("from opcore.tensor import *", ns)
    for module, names in T._FAMILIES.items():
        mod = importlib.import_module(f"opcore.tensor.{module}")
        for name in names:
            assert ns[name] is getattr(mod, name), (module, name)
    assert callable(ns["sort"]) and type(ns["extra_ops"]).__name__ == "module"
    compile_ns: dict = {}
    exec("from opcore.compile import *", compile_ns)
    assert compile_ns["DebugMode"].__module__ == "opcore.compile.debugmode"
