"""C implementation of ``CAReduce`` (sum, prod, max, min, all, any over any axes)."""

from __future__ import annotations

from typing import Any

from opcore.config import config
from opcore.tensor.elemwise import CAReduce

from opcore_cpu_c.ccode import c_string, ctype, typenum
from opcore_cpu_c import reduce_order


_RED = {
    "sum": ("0", "acc = acc + v;"),
    "prod": ("1", "acc = acc * v;"),
    "max": (None, "if (v > acc || v != v) acc = v;"),
    "min": (None, "if (v < acc || v != v) acc = v;"),
    "all": ("1", "acc = acc && v;"),
    "any": ("0", "acc = acc || v;"),
}


class CAReduceC:
    """Reductions: reduced axes moved last (a view, copied only when not contiguous)."""

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (10, bool(config.openmp), int(config.openmp_elemwise_minsize))

    def c_support_code(self, node: Any = None) -> str:
        if node is None:
            return ""
        xd, accd = self._dtypes(node)
        return (reduce_order.support_code(xd, accd)
                if reduce_order.float_accumulator(node.op.kind, accd) else "")

    @staticmethod
    def _dtypes(node: Any) -> tuple:
        """(input dtype, accumulator dtype) of a CAReduce node."""
        op = node.op
        xd, zd = node.inputs[0].type.dtype, node.outputs[0].type.dtype
        if op.kind in ("all", "any"):
            return xd, "bool"
        if op.kind in ("sum", "prod"):
            return xd, op.accumulator_dtype(xd, zd)
        return xd, xd

    def c_code(self, node: Any, name: str, inputs: list, outputs: list, sub: dict) -> str:
        op = node.op
        (x,), (z,) = inputs, outputs
        nd = node.inputs[0].type.ndim
        axes = list(range(nd)) if op.axis is None else list(op.axis)
        kept = [d for d in range(nd) if d not in axes]
        zd = node.outputs[0].type.dtype
        xd, accd = self._dtypes(node)
        init, step = _RED[op.kind]
        # all/any test truth as NumPy does (a C cast of 0.5 or NaN to npy_bool is not that)
        conv = "(({0}) != 0)" if accd == "bool" else f"(({ctype(accd)})({{0}}))"
        if op.kind in ("sum", "prod") and accd in ("int8", "int16", "int32", "int64"):
            # wrap on overflow as NumPy does (signed overflow is undefined in C)
            sym = "+" if op.kind == "sum" else "*"
            step = f"acc = ({ctype(accd)})((npy_uint64)acc {sym} (npy_uint64)v);"
        fail = sub["fail"]
        perm = ", ".join(str(d) for d in kept + axes) or "0"
        L = [f"npy_intp m = 1, nout = 1, i, j; npy_intp zdims[{len(kept) + 1}];",
             f"static npy_intp perm_[] = {{{perm}}}; PyArray_Dims perm = {{perm_, {nd}}};",
             "PyArrayObject* t = NULL; PyArrayObject* c = NULL;"]
        for k, d in enumerate(kept):
            L.append(f"zdims[{k}] = PyArray_DIMS({x})[{d}]; nout *= zdims[{k}];")
        for d in axes:
            L.append(f"m *= PyArray_DIMS({x})[{d}];")
        if init is None:
            msg = c_string(f"{op}: cannot reduce an empty array (zero-size reduced axis)")
            L.append(f"if (m == 0) {{ PyErr_SetString(PyExc_ValueError, {msg}); {fail} }}")
        L.append(f"if (oc_alloc(&{z}, {len(kept)}, zdims, {typenum(zd)})) {fail}")
        xt, zt, at = ctype(xd), ctype(zd), ctype(accd)
        if reduce_order.float_accumulator(op.kind, accd) and nd > 0:
            # floating-point sums and products: NumPy's order, hence NumPy's bits
            L.extend(reduce_order.ordered(op.kind, x, z, nd, axes, kept, xd, zd, accd, fail))
            return "\n".join(L)
        if init is not None and not config.openmp and nd > 0:
            L.extend(_strided(x, z, nd, axes, kept, xt, zt, at, init, step, conv, fail))
            return "\n".join(L)
        first = "0" if init is not None else "1"
        prefix = bool(kept) and axes == list(range(len(axes)))
        if prefix:
            # leading axes of a C-contiguous input: accumulate whole rows, no copy
            L.append(f"if (PyArray_IS_C_CONTIGUOUS({x}) && m > 0) {{")
            L.append(f"  const {xt}* p = (const {xt}*)PyArray_DATA({x}); {zt}* q = ({zt}*)"
                     f"PyArray_DATA({z});")
            L.append(f"  {at}* acc = ({at}*)PyMem_Malloc((nout > 0 ? nout : 1) * sizeof({at}));")
            L.append(f"  if (acc == NULL) {{ PyErr_NoMemory(); {fail} }}")
            L.append("  for (i = 0; i < nout; i++) acc[i] = " +
                     (f"({at}){init};" if init is not None else f"{conv.format('p[i]')};"))
            L.append(f"  for (j = {first}; j < m; j++) {{ const {xt}* row = p + j * nout;")
            L.append(f"    for (i = 0; i < nout; i++) {{ const {at} v = {conv.format('row[i]')}; "
                     f"{step.replace('acc', 'acc[i]')} }} }}")
            L.append(f"  for (i = 0; i < nout; i++) q[i] = ({zt})acc[i];")
            L.append("  PyMem_Free(acc);")
            L.append("} else {")
        L.append(f"t = (PyArrayObject*)PyArray_Transpose({x}, &perm); if (!t) {fail}")
        L.append("c = (PyArrayObject*)PyArray_GETCONTIGUOUS(t); Py_DECREF(t); if (!c) "
                 + fail)
        L.append(f"{{ const {xt}* p = (const {xt}*)PyArray_DATA(c); {zt}* q = ({zt}*)"
                 f"PyArray_DATA({z});")
        if config.openmp:
            L.append(f"#pragma omp parallel for private(j) schedule(static) "
                     f"if (nout > 1 && nout * m >= {int(config.openmp_elemwise_minsize)})")
        L.append("  for (i = 0; i < nout; i++) {")
        L.append(f"    const {xt}* row = p + i * m;")
        L.append(f"    {at} acc = " + (f"({at}){init};" if init is not None else
                                        f"{conv.format('row[0]')};"))
        L.append(f"    for (j = {first}; j < m; j++) {{ const {at} v = {conv.format('row[j]')}; "
                 f"{step} }}")
        L.append(f"    q[i] = ({zt})acc;")
        L.append("  }")
        L.append("}")
        L.append("Py_DECREF(c);")
        if prefix:
            L.append("}")
        return "\n".join(L)


