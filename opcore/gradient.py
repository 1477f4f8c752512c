"""Symbolic differentiation: grad (reverse mode), Lop, Rop, jacobian, hessian, verify_grad."""

from __future__ import annotations

import importlib
import warnings

import numpy as np

from opcore import tensor as T
from opcore.compile.function import function
from opcore.graph.basic import Variable
from opcore.graph.null import DisconnectedType, NullType
from opcore.graph.traversal import io_toposort
from opcore.tensor.gradient_ops import (ConsiderConstant, DisconnectedGrad, GradClip,  # noqa: F401
                                        GradScale, ZeroGrad, consider_constant,
                                        disconnected_grad, grad_clip, grad_scale, zero_grad)
from opcore.scalar.basic import second


class DisconnectedInputError(ValueError):
    """``grad`` was asked for an input that the cost does not depend on."""


class NullTypeGradError(TypeError):
    """A gradient needed by the result is undefined or not implemented."""


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """Gradient of the scalar ``cost`` with respect to ``wrt`` (a variable or a list).

    >>> import opcore, opcore.tensor as T
    >>> x = T.dscalar('x')
    >>> float(opcore.function([x], T.grad(x ** 2, x))(3.0))
    6.0
    """
    if cost is not None:
        cost = T.as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(f"grad: the cost must be a scalar, but {cost} has {cost.ndim} "
                            f"dimension(s) ({cost.type}); sum it or use jacobian()")
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError("disconnected_inputs must be 'raise', 'warn' or 'ignore'")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be symbolic variables, got {type(w).__name__} ({w!r})")
    seeds = {}
    if known_grads:
        for v, g in known_grads.items():
            seeds[v] = T.as_tensor_variable(g)
    if cost is not None:
        if cost not in seeds:
            # second(cost, 1): a 1 shaped like the cost that still depends on it, as in Theano,
            # so function([x], grad(x + 1, x)) does not see x as unused

            # an integer-valued cost gets a float seed: its gradients are float (zero), as in Theano
            seed_dt = cost.dtype if cost.dtype.startswith(("float", "complex")) else T.config.floatX
            seeds[cost] = T.Elemwise(second)(cost, T.constant(np.ones((), dtype=seed_dt)))
    if not seeds:
        raise ValueError("grad: give a cost or known_grads")
    blockers = set(consider_constant or [])
    grads = _backprop(list(seeds), seeds, wrt_list, blockers)
    out = []
    for w in wrt_list:
        g = grads.get(w)
        if g is None or isinstance(g.type, DisconnectedType):
            msg = (f"grad: the cost does not depend on {w} (it is disconnected from the graph). "
                   "Pass disconnected_inputs='ignore' to get zeros")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(msg)
            if disconnected_inputs == "warn":
                warnings.warn(msg, stacklevel=2)
            if return_disconnected == "None":
                out.append(None)
                continue
            if return_disconnected == "Disconnected":
                out.append(DisconnectedType()())
                continue
            g = _zeros_connected(T, w)
        elif isinstance(g.type, NullType):
            if null_gradients == "raise":
                raise NullTypeGradError(f"grad: the gradient with respect to {w} is undefined: {g.type.why}")
        elif hasattr(w, "dtype") and not w.dtype.startswith(("float", "complex")):
            # integer-valued inputs have a zero gradient (Theano, PyTensor)
            g = _zeros_connected(T, w)
        else:
            if hasattr(w, "dtype") and g.dtype != w.dtype and w.dtype.startswith("float"):
                g = T.cast(g, w.dtype)
            if hasattr(w, "broadcastable") and g.broadcastable != w.broadcastable and g.ndim == w.ndim:
                if w.type.is_super(g.type):
                    g = T.unbroadcast(g, *[d for d in range(g.ndim) if g.broadcastable[d] and not w.broadcastable[d]])
                elif g.type.is_super(w.type):
                    g = T.basic.specify_broadcastable_as(g, w.type)
            # Theano names a gradient (dcost/dw) only when both the cost and w are named
            if (add_names and getattr(w, "name", None) and cost is not None
                    and cost.name is not None and g.name is None):
                g.name = f"(d{cost.name}/d{w.name})"
        out.append(g)
    return out[0] if single else out


