"""pprint/pp, debugprint and pydotprint."""

from __future__ import annotations

import io

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.printing import debugprint, pp, pprint, pydotprint


def test_pprint_infix():
    x, y = T.dscalars("x, y")
    assert pprint(x + y) == "(x + y)"
    assert pp(x * (y - 1)) == "(x * (y - TensorConstant{1.0}))"
    assert pprint(T.exp(x) ** 2) == "(exp(x) ** TensorConstant{2.0})"
    assert pprint(-x) == "(-x)"
    m = T.dmatrix("m")
    assert pprint(m.T) == "m.T"
    assert opcore.pp is pp


def test_pprint_of_gradient_and_function():
    x = T.dscalar("x")
    g = T.grad(x ** 2, x)
    text = pprint(g)
    assert "x" in text
    f = opcore.function([x], g)
    assert "x" in pprint(f)


def test_debugprint_ids_and_file_str():
    x, y = T.dvectors("x, y")
    s = x + y
    z = T.exp(s) * s
    text = debugprint(z, file="str")
    lines = text.splitlines()
    assert "[id A]" in lines[0] and "mul" in lines[0]
    assert any("add" in ln and "[id" in ln for ln in lines)
    # the shared sub-expression is printed once with its id, then referenced
    add_ids = [ln.split("[id ")[1][0] for ln in lines if "add" in ln]
    assert len(set(add_ids)) == 1 and len(add_ids) == 2
    assert text.count(" |x") >= 1
    buf = io.StringIO()
    assert debugprint(z, file=buf) is z
    assert buf.getvalue() == text
    typed = debugprint(z, file="str", print_type=True)
    assert "TensorType(float64, vector)" in typed


def test_debugprint_of_function_and_list():
    x = T.dvector("x")
    f = opcore.function([x], [x * 2, x.sum()])
    text = debugprint(f, file="str")
    assert "x" in text and "[id A]" in text
    text2 = debugprint([x * 2, x + 1], file="str")
    assert "mul" in text2 and "add" in text2
    with pytest.raises(TypeError, match="debugprint"):
        debugprint(42, file="str")


def test_pydotprint_without_graphviz_says_what_to_install(tmp_path):
    x = T.dvector("x")
    f = opcore.function([x], T.exp(x))
    try:
        import graphviz  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError) as info:
            pydotprint(f, outfile=str(tmp_path / "g.png"))
        msg = str(info.value)
        assert "pip install graphviz" in msg and len(msg.splitlines()) == 1
    else:
        src = pydotprint(f)
        assert "exp" in src


def test_debugprint_depth():
    x = T.dscalar("x")
    y = T.exp(T.log(T.sin(x)))
    text = debugprint(y, depth=1, file="str")
    assert "exp" in text and "sin" not in text
    assert np.isclose(float(opcore.function([x], y)(0.5)), np.sin(0.5))
