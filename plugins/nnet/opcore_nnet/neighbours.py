"""Sliding-window patches of images (Theano's ``images2neibs`` / ``neibs2images``).

``images2neibs(ten4, neib_shape, neib_step=None, mode='valid')`` turns a 4-d tensor
``(b, c, rows, cols)`` into a matrix with one row per patch, in Theano's order: for each image
and channel, the patches row by row; each row is the patch flattened row-major.  The patch
positions along one axis of length ``n`` for a patch size ``p`` and step ``s``:

- ``'valid'``: ``(n - p) // s + 1`` patches; ``(n - p) % s`` must be 0 (else ``TypeError``, as
  Theano raises);
- ``'ignore_borders'``: the same count, leftover rows/columns ignored;
- ``'half'``: as 'valid' on the input zero-padded by ``p // 2`` on both sides;
- ``'full'``: as 'valid' on the input zero-padded by ``p - 1`` on both sides;
- ``'wrap_centered'``: ``ceil(n / s)`` patches centred on ``0, s, 2s, ...``, wrapping around the
  borders (odd patch sizes, ``n >= p``).

The op gathers through an index table (one ``np.take`` per call); its gradient scatters the
patch gradients back (overlapping patches add up), for every mode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

__all__ = ["Images2Neibs", "Neibs2ImagesGrad", "images2neibs", "neibs2images", "patch_grid"]

MODES = ("valid", "ignore_borders", "wrap_centered", "half", "full")


def patch_grid(n: int, p: int, s: int, mode: str, axis: int = 0) -> tuple[int, int]:
    """``(count, shift)`` of the patches along one axis of length ``n`` for a patch size ``p``
    and step ``s`` in ``mode``: patch ``a`` starts at ``a * s - shift`` (modulo ``n`` for
    ``'wrap_centered'``).  Raises as :class:`Images2Neibs` does for inconsistent sizes
    (``TypeError``) and non-positive sizes (``ValueError``)."""
    if p <= 0 or s <= 0:
        raise ValueError(f"Images2Neibs: neib_shape and neib_step must be > 0, got patch size "
                         f"{p} and step {s} on axis {axis}")
    if mode == "wrap_centered":
        if p % 2 != 1:
            raise TypeError("Images2Neibs: in mode wrap_centered the patch shape must be odd, "
                            f"got {p} on axis {axis}")
        if n < p:
            raise TypeError(f"Images2Neibs: in mode wrap_centered the image ({n} on axis "
                            f"{axis}) must not be smaller than the patch ({p})")
        return -(-n // s), p // 2
    shift = {"half": p // 2, "full": p - 1}.get(mode, 0)
    span = n + 2 * shift - p
    if mode in ("valid", "half", "full") and (n < p or span % s):
        raise TypeError(f"Images2Neibs: neib_shape[{axis}]={p}, neib_step[{axis}]={s} and the "
                        f"image size {n} are not consistent in mode {mode!r} (the padded size "
                        f"minus the patch must be a multiple of the step)")
    return max(span // s + 1, 0), shift


def _axis_index(n: int, p: int, s: int, mode: str, axis: int) -> np.ndarray:
    """(count, p) input positions along one axis; ``n`` marks a padding position."""
    count, shift = patch_grid(n, p, s, mode, axis)
    idx = np.arange(count)[:, None] * s + np.arange(p)[None, :] - shift
    if mode == "wrap_centered":
        return idx % n
    return np.where((idx < 0) | (idx >= n), n, idx)


def _flat_index(shape: tuple, neib_shape: Any, neib_step: Any, mode: str) -> np.ndarray:
    """(patches, p0*p1) indices into one image padded with a zero row and column at the end."""
    (p0, p1), (s0, s1) = (int(v) for v in neib_shape), (int(v) for v in neib_step)
    h, w = shape[-2:]
    ri = _axis_index(h, p0, s0, mode, 0)
    ci = _axis_index(w, p1, s1, mode, 1)
    # rows: patch (a, b), element (i, j) -> (ri[a, i], ci[b, j]) in the (h+1, w+1) image
    flat = ri[:, None, :, None] * (w + 1) + ci[None, :, None, :]
    return flat.reshape(ri.shape[0] * ci.shape[0], p0 * p1)


def _check_params(neib_shape: np.ndarray, neib_step: np.ndarray) -> None:
    if neib_shape.shape != (2,) or neib_step.shape != (2,):
        raise ValueError(f"Images2Neibs: neib_shape and neib_step must have 2 entries, got "
                         f"{neib_shape.tolist()} and {neib_step.tolist()}")


class Images2Neibs(Op):
    """Theano's op: ``Images2Neibs(mode)(ten4, neib_shape, neib_step)`` -> a matrix of patches.

    ``ten4`` a 4-d tensor, ``neib_shape``/``neib_step`` int vectors of 2 entries; output
    ``(b * c * patches, p0 * p1)`` of ``ten4``'s dtype.  See the module docstring for the modes.
    """

    __props__ = ("mode",)

    def __init__(self, mode: str = "valid") -> None:
        if mode not in MODES:
            raise NotImplementedError(f"Images2Neibs: mode must be one of {MODES}, got {mode!r}")
        self.mode = mode

    def make_node(self, ten4: Any, neib_shape: Any, neib_step: Any = None) -> Apply:
        ten4 = as_tensor_variable(ten4)
        neib_shape = T.cast(as_tensor_variable(neib_shape), "int64")
        neib_step = neib_shape if neib_step is None else T.cast(as_tensor_variable(neib_step),
                                                                 "int64")
        if ten4.ndim != 4:
            raise TypeError(f"Images2Neibs: ten4 must be a 4-d tensor, got {ten4} ({ten4.type})")
        for what, v in (("neib_shape", neib_shape), ("neib_step", neib_step)):
            if v.ndim != 1:
                raise TypeError(f"Images2Neibs: {what} must be a vector of 2 ints, got {v.type}")
        return Apply(self, [ten4, neib_shape, neib_step], [T.matrix(dtype=ten4.dtype)])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, shp, step = inputs
        _check_params(shp, step)
        idx = _flat_index(x.shape, shp, step, self.mode)
        b, c, h, w = x.shape
        xp = np.zeros((b, c, h + 1, w + 1), dtype=x.dtype)
        xp[:, :, :h, :w] = x
        z = np.take(xp.reshape(b * c, (h + 1) * (w + 1)), idx, axis=1)
        out[0][0] = z.reshape(-1, idx.shape[1])

    def infer_shape(self, node: Apply, shapes: list) -> list:
        xs = shapes[0]
        shp, step = node.inputs[1], node.inputs[2]
        grid = []
        for a in range(2):
            n, p, s = xs[2 + a], shp[a], step[a]
            if self.mode == "wrap_centered":
                grid.append((n + s - 1) // s)
            elif self.mode in ("valid", "ignore_borders"):
                grid.append((n - p) // s + 1)
            elif self.mode == "half":
                grid.append((n - p % 2) // s + 1)
            else:
                grid.append((n + p - 2) // s + 1)
        return [(xs[0] * xs[1] * grid[0] * grid[1], shp[0] * shp[1])]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, shp, step = inputs
        gx = Neibs2ImagesGrad(self.mode)(grads[0], shp, step, x.shape)
        return [T.cast(gx, x.dtype), disconnected_type(), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [False], [False]]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Linear in ``ten4``: the patches of the eval point."""
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


