"""Pooling over the last ``ndim`` axes (Theano's ``pool_2d`` / ``pool_3d``) and its gradient.

Modes: ``'max'``, ``'sum'``, ``'average_inc_pad'`` (the padding counts in the divisor) and
``'average_exc_pad'`` (it does not).  Windows are strided views of the (padded) input; NumPy
does one vectorised pass per window offset (``prod(ws)`` of them), the ``c`` backend runs C loops
for 2-d and 3-d pooling.

Two forms of the ops, as Theano has both: ``Pool(ws, ignore_border, stride, pad, mode)`` fixes
the window parameters (the form ``pool_2d`` builds for constant parameters, with C code), and
Theano's ``Pool(ignore_border=False, mode='max', ndim=2)(x, ws, stride, pad)`` takes them as
symbolic int vectors (what ``pool_2d`` builds when ``ws``, ``stride`` or ``pad`` is a variable).
A rewrite turns the second form into the first once the parameters are constants.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import opcore.tensor as T
from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

from opcore_nnet import ccode

__all__ = ["Pool", "PoolGrad", "MaxPoolGrad", "AveragePoolGrad", "DownsampleFactorMaxGradGrad",
           "MaxPoolRop",
           "pool_2d", "pool_3d", "max_pool_2d", "max_pool_3d",
           "max_pool_2d_same_size"]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _ntuple(v: Any, n: int | None, what: str) -> tuple[int, ...]:
    if isinstance(v, (int, np.integer)):
        if n is None:
            raise ValueError(f"Pool: {what} must be a tuple when ndim is not given, got {v}")
        return (int(v),) * n
    v = tuple(int(e) for e in np.asarray(v).ravel())
    if n is not None and len(v) != n:
        raise ValueError(f"Pool: {what} must have {n} entries (one per pooled axis), got {v}")
    return v


def _out_len(r: int, ws: int, st: int, pad: int, ignore_border: bool) -> int:
    r = r + 2 * pad
    if ignore_border:
        return max((r - ws) // st + 1, 0)
    if st >= ws:
        return (r - 1) // st + 1
    return max(0, (r - 1 - ws + st) // st) + 1


def _sym_out_len(n: Any, ws: Any, st: Any, pad: Any, ignore_border: bool) -> Any:
    """:func:`_out_len` on symbolic scalars (or ints) for ``infer_shape``."""
    n = n + 2 * pad
    if ignore_border:
        return T.maximum((n - ws) // st + 1, 0)
    overlap = T.maximum(0, (n - 1 - ws + st) // st) + 1
    if isinstance(ws, int) and isinstance(st, int):
        return (n - 1) // st + 1 if st >= ws else overlap
    return T.switch(T.ge(st, ws), (n - 1) // st + 1, overlap)


def _static(v: Any) -> Any:
    """``v``'s value when it is known while building the graph (ints, tuples, constants), else
    the ``_SYMBOLIC`` marker."""
    if v is None:
        return None
    if isinstance(v, Constant):
        return v.data
    if isinstance(v, Variable):
        return _SYMBOLIC
    if isinstance(v, (list, tuple)):
        items = [_static(e) for e in v]
        return _SYMBOLIC if any(e is _SYMBOLIC for e in items) else tuple(items)
    return v


_SYMBOLIC = object()


def theano_out_shape(imgshape: Any, ws: Any = None, ignore_border: bool = False,
                     stride: Any = None, pad: Any = None, ndim: int = 2, ds: Any = None,
                     st: Any = None, padding: Any = None) -> list:
    """Theano's static ``Pool.out_shape(imgshape, ws, ignore_border, stride, pad, ndim)``: the
    shape ``imgshape`` (ints or symbolic scalars) with its last ``ndim`` entries pooled."""
    ws = ws if ws is not None else ds
    if ws is None:
        raise ValueError("Pool.out_shape: ws (the window size) is required")
    stride = stride if stride is not None else (st if st is not None else ws)
    pad = pad if pad is not None else (padding if padding is not None else (0,) * ndim)
    imgshape = list(imgshape)
    if len(imgshape) < ndim:
        raise TypeError(f"Pool.out_shape: imgshape must have at least {ndim} entries, got "
                        f"{imgshape}")
    lead, sizes = imgshape[:-ndim], imgshape[-ndim:]
    out = []
    for n, w, s, p in zip(sizes, ws, stride, pad):
        if all(isinstance(v, (int, np.integer)) for v in (n, w, s, p)):
            out.append(_out_len(int(n), int(w), int(s), int(p), bool(ignore_border)))
        else:
            out.append(_sym_out_len(n, w, s, p, bool(ignore_border)))
    return lead + out


class _OutShape:
    """``Pool.out_shape``: Theano's static function on the class and on symbolic-form ops
    (:func:`theano_out_shape`); on a fixed-form op, ``op.out_shape(*sizes)`` gives the pooled
    lengths of those sizes."""

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None or obj.ws is None:
            return theano_out_shape
        return obj._out_lengths


class _PoolBase(Op):
    __props__ = ("ws", "ignore_border", "stride", "pad", "mode", "ndim")

    def __init__(self, ws: Any = None, ignore_border: Any = None, stride: Any = None,
                 pad: Any = None, mode: str = "max", ndim: int | None = None,
                 openmp: Any = None) -> None:
        if isinstance(ws, (bool, np.bool_)):
            # Theano's positional form Pool(ignore_border, mode, ndim)
            ws, ignore_border, mode, ndim, stride = (
                None, ws, ignore_border if isinstance(ignore_border, str) else mode,
                stride if isinstance(stride, (int, np.integer)) else ndim, None)
        if mode == "average":
            mode = "average_inc_pad"
        if mode not in MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        if ws is None:
            # the symbolic form: ws, stride and pad are inputs of the node
            self.ws = self.stride = self.pad = None
            self.ndim = 2 if ndim is None else int(ndim)
            self.ignore_border = bool(ignore_border)
            return
        self.ws = _ntuple(ws, ndim, "ws")
        self.ndim = len(self.ws)
        self.stride = self.ws if stride is None else _ntuple(stride, self.ndim, "stride")
        self.pad = (0,) * self.ndim if pad is None else _ntuple(pad, self.ndim, "pad")
        self.ignore_border = True if ignore_border is None else bool(ignore_border)
        if min(self.ws) < 1 or min(self.stride) < 1:
            raise ValueError(f"{type(self).__name__}: ws and stride must be >= 1, got "
                             f"{self.ws}, {self.stride}")
        if any(self.pad):
            if not self.ignore_border:
                raise NotImplementedError(f"{type(self).__name__}: padding needs "
                                          f"ignore_border=True")
            if min(self.pad) < 0 or any(p >= w for p, w in zip(self.pad, self.ws)):
                raise ValueError(f"{type(self).__name__}: pad {self.pad} must be >= 0 and "
                                 f"smaller than ws {self.ws}")

    @property
    def symbolic(self) -> bool:
        """Whether ws/stride/pad are inputs of the node (Theano's form) rather than props."""
        return self.ws is None

    #: the class of the fixed-parameter op this one computes as (``None``: its own class)
    fixed_class: type | None = None

    def _fixed(self, ws: Any, stride: Any, pad: Any) -> _PoolBase:
        """The fixed-parameter op of the same kind for run-time values of ws/stride/pad."""
        cls = self.fixed_class or type(self)
        return cls(tuple(ws), self.ignore_border, tuple(stride), tuple(pad), self.mode,
                   ndim=self.ndim)

    def _param_inputs(self, ws: Any, stride: Any, pad: Any) -> list:
        """The symbolic form's int64 vectors ws, stride (default ws), pad (default zeros)."""
        out = []
        for what, v in (("ws", ws), ("stride", ws if stride is None else stride),
                        ("pad", [0] * self.ndim if pad is None else pad)):
            if v is None:
                raise TypeError(f"{type(self).__name__}: ws (the window shape) is required")
            v = T.cast(as_tensor_variable(v), "int64")
            if v.ndim != 1 or v.type.shape[0] not in (None, self.ndim):
                raise TypeError(f"{type(self).__name__}: {what} must be a vector of "
                                f"{self.ndim} ints, got {v.type}")
            out.append(v)
        return out

    def _out_lengths(self, *sizes: int) -> tuple[int, ...]:
        """The pooled lengths of the last ``ndim`` axes of sizes ``sizes`` (fixed form)."""
        return tuple(_out_len(n, w, s, p, self.ignore_border)
                     for n, w, s, p in zip(sizes, self.ws, self.stride, self.pad))

    out_shape = _OutShape()

    def _layout(self, x: np.ndarray) -> tuple:
        """(padded input, out shape, valid-count array or None)."""
        nd = self.ndim
        if x.ndim < nd:
            raise ValueError(f"{self}: the input must have at least {nd} dimensions, got "
                             f"shape {x.shape}")
        sizes = x.shape[-nd:]
        outs = self.out_shape(*sizes)
        need = tuple(max((o - 1) * s + w, n + 2 * p) if o else n + 2 * p
                     for n, o, w, s, p in zip(sizes, outs, self.ws, self.stride, self.pad))
        fill = 0
        if self.mode == "max":
            fill = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
        lead = [(0, 0)] * (x.ndim - nd)
        xp = np.pad(x, lead + [(p, m - n - p) for n, m, p in zip(sizes, need, self.pad)],
                    constant_values=fill) if need != sizes else x
        counts = None
        if self.mode.startswith("average"):
            mask = np.zeros(need)
            if self.mode == "average_inc_pad":
                mask[tuple(slice(0, n + 2 * p) for n, p in zip(sizes, self.pad))] = 1
            else:
                mask[tuple(slice(p, p + n) for n, p in zip(sizes, self.pad))] = 1
            counts = self._view(mask, outs).sum(axis=tuple(range(-nd, 0)))
        return xp, outs, counts

    def _view(self, a: np.ndarray, outs: tuple) -> np.ndarray:
        nd, st = self.ndim, a.strides
        shape = a.shape[:-nd] + tuple(outs) + self.ws
        strides = st[:-nd] + tuple(s * k for s, k in zip(st[-nd:], self.stride)) + st[-nd:]
        return as_strided(a, shape, strides, writeable=False)

    def _taps(self, a: np.ndarray, outs: tuple):
        """Yield, for each window offset, the strided view of shape (..., *outs) it reads: the
        loop runs prod(ws) times, each step one vectorised operation."""
        for tap in itertools.product(*(range(w) for w in self.ws)):
            yield a[(Ellipsis,) + tuple(slice(t, t + s * (o - 1) + 1, s)
                                        for t, s, o in zip(tap, self.stride, outs))]

    def _pool(self, xp: np.ndarray, outs: tuple, dtype: Any) -> np.ndarray:
        """Max or sum over each window of the padded input (no division)."""
        if 0 in outs:
            return np.zeros(xp.shape[:-self.ndim] + tuple(outs), dtype=dtype)
        taps = self._taps(xp, outs)
        res = np.array(next(taps), dtype=xp.dtype if self.mode == "max" else dtype)
        combine = np.maximum if self.mode == "max" else np.add
        for t in taps:
            combine(res, t, out=res)
        return res

    def _infer_pooled(self, xs: tuple, params: list | None) -> tuple:
        nd = self.ndim
        if params is None:
            ws, st, pad = self.ws, self.stride, self.pad
        else:
            ws, st, pad = ([v[i] for i in range(nd)] for v in params)
        return tuple(xs[:-nd]) + tuple(
            _sym_out_len(n, w, s, p, self.ignore_border)
            for n, w, s, p in zip(xs[-nd:], ws, st, pad))

    # Theano C protocol (compiled by the cpu_c backend): the fixed form of 2-d and 3-d pooling,
    # float32/float64, one dtype throughout; any rank >= 2 and any strides (the input is made
    # contiguous first).  Other forms run ``perform``.

    def c_supports(self, node: Any) -> bool:
        dts = {v.dtype for v in node.inputs + node.outputs}
        return (not self.symbolic and self.ndim in (2, 3) and len(dts) == 1
                and dts <= {"float32", "float64"})

    def c_support_code(self, *args: Any) -> str:
        return ccode.POOL_SUPPORT

    def c_headers(self, *args: Any) -> list[str]:
        return list(ccode.HEADERS)  # oc_alloc: the documented helpers of opcore.cbuild

    def c_code_cache_version(self) -> tuple:
        return (6,)

    def _check_x(self, x: Any) -> Any:
        x = as_tensor_variable(x)
        if x.ndim < self.ndim:
            raise TypeError(f"{self}: the input must have at least {self.ndim} dimensions, "
                            f"got {x.type}")
        return x

    def connection_pattern(self, node: Any) -> list:
        n_data = len(node.inputs) - (3 if self.symbolic else 0)
        return [[True]] * n_data + [[False]] * (len(node.inputs) - n_data)


class Pool(_PoolBase):
    """Pooling of the last ``ndim`` axes of an input of rank >= ``ndim``.

    ``Pool(ws, ignore_border=True, stride=None, pad=None, mode='max')(x)``, or Theano's
    ``Pool(ignore_border=False, mode='max', ndim=2)(x, ws, stride=None, pad=None)`` with the
    window parameters as int vectors.  Output: ``x``'s leading axes, then the pooled lengths
    (see :func:`pool_2d`).  ``ValueError`` at run time for a bad ws/stride/pad.
    """

    def make_node(self, x: Any, ws: Any = None, stride: Any = None, pad: Any = None) -> Apply:
        x = self._check_x(x)
        inputs = [x]
        if self.symbolic:
            inputs += self._param_inputs(ws, stride, pad)
        elif ws is not None:
            raise TypeError(f"{self}: the window parameters are fixed by the op; build "
                            f"Pool(ignore_border=..., mode=..., ndim=...) to pass them")
        shape = x.type.shape[:-self.ndim] + (None,) * self.ndim
        return Apply(self, inputs, [T.TensorType(x.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        if self.symbolic:
            return self._fixed(*inputs[1:]).perform(node, inputs[:1], out)
        (x,) = inputs
        xp, outs, counts = self._layout(x)
        res = self._pool(xp, outs, x.dtype)
        if counts is not None:
            res = res / counts
        out[0][0] = np.asarray(res, dtype=x.dtype)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        params = node.inputs[1:] if self.symbolic else None
        return [self._infer_pooled(shapes[0], params)]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, params = inputs[0], inputs[1:]
        gx = PoolGrad(**self._props_dict())(x, grads[0], *params)
        return [gx] + [disconnected_type() for _ in params]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Sum/average pooling is linear: pool the eval point.  Max pooling takes the eval
        point's value at each window's (first, row-major) maximum (:class:`MaxPoolRop`)."""
        x, params, ev = inputs[0], inputs[1:], eval_points[0]
        if ev is None:
            return [None]
        props = self._props_dict()
        if self.mode == "max":
            return [MaxPoolRop(**props)(x, ev, *params)]
        return [Pool(**props)(ev, *params)]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.pool_c(self, inames[0], onames[0], node.inputs[0].dtype, sub["fail"])


class PoolGrad(_PoolBase):
    """The gradient of :class:`Pool`: inputs ``(x, gz)`` (then ``ws, stride, pad`` in the
    symbolic form); max mode routes ``gz`` to each window's maximum (to every tied maximum, as
    Theano does), average modes spread it evenly."""

    def make_node(self, x: Any, gz: Any, ws: Any = None, stride: Any = None,
                  pad: Any = None) -> Apply:
        x, gz = self._check_x(x), as_tensor_variable(gz)
        if gz.ndim != x.ndim:
            raise TypeError(f"{self}: gz ({gz.type}) and x ({x.type}) differ in rank")
        params = self._param_inputs(ws, stride, pad) if self.symbolic else []
        return Apply(self, [x, gz] + params, [x.type()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        if self.symbolic:
            return self._fixed(*inputs[2:]).perform(node, inputs[:2], out)
        x, gz = inputs
        nd = self.ndim
        xp, outs, counts = self._layout(x)
        if gz.shape != x.shape[:-nd] + outs:
            raise ValueError(f"{self}: gz has shape {gz.shape}, expected "
                             f"{x.shape[:-nd] + outs}")
        dt = np.result_type(x.dtype, gz.dtype)
        g = gz if self.mode == "max" or counts is None else gz / counts
        if self.stride == self.ws and 0 not in outs:
            gxp = self._grad_tiled(xp, g, outs, dt)
        else:
            gxp = np.zeros(xp.shape, dtype=dt)
            if 0 not in outs and self.mode == "max":
                mx = self._pool(xp, outs, x.dtype)
                for t, gt in zip(self._taps(xp, outs), self._taps(gxp, outs)):
                    # every tied maximum of a window receives the window's gradient
                    gt += np.where(t == mx, g, 0)
            elif 0 not in outs:
                for gt in self._taps(gxp, outs):
                    gt += g
        inner = tuple(slice(p, p + n) for p, n in zip(self.pad, x.shape[-nd:]))
        out[0][0] = np.ascontiguousarray(gxp[(Ellipsis,) + inner], dtype=x.dtype)

    def _grad_tiled(self, xp: np.ndarray, g: np.ndarray, outs: tuple, dt: Any) -> np.ndarray:
        """Non-overlapping windows (stride == ws): the windows tile the leading corner of
        ``outs * ws``, seen as (..., o0, w0, o1, w1, ...), so the gradient is one pass."""
        lead = xp.shape[:-self.ndim]
        inter = tuple(v for o, w in zip(outs, self.ws) for v in (o, w))
        ones = tuple(v for o in outs for v in (o, 1))
        corner = (Ellipsis,) + tuple(slice(0, o * w) for o, w in zip(outs, self.ws))
        gb = g.reshape(lead + ones)
        if self.mode == "max":
            xb = xp[corner].reshape(lead + inter)
            mx = self._pool(xp, outs, xp.dtype).reshape(lead + ones)
            part = np.where(xb == mx, gb, 0).astype(dt, copy=False)
        else:
            part = np.broadcast_to(gb, lead + inter).astype(dt)
        part = part.reshape(lead + tuple(o * w for o, w in zip(outs, self.ws)))
        if part.shape == xp.shape:
            return part
        gxp = np.zeros(xp.shape, dtype=dt)
        gxp[corner] = part
        return gxp

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[0]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, gz, params = inputs[0], inputs[1], inputs[2:]
        (g,) = grads
        rest = [disconnected_type() for _ in params]
        props = self._props_dict()
        if self.mode == "max":
            # linear in gz: its transpose gathers g at each window's maxima (x's own gradient
            # is zero almost everywhere)
            maxout = Pool(**props)(x, *params)
            return [T.zeros_like(x),
                    DownsampleFactorMaxGradGrad(**props)(x, maxout, g, *params)] + rest
        # the average/sum gradient is linear in gz: its transpose is the pooling itself
        return [T.zeros_like(x), Pool(**props)(g, *params)] + rest

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Linear in ``gz``; ``x`` only selects where it goes (its derivative is zero almost
        everywhere)."""
        egz = eval_points[1]
        if egz is None:
            return [None if eval_points[0] is None else T.zeros_like(inputs[0])]
        return [self(inputs[0], egz, *inputs[2:])]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.pool_grad_c(self, inames[0], inames[1], onames[0], node.inputs[0].dtype,
                                 sub["fail"])


class MaxPoolRop(_PoolBase):
    """The R-op of max pooling (Theano's op of this name): inputs ``(x, eval_point)`` (then
    ``ws, stride, pad`` in the symbolic form); output shaped like the pooling of ``x``: the
    eval point's value at each window's maximum (the first one in row-major order on ties, as
    Theano's)."""

    def make_node(self, x: Any, eval_point: Any, ws: Any = None, stride: Any = None,
                  pad: Any = None) -> Apply:
        x, ev = self._check_x(x), as_tensor_variable(eval_point)
        if ev.ndim != x.ndim:
            raise TypeError(f"{self}: eval_point ({ev.type}) and x ({x.type}) differ in rank")
        params = self._param_inputs(ws, stride, pad) if self.symbolic else []
        shape = x.type.shape[:-self.ndim] + (None,) * self.ndim
        return Apply(self, [x, ev] + params, [T.TensorType(ev.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        if self.symbolic:
            return self._fixed(*inputs[2:]).perform(node, inputs[:2], out)
        x, ev = inputs
        if ev.shape != x.shape:
            raise ValueError(f"{self}: eval_point has shape {ev.shape}, x {x.shape}")
        nd = self.ndim
        xp, outs, _ = self._layout(x)
        evp = np.zeros(xp.shape, dtype=ev.dtype)
        evp[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(self.pad, x.shape[-nd:]))] = ev
        if 0 in outs:
            out[0][0] = np.zeros(x.shape[:-nd] + outs, dtype=node.outputs[0].type.dtype)
            return
        taps, etaps = self._taps(xp, outs), self._taps(evp, outs)
        best, val = np.array(next(taps)), np.array(next(etaps))
        for t, e in zip(taps, etaps):
            better = t > best
            best = np.where(better, t, best)
            val = np.where(better, e, val)
        out[0][0] = val.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        params = node.inputs[2:] if self.symbolic else None
        return [self._infer_pooled(shapes[0], params)]

    def c_supports(self, node: Any) -> bool:
        return False


class MaxPoolGrad(PoolGrad):
    """Theano's ``MaxPoolGrad(ignore_border, ndim=2)(x, maxout, gz, ws, stride=None, pad=None)``:
    :class:`PoolGrad` in max mode (``maxout`` is accepted and not needed: the maxima are
    recomputed)."""

    fixed_class = PoolGrad

    def __init__(self, ignore_border: bool = False, ndim: int = 2, openmp: Any = None) -> None:
        super().__init__(None, ignore_border, mode="max", ndim=ndim)

    def make_node(self, x: Any, maxout: Any, gz: Any, ws: Any = None, stride: Any = None,
                  pad: Any = None) -> Apply:
        return super().make_node(x, gz, ws, stride, pad)


class AveragePoolGrad(PoolGrad):
    """Theano's ``AveragePoolGrad(ignore_border, mode='average_inc_pad', ndim=2)(x, gz, ws,
    stride=None, pad=None)``: :class:`PoolGrad` in an average or sum mode."""

    fixed_class = PoolGrad

    def __init__(self, ignore_border: bool = False, mode: str = "average_inc_pad",
                 ndim: int = 2, openmp: Any = None) -> None:
        if mode not in ("sum", "average_inc_pad", "average_exc_pad", "average"):
            raise ValueError(f"AveragePoolGrad: mode must be sum or an average, got {mode!r}")
        super().__init__(None, ignore_border, mode=mode, ndim=ndim)


class DownsampleFactorMaxGradGrad(_PoolBase):
    """The gradient of max pooling's gradient w.r.t. its ``gz`` (Theano's op of this name):
    inputs ``(x, maxout, ggx)`` (then ``ws, stride, pad`` in the symbolic form), ``ggx`` shaped
    like ``x``; output shaped like ``maxout``: for each window, the sum of ``ggx`` over the
    window's elements equal to its maximum (every tie).  Makes second derivatives and
    Hessian-vector products through max pooling work."""

    def make_node(self, x: Any, maxout: Any, ggx: Any, ws: Any = None, stride: Any = None,
                  pad: Any = None) -> Apply:
        x = self._check_x(x)
        maxout, ggx = as_tensor_variable(maxout), as_tensor_variable(ggx)
        if maxout.ndim != x.ndim or ggx.ndim != x.ndim:
            raise TypeError(f"{self}: x ({x.type}), maxout ({maxout.type}) and ggx "
                            f"({ggx.type}) must have the same rank")
        params = self._param_inputs(ws, stride, pad) if self.symbolic else []
        return Apply(self, [x, maxout, ggx] + params, [maxout.type()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        if self.symbolic:
            return self._fixed(*inputs[3:]).perform(node, inputs[:3], out)
        x, maxout, ggx = inputs
        nd = self.ndim
        xp, outs, _ = self._layout(x)
        if maxout.shape != x.shape[:-nd] + outs or ggx.shape != x.shape:
            raise ValueError(f"{self}: maxout {maxout.shape} / ggx {ggx.shape} do not fit x "
                             f"{x.shape} (pooled {x.shape[:-nd] + outs})")
        res = np.zeros(maxout.shape, dtype=np.result_type(ggx.dtype, x.dtype))
        if 0 not in outs:
            gp = np.zeros(xp.shape, dtype=ggx.dtype)
            gp[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(self.pad, x.shape[-nd:]))] \
                = ggx
            for t, gt in zip(self._taps(xp, outs), self._taps(gp, outs)):
                res += np.where(t == maxout, gt, 0)
        out[0][0] = res.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[1]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, maxout, ggx, params = inputs[0], inputs[1], inputs[2], inputs[3:]
        props = self._props_dict()
        # linear in ggx: its transpose routes the gradient to the maxima (PoolGrad, max mode)
        return ([T.zeros_like(x), T.zeros_like(maxout), PoolGrad(**props)(x, grads[0], *params)]
                + [disconnected_type() for _ in params])

    def connection_pattern(self, node: Any) -> list:
        n = len(node.inputs) - (3 if self.symbolic else 0)
        return [[True]] * n + [[False]] * (len(node.inputs) - n)

    def c_supports(self, node: Any) -> bool:
        return False


def _pool_nd(who: str, nd: int, input: Any, ws: Any, ignore_border: Any, stride: Any, pad: Any,
             mode: str) -> Any:
    if ws is None:
        raise TypeError(f"{who}: ws (the window shape) is required")
    if ignore_border is None:
        warnings.warn(f"{who}(): ignore_border was not given; as in Theano 1.0 it defaults to "
                      f"False (partial windows at the borders are pooled). Pass "
                      f"ignore_border=True or False explicitly to silence this warning.",
                      stacklevel=3)
        ignore_border = False
    static = [_static(v) for v in (ws, stride, pad)]
    if any(v is _SYMBOLIC for v in static):
        return Pool(ignore_border=bool(ignore_border), mode=mode, ndim=nd)(input, ws, stride, pad)
    ws, stride, pad = static
    return Pool(ws, ignore_border, stride, pad, mode, ndim=nd)(input)


def pool_2d(input: Any, ws: Any = None, ignore_border: bool | None = None, stride: Any = None,
            pad: Any = (0, 0), mode: str = "max", ds: Any = None, st: Any = None,
            padding: Any = None) -> Any:
    """Theano's ``pool_2d``: pool the last two axes of ``input`` (rank >= 2) with windows ``ws``.

    ``stride`` defaults to ``ws``; ``pad`` pads both sides (needs ``ignore_border=True``);
    ``mode`` is ``'max'``, ``'sum'``, ``'average_inc_pad'`` or ``'average_exc_pad'``.  ``ws``,
    ``stride`` and ``pad`` may be tuples of ints or symbolic int vectors (Theano allows both).
    ``ignore_border=None`` warns and means ``False``, as in Theano 1.0.  The old names
    ``ds``/``st``/``padding`` are accepted.  Returns ``input``'s dtype; the pooled length of an
    axis of size ``n`` is ``(n + 2*pad - ws) // stride + 1`` with ``ignore_border=True``.
    """
    ws = ws if ws is not None else ds
    stride = stride if stride is not None else st
    pad = padding if padding is not None else pad
    return _pool_nd("pool_2d", 2, input, ws, ignore_border, stride, pad, mode)


def pool_3d(input: Any, ws: Any = None, ignore_border: bool | None = None, stride: Any = None,
            pad: Any = (0, 0, 0), mode: str = "max", ds: Any = None, st: Any = None,
            padding: Any = None) -> Any:
    """Theano's ``pool_3d``: :func:`pool_2d` over the last three axes (rank >= 3)."""
    ws = ws if ws is not None else ds
    stride = stride if stride is not None else st
    pad = padding if padding is not None else pad
    return _pool_nd("pool_3d", 3, input, ws, ignore_border, stride, pad, mode)


def max_pool_2d(input: Any, ds: Any, ignore_border: bool | None = None, st: Any = None,
                padding: Any = (0, 0), mode: str = "max") -> Any:
    """The old name of :func:`pool_2d` (``ds``/``st``/``padding`` arguments)."""
    return _pool_nd("max_pool_2d", 2, input, ds, ignore_border, st, padding, mode)


def max_pool_3d(input: Any, ds: Any, ignore_border: bool | None = None, st: Any = None,
                padding: Any = (0, 0, 0), mode: str = "max") -> Any:
    """The 3-d counterpart of :func:`max_pool_2d`: :func:`pool_3d` with the old argument names."""
    return _pool_nd("max_pool_3d", 3, input, ds, ignore_border, st, padding, mode)


def max_pool_2d_same_size(input: Any, patch_size: Any) -> Any:
    """Keep each window's maximum in place and zero the rest (Theano's helper)."""
    x = as_tensor_variable(input)
    pooled = Pool(patch_size, True)(x)
    return PoolGrad(patch_size, True, None, (0, 0), "max")(x, pooled)
