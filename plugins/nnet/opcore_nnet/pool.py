"""2-d pooling over the last two axes (Theano's ``pool_2d``) and its gradient.

Modes: ``'max'``, ``'sum'``, ``'average_inc_pad'`` (the padding counts in the divisor) and
``'average_exc_pad'`` (it does not).  Windows are strided views of the (padded) input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

from opcore_nnet import ccode

__all__ = ["Pool", "PoolGrad", "pool_2d", "max_pool_2d_same_size"]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _pair(v: Any, what: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(e) for e in v)
    if len(v) != 2:
        raise ValueError(f"pool_2d: {what} must be a pair of ints, got {v}")
    return v


def _out_len(r: int, ws: int, st: int, pad: int, ignore_border: bool) -> int:
    r = r + 2 * pad
    if ignore_border:
        return max((r - ws) // st + 1, 0)
    if st >= ws:
        return (r - 1) // st + 1
    return max(0, (r - 1 - ws + st) // st) + 1


class _PoolBase(Op):
    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")

    def __init__(self, ws: Any, ignore_border: bool = True, stride: Any = None,
                 pad: Any = (0, 0), mode: str = "max") -> None:
        self.ws = _pair(ws, "ws")
        self.stride = self.ws if stride is None else _pair(stride, "stride")
        self.pad = _pair(pad, "pad")
        self.ignore_border = bool(ignore_border)
        if mode == "average":
            mode = "average_inc_pad"
        if mode not in MODES:
            raise ValueError(f"pool_2d: mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        if min(self.ws) < 1 or min(self.stride) < 1:
            raise ValueError(f"pool_2d: ws and stride must be >= 1, got {self.ws}, {self.stride}")
        if any(self.pad):
            if not self.ignore_border:
                raise NotImplementedError("pool_2d: padding needs ignore_border=True")
            if self.pad[0] >= self.ws[0] or self.pad[1] >= self.ws[1]:
                raise ValueError(f"pool_2d: pad {self.pad} must be smaller than ws {self.ws}")

    def out_shape(self, r: int, c: int) -> tuple[int, int]:
        return (_out_len(r, self.ws[0], self.stride[0], self.pad[0], self.ignore_border),
                _out_len(c, self.ws[1], self.stride[1], self.pad[1], self.ignore_border))

    def _layout(self, x: np.ndarray) -> tuple:
        """(padded input, window view (..., nr, nc, ws0, ws1), out shape, valid-count array)."""
        r, c = x.shape[-2:]
        nr, nc = self.out_shape(r, c)
        (p0, p1), (s0, s1), (w0, w1) = self.pad, self.stride, self.ws
        need_r = max((nr - 1) * s0 + w0, r + 2 * p0) if nr else r + 2 * p0
        need_c = max((nc - 1) * s1 + w1, c + 2 * p1) if nc else c + 2 * p1
        fill = 0
        if self.mode == "max":
            fill = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
        lead = [(0, 0)] * (x.ndim - 2)
        xp = np.pad(x, lead + [(p0, need_r - r - p0), (p1, need_c - c - p1)],
                    constant_values=fill) if (need_r, need_c) != (r, c) else x
        win = self._view(xp, nr, nc)
        counts = None
        if self.mode.startswith("average"):
            mask = np.zeros((need_r, need_c))
            if self.mode == "average_inc_pad":
                mask[:r + 2 * p0, :c + 2 * p1] = 1
            else:
                mask[p0:p0 + r, p1:p1 + c] = 1
            counts = self._view(mask, nr, nc).sum(axis=(-1, -2))
        return xp, win, (nr, nc), counts

    def _view(self, a: np.ndarray, nr: int, nc: int) -> np.ndarray:
        st = a.strides
        shape = a.shape[:-2] + (nr, nc) + self.ws
        strides = st[:-2] + (st[-2] * self.stride[0], st[-1] * self.stride[1]) + st[-2:]
        return as_strided(a, shape, strides, writeable=False)

    def _taps(self, a: np.ndarray, nr: int, nc: int):
        """Yield, for each window offset (i, j), the strided view ``a[..., i::s0, j::s1]`` of
        shape (..., nr, nc): the loop runs ws0*ws1 times, each step one vectorised operation."""
        (s0, s1), (w0, w1) = self.stride, self.ws
        for i in range(w0):
            rows = slice(i, i + s0 * (nr - 1) + 1, s0)
            for j in range(w1):
                yield a[..., rows, j:j + s1 * (nc - 1) + 1:s1]

    def _pool(self, xp: np.ndarray, nr: int, nc: int, dtype: Any) -> np.ndarray:
        """Max or sum over each window of the padded input (no division)."""
        if nr == 0 or nc == 0:
            return np.zeros(xp.shape[:-2] + (nr, nc), dtype=dtype)
        taps = self._taps(xp, nr, nc)
        res = np.array(next(taps), dtype=xp.dtype if self.mode == "max" else dtype)
        combine = np.maximum if self.mode == "max" else np.add
        for t in taps:
            combine(res, t, out=res)
        return res

    # Theano C protocol (compiled by the cpu_c backend): float32/float64, one dtype throughout;
    # any rank >= 2 and any strides (the input is made contiguous first).

    def c_supports(self, node: Any) -> bool:
        dts = {v.dtype for v in node.inputs + node.outputs}
        return len(dts) == 1 and dts <= {"float32", "float64"}

    def c_support_code(self, *args: Any) -> str:
        return ccode.POOL_SUPPORT

    def c_headers(self, *args: Any) -> list[str]:
        return list(ccode.HEADERS)  # oc_alloc: the documented helpers of opcore.cbuild

    def c_code_cache_version(self) -> tuple:
        return (5,)

    def _check_x(self, x: Any) -> Any:
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"{self}: the input must have at least 2 dimensions, got {x.type}")
        return x


class Pool(_PoolBase):
    """``pool_2d`` as an op: pools the last two axes of an input of rank >= 2."""

    def make_node(self, x: Any) -> Apply:
        x = self._check_x(x)
        return Apply(self, [x], [T.TensorType(x.dtype, shape=x.type.shape[:-2] + (None, None))()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        (x,) = inputs
        xp, _, (nr, nc), counts = self._layout(x)
        res = self._pool(xp, nr, nc, x.dtype)
        if counts is not None:
            res = res / counts
        out[0][0] = np.asarray(res, dtype=x.dtype)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        (xs,) = shapes
        r, c = xs[-2], xs[-1]
        out = []
        for n, ws, st, p in ((r, self.ws[0], self.stride[0], self.pad[0]),
                             (c, self.ws[1], self.stride[1], self.pad[1])):
            n = n + 2 * p
            if self.ignore_border:
                out.append(T.maximum((n - ws) // st + 1, 0))
            elif st >= ws:
                out.append((n - 1) // st + 1)
            else:
                out.append(T.maximum(0, (n - 1 - ws + st) // st) + 1)
        return [tuple(xs[:-2]) + tuple(out)]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        (x,) = inputs
        return [PoolGrad(**self._props_dict())(x, grads[0])]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.pool_c(self, inames[0], onames[0], node.inputs[0].dtype, sub["fail"])


class PoolGrad(_PoolBase):
    """The gradient of :class:`Pool`: inputs ``(x, gz)``; max mode routes ``gz`` to each window's
    maximum (to every tied maximum, as Theano does), average modes spread it evenly."""

    def make_node(self, x: Any, gz: Any) -> Apply:
        x, gz = self._check_x(x), as_tensor_variable(gz)
        if gz.ndim != x.ndim:
            raise TypeError(f"{self}: gz ({gz.type}) and x ({x.type}) differ in rank")
        return Apply(self, [x, gz], [x.type()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, gz = inputs
        xp, _, (nr, nc), counts = self._layout(x)
        if gz.shape != x.shape[:-2] + (nr, nc):
            raise ValueError(f"{self}: gz has shape {gz.shape}, expected "
                             f"{x.shape[:-2] + (nr, nc)}")
        dt = np.result_type(x.dtype, gz.dtype)
        g = gz if self.mode == "max" or counts is None else gz / counts
        if self.stride == self.ws and nr and nc:
            gxp = self._grad_tiled(xp, g, nr, nc, dt)
        else:
            gxp = np.zeros(xp.shape, dtype=dt)
            if nr and nc and self.mode == "max":
                mx = self._pool(xp, nr, nc, x.dtype)
                for t, gt in zip(self._taps(xp, nr, nc), self._taps(gxp, nr, nc)):
                    # every tied maximum of a window receives the window's gradient
                    gt += np.where(t == mx, g, 0)
            elif nr and nc:
                for gt in self._taps(gxp, nr, nc):
                    gt += g
        r, c = x.shape[-2:]
        p0, p1 = self.pad
        out[0][0] = np.ascontiguousarray(gxp[..., p0:p0 + r, p1:p1 + c], dtype=x.dtype)

    def _grad_tiled(self, xp: np.ndarray, g: np.ndarray, nr: int, nc: int, dt: Any) -> np.ndarray:
        """Non-overlapping windows (stride == ws): the windows tile the top-left
        (nr*ws0, nc*ws1) corner, seen as (..., nr, ws0, nc, ws1), so the gradient is one pass."""
        (w0, w1), lead = self.ws, xp.shape[:-2]
        g6 = g[..., :, None, :, None]
        if self.mode == "max":
            x6 = xp[..., :nr * w0, :nc * w1].reshape(lead + (nr, w0, nc, w1))
            mx = self._pool(xp, nr, nc, xp.dtype)[..., :, None, :, None]
            part = np.where(x6 == mx, g6, 0).astype(dt, copy=False)
        else:
            part = np.broadcast_to(g6, lead + (nr, w0, nc, w1)).astype(dt)
        part = part.reshape(lead + (nr * w0, nc * w1))
        if part.shape == xp.shape:
            return part
        gxp = np.zeros(xp.shape, dtype=dt)
        gxp[..., :nr * w0, :nc * w1] = part
        return gxp

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[0]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, gz = inputs
        (g,) = grads
        if self.mode == "max":
            from opcore.graph.null import grad_not_implemented

            return [T.zeros_like(x), grad_not_implemented(self, 1, gz, "second derivative of "
                                                          "max pooling")]
        # the average/sum gradient is linear in gz: its transpose is the pooling itself
        return [T.zeros_like(x), Pool(**self._props_dict())(g)]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.pool_grad_c(self, inames[0], inames[1], onames[0], node.inputs[0].dtype,
                                 sub["fail"])


def pool_2d(input: Any, ws: Any = None, ignore_border: bool | None = None, stride: Any = None,
            pad: Any = (0, 0), mode: str = "max", ds: Any = None, st: Any = None,
            padding: Any = None) -> Any:
    """Theano's ``pool_2d``: pool the last two axes of ``input`` with windows ``ws``.

    ``stride`` defaults to ``ws``; ``pad`` pads both sides (needs ``ignore_border=True``);
    ``mode`` is ``'max'``, ``'sum'``, ``'average_inc_pad'`` or ``'average_exc_pad'``.  The old
    names ``ds``/``st``/``padding`` are accepted.
    """
    ws = ws if ws is not None else ds
    if ws is None:
        raise TypeError("pool_2d: ws (the window shape) is required")
    stride = stride if stride is not None else st
    pad = padding if padding is not None else pad
    if ignore_border is None:
        ignore_border = True
    return Pool(ws, ignore_border, stride, pad, mode)(input)


def max_pool_2d_same_size(input: Any, patch_size: Any) -> Any:
    """Keep each window's maximum in place and zero the rest (Theano's helper)."""
    x = as_tensor_variable(input)
    pooled = pool_2d(x, patch_size, ignore_border=True)
    return PoolGrad(patch_size, True, None, (0, 0), "max")(x, pooled)
