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
    assert debugprint(z, file=buf) is buf
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
    assert debugprint(42, file="str") == "42\n"  # Theano prints numbers as they are
    with pytest.raises(TypeError, match="debugprint"):
        debugprint("not a graph", file="str")


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


def test_debugprint_theano_layout():
    """Theano's exact layout: op, [id X], '' name field, ids on leaves, ' |' indentation,
    the last child's subtree indented with spaces, a repeated node not expanded again."""
    x, y = T.dvectors("x", "y")
    s = x + y
    z = T.exp(s) * s
    assert debugprint(z, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n"
        " |Elemwise{exp,no_inplace} [id B] ''   \n"
        " | |Elemwise{add,no_inplace} [id C] ''   \n"
        " |   |x [id D]\n"
        " |   |y [id E]\n"
        " |Elemwise{add,no_inplace} [id C] ''   \n")
    assert debugprint(z, file="str", depth=1) == "Elemwise{mul,no_inplace} [id A] ''   \n"
    assert debugprint(z, file="str", ids="") .startswith("Elemwise{mul,no_inplace}  ''")
    assert debugprint(z, file="str", ids="int").splitlines()[3] == " |   |x [id 3]"
    typed = debugprint(x * y, file="str", print_type=True).splitlines()
    assert typed[0] == "Elemwise{mul,no_inplace} [id A] <TensorType(float64, vector)> ''   "
    assert typed[1] == " |x [id B] <TensorType(float64, vector)>"
    named = (x * y)
    named.name = "prod"
    assert debugprint(named, file="str").splitlines()[0] == (
        "Elemwise{mul,no_inplace} [id A] 'prod'   ")
    # done= shared between calls: a node printed before is not expanded again
    done = {}
    debugprint(s, file="str", done=done)
    assert debugprint(s * 2, file="str", done=done).splitlines()[1] == (
        " |Elemwise{add,no_inplace} [id B] ''   ")
    # multi-output nodes get .N, a compiled function's nodes their schedule position
    f = opcore.function([x], [x * 2, x.sum()])
    lines = debugprint(f, file="str", print_placement=False).splitlines()
    assert lines[0].endswith("''   0") and any(ln.endswith("''   1") for ln in lines)


def test_debugprint_ids_go_past_z():
    x = T.dvector("x")
    out = x
    for _ in range(30):
        out = T.exp(out)
    lines = debugprint(out, file="str").splitlines()
    assert "[id Z]" in lines[25] and "[id BA]" in lines[26] and lines[30] == " " * 58 + " |x [id BE]"


def test_elemwise_and_dimshuffle_names_as_theano():
    x = T.dmatrix("x")
    assert str((x + 1).owner.op) == "Elemwise{add,no_inplace}"
    assert str(x.T.owner.op) == "InplaceDimShuffle{1,0}"
    assert str(x.dimshuffle("x", 0, 1).owner.op) == "InplaceDimShuffle{x,0,1}"


def test_pp_spelling_as_theano():
    x = T.dscalar("x")
    v = T.dvector("v")
    m = T.dmatrix("m")
    assert pp(v * x) == "(v * x)"  # broadcast dimensions are not shown
    assert pp(m.T) == "m.T"
    assert pp(m.dimshuffle(1, "x", 0)) == "DimShuffle{1, x, 0}(m)"
    assert pp(T.grad(x ** 2, x)).startswith("((fill((x ** ")
    w = T.dvector("w")
    # comparisons are function calls, dot is \\dot, abs is |x|, infix terms parenthesised
    assert pp((T.exp(-T.dot(v, w)) + x) > x) == "gt((exp((-(v \\dot w))) + x), x)"
    assert pp(abs(x) * x * x) == "((|x| * x) * x)"


def test_reduction_names_show_theanos_accumulator():
    x = T.dvector("x")
    m = T.fmatrix("m")
    i = T.ivector("i")
    assert str(x.sum()) == "Sum{acc_dtype=float64}.0"
    assert str(m.sum(axis=0)) == "Sum{axis=[0], acc_dtype=float64}.0"  # float32 accumulates in 64
    assert str(i.prod().owner) == "Prod{acc_dtype=int64}(i)"
    assert str((m > 0).all(axis=1).owner.op) == "All{axis=[1]}"  # the op alone: opcore's form
    assert debugprint(x.sum(), file="str").splitlines()[0] == "Sum{acc_dtype=float64} [id A] ''   "


def test_tensor_function_ops_carry_theanos_name():
    x = T.dvector("x")
    assert (x * 2).owner.op.name == "Elemwise{mul,no_inplace}"
    f = opcore.function([x], T.exp(x) + x, mode=opcore.Mode(linker="py").excluding("fusion"))
    names = [str(n.op) for n in f.maker.fgraph.toposort()]
    assert "Elemwise{add}[(0, 0)]" in names  # the in-place op does not keep the no_inplace name
