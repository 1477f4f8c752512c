"""2-d and 3-d convolution (Theano's ``conv2d`` / ``conv3d``) through im2col + one GEMM per group,
and their gradients.

Layouts are Theano's: input ``(batch, channels, *spatial)``, filters
``(out_channels, channels // num_groups, *filter_spatial)`` with two spatial axes (rows, cols) for
the 2-d ops and three (depth, rows, cols) for the 3-d ones.  ``filter_flip=True`` (the default) is
a true convolution (the filters are flipped along every spatial axis), ``False`` a
cross-correlation.  One implementation serves both ranks: the class attribute ``convdim`` says how
many trailing axes are spatial.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

__all__ = ["Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "Conv3d", "Conv3dGradInputs",
           "Conv3dGradWeights", "conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights",
           "conv3d", "conv3d_grad_wrt_inputs", "conv3d_grad_wrt_weights"]


def _ntuple(v: Any, n: int, what: str, who: str = "conv") -> tuple[int, ...]:
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(e) for e in v)
    if len(v) != n:
        raise ValueError(f"{who}: {what} must be an int or {n} ints, got {v}")
    return v


def _norm_border(mode: Any, n: int, who: str) -> Any:
    """``'valid'``/``'full'``/``'half'``, or per axis an int or a ``(before, after)`` pair.

    Symmetric paddings become a tuple of ints; a tuple with any asymmetric axis keeps a
    ``(before, after)`` pair for every axis."""
    bad = (f"{who}: border_mode must be 'valid', 'full', 'half', an int, or {n} entries each "
           f"an int or a (before, after) pair of ints, got {mode!r}")
    if isinstance(mode, str):
        if mode not in ("valid", "full", "half"):
            raise ValueError(bad)
        return mode
    if isinstance(mode, (int, np.integer)):
        mode = (mode,) * n
    try:
        pairs = [(int(e), int(e)) if isinstance(e, (int, np.integer)) else
                 tuple(int(v) for v in e) for e in mode]
    except TypeError:
        raise ValueError(bad) from None
    if len(pairs) != n or any(len(p) != 2 for p in pairs):
        raise ValueError(bad)
    if min(min(p) for p in pairs) < 0:
        raise ValueError(f"{who}: padding must be >= 0, got {mode!r}")
    if all(lo == hi for lo, hi in pairs):
        return tuple(lo for lo, _ in pairs)
    return tuple(pairs)


def _padding(mode: Any, fshape: tuple, dil: tuple) -> tuple[tuple[int, int], ...]:
    """The (before, after) padding of each spatial axis."""
    dk = [(f - 1) * d + 1 for f, d in zip(fshape, dil)]
    if mode == "valid":
        return ((0, 0),) * len(dk)
    if mode == "full":
        return tuple((k - 1, k - 1) for k in dk)
    if mode == "half":
        return tuple((k // 2, k // 2) for k in dk)
    return tuple(p if isinstance(p, tuple) else (p, p) for p in mode)


def _out_len(n: int, f: int, pad: tuple, st: int, dil: int) -> int:
    return (n + pad[0] + pad[1] - ((f - 1) * dil + 1)) // st + 1


def _windows(xp: np.ndarray, fshape: tuple, oshape: tuple, st: tuple, dil: tuple) -> np.ndarray:
    """A read-only view (b, c, *fshape, *oshape) of the padded input: the im2col columns."""
    sb, sc, *ss = xp.strides
    shape = xp.shape[:2] + tuple(fshape) + tuple(oshape)
    strides = ((sb, sc) + tuple(s * d for s, d in zip(ss, dil))
               + tuple(s * t for s, t in zip(ss, st)))
    return as_strided(xp, shape, strides, writeable=False)


class _ConvBase(Op):
    """Shared geometry and NumPy kernels; ``convdim`` (2 or 3) is the number of spatial axes."""

    __props__ = ("border_mode", "subsample", "filter_dilation", "num_groups", "filter_flip")
    convdim = 2
    #: the (forward, gradInputs, gradWeights) op classes of this rank, set below
    family: tuple = ()

    def __init__(self, border_mode: Any = "valid", subsample: Any = None,
                 filter_dilation: Any = None, num_groups: int = 1,
                 filter_flip: bool = True) -> None:
        n, who = self.convdim, type(self).__name__
        self.border_mode = _norm_border(border_mode, n, who)
        self.subsample = _ntuple(1 if subsample is None else subsample, n, "subsample", who)
        self.filter_dilation = _ntuple(1 if filter_dilation is None else filter_dilation, n,
                                       "filter_dilation", who)
        self.num_groups = int(num_groups)
        self.filter_flip = bool(filter_flip)
        if min(self.subsample) < 1 or min(self.filter_dilation) < 1 or self.num_groups < 1:
            raise ValueError(f"{who}: subsample, filter_dilation and num_groups must be >= 1, "
                             f"got {self.subsample}, {self.filter_dilation}, {self.num_groups}")

    def _params(self) -> dict:
        return self._props_dict()

    def _geometry(self, xshape: tuple, wshape: tuple) -> tuple:
        c, k, cg, g = xshape[1], wshape[0], wshape[1], self.num_groups
        if c != cg * g or k % g:
            raise ValueError(f"{self}: input has {c} channels and filters {wshape}: with "
                             f"num_groups={g} expected filters of shape (k, {c // g if g else c},"
                             f" ...) with k divisible by {g}")
        fshape = wshape[2:]
        pad = _padding(self.border_mode, fshape, self.filter_dilation)
        oshape = tuple(_out_len(n, f, p, s, d) for n, f, p, s, d in
                       zip(xshape[2:], fshape, pad, self.subsample, self.filter_dilation))
        if min(oshape) < 1:
            raise ValueError(f"{self}: the filters {fshape} (dilation {self.filter_dilation}) do "
                             f"not fit the input {xshape[2:]} with padding {pad}")
        return pad, oshape

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
            p = self.border_mode[axis]
            span = n + (p[0] + p[1] if isinstance(p, tuple) else 2 * p) - dk
        return span // st + 1

    def _weights(self, w: np.ndarray) -> np.ndarray:
        return w[(slice(None),) * 2 + (slice(None, None, -1),) * self.convdim] \
            if self.filter_flip else w

    def _cols(self, x: np.ndarray, pad: tuple, fshape: tuple, oshape: tuple) -> np.ndarray:
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pad)) if any(map(any, pad)) else x
        return _windows(xp, fshape, oshape, self.subsample, self.filter_dilation)

    # Layout: the columns of one group are (b, cg*prod(f), prod(o)), so each GEMM is a batched
    # ``(kg, K) @ (K, P)`` whose result is already in (b, k, *o) order (no transposing copy of
    # the output), and the im2col copy reads runs of o[-1] contiguous input elements.

    def _forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The convolution of ``x`` (b, c, *s) with ``w`` (k, c/g, *f) as GEMMs."""
        pad, oshape = self._geometry(x.shape, w.shape)
        b, (k, cg), fshape = x.shape[0], w.shape[:2], w.shape[2:]
        g = self.num_groups
        kg, kk, pp = k // g, cg * math.prod(fshape), math.prod(oshape)
        cols = self._cols(x, pad, fshape, oshape)
        wk = self._weights(w)
        out = np.empty((b, k, pp), dtype=np.result_type(x.dtype, w.dtype))
        for gi in range(g):
            mat = cols[:, gi * cg:(gi + 1) * cg].reshape(b, kk, pp)  # the im2col copy
            wm = wk[gi * kg:(gi + 1) * kg].reshape(kg, kk)
            np.matmul(wm, mat, out=out[:, gi * kg:(gi + 1) * kg])
        return out.reshape((b, k) + oshape)

    def _check_dy(self, dy: np.ndarray, expected: tuple) -> None:
        if dy.shape != expected:
            raise ValueError(f"{self}: output gradient has shape {dy.shape}, expected {expected}")

    def _grad_weights(self, x: np.ndarray, dy: np.ndarray, fshape: tuple) -> np.ndarray:
        k, cg, sp = fshape[0], fshape[1], tuple(fshape[2:])
        pad, oshape = self._geometry(x.shape, fshape)
        b = x.shape[0]
        self._check_dy(dy, (b, k) + oshape)
        g = self.num_groups
        kg, kk, pp = k // g, cg * math.prod(sp), math.prod(oshape)
        cols = self._cols(x, pad, sp, oshape)
        dw = np.empty((k, kk), dtype=np.result_type(x.dtype, dy.dtype))
        for gi in range(g):
            mat = cols[:, gi * cg:(gi + 1) * cg].reshape(b, kk, pp)
            dym = dy[:, gi * kg:(gi + 1) * kg].reshape(b, kg, pp)
            # one small GEMM per image, then the sum over the batch
            np.sum(np.matmul(dym, mat.transpose(0, 2, 1)), axis=0, out=dw[gi * kg:(gi + 1) * kg])
        return self._weights(dw.reshape(fshape))

    def _grad_inputs(self, w: np.ndarray, dy: np.ndarray, ishape: tuple) -> np.ndarray:
        b, c, sp = ishape[0], ishape[1], tuple(ishape[2:])
        (k, cg), fshape = w.shape[:2], w.shape[2:]
        pad, oshape = self._geometry(ishape, w.shape)
        self._check_dy(dy, (b, k) + oshape)
        g = self.num_groups
        kg, kk, pp = k // g, cg * math.prod(fshape), math.prod(oshape)
        wk = self._weights(w)
        st, dil = self.subsample, self.filter_dilation
        padded = tuple(max(n + p[0] + p[1], (f - 1) * d + (o - 1) * s + 1)
                       for n, p, f, d, o, s in zip(sp, pad, fshape, dil, oshape, st))
        dxp = np.zeros((b, c) + padded, dtype=np.result_type(w.dtype, dy.dtype))
        lead = (slice(None), slice(None))
        for gi in range(g):
            dym = dy[:, gi * kg:(gi + 1) * kg].reshape(b, kg, pp)
            wm = wk[gi * kg:(gi + 1) * kg].reshape(kg, kk)
            dcols = np.matmul(wm.T, dym).reshape((b, cg) + tuple(fshape) + oshape)
            target = dxp[:, gi * cg:(gi + 1) * cg]
            # col2im: one strided slice add per filter tap (prod(fshape) of them)
            for tap in itertools.product(*(range(f) for f in fshape)):
                where = tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                              for t, d, s, o in zip(tap, dil, st, oshape))
                target[lead + where] += dcols[lead + tap]
        return dxp[lead + tuple(slice(p[0], p[0] + n) for p, n in zip(pad, sp))]

    def _check_float(self, *vs: Any) -> list:
        out, nd = [], self.convdim + 2
        for v in vs:
            v = as_tensor_variable(v)
            if v.ndim != nd:
                raise TypeError(f"{type(self).__name__}: expected {nd}-d tensors, got {v} "
                                f"({v.type})")
            if v.dtype not in ("float16", "float32", "float64"):
                v = T.cast(v, "float64")
            out.append(v)
        return out

    def _shape_vector(self, shape: Any, what: str) -> Any:
        """The spatial-shape input of the gradient ops: an int64 vector of ``convdim`` entries."""
        shape = T.cast(as_tensor_variable(shape), "int64")
        if shape.ndim != 1:
            raise TypeError(f"{type(self).__name__}: {what} must be a vector of "
                            f"{self.convdim} ints, got {shape.type}")
        if shape.type.shape[0] not in (None, self.convdim):
            raise ValueError(f"{type(self).__name__}: {what} must have {self.convdim} entries "
                             f"(the spatial shape), got {shape.type.shape[0]}")
        return shape

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Every conv op is bilinear in its two tensor inputs:
        ``R(op(a, b)) = op(ea, b) + op(a, eb)`` (the shape input is constant)."""
        a, b, *rest = inputs
        ea, eb = eval_points[:2]
        terms = []
        if ea is not None:
            terms.append(self(ea, b, *rest))
        if eb is not None:
            terms.append(self(a, eb, *rest))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]

    def _out_type(self, *vs: Any) -> Any:
        dt = np.result_type(*(v.dtype for v in vs)).name
        return T.TensorType(dt, shape=(None,) * (self.convdim + 2))()


class _Forward(_ConvBase):
    def make_node(self, x: Any, w: Any) -> Apply:
        x, w = self._check_float(x, w)
        return Apply(self, [x, w], [self._out_type(x, w)])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, w = inputs
        out[0][0] = self._forward(x, w).astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        xs, ws = shapes
        return [(xs[0], ws[0]) + tuple(self._sym_out_len(xs[2 + a], ws[2 + a], a)
                                       for a in range(self.convdim))]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, w = inputs
        (g,) = grads
        _, grad_inputs, grad_weights = self.family
        p = self._params()
        gx = grad_inputs(**p)(w, g, x.shape[2:])
        gw = grad_weights(**p)(x, g, w.shape[2:])
        return [T.cast(gx, x.dtype), T.cast(gw, w.dtype)]


class _GradWeights(_ConvBase):
    def make_node(self, x: Any, dy: Any, fshape: Any) -> Apply:
        x, dy = self._check_float(x, dy)
        fshape = self._shape_vector(fshape, "the filter shape")
        return Apply(self, [x, dy, fshape], [self._out_type(x, dy)])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, dy, fs = inputs
        fshape = (dy.shape[1], x.shape[1] // self.num_groups) + tuple(int(v) for v in fs)
        out[0][0] = self._grad_weights(x, dy, fshape).astype(node.outputs[0].type.dtype,
                                                             copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        fs = node.inputs[2]
        return [(shapes[1][1], shapes[0][1] // self.num_groups)
                + tuple(fs[a] for a in range(self.convdim))]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, dy, fs = inputs
        (g,) = grads
        forward, grad_inputs, _ = self.family
        p = self._params()
        gx = grad_inputs(**p)(g, dy, x.shape[2:])
        gdy = forward(**p)(x, g)
        return [T.cast(gx, x.dtype), T.cast(gdy, dy.dtype), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [False]]


class _GradInputs(_ConvBase):
    def make_node(self, w: Any, dy: Any, ishape: Any) -> Apply:
        w, dy = self._check_float(w, dy)
        ishape = self._shape_vector(ishape, "the input shape")
        return Apply(self, [w, dy, ishape], [self._out_type(w, dy)])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        w, dy, ish = inputs
        ishape = (dy.shape[0], w.shape[1] * self.num_groups) + tuple(int(v) for v in ish)
        out[0][0] = self._grad_inputs(w, dy, ishape).astype(node.outputs[0].type.dtype,
                                                            copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        ish = node.inputs[2]
        return [(shapes[1][0], shapes[0][1] * self.num_groups)
                + tuple(ish[a] for a in range(self.convdim))]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        w, dy, ish = inputs
        (g,) = grads
        forward, _, grad_weights = self.family
        p = self._params()
        gw = grad_weights(**p)(g, dy, w.shape[2:])
        gdy = forward(**p)(g, w)
        return [T.cast(gw, w.dtype), T.cast(gdy, dy.dtype), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [False]]


class Conv2d(_Forward):
    """``conv2d(input, filters)`` as an op; see :func:`conv2d`."""


class Conv2dGradWeights(_GradWeights):
    """The gradient of :class:`Conv2d` w.r.t. the filters: inputs ``(input, dy, (fh, fw))``."""


class Conv2dGradInputs(_GradInputs):
    """The gradient of :class:`Conv2d` w.r.t. its input: inputs ``(filters, dy, (h, w))``."""


class Conv3d(_Forward):
    """``conv3d(input, filters)`` as an op: 5-d ``(b, c, d, h, w)`` inputs; see :func:`conv3d`."""

    convdim = 3


class Conv3dGradWeights(_GradWeights):
    """The gradient of :class:`Conv3d` w.r.t. the filters: inputs ``(input, dy, (fd, fh, fw))``."""

    convdim = 3


class Conv3dGradInputs(_GradInputs):
    """The gradient of :class:`Conv3d` w.r.t. its input: inputs ``(filters, dy, (d, h, w))``."""

    convdim = 3


Conv2d.family = Conv2dGradWeights.family = Conv2dGradInputs.family = (
    Conv2d, Conv2dGradInputs, Conv2dGradWeights)
Conv3d.family = Conv3dGradWeights.family = Conv3dGradInputs.family = (
    Conv3d, Conv3dGradInputs, Conv3dGradWeights)


def _no_unshared(unshared: bool, who: str) -> None:
    if unshared:
        raise NotImplementedError(f"{who}: unshared (locally connected) convolution is not "
                                  f"implemented in opcore")


def conv2d(input: Any, filters: Any, input_shape: Any = None, filter_shape: Any = None,
           border_mode: Any = "valid", subsample: Any = (1, 1), filter_flip: bool = True,
           image_shape: Any = None, filter_dilation: Any = (1, 1), num_groups: int = 1,
           unshared: bool = False, **kwargs: Any) -> Any:
    """Theano's ``T.nnet.conv2d``: a batch of multi-channel 2-d convolutions.

    ``input`` (b, c, h, w) and ``filters`` (k, c // num_groups, fh, fw), float (integer inputs
    are cast to float64); returns (b, k, oh, ow).  ``border_mode``: ``'valid'``, ``'full'``,
    ``'half'``, an int, or an ``(rows, cols)`` padding whose entries may be ``(before, after)``
    pairs (asymmetric padding, as Theano's abstract_conv allows); ``subsample``: strides;
    ``filter_dilation``: dilation; ``num_groups``: grouped convolution; ``filter_flip``: flip
    the filters (a true convolution, Theano's default).  ``input_shape``/``filter_shape`` are
    accepted for compatibility (shapes are read at run time); the legacy ConvOp keywords
    (``unroll_kern``, ...) warn and are ignored, as in Theano.  Raises ``ValueError`` at run
    time when the channels or sizes do not fit, ``NotImplementedError`` for ``unshared=True``.
    """
    if "imshp_logical" in kwargs or "kshp_logical" in kwargs:
        raise ValueError("conv2d: imshp_logical and kshp_logical (the legacy ConvOp's logical "
                         "shapes) are not supported")
    if kwargs:
        # the legacy ConvOp tuning keywords (unroll_batch, unroll_kern, openmp, ...), as Theano
        warnings.warn(f"conv2d: {sorted(kwargs)} are deprecated ConvOp keywords and are "
                      f"ignored", stacklevel=2)
    _no_unshared(unshared, "conv2d")
    return Conv2d(border_mode, subsample, filter_dilation, num_groups, filter_flip)(input, filters)


def conv3d(input: Any, filters: Any, input_shape: Any = None, filter_shape: Any = None,
           border_mode: Any = "valid", subsample: Any = (1, 1, 1), filter_flip: bool = True,
           filter_dilation: Any = (1, 1, 1), num_groups: int = 1) -> Any:
    """Theano's ``T.nnet.conv3d``: a batch of multi-channel 3-d convolutions.

    ``input`` (b, c, d, h, w), ``filters`` (k, c // num_groups, fd, fh, fw); returns
    (b, k, od, oh, ow).  The parameters are :func:`conv2d`'s with three entries per tuple.
    """
    return Conv3d(border_mode, subsample, filter_dilation, num_groups, filter_flip)(input, filters)


def _spatial(shape: Any, n: int) -> Any:
    """The last ``n`` entries of a shape given as a tuple/list or a symbolic vector."""
    if isinstance(shape, (tuple, list)):
        return T.as_tensor_variable([as_tensor_variable(s) if not isinstance(s, (int, np.integer))
                                     else int(s) for s in list(shape)[-n:]])
    shape = as_tensor_variable(shape)
    return shape[-n:] if shape.ndim == 1 else shape


def conv2d_grad_wrt_inputs(output_grad: Any, filters: Any, input_shape: Any,
                           filter_shape: Any = None, border_mode: Any = "valid",
                           subsample: Any = (1, 1), filter_flip: bool = True,
                           filter_dilation: Any = (1, 1), num_groups: int = 1,
                           unshared: bool = False) -> Any:
    """The transposed convolution; ``input_shape`` is the full 4-d shape (or its last two)."""
    _no_unshared(unshared, "conv2d_grad_wrt_inputs")
    op = Conv2dGradInputs(border_mode, subsample, filter_dilation, num_groups, filter_flip)
    return op(filters, output_grad, _spatial(input_shape, 2))


def conv2d_grad_wrt_weights(input: Any, output_grad: Any, filter_shape: Any,
                            input_shape: Any = None, border_mode: Any = "valid",
                            subsample: Any = (1, 1), filter_flip: bool = True,
                            filter_dilation: Any = (1, 1), num_groups: int = 1,
                            unshared: bool = False) -> Any:
    """The gradient of ``conv2d`` w.r.t. filters of shape ``filter_shape`` (4-d or its last two)."""
    _no_unshared(unshared, "conv2d_grad_wrt_weights")
    op = Conv2dGradWeights(border_mode, subsample, filter_dilation, num_groups, filter_flip)
    return op(input, output_grad, _spatial(filter_shape, 2))


def conv3d_grad_wrt_inputs(output_grad: Any, filters: Any, input_shape: Any,
                           filter_shape: Any = None, border_mode: Any = "valid",
                           subsample: Any = (1, 1, 1), filter_flip: bool = True,
                           filter_dilation: Any = (1, 1, 1), num_groups: int = 1) -> Any:
    """The 3-d transposed convolution; ``input_shape`` is the 5-d shape (or its last three)."""
    op = Conv3dGradInputs(border_mode, subsample, filter_dilation, num_groups, filter_flip)
    return op(filters, output_grad, _spatial(input_shape, 3))


def conv3d_grad_wrt_weights(input: Any, output_grad: Any, filter_shape: Any,
                            input_shape: Any = None, border_mode: Any = "valid",
                            subsample: Any = (1, 1, 1), filter_flip: bool = True,
                            filter_dilation: Any = (1, 1, 1), num_groups: int = 1) -> Any:
    """The gradient of ``conv3d`` w.r.t. filters of shape ``filter_shape`` (5-d or its last 3)."""
    op = Conv3dGradWeights(border_mode, subsample, filter_dilation, num_groups, filter_flip)
    return op(input, output_grad, _spatial(filter_shape, 3))