def _zeros_connected(T, w):
    """Zeros shaped like ``w`` that still depend on it (Theano's fill(w, 0)), so a function
    returning a disconnected gradient does not report ``w`` as an unused input."""

    dt = w.dtype if w.dtype.startswith(("float", "complex")) else T.config.floatX
    return T.Elemwise(second)(w, T.constant(np.zeros((), dtype=dt)))


def _connection(node):
    """``node.op.connection_pattern(node)`` as a list of rows (one per input) of booleans."""
    cp = node.op.connection_pattern(node)
    if len(cp) != len(node.inputs) or any(len(row) != len(node.outputs) for row in cp):
        raise ValueError(f"{node.op}.connection_pattern returned {len(cp)} rows for "
                         f"{len(node.inputs)} inputs and {len(node.outputs)} outputs")
    return [[bool(c) for c in row] for row in cp]


def _is_missing(g):
    return g is None or isinstance(g.type, DisconnectedType)


def _backprop(sources, seeds, wrt, blockers):
    """Accumulate gradients from ``seeds`` back to every variable that reaches ``wrt``.

    Paths follow each op's ``connection_pattern`` (as in Theano): an input that the pattern does
    not connect to an output gets no gradient through it, so an undefined (NullType) gradient
    reaches an input only along connected paths (``Shape``, for instance, cuts them).
    """
    order = io_toposort(list(wrt) + list(blockers), sources)
    # nodes that actually lie on a connected path from wrt to the sources; a blocker
    # (consider_constant) stops the walk above it, but its own gradient is still computed when it
    # is asked for (Theano's subgraph_grad relies on that)
    wrt_set = set(wrt)
    reach = set(wrt)

    def passes(i):
        return i in reach and (i not in blockers or i in wrt_set)
    relevant = []
    patterns = {}
    for node in order:
        if not any(passes(i) for i in node.inputs):
            continue
        cp = patterns[node] = _connection(node)
        reached = [o for j, o in enumerate(node.outputs)
                   if any(cp[i][j] and passes(inp) for i, inp in enumerate(node.inputs))]
        if reached:
            reach.update(reached)
            relevant.append(node)
    grads: dict = {}
    for v, g in seeds.items():
        grads[v] = [g]

    def total(v):
        gs = grads.get(v)
        if not gs:
            return None
        real = [g for g in gs if not isinstance(g.type, DisconnectedType)]
        if not real:
            return gs[0]
        nulls = [g for g in real if isinstance(g.type, NullType)]
        if nulls:
            return nulls[0]
        acc = real[0]
        for g in real[1:]:
            acc = acc + g
        gs[:] = [acc]
        return acc

    for node in reversed(relevant):
        out_grads = [total(o) for o in node.outputs]
        if all(_is_missing(g) for g in out_grads):
            continue
        cp = patterns[node]
        # per input: None (no gradient flows), a NullType gradient, or "call the op"
        plan = []
        for i, inp in enumerate(node.inputs):
            if not passes(inp):
                plan.append(None)
                continue
            conn = [out_grads[j] for j in range(len(node.outputs)) if cp[i][j]]
            null = next((g for g in conn if not _is_missing(g) and isinstance(g.type, NullType)), None)
            if null is not None:
                plan.append(null)
            elif all(_is_missing(g) for g in conn):
                plan.append(None)
            else:
                plan.append("op")
        for inp, p in zip(node.inputs, plan):
            if p is not None and p != "op":
                grads.setdefault(inp, []).append(p)
        if "op" not in plan:
            continue
        filled = []
        for o, g in zip(node.outputs, out_grads):
            if _is_missing(g) or isinstance(g.type, NullType):
                # the inputs asking for the op's gradient are not connected to a NullType output
                if hasattr(o.type, "dtype"):
                    g = T.zeros_like(o, dtype=o.dtype if o.dtype.startswith(("float", "complex")) else T.config.floatX)
                else:
                    g = o.type.zeros_like(o) if hasattr(o.type, "zeros_like") else None
            filled.append(g)
        try:
            in_grads = node.op.L_op(list(node.inputs), list(node.outputs), filled)
        except NotImplementedError as exc:
            in_grads = [NullType(f"{node.op}: {exc}")() for _ in node.inputs]
        if len(in_grads) != len(node.inputs):
            raise ValueError(f"{node.op}.grad returned {len(in_grads)} gradients for "
                             f"{len(node.inputs)} inputs")
        for i, (inp, g) in enumerate(zip(node.inputs, in_grads)):
            if plan[i] != "op" or g is None:
                continue
            if not isinstance(g, Variable):
                g = T.as_tensor_variable(g)
            if isinstance(g.type, (DisconnectedType, NullType)):
                grads.setdefault(inp, []).append(g)
                continue
            if hasattr(inp.type, "ndim") and hasattr(g.type, "ndim") and g.ndim != inp.ndim:
                raise ValueError(f"{node.op}.grad returned a gradient of rank {g.ndim} for input {i} "
                                 f"({inp}, rank {inp.ndim})")
            grads.setdefault(inp, []).append(g)
    return {v: total(v) for v in list(grads)}


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: ``eval_points`` times the Jacobian of ``f`` w.r.t. ``wrt``."""
    fs = f if isinstance(f, (list, tuple)) else [f]
    eps = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    known = {fv: T.as_tensor_variable(e) for fv, e in zip(fs, eps)}
    return grad(None, wrt, consider_constant=consider_constant, known_grads=known,
                disconnected_inputs=disconnected_inputs)


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector product (forward mode) using each op's ``R_op``."""
    single_f = not isinstance(f, (list, tuple))
    fs = [f] if single_f else list(f)
    wrts = wrt if isinstance(wrt, (list, tuple)) else [wrt]
    eps = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(wrts) != len(eps):
        raise ValueError("Rop: wrt and eval_points must have the same length")
    tangent = {}
    for w, e in zip(wrts, eps):
        e = T.as_tensor_variable(e)
        if e.ndim != w.ndim:
            raise ValueError(f"Rop: eval point {e} has rank {e.ndim}, {w} has rank {w.ndim}")
        tangent[w] = e
    for node in io_toposort(wrts, fs):
        evs = [tangent.get(i) for i in node.inputs]
        if all(e is None for e in evs):
            continue
        if not any(_is_continuous(o) for o in node.outputs):
            continue  # integer results (a shape, an argmax) have no tangent
        try:
            r = node.op.R_op(list(node.inputs), evs)
        except NotImplementedError:
            r = _rop_via_lop(node, evs)
        for o, rv in zip(node.outputs, r):
            if rv is not None:
                tangent[o] = rv
    out = []
    for fv in fs:
        r = tangent.get(fv)
        if r is None:
            if disconnected_outputs == "raise":
                raise DisconnectedInputError(f"Rop: {fv} does not depend on {wrts}")
            r = T.zeros_like(fv)
        out.append(r)
    return out[0] if single_f else out


