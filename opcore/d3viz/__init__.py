"""An interactive HTML view of a compiled function's graph (Theano's ``d3viz``).

``d3viz(f, "graph.html")`` writes one self-contained page (the layout and drawing libraries are
inlined, so it opens without a network): every Apply node of the rewritten graph as a box, the
function's inputs, constants and outputs as ellipses, edges for the variables between them.

- Boxes are coloured by the backend that runs them and whether that is compiled code or a Python
  fallback (``perform``); with ``profile=True`` a switch colours them by their share of run time.
- Hovering a node shows its op, output types and static shapes, where it runs, and its profiled
  time; hovering an edge shows the variable's type.
- A fused elementwise node (``Composite``) expands into its scalar graph when clicked.

Layout is computed by dagre and drawing is done by Cytoscape.js (both MIT-licensed, bundled in
``opcore/d3viz/vendor``); see ``docs/seeing-what-runs.md``.
"""

from __future__ import annotations

import json
import os
import string
from importlib import resources
from typing import Any

from opcore.graph.basic import Constant

__all__ = ["d3viz", "graph_data"]

_VENDOR = ("cytoscape.min.js", "dagre.min.js")


def _type_str(v: Any) -> str:
    return str(v.type)


def _shape_str(v: Any) -> str:
    shape = getattr(v.type, "shape", None)
    if shape is None:
        return "?"
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1
                                                                           else "") + ")"


def _var_label(v: Any, fallback: str) -> str:
    if v.name:
        return v.name
    if isinstance(v, Constant):
        text = str(v.data) if getattr(v.data, "size", 2) <= 1 else f"Constant{_shape_str(v)}"
        return text if len(text) <= 24 else text[:21] + "..."
    return fallback


def _placement(fct: Any, node: Any) -> tuple[str, str]:
    """(backend name, how it runs) for ``node`` of the compiled function ``fct``."""
    where = getattr(fct, "placement", None)
    if callable(where):
        return where(node)
    return fct.maker.backend.name, "compiled"


def _scalar_graph(scalar_op: Any, node_id: str) -> tuple[list, list]:
    """The scalar steps of a fused ``Composite`` as child nodes and edges."""
    steps = getattr(scalar_op, "steps", None)
    if not steps:
        return [], []
    nodes, edges = [], []
    for k in range(scalar_op.nin):
        nodes.append({"id": f"{node_id}/i{k}", "label": f"i{k}", "kind": "scalar-input",
                      "info": f"input {k} ({scalar_op.in_dtypes[k]})"})
    for k, (op, args, dtype) in enumerate(steps):
        sid = f"{node_id}/s{k}"
        out = " (output)" if k in scalar_op.outputs else ""
        nodes.append({"id": sid, "label": getattr(op, "name", str(op)), "kind": "scalar",
                      "info": f"{getattr(op, 'name', op)} -> {dtype}{out}"})
        for j, a in enumerate(args):
            if a[0] == "i":
                src = f"{node_id}/i{a[1]}"
            elif a[0] == "s":
                src = f"{node_id}/s{a[1]}"
            else:
                src = f"{node_id}/c{k}_{j}"
                nodes.append({"id": src, "label": repr(a[1]), "kind": "scalar-constant",
                              "info": f"constant {a[1]!r} ({a[2]})"})
            edges.append({"source": src, "target": sid})
    return nodes, edges


