"""Theano's ``conv3d2d.conv3d``: 3-d convolution in the (batch, time, channels, rows, cols)
layout, computed by :class:`opcore_nnet.conv.Conv3d` between two axis swaps."""

from __future__ import annotations

from typing import Any

from opcore.tensor.basic import as_tensor_variable

from opcore_nnet.conv import conv3d as _conv3d

__all__ = ["conv3d"]


def conv3d(signals: Any, filters: Any, signals_shape: Any = None, filters_shape: Any = None,
           border_mode: Any = "valid") -> Any:
    """A true 3-d convolution (filters flipped along time, rows and cols).

    ``signals`` (batch, time, in_channels, rows, cols), ``filters`` (out_channels, time,
    in_channels, rows, cols); returns (batch, out_time, out_channels, out_rows, out_cols).
    ``border_mode``: ``'valid'``, ``'full'`` or ``'half'``, or a tuple of three such strings
    (time, rows, cols).  Mixed strings need ``filters_shape`` (ints) to turn them into paddings;
    ``'same'`` raises ``NotImplementedError`` as in Theano.  The shape arguments are optional.
    """
    modes = (border_mode,) * 3 if isinstance(border_mode, str) else tuple(border_mode)
    if len(modes) != 3 or any(m not in ("valid", "full", "half") for m in modes):
        if "same" in modes:
            raise NotImplementedError("conv3d2d.conv3d: border_mode 'same' is not implemented")
        raise ValueError(f"conv3d2d.conv3d: invalid border_mode {border_mode!r}")
    if modes[1] != modes[2]:
        raise NotImplementedError("conv3d2d.conv3d: height and width border modes must match")
    if len(set(modes)) == 1:
        mode: Any = modes[0]
    elif filters_shape is not None:
        sizes = (filters_shape[1], filters_shape[3], filters_shape[4])
        mode = tuple({"valid": 0, "full": f - 1, "half": f // 2}[m] for m, f in zip(modes, sizes))
    else:
        raise NotImplementedError("conv3d2d.conv3d: different time and space border modes need "
                                  "filters_shape")
    s = as_tensor_variable(signals).dimshuffle(0, 2, 1, 3, 4)
    f = as_tensor_variable(filters).dimshuffle(0, 2, 1, 3, 4)
    return _conv3d(s, f, border_mode=mode).dimshuffle(0, 2, 1, 3, 4)
