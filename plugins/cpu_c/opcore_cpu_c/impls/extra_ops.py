"""C implementations of the hot op-family ops (``opcore.tensor.extra_ops``, ``sort``,
``construct``): ``CumOp``, ``RepeatOp``, ``SortOp``, ``ArgSortOp``, ``TriangularPart``
(tril/triu) and ``ToOneHot``.

``cumsum``/``cumprod``, ``repeat``, ``sort`` and ``argsort`` call NumPy's own C functions
(``PyArray_CumSum``, ``PyArray_Repeat``, ``PyArray_Sort``, ``PyArray_ArgSort``), so they give
NumPy's answers and errors bit for bit and skip the Python thunk.  ``tril``/``triu`` and
``to_one_hot``, which NumPy implements in Python, are C loops: row segments copied with
``memcpy`` and the rest zeroed (all-zero bytes are 0 for every numeric dtype).
"""

from __future__ import annotations

from typing import Any

from opcore.graph.basic import Constant
from opcore.tensor.construct import TriangularPart
from opcore.tensor.extra_ops import CumOp, RepeatOp
from opcore.tensor.index_ops import ToOneHot
from opcore.tensor.sort import ArgSortOp, SortOp

from opcore_cpu_c.ccode import C_DTYPES, c_string, ctype, typenum

#: numpy.<fn>(x, axis=None) in C: NumPy 2 spells that axis NPY_RAVEL_AXIS, NumPy 1 NPY_MAXDIMS
_RAVEL_AXIS = r"""
#ifdef NPY_RAVEL_AXIS
#define OC_RAVEL_AXIS NPY_RAVEL_AXIS
#else
#define OC_RAVEL_AXIS NPY_MAXDIMS
#endif
"""

_SORT_KINDS = {"quicksort": "NPY_QUICKSORT", "mergesort": "NPY_MERGESORT",
               "heapsort": "NPY_HEAPSORT", "stable": "NPY_STABLESORT"}


def _numeric(dtype: str) -> bool:
    return dtype in C_DTYPES and dtype != "bool"


def _replace(z: str, result: str, fail: str) -> str:
    """C statements: fail on a NULL ``result``, else make it output ``z``."""
    return f"if ({result} == NULL) {fail}\nPy_XDECREF({z}); {z} = (PyArrayObject*){result};"


class CumOpC:
    """``PyArray_CumSum`` / ``PyArray_CumProd`` (``axis=None``: the flattened array)."""

    def c_supports(self, node: Any) -> bool:
        return _numeric(node.outputs[0].type.dtype)

    def c_support_code(self, node: Any = None) -> str:
        return _RAVEL_AXIS

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (2,)

    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        op = node.op
        axis = "OC_RAVEL_AXIS" if op.axis is None else str(op.axis % node.inputs[0].type.ndim)
        fn = "PyArray_CumSum" if op.mode == "add" else "PyArray_CumProd"
        rt = typenum(node.outputs[0].type.dtype)
        return f"""{{
PyObject* r_ = {fn}({x}, {axis}, {rt}, NULL);
{_replace(z, "r_", sub["fail"])}
}}"""


class RepeatOpC:
    """``PyArray_Repeat`` (``axis=None``: the flattened array)."""

    def c_supports(self, node: Any) -> bool:
        return node.inputs[0].type.dtype in C_DTYPES

    def c_support_code(self, node: Any = None) -> str:
        return _RAVEL_AXIS

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (2,)

    def c_code(self, node, name, inputs, outputs, sub):
        (x, r), (z,) = inputs, outputs
        op = node.op
        axis = "OC_RAVEL_AXIS" if op.axis is None else str(op.axis % node.inputs[0].type.ndim)
        return f"""{{
PyObject* r_ = PyArray_Repeat({x}, (PyObject*){r}, {axis});
{_replace(z, "r_", sub["fail"])}
}}"""


def _const_axis(node: Any) -> int | None:
    ax = node.inputs[1]
    return int(ax.data) if isinstance(ax, Constant) else None


class _SortBase:
    """Numeric inputs and a constant axis (always so for graphs built by ``sort``/``argsort``)."""

    def c_supports(self, node: Any) -> bool:
        return _numeric(node.inputs[0].type.dtype) and _const_axis(node) is not None

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (1,)


class SortOpC(_SortBase):
    """A copy of the input sorted in place by ``PyArray_Sort`` (NumPy's sort kernels)."""

    def c_code(self, node, name, inputs, outputs, sub):
        (x, _), (z,) = inputs, outputs
        fail = sub["fail"]
        axis = _const_axis(node)
        tn = typenum(node.outputs[0].type.dtype)
        return f"""
if (oc_alloc(&{z}, PyArray_NDIM({x}), PyArray_DIMS({x}), {tn})) {fail}
if (PyArray_CopyInto({z}, {x}) < 0) {fail}
if (PyArray_Sort({z}, {axis}, {_SORT_KINDS[node.op.kind]}) < 0) {fail}
"""


class ArgSortOpC(_SortBase):
    """``PyArray_ArgSort``, cast to int64 where ``npy_intp`` is narrower."""

    def c_code(self, node, name, inputs, outputs, sub):
        (x, _), (z,) = inputs, outputs
        fail = sub["fail"]
        axis = _const_axis(node)
        return f"""{{
PyObject* r_ = PyArray_ArgSort({x}, {axis}, {_SORT_KINDS[node.op.kind]});
if (r_ != NULL && PyArray_TYPE((PyArrayObject*)r_) != NPY_INT64) {{
    PyObject* c_ = PyArray_Cast((PyArrayObject*)r_, NPY_INT64); Py_DECREF(r_); r_ = c_; }}
{_replace(z, "r_", fail)}
}}"""