def graph_data(fct: Any) -> dict:
    """The page's data for the compiled function ``fct``: nodes, edges, backends, timings.

    Returns a JSON-serialisable dict with ``nodes`` (each: ``id``, ``label``, ``kind`` one of
    ``apply``/``input``/``constant``/``output``, ``info`` lines, and for Apply nodes ``backend``,
    ``runs``, ``time`` in seconds or None, ``time_share`` in [0, 1], ``children``/``child_edges``
    for fused nodes), ``edges`` (``source``, ``target``, ``info``) and ``profiled``.

    Raises TypeError when ``fct`` is not a compiled function (``opcore.function``'s result).
    """
    maker = getattr(fct, "maker", None)
    if maker is None or not hasattr(maker, "fgraph"):
        raise TypeError(f"d3viz needs a compiled function (opcore.function(...)), got "
                        f"{type(fct).__name__}")
    fgraph = maker.fgraph
    profile = getattr(fct, "profile", None)
    times = dict(profile.node_times) if profile is not None else {}
    total = sum(times.values()) or None
    order = fgraph.toposort()
    ids: dict = {}
    nodes: list = []
    edges: list = []

    def var_id(v: Any) -> str:
        if v.owner is not None:
            node_id = ids[v.owner]
            return node_id
        if v not in ids:
            k = len(ids)
            kind = "constant" if isinstance(v, Constant) else "input"
            ids[v] = f"v{k}"
            nodes.append({"id": ids[v], "label": _var_label(v, f"input {k}"), "kind": kind,
                          "info": [f"{kind}: {_var_label(v, '(unnamed)')}",
                                   f"type: {_type_str(v)}", f"shape: {_shape_str(v)}"]})
        return ids[v]

    for k, node in enumerate(order):
        nid = f"n{k}"
        ids[node] = nid
        backend, runs = _placement(fct, node)
        t = times.get(node)
        outs = [f"out {j}: {_type_str(o)} shape {_shape_str(o)}"
                for j, o in enumerate(node.outputs)]
        info = [f"op: {node.op}", f"runs on: {backend} ({runs})", *outs]
        if t is not None:
            calls = profile.node_calls.get(node, 0) if profile is not None else 0
            info.append(f"time: {t:.6f} s over {calls} call(s)"
                        + (f" ({100 * t / total:.1f}%)" if total else ""))
        children, child_edges = _scalar_graph(getattr(node.op, "scalar_op", None), nid)
        nodes.append({"id": nid, "label": str(node.op) if len(str(node.op)) <= 40
                      else str(node.op)[:37] + "...", "kind": "apply", "info": info,
                      "backend": backend, "runs": runs, "time": t,
                      "time_share": (t / total) if (t is not None and total) else 0.0,
                      "children": children, "child_edges": child_edges})
        for j, v in enumerate(node.inputs):
            edges.append({"source": var_id(v), "target": nid,
                          "info": f"input {j}: {_var_label(v, '')} {_type_str(v)}".strip()})
    updates = getattr(fgraph, "update_mapping", {})
    for j, out in enumerate(fgraph.outputs):
        oid = f"o{j}"
        if j in updates:  # the new value of a shared variable
            target = fgraph.inputs[updates[j]]
            label = f"{_var_label(target, 'shared')} (update)"
        else:
            label = out.name or f"output {j}"
        nodes.append({"id": oid, "label": label, "kind": "output",
                      "info": [f"output {j}: {label}",
                               f"type: {_type_str(out)}", f"shape: {_shape_str(out)}"]})
        edges.append({"source": var_id(out), "target": oid, "info": _type_str(out)})
    name = getattr(maker, "name", None) or getattr(fct, "name", None)
    return {"name": name or "opcore function", "nodes": nodes, "edges": edges,
            "profiled": profile is not None and bool(times)}


def d3viz(fct: Any, outfile: str | os.PathLike) -> str:
    """Write an interactive HTML view of the compiled function ``fct`` to ``outfile``.

    The page needs no network (Cytoscape.js and dagre are inlined, ~0.5 MB). Compile with
    ``profile=True`` and call the function before this to colour nodes by run time. Returns the
    path written; raises TypeError for anything but a compiled function.

    >>> import opcore, opcore.tensor as T
    >>> x = T.dvector("x")
    >>> f = opcore.function([x], T.exp(x) * 2 + 1)
    >>> path = d3viz(f, "/tmp/graph.html")  # doctest: +SKIP
    """
    data = graph_data(fct)
    assets = resources.files("opcore.d3viz")
    page = string.Template((assets / "page.html").read_text(encoding="utf-8"))
    payload = json.dumps(data).replace("</", "<\\/")
    html = page.substitute(
        title=_html_escape(data["name"]),
        graph_json=payload,
        cytoscape=(assets / "vendor" / _VENDOR[0]).read_text(encoding="utf-8"),
        dagre=(assets / "vendor" / _VENDOR[1]).read_text(encoding="utf-8"),
    )
    outfile = os.fspath(outfile)
    with open(outfile, "w", encoding="utf-8") as fh:
        fh.write(html)
    return outfile


def _html_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