def _strided(x: str, z: str, nd: int, axes: list, kept: list, xt: str, zt: str, at: str,
             init: str, step: str, conv: str, fail: str) -> list:
    """C lines reducing ``x`` in place, with no transposed copy: every element is read once in
    index order (memory order for a C-contiguous input) and accumulated into ``acc[]``, indexed by
    the kept axes (accumulator stride 0 along a reduced axis).  The innermost axis runs as a tight
    loop: a running scalar when it is reduced, a row update when it is kept."""
    last = nd - 1
    astr = ["0"] * nd
    for k, d in enumerate(kept):
        astr[d] = " * ".join([f"zdims[{j}]" for j in range(k + 1, len(kept))]) or "1"
    L = [f"{{ npy_intp xs_[{nd}], as_[{nd}], n_[{nd}], ix_[{nd}]; int k_;",
         f"  {at}* acc = ({at}*)PyMem_Malloc((nout > 0 ? nout : 1) * sizeof({at}));",
         f"  const char* b_ = (const char*)PyArray_DATA({x}); npy_intp ao_ = 0, size_ = 1;",
         f"  if (acc == NULL) {{ PyErr_NoMemory(); {fail} }}",
         f"  for (i = 0; i < nout; i++) acc[i] = ({at}){init};"]
    for d in range(nd):
        L.append(f"  xs_[{d}] = PyArray_STRIDES({x})[{d}]; n_[{d}] = PyArray_DIMS({x})[{d}]; "
                 f"as_[{d}] = {astr[d]}; ix_[{d}] = 0; size_ *= n_[{d}];")
    v = conv.format(f"*(const {xt}*)(b_ + j * xs_[{last}])")
    L += [f"  if (size_ > 0) for (;;) {{",
          f"    if (as_[{last}] == 0) {{ {at} acc_ = acc[ao_];",
          f"      for (j = 0; j < n_[{last}]; j++) {{ const {at} v = {v}; "
          f"{step.replace('acc', 'acc_')} }}",
          "      acc[ao_] = acc_;",
          "    } else {",
          f"      {at}* r_ = acc + ao_;",
          f"      for (j = 0; j < n_[{last}]; j++) {{ const {at} v = {v}; "
          f"{step.replace('acc', 'r_[j]')} }}",
          "    }",
          f"    for (k_ = {last - 1}; k_ >= 0; k_--) {{",
          "      b_ += xs_[k_]; ao_ += as_[k_];",
          "      if (++ix_[k_] < n_[k_]) break;",
          "      b_ -= xs_[k_] * n_[k_]; ao_ -= as_[k_] * n_[k_]; ix_[k_] = 0;",
          "    }",
          "    if (k_ < 0) break;",
          "  }",
          f"  {{ {zt}* q = ({zt}*)PyArray_DATA({z}); for (i = 0; i < nout; i++) q[i] = "
          f"({zt})acc[i]; }}",
          "  PyMem_Free(acc); }"]
    return L


def register(impls: Any) -> None:
    """Give backend ``c`` this implementation (``impls`` is the host's ImplRegistry)."""
    impls.register("c", CAReduce, CAReduceC())