def _is_continuous(v) -> bool:
    return str(getattr(v, "dtype", "float")).startswith(("float", "complex"))


def _rop_via_lop(node, evs):
    """R-op from two L-ops (the double-transpose trick), for ops without R_op."""
    outs = node.outputs
    u = [T.zeros_like(o) for o in outs]
    # g(u) = J^T u is linear in u; its L-op with evs gives J evs
    gs = node.op.L_op(list(node.inputs), list(outs), u)
    pairs = [(g, e) for g, e in zip(gs, evs) if e is not None and not isinstance(g.type, (NullType, DisconnectedType))]
    if not pairs:
        return [None] * len(outs)  # the evaluated inputs do not reach the outputs
    res = []
    for k, uk in enumerate(u):
        known = {g: e for g, e in pairs}
        res.append(grad(None, uk, known_grads=known, disconnected_inputs="ignore"))
    return res


class GradientError(AssertionError):
    """verify_grad found analytic and numeric gradients that disagree."""

    def __init__(self, arg, analytic, numeric, abs_err, rel_err, tol):
        self.arg = arg
        self.analytic = analytic
        self.numeric = numeric
        super().__init__(
            f"verify_grad: gradient w.r.t. argument {arg} disagrees with finite differences: "
            f"max abs err {abs_err:.3g}, max rel err {rel_err:.3g} (tolerance {tol:.3g})\n"
            f"analytic: {np.asarray(analytic).ravel()[:8]}\nnumeric:  {np.asarray(numeric).ravel()[:8]}"
        )


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None,
                rel_tol=None, mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Check ``fun``'s symbolic gradient against central finite differences at ``pt``.

    ``fun`` maps symbolic inputs (one per array in ``pt``) to a tensor; the check uses a random
    projection of the output to a scalar.  Raises :class:`GradientError` on disagreement.
    """
    pt = [np.array(p, order="C") for p in pt]  # perturbed in place through reshape(-1)
    for i, p in enumerate(pt):
        if p.dtype.kind not in "fc":
            raise TypeError(f"verify_grad: point {i} has dtype {p.dtype}; give float arrays")
    rng = rng if rng is not None else np.random.default_rng(42)
    if isinstance(rng, (int, np.integer)):
        rng = np.random.default_rng(rng)
    low_prec = any(p.dtype in (np.float16, np.float32) for p in pt)
    eps = eps or (1e-2 if low_prec else 1e-7)
    tol = abs_tol or (1e-2 if low_prec else 1e-4)
    rtol = rel_tol or (1e-2 if low_prec else 1e-4)
    # length-1 dimensions are broadcastable, as for a constant built from the same array
    ins = [T.TensorType(p.dtype.name, shape=tuple(1 if s == 1 else None for s in p.shape))(
        f"input{i}") for i, p in enumerate(pt)]
    out = fun(*ins)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun must return one variable")
    out = T.as_tensor_variable(out)
    f_out = function(ins, out, mode=mode, on_unused_input="ignore")
    o_val = np.asarray(f_out(*pt))
    for _ in range(n_tests):
        proj_val = rng.random(o_val.shape).astype(out.dtype if out.dtype.startswith("float") else "float64") + 0.5
        proj = T.constant(proj_val)
        cost = T.sum(out * proj)
        gs = grad(cost, ins, disconnected_inputs="ignore")
        f_cost = function(ins, cost, mode=mode, on_unused_input="ignore")
        f_grad = function(ins, gs, mode=mode, on_unused_input="ignore")
        analytic = f_grad(*pt)
        for k, p in enumerate(pt):
            num = np.zeros(p.shape, dtype="float64")
            flat = p.reshape(-1)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = float(f_cost(*pt))
                flat[j] = orig - eps
                minus = float(f_cost(*pt))
                flat[j] = orig
                num.reshape(-1)[j] = (plus - minus) / (2 * eps)
            a = np.asarray(analytic[k], dtype="float64")
            abs_err = np.abs(a - num)
            rel_err = abs_err / (np.abs(a) + np.abs(num) + 1e-8)
            bad = (abs_err > tol) & (rel_err > rtol)
            if np.any(bad):
                raise GradientError(k, a, num, float(abs_err.max()), float(rel_err.max()), max(tol, rtol))


verify_grad.E_grad = GradientError


def subgraph_grad(wrt, end, start=None, cost=None, details=False):
    """Gradients of a graph cut at ``end``: Theano's ``subgraph_grad`` for backpropagating
    through a model piece by piece.

    ``start`` maps variables to known gradients (as ``known_grads``), ``cost`` is an extra
    scalar cost; at least one is needed.  ``end`` variables are treated as constants, so the
    gradients w.r.t. them can seed the next piece.  Returns ``(wrt_grads, end_grads)``, and with
    ``details=True`` also the gradients of ``wrt + end`` from ``start`` and from ``cost``.
    """
    if cost is None and start is None:
        raise ValueError("subgraph_grad: give start (known gradients) or cost")
    if not isinstance(end, list) or not isinstance(wrt, list):
        raise TypeError("subgraph_grad: wrt and end must be lists of variables")
    if start is not None and not isinstance(start, dict):
        raise TypeError("subgraph_grad: start must be a dict {variable: gradient}")
    params = list(dict.fromkeys(wrt + end))
    start_grads = cost_grads = None
    if start is not None:
        start_grads = list(grad(None, params, known_grads=start, consider_constant=end,
                                disconnected_inputs="ignore"))
    if cost is not None:
        cost_grads = list(grad(cost, params, consider_constant=end,
                               disconnected_inputs="ignore"))
    grads = start_grads if start_grads is not None else cost_grads
    if start_grads is not None and cost_grads is not None:
        grads = [a + b for a, b in zip(start_grads, cost_grads)]
    by_param = dict(zip(params, grads))
    wrt_grads = [by_param[v] for v in wrt]
    end_grads = [by_param[v] for v in end]
    if details:
        return wrt_grads, end_grads, start_grads, cost_grads
    return wrt_grads, end_grads


class numeric_grad:
    """One-sided finite-difference gradient of a scalar NumPy function ``f`` at ``pt``
    (Theano's ``numeric_grad``): ``self.gf`` is the gradient, one array per point (a single
    array when ``pt`` is one array).  Default step by dtype: :attr:`type_eps`.
    """

    type_eps = {"float64": 1e-7, "float32": 3e-4, "float16": 1e-1}

    def __init__(self, f, pt, eps=None, out_type=None):
        single = not isinstance(pt, (list, tuple))
        pts = [np.array(p, dtype=np.asarray(p).dtype if np.asarray(p).dtype.kind in "fc"
                        else "float64") for p in ([pt] if single else pt)]
        step = eps if eps is not None else max(
            self.type_eps.get(p.dtype.name, 1e-7) for p in pts)
        f0 = np.asarray(f(*pts))
        if f0.ndim != 0:
            raise ValueError(f"numeric_grad: f must return a scalar, got shape {f0.shape}")
        self.gf = []
        for p in pts:
            g = np.zeros(p.shape, dtype="complex128" if out_type and "complex" in out_type
                         else p.dtype)
            flat = p.reshape(-1)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + step
                g.reshape(-1)[j] = (np.asarray(f(*pts)) - f0) / step
                flat[j] = orig
            self.gf.append(g)
        if single:
            self.gf = self.gf[0]
        self.eps = step

    @staticmethod
    def abs_rel_err(a, b):
        """``(|a - b|, |a - b| / max(|a| + |b|, 1e-8))``."""
        abs_err = np.abs(a - b)
        return np.asarray(abs_err), np.asarray(abs_err / np.maximum(np.abs(a) + np.abs(b), 1e-8))

    def abs_rel_errors(self, g_pt):
        """Absolute and relative errors of the gradients ``g_pt`` against :attr:`gf`."""
        gf = self.gf if isinstance(self.gf, list) else [self.gf]
        g_pt = g_pt if isinstance(g_pt, (list, tuple)) else [g_pt]
        if len(g_pt) != len(gf):
            raise ValueError(f"numeric_grad: {len(g_pt)} gradients for {len(gf)} points")
        out = []
        for k, (a, b) in enumerate(zip(g_pt, gf)):
            if np.shape(a) != np.shape(b):
                raise ValueError(f"numeric_grad: gradient {k} has shape {np.shape(a)}, "
                                 f"expected {np.shape(b)}")
            out.append(self.abs_rel_err(np.asarray(a), b))
        return out

    def max_err(self, g_pt, abs_tol, rel_tol):
        """``(arg, pos, abs_err, rel_err)`` of the worst violation of both tolerances."""
        best = None
        for k, (ae, re) in enumerate(self.abs_rel_errors(g_pt)):
            if not (np.all(np.isfinite(ae)) and np.all(np.isfinite(re))):
                raise ValueError(f"numeric_grad: non-finite error for gradient {k}")
            scaled = np.minimum(ae / abs_tol, re / rel_tol).reshape(-1)
            if scaled.size == 0:
                continue
            pos = int(scaled.argmax())
            if best is None or scaled[pos] > best[0]:
                best = (scaled[pos], k, pos, ae.reshape(-1)[pos], re.reshape(-1)[pos])
        if best is None:
            return 0, 0, 0.0, 0.0
        return best[1:]


def __getattr__(name: str):
    # Theano's theano.gradient.jacobian / hessian: they loop with scan, the layer above this one,
    # so they live in opcore.scan.jacobian; this Theano path reaches them on first use
    if name in ("jacobian", "hessian"):
        return getattr(importlib.import_module("opcore.scan.jacobian"), name)
    raise AttributeError(f"module 'opcore.gradient' has no attribute {name!r}")
