"""2-d convolution (Theano's ``conv2d``) through im2col + one GEMM per group, and its gradients.

Layouts are Theano's: input ``(batch, channels, rows, cols)``, filters
``(out_channels, channels // num_groups, frows, fcols)``.  ``filter_flip=True`` (the default) is a
true convolution (the filters are flipped), ``False`` a cross-correlation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

__all__ = ["Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "conv2d", "conv2d_grad_wrt_inputs",
           "conv2d_grad_wrt_weights"]


def _pair(v: Any, what: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(e) for e in v)
    if len(v) != 2:
        raise ValueError(f"conv2d: {what} must be an int or a pair, got {v}")
    return v


def _norm_border(mode: Any) -> Any:
    if isinstance(mode, str):
        if mode not in ("valid", "full", "half"):
            raise ValueError(f"conv2d: border_mode must be 'valid', 'full', 'half', an int or a "
                             f"pair of ints, got {mode!r}")
        return mode
    pad = _pair(mode, "border_mode")
    if min(pad) < 0:
        raise ValueError(f"conv2d: padding must be >= 0, got {pad}")
    return pad


def _padding(mode: Any, fshape: tuple, dil: tuple) -> tuple[int, int]:
    dk = [(f - 1) * d + 1 for f, d in zip(fshape, dil)]
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return dk[0] - 1, dk[1] - 1
    if mode == "half":
        return dk[0] // 2, dk[1] // 2
    return mode


def _out_len(n: int, f: int, pad: int, st: int, dil: int) -> int:
    return (n + 2 * pad - ((f - 1) * dil + 1)) // st + 1


def _windows(xp: np.ndarray, fh: int, fw: int, oh: int, ow: int, st: tuple, dil: tuple):
    """A read-only view (b, c, fh, fw, oh, ow) of the padded input: the im2col columns."""
    sb, sc, sh, sw = xp.strides
    shape = (xp.shape[0], xp.shape[1], fh, fw, oh, ow)
    strides = (sb, sc, sh * dil[0], sw * dil[1], sh * st[0], sw * st[1])
    return as_strided(xp, shape, strides, writeable=False)


class _ConvBase(Op):
    __props__ = ("border_mode", "subsample", "filter_dilation", "num_groups", "filter_flip")

    def __init__(self, border_mode: Any = "valid", subsample: Any = (1, 1),
                 filter_dilation: Any = (1, 1), num_groups: int = 1,
                 filter_flip: bool = True) -> None:
        self.border_mode = _norm_border(border_mode)
        self.subsample = _pair(subsample, "subsample")
        self.filter_dilation = _pair(filter_dilation, "filter_dilation")
        self.num_groups = int(num_groups)
        self.filter_flip = bool(filter_flip)
        if min(self.subsample) < 1 or min(self.filter_dilation) < 1 or self.num_groups < 1:
            raise ValueError(f"{type(self).__name__}: subsample, filter_dilation and num_groups "
                             f"must be >= 1, got {self.subsample}, {self.filter_dilation}, "
                             f"{self.num_groups}")

    def _params(self) -> dict:
        return self._props_dict()

    def _geometry(self, xshape: tuple, wshape: tuple) -> tuple:
        b, c, h, w = xshape
        k, cg, fh, fw = wshape
        g = self.num_groups
        if c != cg * g or k % g:
            raise ValueError(f"{self}: input has {c} channels and filters {wshape}: with "
                             f"num_groups={g} expected filters of shape (k, {c // g if g else c},"
                             f" fh, fw) with k divisible by {g}")
        ph, pw = _padding(self.border_mode, (fh, fw), self.filter_dilation)
        oh = _out_len(h, fh, ph, self.subsample[0], self.filter_dilation[0])
        ow = _out_len(w, fw, pw, self.subsample[1], self.filter_dilation[1])
        if oh < 1 or ow < 1:
            raise ValueError(f"{self}: the filters {wshape[2:]} (dilation "
                             f"{self.filter_dilation}) do not fit the input {xshape[2:]} with "
                             f"padding {(ph, pw)}")
        return (ph, pw), (oh, ow)

    def _sym_out_len(self, n: Any, f: Any, axis: int) -> Any:
        dil, st = self.filter_dilation[axis], self.subsample[axis]
        dk = (f - 1) * dil + 1
        if self.border_mode == "valid":
            span = n - dk
        elif self.border_mode == "full":
            span = n + dk - 2
        elif self.border_mode == "half":
            span = n + 2 * (dk // 2) - dk
        else:
            span = n + 2 * self.border_mode[axis] - dk
        return span // st + 1

    def _weights(self, w: np.ndarray) -> np.ndarray:
        return w[:, :, ::-1, ::-1] if self.filter_flip else w

    def _cols(self, x: np.ndarray, pad: tuple, fh: int, fw: int, oshape: tuple) -> np.ndarray:
        ph, pw = pad
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        return _windows(xp, fh, fw, oshape[0], oshape[1], self.subsample, self.filter_dilation)

    # Layout: the columns of one group are (b, cg*fh*fw, oh*ow), so each GEMM is a batched
    # ``(kg, K) @ (K, P)`` whose result is already in (b, k, oh, ow) order (no transposing copy
    # of the output), and the im2col copy reads runs of ``ow`` contiguous input elements.

    def _forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The convolution of ``x`` (b, c, h, w) with ``w`` (k, c/g, fh, fw) as GEMMs."""
        pad, (oh, ow) = self._geometry(x.shape, w.shape)
        b = x.shape[0]
        k, cg, fh, fw = w.shape
        g, kg, kk, pp = self.num_groups, k // self.num_groups, cg * fh * fw, oh * ow
        cols = self._cols(x, pad, fh, fw, (oh, ow))
        wk = self._weights(w)
        out = np.empty((b, k, pp), dtype=np.result_type(x.dtype, w.dtype))
        for gi in range(g):
            mat = cols[:, gi * cg:(gi + 1) * cg].reshape(b, kk, pp)  # the im2col copy
            wm = wk[gi * kg:(gi + 1) * kg].reshape(kg, kk)
            np.matmul(wm, mat, out=out[:, gi * kg:(gi + 1) * kg])
        return out.reshape(b, k, oh, ow)

    def _grad_weights(self, x: np.ndarray, dy: np.ndarray, fshape: tuple) -> np.ndarray:
        k, cg, fh, fw = fshape
        pad, (oh, ow) = self._geometry(x.shape, fshape)
        if dy.shape != (x.shape[0], k, oh, ow):
            raise ValueError(f"{self}: output gradient has shape {dy.shape}, expected "
                             f"{(x.shape[0], k, oh, ow)}")
        b = x.shape[0]
        g, kg, kk, pp = self.num_groups, k // self.num_groups, cg * fh * fw, oh * ow
        cols = self._cols(x, pad, fh, fw, (oh, ow))
        dw = np.empty((k, kk), dtype=np.result_type(x.dtype, dy.dtype))
        for gi in range(g):
            mat = cols[:, gi * cg:(gi + 1) * cg].reshape(b, kk, pp)
            dym = dy[:, gi * kg:(gi + 1) * kg].reshape(b, kg, pp)
            # one small GEMM per image, then the sum over the batch
            np.sum(np.matmul(dym, mat.transpose(0, 2, 1)), axis=0, out=dw[gi * kg:(gi + 1) * kg])
        return self._weights(dw.reshape(fshape))

    def _grad_inputs(self, w: np.ndarray, dy: np.ndarray, ishape: tuple) -> np.ndarray:
        b, c, h, wd = ishape
        k, cg, fh, fw = w.shape
        (ph, pw), (oh, ow) = self._geometry(ishape, w.shape)
        if dy.shape != (b, k, oh, ow):
            raise ValueError(f"{self}: output gradient has shape {dy.shape}, expected "
                             f"{(b, k, oh, ow)}")
        g, kg, kk, pp = self.num_groups, k // self.num_groups, cg * fh * fw, oh * ow
        wk = self._weights(w)
        sh, sw = self.subsample
        dh, dw_ = self.filter_dilation
        dt = np.result_type(w.dtype, dy.dtype)
        hp = max(h + 2 * ph, (fh - 1) * dh + (oh - 1) * sh + 1)
        wp = max(wd + 2 * pw, (fw - 1) * dw_ + (ow - 1) * sw + 1)
        dxp = np.zeros((b, c, hp, wp), dtype=dt)
        for gi in range(g):
            dym = dy[:, gi * kg:(gi + 1) * kg].reshape(b, kg, pp)
            wm = wk[gi * kg:(gi + 1) * kg].reshape(kg, kk)
            dcols = np.matmul(wm.T, dym).reshape(b, cg, fh, fw, oh, ow)
            target = dxp[:, gi * cg:(gi + 1) * cg]
            # col2im: one strided slice add per kernel tap (fh*fw of them)
            for i in range(fh):
                r0 = i * dh
                rows = slice(r0, r0 + sh * (oh - 1) + 1, sh)
                for j in range(fw):
                    c0 = j * dw_
                    target[:, :, rows, c0:c0 + sw * (ow - 1) + 1:sw] += dcols[:, :, i, j]
        return dxp[:, :, ph:ph + h, pw:pw + wd]

    def _check_float(self, *vs: Any) -> list:
        out = []
        for v in vs:
            v = as_tensor_variable(v)
            if v.ndim != 4:
                raise TypeError(f"{type(self).__name__}: expected 4-d tensors, got {v} "
                                f"({v.type})")
            if v.dtype not in ("float16", "float32", "float64"):
                v = T.cast(v, "float64")
            out.append(v)
        return out


