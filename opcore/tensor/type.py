"""TensorType: dtype plus static shape information (broadcastable flags / known sizes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from opcore.graph.type import Type
from opcore.config import config
from opcore.graph.basic import Variable
from opcore.tensor.hints import DTypeLike, TensorLike

if TYPE_CHECKING:
    from opcore.tensor.variable import TensorConstant, TensorVariable

_ALL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
               "float16", "float32", "float64", "complex64", "complex128")
_RANK_NAMES = {0: "scalar", 1: "vector", 2: "matrix", 3: "tensor3", 4: "tensor4"}


_NP_DTYPES = {d: np.dtype(d) for d in _ALL_DTYPES}
_DTYPE_CACHE: dict = {}


def _dtype_name(dtype) -> str:
    """The canonical name of ``dtype`` (a string, NumPy dtype or scalar type), cached because
    ``numpy.dtype(...).name`` is slow and graphs build many types."""
    try:
        return _DTYPE_CACHE[dtype]
    except (KeyError, TypeError):
        pass
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"TensorType: unknown dtype {dtype!r}; valid: {', '.join(_ALL_DTYPES)}") from None
    if name not in _ALL_DTYPES:
        raise TypeError(f"TensorType: unsupported dtype {name!r}")
    try:
        _DTYPE_CACHE[dtype] = name
    except TypeError:
        pass
    return name


class TensorType(Type):
    """Type of an n-d array of ``dtype``.

    ``broadcastable`` is a tuple of bools (True: that dimension always has length 1);
    ``shape`` may give static sizes (``None`` for unknown).  Calling the type makes a variable.

    >>> T.TensorType('float64', (False, True))
    TensorType(float64, col)
    """

    def __init__(self, dtype: str, broadcastable: Sequence[bool] | None = None,
                 shape: Sequence[int | None] | None = None, name: str | None = None,
                 sparse_grad: bool = False) -> None:
        # ``sparse_grad`` is accepted for Theano compatibility (``TensorType(dtype,
        # broadcastable, name=None, sparse_grad=False)``); it is recorded but does not
        # change the type's identity.
        if isinstance(shape, str):  # Theano's positional order: (dtype, broadcastable, name)
            name, shape = shape, None
        if dtype == "floatX":

            dtype = config.floatX
        if dtype not in _ALL_DTYPES:  # fast path: already a canonical name
            dtype = _dtype_name(dtype)
        if shape is None and broadcastable is None:
            raise TypeError("TensorType needs broadcastable or shape")
        if shape is None:
            assert broadcastable is not None
            shape = tuple(1 if b else None for b in broadcastable)
        else:
            shape = tuple(None if s is None else int(s) for s in shape)
            if broadcastable is not None and len(broadcastable) != len(shape):
                raise TypeError("TensorType: broadcastable and shape have different lengths")
        self.dtype = dtype
        self.shape = shape
        self.broadcastable = tuple(s == 1 for s in shape)
        self.ndim = len(shape)
        self.name = name
        self.sparse_grad = bool(sparse_grad)
        self.numpy_dtype = _NP_DTYPES[dtype]
        self._hash = hash((TensorType, dtype, shape))

    def clone(self, dtype: str | None = None, broadcastable: Sequence[bool] | None = None,
              shape: Sequence[int | None] | None = None) -> TensorType:
        if shape is None and broadcastable is None:
            shape = self.shape
        return TensorType(dtype or self.dtype, broadcastable, shape)

    # -- values ------------------------------------------------------------------------------
    @property
    def filter_passthrough_dtype(self) -> np.dtype | None:
        """``filter`` returns an ndarray of this dtype with ``ndim`` dimensions as it is (when
        no dimension has a static length); a subclass may filter more, so it gets None."""
        return self.numpy_dtype if type(self) is TensorType else None

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        if isinstance(data, np.ndarray) and data.dtype == self.numpy_dtype:
            arr = data
        elif strict:
            if not isinstance(data, (np.ndarray, np.generic)):
                raise TypeError(f"expected a numpy.ndarray of {self.dtype}, got {type(data).__name__}")
            if data.dtype != self.numpy_dtype:
                raise TypeError(f"expected dtype {self.dtype}, got {data.dtype}")
            arr = np.asarray(data)
        else:
            arr = self._convert(data, allow_downcast)
        if arr.ndim != self.ndim:
            raise TypeError(
                f"wrong number of dimensions: expected {self.ndim} ({self}), got {arr.ndim} "
                f"with shape {arr.shape}"
            )
        for i, (s, a) in enumerate(zip(self.shape, arr.shape)):
            if s is not None and s != a:
                raise TypeError(f"{self}: dimension {i} must have length {s}, got shape {arr.shape}")
        return arr

    def _convert(self, data, allow_downcast):
        src: np.ndarray | np.generic
        if isinstance(data, (list, tuple)):
            try:
                src = np.array(data)
            except ValueError as exc:
                raise ValueError(f"the list is not rectangular (cannot form an array): {exc}") from None
            if src.dtype == object:
                raise ValueError("the list is not rectangular (cannot form an array)")
        else:
            src = data if isinstance(data, (np.ndarray, np.generic)) else np.asarray(data)
        if src.dtype == self.numpy_dtype:
            return np.asarray(src)
        is_python = not isinstance(data, (np.ndarray, np.generic))
        if allow_downcast:
            return np.asarray(src, dtype=self.dtype)
        if np.can_cast(src.dtype, self.numpy_dtype, casting="safe"):
            return np.asarray(src, dtype=self.dtype)
        if is_python or src.ndim == 0 and allow_downcast is None:
            # Python numbers and lists: accept when the value is exactly representable
            conv = np.asarray(src, dtype=self.dtype)
            if np.all(conv == src) or (np.issubdtype(self.numpy_dtype, np.floating)
                                       and allow_downcast is None and is_python
                                       and np.issubdtype(src.dtype, np.floating)):
                return conv
        raise TypeError(
            f"cannot safely cast a value of dtype {src.dtype} to {self.dtype} ({self}); "
            "pass allow_input_downcast=True to function() or cast it yourself"
        )

    def is_valid_value(self, data: Any) -> bool:
        return isinstance(data, np.ndarray) and data.dtype == self.numpy_dtype and data.ndim == self.ndim

    def values_eq(self, a: TensorLike, b: TensorLike) -> bool:
        return np.shape(a) == np.shape(b) and bool(np.all(a == b))

    def values_eq_approx(self, a: TensorLike, b: TensorLike, rtol: float = None, atol: float = None
                        ) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            tol = 1e-4 if a.dtype.itemsize <= 4 or b.dtype.itemsize <= 4 else 1e-7
            return bool(np.allclose(a, b, rtol=rtol or tol, atol=atol or tol, equal_nan=True))
        return bool(np.all(a == b))

    def convert_variable(self, var: Variable) -> Variable | None:
        ot = var.type
        if (isinstance(ot, TensorType) and ot.dtype == self.dtype and ot.ndim == self.ndim
                and all(s is None or s == o for s, o in zip(self.shape, ot.shape))):
            # var is at least as specific: a specify-shape free conversion
            from opcore.tensor.basic import specify_broadcastable_as

            return specify_broadcastable_as(var, self)
        return None

    def is_super(self, otype: Type) -> bool:
        return (isinstance(otype, TensorType) and otype.dtype == self.dtype
                and otype.ndim == self.ndim
                and all(s is None or s == o for s, o in zip(self.shape, otype.shape)))

    # -- identity ----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return type(other) is TensorType and other.dtype == self.dtype and other.shape == self.shape

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        if self.name:
            return self.name
        b = self.broadcastable
        if all(s is None or s == 1 for s in self.shape):
            named = {(): "scalar", (False,): "vector", (True,): "(True,)", (True, False): "row",
                     (False, True): "col", (False, False): "matrix"}
            if b in named:
                return f"TensorType({self.dtype}, {named[b]})"
        return f"TensorType({self.dtype}, shape={self.shape})"

    __repr__ = __str__

    def __reduce__(self) -> tuple[Any, ...]:
        return (TensorType, (self.dtype, None, self.shape, self.name))

    def make_variable(self, name: str | None = None) -> TensorVariable:
        from opcore.tensor.variable import TensorVariable

        return TensorVariable(self, None, None, name)

    def make_constant(self, value: Any, name: str | None = None) -> TensorConstant:
        from opcore.tensor.variable import TensorConstant

        return TensorConstant(self, self.filter(value), name)

    def __call__(self, name: str | None = None) -> TensorVariable:
        return self.make_variable(name)

    @property
    def size_bytes(self) -> int:
        return self.numpy_dtype.itemsize


# -- typed shortcuts: Type instances that are callable --------------------------------------
_PREFIX = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64",
           "c": "complex64", "z": "complex128"}
_SHAPES = {"scalar": (), "vector": (False,), "row": (True, False), "col": (False, True),
           "matrix": (False, False), "tensor3": (False,) * 3, "tensor4": (False,) * 4,
           "tensor5": (False,) * 5, "tensor6": (False,) * 6, "tensor7": (False,) * 7}

SHORTCUTS: dict[str, TensorType] = {}
for _p, _dt in _PREFIX.items():
    for _n, _b in _SHAPES.items():
        SHORTCUTS[_p + _n] = TensorType(_dt, _b)
