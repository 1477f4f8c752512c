"""Printing graphs: pprint/pp (math-like), debugprint (node tree), pydotprint (graphviz)."""

from __future__ import annotations

import io
import sys

from opcore.config import config
from opcore.d3viz import d3viz  # noqa: F401  (Theano's printing.d3viz spelling)
from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.op import Op

_INFIX = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "true_div": ("/", 2),
          "int_div": ("//", 2), "mod": ("%", 2), "pow": ("**", 3), "lt": ("<", 0),
          "gt": (">", 0), "le": ("<=", 0), "ge": (">=", 0), "eq": ("==", 0), "neq": ("!=", 0),
          "and_": ("&", 0), "or_": ("|", 0), "xor": ("^", 0)}


def _var_str(v: Variable) -> str:
    if v.name is not None:
        return v.name
    if isinstance(v, Constant):
        return str(v)
    return f"<{v.type}>"


def pprint(var, max_depth: int = 200) -> str:
    """A readable infix expression for ``var`` (or a compiled function's outputs)."""
    if hasattr(var, "maker"):
        return "\n".join(pprint(o) for o in var.maker.fgraph.outputs)
    out: dict = {}
    from opcore.graph.traversal import graph_inputs, io_toposort

    prec: dict = {}
    for r in graph_inputs([var]):
        out[r], prec[r] = _var_str(r), 10
    for node in io_toposort(graph_inputs([var]), [var]):
        for v in node.inputs:
            if v not in out:
                out[v], prec[v] = _var_str(v), 10
        for v in node.outputs:
            if v.name is not None and v is not var:
                out[v], prec[v] = _var_str(v), 10
            else:
                out[v], prec[v] = _node_str(v, out, prec)
    return out[var]


def _node_str(v, out, prec):
    node = v.owner
    op = node.op
    so = getattr(op, "scalar_op", None)
    name = getattr(so, "name", None)
    args = node.inputs

    def wrap(a, p):
        s = out[a]
        return f"({s})" if prec[a] < p else s

    if name in _INFIX and len(args) == 2:
        sym, p = _INFIX[name]
        return f"({wrap(args[0], p)} {sym} {wrap(args[1], p + 1)})", 10
    if name == "neg":
        return f"(-{wrap(args[0], 3)})", 10
    tname = type(op).__name__
    if tname == "DimShuffle":
        return f"{out[args[0]]}.dimshuffle{op.new_order}" if op.augment or op.drop else (
            f"{out[args[0]]}.T" if len(op.new_order) > 1 else out[args[0]]), 10
    if tname == "Composite" or (so is not None and hasattr(so, "steps")):
        return f"{so}({', '.join(out[a] for a in args)})", 10
    label = name or str(op)
    return f"{label}({', '.join(out[a] for a in args)})", 10


pp = pprint


def debugprint(obj, depth: int = -1, print_type: bool = False, file=None, ids: str = "CHAR",
               done=None, print_destroy_map=False, print_view_map=False,
               print_placement: bool | None = None):
    """Print the tree of nodes computing ``obj`` (variables, a list of them, an Apply or a
    compiled function) with an id per node; ``file='str'`` returns the text.

    For a compiled function each node is marked with where it runs: ``[c]`` (the C backend's
    code), ``[c: python fallback]`` (the C module calls the op's Python ``perform``), ``[py]``;
    ``print_placement=False`` (or the ``print_placement`` flag) leaves the marks out.
    """
    outputs = _outputs_of(obj)
    if print_placement is None:
        print_placement = config.print_placement
    placement = getattr(obj, "placement", None) if print_placement else None
    buf = io.StringIO()
    ids_map: dict = {}
    counter = [0]

    def node_id(node):
        if node not in ids_map:
            k = counter[0]
            counter[0] += 1
            s = ""
            k2 = k
            while True:
                s = chr(ord("A") + k2 % 26) + s
                k2 = k2 // 26 - 1
                if k2 < 0:
                    break
            ids_map[node] = s if ids == "CHAR" else str(k)
        return ids_map[node]

    printed = set()
    for out in outputs:
        stack = [(out, 0)]
        while stack:
            v, level = stack.pop()
            indent = " |" * level
            ty = f" <{v.type}>" if print_type else ""
            if v.owner is None:
                buf.write(f"{indent}{_var_str(v)}{ty}\n")
                continue
            node = v.owner
            nid = node_id(node)
            extra = ""
            if len(node.outputs) > 1:
                extra = f".{v.index}"
            dm = f" d={node.op.destroy_map}" if print_destroy_map and node.op.destroy_map else ""
            vm = f" v={node.op.view_map}" if print_view_map and node.op.view_map else ""
            vname = f" '{v.name}'" if v.name else ""
            where = ""
            if placement is not None:
                backend, how = placement(node)
                where = f" [{backend}]" if how in ("compiled", "python") else f" [{backend}: {how}]"
            buf.write(f"{indent}{node.op}{extra} [id {nid}]{vname}{ty}{dm}{vm}{where}\n")
            if node in printed or (depth >= 0 and level >= depth):
                continue
            printed.add(node)
            for inp in reversed(node.inputs):
                stack.append((inp, level + 1))
    text = buf.getvalue()
    if file == "str":
        return text
    (file or sys.stdout).write(text)
    return obj