class Conv2d(_ConvBase):
    """``conv2d(input, filters)`` as an op; see :func:`conv2d`."""

    def make_node(self, x: Any, w: Any) -> Apply:
        x, w = self._check_float(x, w)
        dt = np.result_type(x.dtype, w.dtype).name
        return Apply(self, [x, w], [T.TensorType(dt, shape=(None,) * 4)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, w = inputs
        out[0][0] = self._forward(x, w).astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        xs, ws = shapes
        return [(xs[0], ws[0], self._sym_out_len(xs[2], ws[2], 0),
                 self._sym_out_len(xs[3], ws[3], 1))]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, w = inputs
        (g,) = grads
        p = self._params()
        gx = Conv2dGradInputs(**p)(w, g, x.shape[2:])
        gw = Conv2dGradWeights(**p)(x, g, w.shape[2:])
        return [T.cast(gx, x.dtype), T.cast(gw, w.dtype)]


class Conv2dGradWeights(_ConvBase):
    """The gradient of :class:`Conv2d` w.r.t. the filters: inputs ``(input, dy, (fh, fw))``."""

    def make_node(self, x: Any, dy: Any, fshape: Any) -> Apply:
        x, dy = self._check_float(x, dy)
        fshape = T.cast(as_tensor_variable(fshape), "int64")
        dt = np.result_type(x.dtype, dy.dtype).name
        return Apply(self, [x, dy, fshape], [T.TensorType(dt, shape=(None,) * 4)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, dy, fs = inputs
        fshape = (dy.shape[1], x.shape[1] // self.num_groups, int(fs[0]), int(fs[1]))
        out[0][0] = self._grad_weights(x, dy, fshape).astype(node.outputs[0].type.dtype,
                                                             copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        x, dy, fs = node.inputs
        return [(shapes[1][1], shapes[0][1] // self.num_groups, fs[0], fs[1])]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        from opcore.graph.null import disconnected_type

        x, dy, fs = inputs
        (g,) = grads
        p = self._params()
        gx = Conv2dGradInputs(**p)(g, dy, x.shape[2:])
        gdy = Conv2d(**p)(x, g)
        return [T.cast(gx, x.dtype), T.cast(gdy, dy.dtype), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [False]]


class Conv2dGradInputs(_ConvBase):
    """The gradient of :class:`Conv2d` w.r.t. its input: inputs ``(filters, dy, (h, w))``."""

    def make_node(self, w: Any, dy: Any, ishape: Any) -> Apply:
        w, dy = self._check_float(w, dy)
        ishape = T.cast(as_tensor_variable(ishape), "int64")
        dt = np.result_type(w.dtype, dy.dtype).name
        return Apply(self, [w, dy, ishape], [T.TensorType(dt, shape=(None,) * 4)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        w, dy, ish = inputs
        ishape = (dy.shape[0], w.shape[1] * self.num_groups, int(ish[0]), int(ish[1]))
        out[0][0] = self._grad_inputs(w, dy, ishape).astype(node.outputs[0].type.dtype,
                                                            copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        w, dy, ish = node.inputs
        return [(shapes[1][0], shapes[0][1] * self.num_groups, ish[0], ish[1])]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        from opcore.graph.null import disconnected_type

        w, dy, ish = inputs
        (g,) = grads
        p = self._params()
        gw = Conv2dGradWeights(**p)(g, dy, w.shape[2:])
        gdy = Conv2d(**p)(g, w)
        return [T.cast(gw, w.dtype), T.cast(gdy, dy.dtype), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [False]]


def conv2d(input: Any, filters: Any, input_shape: Any = None, filter_shape: Any = None,
           border_mode: Any = "valid", subsample: Any = (1, 1), filter_flip: bool = True,
           image_shape: Any = None, filter_dilation: Any = (1, 1), num_groups: int = 1,
           **kwargs: Any) -> Any:
    """Theano's ``T.nnet.conv2d``: a batch of multi-channel 2-d convolutions.

    ``border_mode``: ``'valid'``, ``'full'``, ``'half'``, an int or an ``(rows, cols)`` padding;
    ``subsample``: strides; ``filter_dilation``: dilation; ``num_groups``: grouped convolution;
    ``filter_flip``: flip the filters (a true convolution, Theano's default).  ``input_shape``
    and ``filter_shape`` are accepted for compatibility (shapes are read at run time).
    """
    if kwargs:
        raise TypeError(f"conv2d: unexpected arguments {sorted(kwargs)}")
    return Conv2d(border_mode, subsample, filter_dilation, num_groups, filter_flip)(input, filters)


def conv2d_grad_wrt_inputs(output_grad: Any, filters: Any, input_shape: Any,
                           filter_shape: Any = None, border_mode: Any = "valid",
                           subsample: Any = (1, 1), filter_flip: bool = True,
                           filter_dilation: Any = (1, 1), num_groups: int = 1) -> Any:
    """The transposed convolution; ``input_shape`` is the full 4-d shape (or its last two)."""
    shp = as_tensor_variable(input_shape) if not isinstance(input_shape, (tuple, list)) else \
        T.as_tensor_variable(list(input_shape)[-2:])
    if shp.ndim == 1 and not isinstance(input_shape, (tuple, list)):
        shp = shp[-2:]
    op = Conv2dGradInputs(border_mode, subsample, filter_dilation, num_groups, filter_flip)
    return op(filters, output_grad, shp)


def conv2d_grad_wrt_weights(input: Any, output_grad: Any, filter_shape: Any,
                            input_shape: Any = None, border_mode: Any = "valid",
                            subsample: Any = (1, 1), filter_flip: bool = True,
                            filter_dilation: Any = (1, 1), num_groups: int = 1) -> Any:
    """The gradient of ``conv2d`` w.r.t. filters of shape ``filter_shape`` (4-d or its last two)."""
    shp = T.as_tensor_variable(list(filter_shape)[-2:]) if isinstance(filter_shape, (tuple, list)) \
        else as_tensor_variable(filter_shape)[-2:]
    op = Conv2dGradWeights(border_mode, subsample, filter_dilation, num_groups, filter_flip)
    return op(input, output_grad, shp)