class TriangularPartC:
    """``tril``/``triu`` of the last two axes: each row is a copied segment and a zeroed one."""

    def c_supports(self, node: Any) -> bool:
        return node.inputs[0].type.dtype in C_DTYPES

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (2,)

    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        fail = sub["fail"]
        op = node.op
        nd = node.inputs[0].type.ndim
        tn = typenum(node.outputs[0].type.dtype)
        if op.lower:
            # keep columns j <= i + k
            seg = "lo_ = 0; hi_ = i_ + k_ + 1;"
        else:
            # keep columns j >= i + k
            seg = "lo_ = i_ + k_; hi_ = cols_;"
        return f"""{{
PyArrayObject* xc_ = PyArray_GETCONTIGUOUS({x});
npy_intp rows_, cols_, nb_, b_, i_, lo_, hi_, is_;
const npy_intp k_ = {op.k};
char *src_, *dst_;
if (xc_ == NULL) {fail}
if (oc_alloc(&{z}, {nd}, PyArray_DIMS(xc_), {tn})) {{ Py_DECREF(xc_); {fail} }}
rows_ = PyArray_DIMS(xc_)[{nd - 2}]; cols_ = PyArray_DIMS(xc_)[{nd - 1}];
is_ = PyArray_ITEMSIZE(xc_);
nb_ = (rows_ * cols_ == 0) ? 0 : PyArray_SIZE(xc_) / (rows_ * cols_);
src_ = (char*)PyArray_DATA(xc_); dst_ = (char*)PyArray_DATA({z});
Py_BEGIN_ALLOW_THREADS
for (b_ = 0; b_ < nb_ * rows_; b_++) {{
    i_ = b_ % rows_;
    {seg}
    if (lo_ < 0) lo_ = 0;
    if (lo_ > cols_) lo_ = cols_;
    if (hi_ > cols_) hi_ = cols_;
    if (hi_ < lo_) hi_ = lo_;
    memset(dst_, 0, (size_t)(lo_ * is_));
    memcpy(dst_ + lo_ * is_, src_ + lo_ * is_, (size_t)((hi_ - lo_) * is_));
    memset(dst_ + hi_ * is_, 0, (size_t)((cols_ - hi_) * is_));
    src_ += cols_ * is_; dst_ += cols_ * is_;
}}
Py_END_ALLOW_THREADS
Py_DECREF(xc_);
}}"""


class ToOneHotC:
    """One pass over ``y``: range check (``IndexError`` as ``perform``), zero fill, ones."""

    def c_supports(self, node: Any) -> bool:
        return node.outputs[0].type.dtype in C_DTYPES

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        (y, nc), (z,) = inputs, outputs
        fail = sub["fail"]
        dt = node.outputs[0].type.dtype
        who = c_string(str(node.op))
        return f"""{{
PyArrayObject* yc_ = (PyArrayObject*)PyArray_FROMANY((PyObject*){y}, NPY_INT64, 1, 1,
                                                     NPY_ARRAY_CARRAY);
PyArrayObject* nc_ = (PyArrayObject*)PyArray_FROMANY((PyObject*){nc}, NPY_INT64, 0, 0,
                                                      NPY_ARRAY_CARRAY);
npy_intp dims_[2], i_, n_;
npy_int64 k_, *yv_;
{ctype(dt)}* out_;
if (yc_ == NULL || nc_ == NULL) {{ Py_XDECREF(yc_); Py_XDECREF(nc_); {fail} }}
k_ = *(npy_int64*)PyArray_DATA(nc_);
Py_DECREF(nc_);
n_ = PyArray_DIMS(yc_)[0];
yv_ = (npy_int64*)PyArray_DATA(yc_);
for (i_ = 0; i_ < n_; i_++) {{
    if (yv_[i_] < 0 || yv_[i_] >= k_) {{
        PyErr_Format(PyExc_IndexError, "%s: class %lld is out of range for nb_class=%lld",
                     {who}, (long long)yv_[i_], (long long)k_);
        Py_DECREF(yc_); {fail}
    }}
}}
if (k_ < 0) {{ PyErr_SetString(PyExc_ValueError, "negative dimensions are not allowed");
              Py_DECREF(yc_); {fail} }}
dims_[0] = n_; dims_[1] = (npy_intp)k_;
if (oc_alloc(&{z}, 2, dims_, {typenum(dt)})) {{ Py_DECREF(yc_); {fail} }}
out_ = ({ctype(dt)}*)PyArray_DATA({z});
memset(out_, 0, (size_t)(n_ * k_) * sizeof({ctype(dt)}));
for (i_ = 0; i_ < n_; i_++) out_[i_ * k_ + yv_[i_]] = ({ctype(dt)})1;
Py_DECREF(yc_);
}}"""


def register(impls: Any) -> None:
    """Give backend ``c`` these implementations (``impls`` is the host's ImplRegistry)."""
    impls.register("c", CumOp, CumOpC())
    impls.register("c", RepeatOp, RepeatOpC())
    impls.register("c", SortOp, SortOpC())
    impls.register("c", ArgSortOp, ArgSortOpC())
    impls.register("c", TriangularPart, TriangularPartC())
    impls.register("c", ToOneHot, ToOneHotC())
