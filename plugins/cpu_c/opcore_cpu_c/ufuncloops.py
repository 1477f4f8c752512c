"""Fused elementwise loops whose transcendental steps run through NumPy's own ufunc inner loops.

A fused ``Elemwise`` (a ``Composite`` or one scalar op) with a step such as ``exp``, ``tanh`` or
``log`` in float32/float64 is computed in blocks of :data:`BLOCK` elements.  Each such step calls
the inner loop NumPy itself uses for ``numpy.<ufunc>`` on that dtype (fetched once from the ufunc
object's loop table, ``PyUFuncObject.functions``/``data``/``types``: the first loop whose type
signature matches, as NumPy's type resolution picks it), on contiguous block buffers: NumPy's
SIMD loops (AVX2/AVX-512, SVML) compute the transcendental part, and the cheap steps between
them are plain C loops over the block that the compiler vectorises.  So the values are NumPy's
values bit for bit (NumPy's loop on contiguous data; NumPy's own negative-stride fallback loops
can differ from those by an ulp), NaN and infinities included, for every input layout: a
non-contiguous input is first copied into a block buffer.

The scalar steps are rendered by :mod:`opcore.cbuild.render` as in the plain loops.  Elemwise
nodes without such a step keep the plain loops of :mod:`opcore_cpu_c.impls.elemwise`.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import numpy as np

from opcore.cbuild import render
from opcore.config import config
from opcore.scalar.basic import get_scalar_op

from opcore_cpu_c import threads
from opcore_cpu_c.ccode import c_string, ctype

#: Elements per block: the block buffers of a loop (one per value that crosses a NumPy loop call)
#: stay in the L1/L2 cache.  A loop with many buffers uses smaller blocks, so that its buffers
#: (on the stack) stay under :data:`STACK_BYTES`.
BLOCK = 1024
STACK_BYTES = 128 * 1024
#: Elements per work item of the contiguous path on the thread pool (:mod:`opcore_cpu_c.threads`).
CHUNK = 16384

#: Scalar ops computed by NumPy's ufunc loop of the same name (``op.numpy`` is that ufunc).
UFUNC_OPS = frozenset({
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "arctan2",
    "pow",  # float ** float; a constant integer exponent 0..64 stays multiplications
})
_FLOAT_DTYPES = ("float32", "float64")

#: ``config.cpu_c__vector_math = "sleef"``: the (op, dtype) steps computed by SLEEF's 1-ulp SIMD
#: functions instead, where NumPy's own loop is scalar libm (float64 sin and cos, about 20x
#: slower than NumPy's SIMD float64 exp); the other steps keep NumPy's loops.
SLEEF_STEPS = {("sin", "float64"): "sin", ("cos", "float64"): "cos"}

#: The helper every kernel uses: ``oc_uloop_get(name, nargs, types, &loop)`` looks up the inner
#: loop of ``numpy.<name>`` for the type numbers ``types[0..nargs)``.
SUPPORT = r"""
#ifndef OC_ULOOP_DEFINED
#define OC_ULOOP_DEFINED
#include <numpy/ufuncobject.h>
typedef void (*oc_uloop_fn)(char**, npy_intp const*, npy_intp const*, void*);
typedef struct { oc_uloop_fn fn; void* data; } oc_uloop;
static int oc_uloop_get(const char* name, int nargs, const int* types, oc_uloop* out)
{
    PyObject* np = PyImport_ImportModule("numpy");
    PyObject* u;
    PyUFuncObject* uf;
    int i, k;
    if (np == NULL) return -1;
    u = PyObject_GetAttrString(np, name);
    Py_DECREF(np);
    if (u == NULL) return -1;
    if (strcmp(Py_TYPE(u)->tp_name, "numpy.ufunc") != 0) {
        PyErr_Format(PyExc_TypeError, "opcore C backend: numpy.%s is not a ufunc", name);
        Py_DECREF(u); return -1;
    }
    uf = (PyUFuncObject*)u;
    if (uf->nin + uf->nout == nargs && uf->functions != NULL && uf->types != NULL) {
        for (i = 0; i < uf->ntypes; i++) {
            for (k = 0; k < nargs; k++)
                if ((int)uf->types[i * nargs + k] != types[k]) break;
            if (k == nargs && uf->functions[i] != NULL) {
                out->fn = (oc_uloop_fn)uf->functions[i];
                out->data = uf->data ? uf->data[i] : NULL;
                Py_DECREF(u);  /* numpy keeps the ufunc (and its loop table) alive */
                return 0;
            }
        }
    }
    PyErr_Format(PyExc_RuntimeError, "opcore C backend: numpy.%s has no inner loop for the "
                 "types of this graph", name);
    Py_DECREF(u);
    return -1;
}
#endif
"""


#: ``oc_sleef_<f>_f64``: NumPy-loop-shaped wrappers of SLEEF's ``Sleef_<f>d8_u10avx512f``,
#: ``Sleef_<f>d4_u10avx2`` (AVX2 with FMA) and ``Sleef_<f>_u10`` (scalar),
#: chosen by the CPU at run time (the module itself is compiled for the baseline ISA).
SLEEF_SUPPORT = r"""
#ifndef OC_SLEEF_DEFINED
#define OC_SLEEF_DEFINED
#include <immintrin.h>
#pragma GCC push_options
#pragma GCC target("avx512f")
#include <sleef.h>
#pragma GCC pop_options
#define OC_SLEEF_FN(F) \
__attribute__((target("avx512f"))) \
static void oc_sleef_##F##_f64_8(const double* x, double* y, npy_intp n) \
{ npy_intp i; for (i = 0; i + 8 <= n; i += 8) \
      _mm512_storeu_pd(y + i, Sleef_##F##d8_u10avx512f(_mm512_loadu_pd(x + i))); }
#define OC_SLEEF_FN4(F) \
__attribute__((target("avx2,fma"))) \
static void oc_sleef_##F##_f64_4(const double* x, double* y, npy_intp n) \
{ npy_intp i; for (i = 0; i + 4 <= n; i += 4) \
      _mm256_storeu_pd(y + i, Sleef_##F##d4_u10avx2(_mm256_loadu_pd(x + i))); }
OC_SLEEF_FN(sin)
OC_SLEEF_FN(cos)
OC_SLEEF_FN4(sin)
OC_SLEEF_FN4(cos)
#define OC_SLEEF_LOOP(F) \
static void oc_sleef_##F##_f64(char** args, npy_intp const* dims, npy_intp const* st, void* d) \
{ \
    const npy_intp n = dims[0]; npy_intp i = 0; \
    (void)d; \
    if (st[0] == sizeof(double) && st[1] == sizeof(double)) { \
        if (__builtin_cpu_supports("avx512f")) { \
            oc_sleef_##F##_f64_8((const double*)args[0], (double*)args[1], n); \
            i = n - n % 8; } \
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { \
            oc_sleef_##F##_f64_4((const double*)args[0], (double*)args[1], n); \
            i = n - n % 4; } \
    } \
    for (; i < n; i++) \
        *(double*)(args[1] + i * st[1]) = Sleef_##F##_u10(*(const double*)(args[0] + i * st[0])); \
}
OC_SLEEF_LOOP(sin)
OC_SLEEF_LOOP(cos)
#endif
"""


@functools.lru_cache(maxsize=1)
def sleef_available() -> str:
    """``""`` when SLEEF's header and library are installed (Debian/Ubuntu: ``libsleef-dev``),
    else why not."""
    # ctypes.util and glob load only when SLEEF is asked for (cpu_c__vector_math=sleef)
    if import_module("ctypes.util").find_library("sleef") is None:
        return "libsleef is not installed (apt-get install libsleef-dev)"
    glob = import_module("glob").glob
    if not any(glob(d + "/sleef.h") for d in
               ("/usr/include", "/usr/include/*-linux-gnu", "/usr/local/include")):
        return "sleef.h is not installed (apt-get install libsleef-dev)"
    return ""


def use_sleef() -> bool:
    """True when ``config.cpu_c__vector_math`` is ``"sleef"`` and SLEEF is installed (else a
    warning, once, and NumPy's loops)."""
    if config.cpu_c__vector_math != "sleef":
        return False
    why = sleef_available()
    if why:
        _warn_once(why)
        return False
    return True


@functools.lru_cache(maxsize=None)
def _warn_once(why: str) -> None:
    warnings.warn(f"cpu_c__vector_math='sleef': {why}; using NumPy's loops", RuntimeWarning,
                  stacklevel=3)


@dataclass
class Plan:
    """How one fused loop is evaluated: ``steps``/``outs`` as :func:`render.render_steps` gives
    them, ``ufunc`` the indices of the steps that call a NumPy loop."""

    steps: list
    outs: list
    ufunc: list
    in_dtypes: list
    out_dtypes: list
    scalar: list  # input j is broadcastable in every dimension (one value for the whole loop)
    sleef: dict  # ufunc step index -> SLEEF function name (config.cpu_c__vector_math='sleef')
    order: list  # the steps in evaluation order (an expanded op's parts come before it)
    prepped: set  # ufunc steps whose arguments are C expressions of their args, not the args


def ufunc_step(step: Any) -> bool:
    """True when ``step`` is computed by NumPy's ufunc loop: an op of :data:`UFUNC_OPS` in
    float32/float64 whose arguments are computed in its output dtype and whose ufunc has a loop
    for that signature."""
    op, dt = step.op, step.dtype
    if getattr(op, "name", None) not in UFUNC_OPS or dt not in _FLOAT_DTYPES:
        return False
    uf = getattr(op, "numpy", None)
    if not isinstance(uf, np.ufunc) or uf.nout != 1 or uf.nin != len(step.args):
        return False
    if tuple(op.compute_dtypes(step.dts, dt)) != (dt,) * uf.nin:
        return False
    if render.powi((op, step.args, dt), list(step.vals), dt) is not None:
        return False
    ch = np.dtype(dt).char
    return ch * uf.nin + "->" + ch in uf.types


def plan(node: Any) -> Plan | None:
    """The blocked plan of an ``Elemwise`` node, or ``None`` when no step calls a NumPy loop (or
    the node does not render to C)."""
    op = node.op
    ind = [v.type.dtype for v in node.inputs]
    outd = [v.type.dtype for v in node.outputs]
    try:
        steps, outs = render.render_steps(op.scalar_op, [f"x{j}" for j in range(len(ind))],
                                          ind, outd, render.C)
    except (KeyError, NotImplementedError):
        return None
    if render.raised_errors(op.scalar_op, [st.expr for st in steps], render.C):
        return None  # a step that raises (integer ** negative): the plain loop tests its flag
    order, prepped = _expand(steps)
    vec = [k for k in order if ufunc_step(steps[k])]
    if not vec:
        return None
    nd = node.outputs[0].type.ndim
    scalar = [all(v.type.broadcastable) and nd > 0 for v in node.inputs]
    sleef = {}
    if any((steps[k].op.name, steps[k].dtype) in SLEEF_STEPS for k in vec) and use_sleef():
        sleef = {k: SLEEF_STEPS[steps[k].op.name, steps[k].dtype] for k in vec
                 if (steps[k].op.name, steps[k].dtype) in SLEEF_STEPS}
    return Plan(steps, outs, vec, ind, outd, scalar, sleef, order, prepped)


def _expand(steps: list) -> tuple[list, set]:
    """Splits the steps whose NumPy rule is built from ufuncs into those ufuncs (in place in
    ``steps``; new parts appended) so that they run through NumPy's loops too, with the NumPy
    rule's own arithmetic: ``sigmoid`` is ``_sigmoid``'s ``x >= 0 ? 1 / (1 + e) : e / (1 + e)``
    with ``e = exp(-|x|)``, in the output dtype.  Returns the evaluation order and the parts
    whose argument is an expression (``-|x|``)."""
    order = list(range(len(steps)))
    prepped: set = set()
    for k, st in enumerate(list(steps)):
        name = getattr(st.op, "name", None)
        if name not in ("sigmoid", "softplus") or st.dtype not in _FLOAT_DTYPES:
            continue
        if tuple(st.op.compute_dtypes(st.dts, st.dtype)) != (st.dtype,):
            continue
        ct = ctype(st.dtype)
        v = f"(({ct})({st.vals[0]}))"
        e = len(steps)
        steps.append(render.Step(get_scalar_op("exp"), st.args, (f"(-fabs({v}))",), (st.dtype,),
                                 st.dtype, ""))
        prepped.add(e)
        order.insert(order.index(k), e)
        if name == "sigmoid":
            steps[k] = render.Step(st.op, st.args + (("s", e),), st.vals, st.dts, st.dtype,
                                   f"(({v}) >= 0 ? (({ct})1 / (({ct})1 + s{e})) : "
                                   f"(s{e} / (({ct})1 + s{e})))")
            continue
        # softplus: np.logaddexp(0, x)'s rule, max(x, 0) + log1p(exp(-|x|))
        lg = len(steps)
        steps.append(render.Step(get_scalar_op("log1p"), (("s", e),), (f"s{e}",), (st.dtype,),
                                 st.dtype, ""))
        steps[k] = render.Step(st.op, st.args + (("s", lg),), st.vals, st.dts, st.dtype,
                               f"((({v}) > 0 ? ({v}) : ({ct})0) + s{lg})")
        order.insert(order.index(k), lg)
    return order, prepped


def _typenum_c(dtype: str) -> str:
    return "NPY_" + np.dtype(dtype).name.upper()


class _Kernel:
    """Generates ``static void <name>(npy_intp m, char* const* a, const npy_intp* s)``: the
    fused loop over ``m`` elements at pointers ``a[0..nin+nout)`` with byte strides ``s``."""

    def __init__(self, p: Plan) -> None:
        self.p = p
        self.nin = len(p.in_dtypes)
        self.nout = len(p.out_dtypes)
        # groups: scalar step runs around each ufunc step (S V S V ... S)
        self.groups: list[list[int]] = [[]]
        self.vec_after: list[int] = []  # ufunc step after scalar group g
        for k in p.order:
            if k in p.ufunc:
                self.vec_after.append(k)
                self.groups.append([])
            else:
                self.groups[-1].append(k)
        self.home = {}
        for g, ks in enumerate(self.groups):
            for k in ks:
                self.home[k] = g
        for g, k in enumerate(self.vec_after):
            self.home[k] = g + 0.5  # between scalar groups g and g+1
        last = p.order[-1]
        # the last step, when a ufunc step and the only use of its value is output 0..: it may
        # write straight into that output
        self.direct = None
        if last in p.ufunc and p.outs.count(last) == 1:
            o = p.outs.index(last)
            if p.out_dtypes[o] == p.steps[last].dtype:
                self.direct = o
        self.temps: set[int] = set(p.ufunc)
        for k, st in enumerate(p.steps):
            for a in st.args:
                if a[0] == "s" and self.home[a[1]] != self.home[k]:
                    self.temps.add(a[1])
        for k in p.outs:
            if self.home[k] != len(self.groups) - 1:
                self.temps.add(k)

    def ct(self, dtype: str) -> str:
        return ctype(dtype)

    def source(self, name: str) -> str:
        p = self.p
        nin, nout = self.nin, self.nout
        L = [f"static void {name}(npy_intp m, char* const* a, const npy_intp* s)", "{"]
        L.append("    npy_intp o, i;")
        # per ufunc step: a buffer for each argument that needs a cast or a copy
        bufs = [(f"t{k}", p.steps[k].dtype) for k in sorted(self.temps)]
        bufs += [(f"u{k}_{q}", p.steps[k].dtype) for k in p.ufunc
                 for q, a in enumerate(p.steps[k].args) if self._arg_direct(k, a)
                 in (None, "x")]
        per_elem = sum(np.dtype(d).itemsize for _, d in bufs)
        blk = BLOCK
        while blk > 64 and blk * per_elem > STACK_BYTES:
            blk //= 2
        self.block = blk
        L += [f"    {self.ct(d)} {b}[{blk}];" for b, d in bufs]
        conds = [f"s[{j}] == (npy_intp)sizeof({self.ct(p.in_dtypes[j])})"
                 for j in range(nin) if not p.scalar[j]]
        conds += [f"s[{nin + o}] == (npy_intp)sizeof({self.ct(p.out_dtypes[o])})"
                  for o in range(nout)]
        L.append(f"    const int ct = {' && '.join(conds) or '1'};")
        L.append(f"    for (o = 0; o < m; o += {blk}) {{")
        L.append(f"        npy_intp b = m - o < {blk} ? m - o : {blk};")
        for j in range(nin):
            L.append(f"        char* const b{j} = a[{j}] + o * s[{j}];")
        for o in range(nout):
            L.append(f"        char* const c{o} = a[{nin + o}] + o * s[{nin + o}];")
        L.append("        (void)i;")
        for g in range(len(self.groups)):
            L += ["        " + x for x in self._group(g)]
            if g < len(self.vec_after):
                L += ["        " + x for x in self._ufunc_call(g, name)]
        L.append("    }")
        L.append("}")
        return "\n".join(L)

    def _group(self, g: int) -> list[str]:
        """The loop over the block of scalar group ``g``: its steps, the arguments the next
        ufunc step needs converted, and (last group) the stores of the outputs."""
        p = self.p
        ks = self.groups[g]
        body: list[str] = []
        stores: list[str] = []
        needs_s: set[int] = set()
        needs_x: set[int] = set()
        for k in ks:
            st = p.steps[k]
            for a in st.args:
                if a[0] == "s" and self.home[a[1]] != g:
                    needs_s.add(a[1])
                elif a[0] == "i":
                    needs_x.add(a[1])
            ct = self.ct(st.dtype)
            body.append(f"const {ct} s{k} = ({ct})({st.expr});")
            if k in self.temps:
                stores.append(f"t{k}[i] = s{k};")
        if g < len(self.vec_after):
            k = self.vec_after[g]
            st = p.steps[k]
            ct = self.ct(st.dtype)
            for q, a in enumerate(st.args):
                if self._arg_direct(k, a) is not None:
                    continue
                if a[0] == "s" and self.home[a[1]] != g:
                    needs_s.add(a[1])
                elif a[0] == "i":
                    needs_x.add(a[1])
                stores.append(f"u{k}_{q}[i] = ({ct})({st.vals[q]});")
        else:
            for o, k in enumerate(p.outs):
                if o == self.direct:
                    continue
                if self.home[k] != g:
                    needs_s.add(k)
                oc = self.ct(p.out_dtypes[o])
                stores.append(f"@OUT{o}@ = ({oc})(s{k});")
        if not stores:
            return []
        loads_s = [f"const {self.ct(p.steps[m].dtype)} s{m} = t{m}[i];" for m in sorted(needs_s)]
        out = []
        for contiguous in (True, False):
            pre, lx = [], []
            for j in sorted(needs_x):
                cj = self.ct(p.in_dtypes[j])
                if p.scalar[j]:
                    pre.append(f"const {cj} x{j} = *(const {cj}*)b{j};")
                elif contiguous:
                    lx.append(f"const {cj} x{j} = ((const {cj}*)b{j})[i];")
                else:
                    lx.append(f"const {cj} x{j} = *(const {cj}*)(b{j} + i * s[{j}]);")
            st_lines = []
            for x in stores:
                if x.startswith("@OUT"):
                    o = int(x[4:x.index("@", 1)])
                    oc = self.ct(p.out_dtypes[o])
                    dest = (f"(({oc}*)c{o})[i]" if contiguous
                            else f"*({oc}*)(c{o} + i * s[{self.nin + o}])")
                    x = dest + x[x.index("@", 1) + 1:]
                st_lines.append(x)
            out.append("if (ct) {" if contiguous else "} else {")
            out += ["    " + y for y in pre]
            out.append("    for (i = 0; i < b; i++) {")
            out += ["        " + y for y in lx + loads_s + body + st_lines]
            out.append("    }")
        out.append("}")
        return out

    def _arg_direct(self, k: int, a: tuple) -> str | None:
        """The buffer a ufunc argument is read from without a conversion loop (``t<m>`` for a
        step of the same dtype; ``"x"`` for an input of the same dtype), or None."""
        st = self.p.steps[k]
        if k in self.p.prepped:
            return None
        if a[0] == "s" and self.p.steps[a[1]].dtype == st.dtype:
            return f"t{a[1]}"
        if a[0] == "i" and self.p.in_dtypes[a[1]] == st.dtype and not self.p.scalar[a[1]]:
            return "x"
        return None

    def _ufunc_call(self, g: int, name: str) -> list[str]:
        p = self.p
        k = self.vec_after[g]
        st = p.steps[k]
        ct = self.ct(st.dtype)
        idx = p.ufunc.index(k)
        L = ["{"]
        args, steps = [], []
        for q, a in enumerate(st.args):
            d = self._arg_direct(k, a)
            if d is None:
                args.append(f"(char*)u{k}_{q}")
            elif d == "x":
                j = a[1]
                # a non-contiguous input is copied so that NumPy's loop sees contiguous data
                L.append(f"    char* a{q} = b{j};")
                L.append(f"    if (s[{j}] != (npy_intp)sizeof({ct})) {{ a{q} = (char*)u{k}_{q};"
                         f" for (i = 0; i < b; i++) u{k}_{q}[i] = "
                         f"*(const {ct}*)(b{j} + i * s[{j}]); }}")
                args.append(f"a{q}")
            else:
                args.append(f"(char*){d}")
            steps.append(f"(npy_intp)sizeof({ct})")
        if self.direct is not None and k == p.order[-1]:
            o = self.direct
            dst = f"c{o}"
            L.append(f"    char* d = s[{self.nin + o}] == (npy_intp)sizeof({ct}) ? {dst} : "
                     f"(char*)t{k};")
            args.append("d")
        else:
            args.append(f"(char*)t{k}")
        steps.append(f"(npy_intp)sizeof({ct})")
        L.append(f"    char* args[{len(args)}] = {{{', '.join(args)}}};")
        L.append(f"    const npy_intp st[{len(steps)}] = {{{', '.join(steps)}}};")
        L.append(f"    {name}_L[{idx}].fn(args, &b, st, {name}_L[{idx}].data);")
        if self.direct is not None and k == p.order[-1]:
            o = self.direct
            oc = self.ct(p.out_dtypes[o])
            L.append(f"    if (d != c{o}) for (i = 0; i < b; i++) "
                     f"*({oc}*)(c{o} + i * s[{self.nin + o}]) = t{k}[i];")
        L.append("}")
        return L


def kernel(p: Plan) -> tuple[str, str]:
    """``(name, support code)`` of the blocked loop of plan ``p``: the kernel, its table of
    NumPy loops ``<name>_L`` and ``<name>_init()`` (0, or -1 with a Python exception set), which
    fills the table on the first call.  The name is a digest of the code, so identical nodes
    share one kernel in a module."""
    kern = _Kernel(p)
    body = kern.source("@NAME@")
    # the loops called are part of the name: exp and exp2 kernels differ only in their table
    sig = body + "".join(f"\n{p.steps[k].op.numpy.__name__}:{p.steps[k].dtype}:"
                         f"{p.sleef.get(k, 'numpy')}" for k in p.ufunc)
    name = "oc_vk_" + hashlib.sha1(sig.encode()).hexdigest()[:16]
    init = [f"static int {name}_init(void)", "{", f"    static int ready = 0;",
            "    if (ready) return 0;"]
    for idx, k in enumerate(p.ufunc):
        st = p.steps[k]
        if k in p.sleef:
            init.append(f"    {name}_L[{idx}].fn = oc_sleef_{p.sleef[k]}_f64; "
                        f"{name}_L[{idx}].data = NULL;")
            continue
        types = ", ".join([_typenum_c(st.dtype)] * (len(st.args) + 1))
        init.append(f"    {{ static const int ty[] = {{{types}}};")
        init.append(f"      if (oc_uloop_get({c_string(st.op.numpy.__name__)}, "
                    f"{len(st.args) + 1}, ty, &{name}_L[{idx}])) return -1; }}")
    init += ["    ready = 1;", "    return 0;", "}"]
    code = "\n".join([SUPPORT, SLEEF_SUPPORT if p.sleef else "", f"#ifndef {name.upper()}", f"#define {name.upper()}",
                      f"static oc_uloop {name}_L[{len(p.ufunc)}];",
                      body.replace("@NAME@", name), *init, "#endif"])
    return name, code


#: Support code of a threaded loop: the pool's API (:mod:`opcore_cpu_c.threads`) and the two
#: tasks running a kernel over work items: ``oc_vchunks`` (item ``c``: elements ``c * CHUNK ..``
#: of a contiguous loop) and ``oc_vrows`` (item ``c``: rows ``c * rb ..`` of a strided one).
POOL_TASKS = threads.KERNEL_SUPPORT + r"""
#ifndef OC_VJOB_DEFINED
#define OC_VJOB_DEFINED
typedef void (*oc_vkernel_t)(npy_intp, char**, npy_intp*);
typedef struct {
    oc_vkernel_t k; int na, nd; npy_intp n, rb;
    char** a0; npy_intp* s0; const npy_intp* dims; const npy_intp* st;
} oc_vjob;
static void oc_vchunks(void* c_, npy_intp lo, npy_intp hi)
{
    const oc_vjob* c = (const oc_vjob*)c_;
    char* aa[c->na]; npy_intp i; int j;
    for (i = lo; i < hi; i++) {
        const npy_intp b = i * @CHUNK@;
        for (j = 0; j < c->na; j++) aa[j] = c->a0[j] + b * c->s0[j];
        c->k(c->n - b < @CHUNK@ ? c->n - b : @CHUNK@, aa, c->s0);
    }
}
static void oc_vrows(void* c_, npy_intp lo, npy_intp hi)
{
    const oc_vjob* c = (const oc_vjob*)c_;
    const int nd = c->nd, na = c->na;
    const npy_intp rows = c->n / c->dims[nd - 1];
    char* aa[na]; npy_intp sl[na]; npy_intp r; int j, e;
    const npy_intp r1 = hi * c->rb < rows ? hi * c->rb : rows;
    for (j = 0; j < na; j++) sl[j] = c->st[j * nd + nd - 1];
    for (r = lo * c->rb; r < r1; r++) {
        npy_intp rem = r;
        for (j = 0; j < na; j++) aa[j] = c->a0[j];
        for (e = nd - 2; e >= 0; e--) {
            const npy_intp id = rem % c->dims[e]; rem /= c->dims[e];
            for (j = 0; j < na; j++) aa[j] += id * c->st[j * nd + e];
        }
        c->k(c->dims[nd - 1], aa, sl);
    }
}
#endif
""".replace("@CHUNK@", str(CHUNK))


def driver(p: Plan, name: str, nd: int, inputs: list, outputs: list, fail: str,
           nthreads: int = 1, minsize: int = 0) -> list[str]:
    """C statements running kernel ``name`` over the node's arrays, once ``dims``, ``n`` and
    ``fast`` (every input contiguous of the output's size or a declared scalar, every output
    contiguous) are set and the outputs allocated.  The contiguous path runs in chunks of
    :data:`CHUNK` elements, the strided one row by row (the last dimension); with
    ``nthreads > 1``, a loop of at least ``minsize`` elements runs them on the thread pool
    (:data:`POOL_TASKS` in the support code, the pool fetched by the module's init code)."""
    nin, nout = len(inputs), len(outputs)
    na = nin + nout
    arrs = list(inputs) + list(outputs)
    dts = list(p.in_dtypes) + list(p.out_dtypes)
    L = ["if (n > 0) {", f"  char* a0[{na}]; npy_intp s0[{na}];",
         f"  if ({name}_init()) {fail}"]
    for j, x in enumerate(arrs):
        L.append(f"  a0[{j}] = (char*)PyArray_DATA({x});")
    L.append("  if (fast) {")
    for j in range(na):
        zero = j < nin and p.scalar[j]
        L.append(f"    s0[{j}] = {'0' if zero else f'(npy_intp)sizeof({ctype(dts[j])})'};")
    L.append(f"    const npy_intp nch = (n + {CHUNK} - 1) / {CHUNK};")
    if nthreads > 1:
        L.append(f"    if (n >= {int(minsize)}) {{")
        L.append(f"      oc_vjob job = {{{name}, {na}, {nd}, n, 1, a0, s0, NULL, NULL}};")
        L.append(f"      OC_POOL_RUN({int(nthreads)}, nch, oc_vchunks, &job);")
        L.append("    } else")
    L.append("    for (npy_intp c = 0; c < nch; c++) {")
    L.append(f"      char* aa[{na}]; const npy_intp lo = c * {CHUNK};")
    L.append(f"      for (int j = 0; j < {na}; j++) aa[j] = a0[j] + lo * s0[j];")
    L.append(f"      {name}(n - lo < {CHUNK} ? n - lo : {CHUNK}, aa, s0);")
    L.append("    }")
    if nd > 0:
        L.append("  } else {")
        L.append(f"    npy_intp st[{na}][{nd}]; const npy_intp rows = n / dims[{nd - 1}];")
        for j, x in enumerate(arrs):
            bc = f"PyArray_DIMS({x})[d] == 1 ? 0 : " if j < nin else ""
            L.append(f"    for (d = 0; d < {nd}; d++) st[{j}][d] = {bc}PyArray_STRIDES({x})[d];")
        if nthreads > 1:
            L.append(f"    if (n >= {int(minsize)}) {{")
            L.append(f"      const npy_intp rb = dims[{nd - 1}] >= {CHUNK} ? 1 : "
                     f"{CHUNK} / dims[{nd - 1}];")
            L.append(f"      oc_vjob job = {{{name}, {na}, {nd}, n, rb, a0, s0, dims, "
                     "&st[0][0]};")
            L.append(f"      OC_POOL_RUN({int(nthreads)}, (rows + rb - 1) / rb, oc_vrows, &job);")
            L.append("    } else")
        L.append("    for (npy_intp r = 0; r < rows; r++) {")
        L.append(f"      char* aa[{na}]; npy_intp sl[{na}]; npy_intp rem = r;")
        L.append(f"      for (int j = 0; j < {na}; j++) {{ aa[j] = a0[j]; sl[j] = st[j][{nd - 1}]; }}")
        L.append(f"      for (int e = {nd - 2}; e >= 0; e--) {{")
        L.append("        const npy_intp id = rem % dims[e]; rem /= dims[e];")
        L.append(f"        for (int j = 0; j < {na}; j++) aa[j] += id * st[j][e];")
        L.append("      }")
        L.append(f"      {name}(dims[{nd - 1}], aa, sl);")
        L.append("    }")
    L.append("  }")
    L.append("}")
    return L