class Neibs2ImagesGrad(Op):
    """The transpose of :class:`Images2Neibs`: inputs ``(neibs, neib_shape, neib_step,
    image_shape)``; each patch value is added back at its image position (padding positions
    are dropped), so overlapping patches sum."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "valid") -> None:
        if mode not in MODES:
            raise NotImplementedError(f"Neibs2ImagesGrad: mode must be one of {MODES}, got "
                                      f"{mode!r}")
        self.mode = mode

    def make_node(self, neibs: Any, neib_shape: Any, neib_step: Any, shape: Any) -> Apply:
        neibs = as_tensor_variable(neibs)
        if neibs.ndim != 2:
            raise TypeError(f"Neibs2ImagesGrad: neibs must be a matrix, got {neibs.type}")
        params = [T.cast(as_tensor_variable(v), "int64") for v in (neib_shape, neib_step, shape)]
        return Apply(self, [neibs] + params, [T.tensor4(dtype=neibs.dtype)])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        g, shp, step, shape = inputs
        _check_params(shp, step)
        b, c, h, w = (int(v) for v in shape)
        idx = _flat_index((h, w), shp, step, self.mode)
        if g.shape != (b * c * idx.shape[0], idx.shape[1]):
            raise ValueError(f"Neibs2ImagesGrad: neibs has shape {g.shape}, expected "
                             f"{(b * c * idx.shape[0], idx.shape[1])} for images {(b, c, h, w)}"
                             f" in mode {self.mode!r}")
        size = (h + 1) * (w + 1)
        gp = np.zeros((b * c, size), dtype=g.dtype)
        g3 = g.reshape(b * c, idx.shape[0], idx.shape[1])
        # one scatter-add per patch element; within one element the patch positions are
        # distinct (except the padding slot, which is dropped), so a fancy-index add is exact
        for k in range(idx.shape[1]):
            gp[:, idx[:, k]] += g3[:, :, k]
        out[0][0] = gp.reshape(b, c, h + 1, w + 1)[:, :, :h, :w].copy()

    def infer_shape(self, node: Apply, shapes: list) -> list:
        shape = node.inputs[3]
        return [tuple(shape[i] for i in range(4))]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        g, shp, step, _ = inputs
        gg = Images2Neibs(self.mode)(grads[0], shp, step)
        return [T.cast(gg, g.dtype)] + [disconnected_type()] * 3

    def connection_pattern(self, node: Any) -> list:
        return [[True], [False], [False], [False]]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Linear in ``neibs``."""
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


def images2neibs(ten4: Any, neib_shape: Any, neib_step: Any = None, mode: str = "valid") -> Any:
    """Theano's ``images2neibs``: the patches of a 4-d tensor as the rows of a matrix.

    ``neib_shape`` (rows, cols) of a patch, ``neib_step`` (default ``neib_shape``: disjoint
    patches); ``mode`` one of ``'valid'``, ``'ignore_borders'``, ``'wrap_centered'``,
    ``'half'``, ``'full'`` (see the module docstring).  Output ``(b * c * patches, rows * cols)``.
    Differentiable w.r.t. ``ten4`` in every mode.
    """
    return Images2Neibs(mode)(ten4, neib_shape, neib_step)


def neibs2images(neibs: Any, neib_shape: Any, original_shape: Any, mode: str = "valid") -> Any:
    """Theano's ``neibs2images``: rebuild the 4-d tensor of shape ``original_shape`` from the
    disjoint patches :func:`images2neibs` gave (``neib_step`` equal to ``neib_shape``).

    ``'valid'`` needs patches that cover the image; ``'ignore_borders'`` leaves the rows and
    columns no patch covers at zero.  Other modes raise ``NotImplementedError``, as in Theano.
    """
    if mode not in ("valid", "ignore_borders"):
        raise NotImplementedError(f"neibs2images does not support mode={mode!r}")
    # with disjoint patches every pixel is in at most one patch: the transpose is the inverse
    return Neibs2ImagesGrad(mode)(neibs, neib_shape, neib_shape, original_shape)