def _outputs_of(obj):
    if hasattr(obj, "maker"):
        return list(obj.maker.fgraph.outputs)
    if hasattr(obj, "outputs") and hasattr(obj, "apply_nodes"):
        return list(obj.outputs)
    if isinstance(obj, Variable):
        return [obj]
    if hasattr(obj, "op") and hasattr(obj, "outputs"):
        return list(obj.outputs)
    if isinstance(obj, (list, tuple)):
        out = []
        for o in obj:
            out.extend(_outputs_of(o))
        return out
    raise TypeError(f"debugprint: cannot print {type(obj).__name__}")


def pydotprint(fct, outfile=None, format="png", compact=True, with_ids=False, **kwargs):
    """Draw the graph with graphviz (``pip install graphviz`` and the ``dot`` program)."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("pydotprint needs graphviz: pip install graphviz (and apt-get install "
                          "graphviz for the 'dot' program)") from None
    from opcore.graph.traversal import io_toposort

    outputs = _outputs_of(fct)
    from opcore.graph.traversal import graph_inputs

    g = graphviz.Digraph(format=format)
    names: dict = {}

    def vname(v):
        if v not in names:
            names[v] = f"v{len(names)}"
            g.node(names[v], _var_str(v), shape="box", color="green" if v.owner is None else "black")
        return names[v]

    for node in io_toposort(graph_inputs(outputs), outputs):
        nid = f"n{id(node)}"
        g.node(nid, str(node.op), shape="ellipse")
        for i in node.inputs:
            g.edge(vname(i), nid)
        for o in node.outputs:
            g.edge(nid, vname(o))
    if outfile is None:
        return g.source
    base = outfile.rsplit(".", 1)[0] if outfile.endswith("." + format) else outfile
    g.render(base, cleanup=True)
    return outfile


# -- Print: an op that prints a value when it is computed --------------------------------------
def _print_fn(op: "Print", xin) -> None:
    for attr in op.attrs:
        temp = getattr(xin, attr)
        shown = temp() if callable(temp) else temp
        print(op.message, attr, "=", shown)


class Print(Op):
    """``Print(message)(x)`` is ``x``, and prints ``message`` with ``x``'s attributes each time it
    is computed (Theano's ``theano.printing.Print``).

    ``attrs`` names what is printed (``'__str__'`` by default; e.g. ``('shape', 'min')``;
    callables are called); ``global_fn(op, value)`` replaces the printing.  The output is a view
    of the input (no copy), the gradient passes through unchanged, and constant folding leaves the
    node alone, so it prints when the function runs.

    >>> import numpy as np, opcore, opcore.tensor as T
    >>> x = T.dvector('x')
    >>> f = opcore.function([x], Print('x is')(x) * 2)
    >>> f(np.array([1.0, 2.0])).tolist()
    x is __str__ = [1. 2.]
    [2.0, 4.0]
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}
    _no_constant_folding = True

    def __init__(self, message: str = "", attrs=("__str__",), global_fn=_print_fn) -> None:
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, xin) -> Apply:
        if not isinstance(xin, Variable):
            raise TypeError(f"Print: expected a symbolic variable, got {type(xin).__name__}")
        return Apply(self, [xin], [xin.type()])

    def perform(self, node, inputs, output_storage) -> None:
        xin = inputs[0]
        self.global_fn(self, xin)
        output_storage[0][0] = xin

    def grad(self, inputs, output_grads):
        return [output_grads[0]]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]

    def infer_shape(self, node, input_shapes):
        return input_shapes
