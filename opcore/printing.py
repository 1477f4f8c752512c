"""Printing graphs: pprint/pp (math-like), debugprint (node tree), pydotprint (graphviz)."""

from __future__ import annotations

import io
import sys

import numpy as np

from opcore.config import config
from opcore.d3viz import d3viz  # noqa: F401  (Theano's printing.d3viz spelling)
from opcore.graph.basic import Apply, Constant, Variable, op_str
from opcore.graph.op import Op
from opcore.graph.traversal import graph_inputs, io_toposort

#: the operators pprint writes infix, as Theano's printer does (every other op, comparisons
#: included, is written as a function call: ``gt(x, y)``); every infix term is parenthesised
_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "int_div": "//", "pow": "**"}


#: scalar ops pprint spells by their tensor function's name, as Theano does
_PP_NAMES = {"second": "fill"}


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

    if name in _INFIX and len(args) >= 2:
        return "(" + f" {_INFIX[name]} ".join(out[a] for a in args) + ")", 10
    if name == "neg":
        return f"(-{out[args[0]]})", 10
    if name == "abs":
        return f"|{out[args[0]]}|", 10
    if type(op).__name__ == "Dot" and len(args) == 2:
        return f"({out[args[0]]} \\dot {out[args[1]]})", 10
    tname = type(op).__name__
    if tname == "DimShuffle":
        # Theano's spelling: leading broadcast dimensions are not shown, a full reversal is .T
        order = list(op.new_order)
        while order and order[0] == "x":
            order.pop(0)
        nd = args[0].ndim
        if order == list(range(nd)):
            return out[args[0]], prec[args[0]]
        if nd > 1 and order == list(reversed(range(nd))):
            return f"{out[args[0]]}.T", 10
        return f"DimShuffle{{{', '.join(map(str, order))}}}({out[args[0]]})", 10
    if tname == "Composite" or (so is not None and hasattr(so, "steps")):
        return f"{so}({', '.join(out[a] for a in args)})", 10
    label = _PP_NAMES.get(name, name) or str(op)
    return f"{label}({', '.join(out[a] for a in args)})", 10


pp = pprint


def _char_id(number: int) -> str:
    """Theano's node ids: ``number`` in base 26 with digits A..Z (0 -> A, 26 -> BA)."""
    if number == 0:
        return "A"
    out = ""
    while number:
        out = chr(ord("A") + number % 26) + out
        number //= 26
    return out


def debugprint(obj, depth: int = -1, print_type: bool = False, file=None, ids: str = "CHAR",
               stop_on_name: bool = False, done: dict | None = None, print_storage: bool = False,
               print_clients: bool = False, used_ids: dict | None = None,
               print_destroy_map: bool = False, print_view_map: bool = False,
               print_placement: bool | None = None):
    """Print the graph computing ``obj`` as Theano lays it out, one line per variable.

    ``obj``: a variable, an Apply, a compiled function, a FunctionGraph, ``In``/``Out``, or a
    list of them.  An Apply's line is ``<prefix><op>[.<output index>] [id X]<type> '<name>'``
    followed by the destroy/view maps when asked and, for a compiled function, the node's position
    in the schedule; an input's line is ``<prefix><variable> [id X]<type>``.  Children are indented
    with ``' |'``; a node met again keeps its id and is not expanded again.

    ``depth``: levels to print (-1: all); ``print_type``: add ``' <type>'``; ``ids``: ``'CHAR'``
    (A, B, ..., Z, BA...), ``'int'``, ``'id'`` (Python ids) or ``''``; ``done``: a dict shared
    between calls so ids carry over; ``stop_on_name``: do not expand below a named variable;
    ``file``: None (stdout), ``'str'`` (return the text) or a stream (returned).  For a compiled
    function each node is also marked with where it runs (``[c]``, ``[py]``...), unless
    ``print_placement=False`` or the ``print_placement`` flag is off.
    """
    if not isinstance(depth, int):
        raise TypeError("debugprint: depth must be an int")
    if done is None:
        done = {}
    used = {} if used_ids is None else used_ids
    if print_placement is None:
        print_placement = getattr(config, "print_placement", False)
    buf = io.StringIO()
    items = obj if isinstance(obj, (list, tuple, set)) else [obj]
    for item in items:
        if isinstance(item, (int, float, np.ndarray)):
            buf.write(f"{item}\n")
            continue
        order = _schedule_of(item)
        placement = getattr(item, "placement", None) if print_placement else None
        for out in _outputs_of(item):
            _debugprint_var(out, buf, depth, print_type, ids, stop_on_name, done, used, order,
                            placement, print_destroy_map, print_view_map)
    text = buf.getvalue()
    if file == "str":
        return text
    if file is None:
        sys.stdout.write(text)
        return None  # as Theano: nothing to echo at an interactive prompt
    file.write(text)
    return file


def _schedule_of(obj) -> list | None:
    if hasattr(obj, "maker"):
        return obj.maker.fgraph.toposort()
    if hasattr(obj, "outputs") and hasattr(obj, "apply_nodes"):
        return obj.toposort()
    return None


def _debugprint_var(root, buf, depth, print_type, ids, stop_on_name, done, used, order,
                    placement, print_destroy_map, print_view_map) -> None:
    def id_of(key, v) -> str:
        if key in used:
            s = used[key]
        elif ids == "CHAR":
            s = f"[id {_char_id(len(used))}]"
        elif ids == "int":
            s = f"[id {len(used)}]"
        elif ids == "id":
            s = f"[id {id(v)}]"
        else:
            s = ""
        used[key] = done[key] = s
        return s

    # explicit stack (deep graphs must not hit the recursion limit): (var, prefix, child prefix,
    # depth left)
    stack = [(root, "", "", depth)]
    while stack:
        v, prefix, prefix_child, left = stack.pop()
        if left == 0:
            continue
        ty = f" <{v.type}>" if print_type else ""
        node = v.owner
        if node is None:
            buf.write(f"{prefix}{v} {id_of(v, v)}{ty}\n")
            continue
        seen = node in done
        nid = id_of(node, node)
        idx = "" if len(node.outputs) == 1 else f".{node.outputs.index(v)}"
        dm = vm = ""
        if print_destroy_map and getattr(node.op, "destroy_map", None):
            dm = f"d={node.op.destroy_map}"
        if print_view_map and getattr(node.op, "view_map", None):
            vm = f"v={node.op.view_map}"
        pos = str(order.index(node)) if order and node in order else ""
        line = f"{prefix}{op_str(node)}{idx} {nid}{ty} '{v.name or ''}' {dm} {vm} {pos}"
        if placement is not None:
            backend, how = placement(node)
            line += f" [{backend}]" if how in ("compiled", "python") else f" [{backend}: {how}]"
        buf.write(line + "\n")
        if seen or (stop_on_name and v.name is not None):
            continue
        children = []
        n = len(node.inputs)
        for k, inp in enumerate(node.inputs):
            last = k == n - 1
            children.append((inp, prefix_child + " |", prefix_child + ("  " if last else " |"),
                             left - 1))
        stack.extend(reversed(children))


def _outputs_of(obj):
    if hasattr(obj, "maker"):
        return list(obj.maker.fgraph.outputs)
    if hasattr(obj, "outputs") and hasattr(obj, "apply_nodes"):
        return list(obj.outputs)
    if isinstance(obj, Variable):
        return [obj]
    if hasattr(obj, "op") and hasattr(obj, "outputs"):
        return list(obj.outputs)
    if hasattr(obj, "variable") and isinstance(obj.variable, Variable):  # In / Out
        return [obj.variable]
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
    outputs = _outputs_of(fct)
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
