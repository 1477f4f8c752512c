"""``CLinker``: one CPython extension module per function graph, one entry point for the schedule.

Every node whose op has C (its own ``c_code``, an impl registered for backend ``"c"`` through
``opcore_register_impls``, this package's own in ``opcore_cpu_c/impls/`` included) is rendered as
a C *kernel*: a static function that reads and writes the storage cells named by a small table
(``cells[__ci[j]]``) and takes the node's params and run-time strings as arguments.  Nodes whose
kernels are the same text share one function, so a deep model made of a few repeated layers
compiles a few kernels, not one function per node.  The module's
``run(cells, thunks, params, err, names, table[, times])`` walks the schedule ``table`` (given at
run time: kernel and cell indices per step), calling the kernels and, for the nodes without C,
their Python thunks.  ``cells`` is the tuple of storage cells (one-element lists), so a call costs
one C entry and no per-node Python overhead.  ``names`` holds, per step, the variable and op
descriptions used in error messages.  Since neither the schedule nor the names are in the source,
graphs differing only in names, or built from the same kernels in any number and order, share one
module (and one cache entry).
"""

from __future__ import annotations

import hashlib
from array import array
from typing import Any, Callable

import numpy as np

from opcore.cbuild import compile_linked_module, compile_module
from opcore.compile.linker import Linker
from opcore.config import config
from opcore.plugins import get_host

from opcore.graph.params import ParamsType, params_of

from opcore_cpu_c.ccode import C_DTYPES, PRELUDE, params_struct, typenum, var_typedefs

__all__ = ["CLinker", "c_provider", "node_supported"]

_METHODS = ("c_support_code", "c_headers", "c_header_dirs", "c_libraries", "c_lib_dirs",
            "c_compile_args", "c_init_code")


def _tensor_ok(v: Any) -> bool:
    t = v.type
    return hasattr(t, "dtype") and hasattr(t, "broadcastable") and np.dtype(t.dtype).name in C_DTYPES


def c_provider(node: Any) -> Any:
    """The object holding ``node``'s C protocol methods, or ``None`` when it has no C.

    One lookup, ``impls.lookup("c", node)`` (docs/plugins.md gives its precedence rule): the op's
    own ``c_code`` through the adapter, else the implementation registered for its type; none
    for a node whose types another backend owns (a GPU op's host code)."""
    impl = get_host().ensure_loaded().impls.lookup("c", node)
    if impl is not None and callable(getattr(impl, "c_code", None)):
        return impl
    return None


def node_supported(node: Any) -> Any:
    """The C provider of ``node`` when it can run in C (tensor types with C dtypes), else None."""
    if getattr(node.op, "lazy", False):
        return None
    if not all(_tensor_ok(v) for v in node.inputs + node.outputs):
        return None
    prov = c_provider(node)
    if prov is None:
        return None
    check = getattr(prov, "c_supports", None)
    if check is not None and not check(node):
        return None
    return prov


def _call(prov: Any, meth: str, *args: Any) -> Any:
    f = getattr(prov, meth, None)
    if f is None:
        return [] if meth != "c_support_code" else ""
    try:
        return f(*args)
    except TypeError:
        # Theano's c_headers & co. take no node; the op-level methods may take one
        return f()


_KNAME = "@OC_KERNEL@"  # the kernel's function name, filled in once its text is known


class _Gen:
    """Collects the pieces of one module: support code, headers, flags, and one C function per
    distinct kernel (two nodes whose rendered code is the same text share one function)."""

    def __init__(self) -> None:
        self.support: list[str] = []
        self.headers: list[str] = []
        self.init: list[str] = []
        self.flags: list[str] = []
        self.libs: list[str] = []
        #: kernel key (its own translation unit, see :meth:`node_kernel`) -> _Kernel
        self.kernels: dict[str, _Kernel] = {}
        self.cacheable = True
        self._names: list[str] = []

    def runtime_string(self, text: str) -> str:
        """A C expression (a borrowed ``PyObject*`` str, for ``%U``) holding ``text`` at run
        time: messages naming variables use it, so names stay out of the module's source."""
        return f"PyTuple_GET_ITEM(__names, {self.name(text)})"

    def name(self, text: str) -> int:
        """Index of ``text`` in the node's run-time names tuple: variable names and op
        descriptions reach the module at run time, so they are not part of its source (nor of
        its cache key), and nodes differing only in names share one kernel."""
        self._names.append(text)
        return len(self._names) - 1

    def add_unique(self, lst: list, items: Any) -> None:
        for it in items:
            if it and it not in lst:
                lst.append(it)

    def node_kernel(self, k: int, node: Any, prov: Any) -> tuple[str, tuple[str, ...]]:
        """Render node ``k``'s C; returns ``(kernel key, run-time names of the node)``.

        The kernel reads and writes the storage cells ``cells[__ci[j]]``, ``j`` running over
        the node's inputs then outputs, and takes the node's params and names as arguments, so
        its text holds nothing specific to the node but what its C code put there (the name
        ``node<k>`` and id ``k`` the op's code received, when it used them).  Its key is the
        whole translation unit it compiles in (headers, support and init code of the node)."""
        name = f"node{k}"
        self._names = []
        ver = None
        f = getattr(prov, "c_code_cache_version", None)
        if f is not None:
            try:
                ver = f(node)
            except TypeError:
                ver = f()
        if not ver:
            self.cacheable = False
        support: list[str] = []
        headers: list[str] = []
        init: list[str] = []
        flags: list[str] = []
        libs: list[str] = []
        self.add_unique(support, [_call(prov, "c_support_code", node)])
        apply_code = getattr(prov, "c_support_code_apply", None)
        if apply_code is not None:
            self.add_unique(support, [apply_code(node, name)])
        for h in _call(prov, "c_headers", node):
            h = h if h.startswith(("<", '"')) else f"<{h}>"
            self.add_unique(headers, [f"#include {h}"])
        self.add_unique(flags, ["-I" + d for d in _call(prov, "c_header_dirs", node)])
        self.add_unique(flags, list(_call(prov, "c_compile_args", node)))
        self.add_unique(libs, ["-L" + d for d in _call(prov, "c_lib_dirs", node)])
        self.add_unique(libs, ["-l" + lib for lib in _call(prov, "c_libraries", node)])
        init_apply = getattr(prov, "c_init_code_apply", None)
        self.add_unique(init, list(_call(prov, "c_init_code", node)))
        if init_apply is not None:
            self.add_unique(init, [init_apply(node, name)])
        ins = [f"V_i{j}" for j in range(len(node.inputs))]
        outs = [f"V_o{j}" for j in range(len(node.outputs))]
        nin = len(ins)
        sub = {"fail": "{ __failure = 1; goto __label_fail; }", "params": "__params",
               "id": str(k), "name": name, "runtime_string": self.runtime_string}
        pt = getattr(node.op, "params_type", None)
        if isinstance(pt, ParamsType):
            # sub['params'] points to a struct with one C member per field (Theano's protocol)
            self.add_unique(support, [params_struct(pt)])
            sub["params"] = "__pparams"
        body = prov.c_code(node, name, ins, outs, sub)
        cleanup_f = getattr(prov, "c_code_cleanup", None)
        cleanup = cleanup_f(node, name, ins, outs, sub) if cleanup_f is not None else ""
        lines = [f"int {_KNAME}(PyObject** cells, const int* __ci, PyObject* __params, "
                 "PyObject* __names)",
                 "{",
                 "    int __failure = 0;"]
        for x in ins + outs:
            lines.append(f"    PyArrayObject* {x} = NULL;")
        for var_name, v in zip(ins + outs, list(node.inputs) + list(node.outputs)):
            lines += var_typedefs(var_name, v.type.dtype)
        if isinstance(pt, ParamsType):
            lines += [f"    {pt.struct_name} __pparams_s; {pt.struct_name}* __pparams = "
                      "&__pparams_s;",
                      f"    if ({pt.struct_name}_fill(__params, __pparams)) goto __label_fail;"]
        for j, v in enumerate(node.inputs):
            shp = ", ".join(str(-1 if s is None else s) for s in v.type.shape) or "0"
            who = self.name(f"opcore C backend: {node.op} input {j} ({v})")
            lines.append(f"    {{ static const npy_intp sshape[] = {{{shp}}};")
            lines.append(f"      if (oc_in(cells[__ci[{j}]], {typenum(v.type.dtype)}, "
                         f"{v.type.ndim}, sshape, &{ins[j]}, __names, {who})) "
                         "goto __label_fail; }")
        for j, v in enumerate(node.outputs):
            lines.append(f"    {outs[j]} = oc_cur(cells[__ci[{nin + j}]]);")
        lines += ["    {", body, "    }", "    {", cleanup, "    }"]
        for j, v in enumerate(node.outputs):
            who = self.name(f"opcore C backend: {node.op} produced no output {j}")
            lines.append(f"    if ({outs[j]} == NULL) {{ if (!PyErr_Occurred()) "
                         f"PyErr_SetObject(PyExc_RuntimeError, PyTuple_GET_ITEM(__names, {who}));"
                         " goto __label_fail2; }")
        for j, v in enumerate(node.outputs):
            lines.append(f"    oc_store(cells[__ci[{nin + j}]], {outs[j]});")
        for x in ins:
            lines.append(f"    Py_XDECREF({x});")
        lines += ["    return 0;", "__label_fail:", "    {", cleanup, "    }", "__label_fail2:"]
        for x in ins + outs:
            lines.append(f"    Py_XDECREF({x});")
        failed = self.name(f"opcore C backend: {node.op} failed")
        lines += ["    if (!PyErr_Occurred()) PyErr_SetObject(PyExc_RuntimeError, "
                  f"PyTuple_GET_ITEM(__names, {failed}));",
                  "    (void)__failure; (void)__params; (void)__names; (void)__ci;",
                  "    return -1;", "}"]
        func = "\n".join(lines)
        unit = "\n".join(["#define OC_HELPERS_EXTERN", PRELUDE, *headers, *support, func,
                          f"PyObject* {_KNAME}_init(void)", "{", "    import_array();", "    {",
                          *init, "    }", "    return Py_None;", "}", ""])
        key = "\n".join([unit, repr(flags), repr(libs)])
        if key not in self.kernels:
            self.kernels[key] = _Kernel(func, unit, (type(node.op).__name__, ver),
                                        str(node.op)[:60], nin + len(outs), flags)
            for lst, items in ((self.support, support), (self.headers, headers),
                               (self.init, init), (self.flags, flags), (self.libs, libs)):
                self.add_unique(lst, items)
        return key, tuple(self._names)

    def order(self) -> dict[str, int]:
        """Kernel key -> index.  Kernels are ordered by their text, so a module depends only on
        the set of its distinct kernels, not on the schedule: graphs built from the same kernels
        in any number and order share one module and one cache entry."""
        return {key: j for j, key in enumerate(sorted(self.kernels))}

    def source(self) -> tuple[str, list]:
        """``(source, versions)`` of the module as one translation unit."""
        keys = sorted(self.kernels)
        ks = [self.kernels[key] for key in keys]
        funcs = [k.func.replace(f"int {_KNAME}", f"static int oc_k{j}", 1)
                 for j, k in enumerate(ks)]
        table = ["typedef int (*oc_kernel_t)(PyObject**, const int*, PyObject*, PyObject*);",
                 "typedef PyObject* (*oc_init_t)(void);",
                 "static PyObject* oc_init_all(void)", "{", "    {", *self.init, "    }",
                 "    return Py_None;", "}",
                 f"static const int oc_nk = {len(ks)};",
                 "static const oc_kernel_t oc_kernels[] = {"
                 + ", ".join(f"oc_k{j}" for j in range(len(ks))) + "};",
                 f"static const int oc_arity[] = {{{', '.join(str(k.arity) for k in ks)}}};",
                 "static const int oc_ninit = 1;",
                 "static const oc_init_t oc_inits[] = {oc_init_all};",
                 "#define OC_LINKAGE static"]
        src = "\n".join([PRELUDE, *self.headers, *self.support, *funcs, *table, _DRIVER,
                         _PYINIT])
        return src, [k.version for k in ks]

    def linked(self) -> tuple[str, list[str], list[list[str]], list]:
        """``(table source, parts, flags of each part, versions)`` of the module linked from one
        object file per kernel (each compiled once into the cache) and the driver's: the table
        source, which names the kernels, is all that is compiled for a module whose kernels are
        known."""
        keys = sorted(self.kernels)
        ks = [self.kernels[key] for key in keys]
        names = [f"oc_k_{hashlib.sha256(k.unit.encode()).hexdigest()[:20]}" for k in ks]
        parts = [k.unit.replace(_KNAME, n) for k, n in zip(ks, names)]
        decl = [f"int {n}(PyObject**, const int*, PyObject*, PyObject*); "
                f"PyObject* {n}_init(void);" for n in names]
        table = "\n".join([
            "typedef struct _object PyObject;",
            "typedef int (*oc_kernel_t)(PyObject**, const int*, PyObject*, PyObject*);",
            "typedef PyObject* (*oc_init_t)(void);", *decl,
            f"const int oc_nk = {len(ks)};",
            f"const oc_kernel_t oc_kernels[] = {{{', '.join(names)}}};",
            f"const int oc_arity[] = {{{', '.join(str(k.arity) for k in ks)}}};",
            f"const int oc_ninit = {len(ks)};",
            f"const oc_init_t oc_inits[] = {{{', '.join(n + '_init' for n in names)}}};",
            "PyObject* oc_module_init(const char* name);",
            "PyObject* PyInit_@MODNAME@(void) { return oc_module_init(\"@MODNAME@\"); }", ""])
        return table, [_DRIVER_UNIT, *parts], [[], *(k.flags for k in ks)], [k.version for k in ks]


class _Kernel:
    """One distinct kernel: its function (named ``@OC_KERNEL@``), its translation unit, the
    version of its C, what it computes (for ``opcore cache list``), how many cells it reads."""

    __slots__ = ("func", "unit", "version", "op", "arity", "flags")

    def __init__(self, func: str, unit: str, version: Any, op: str, arity: int,
                 flags: list[str]) -> None:
        self.func, self.unit, self.version, self.op = func, unit, version, op
        self.arity, self.flags = arity, flags


#: The module's entry points, the same for every function: ``run`` walks the schedule table
#: given at run time (see :func:`step_table`), ``check`` validates such a table once.  They use
#: ``oc_nk``/``oc_kernels``/``oc_arity`` (the kernels) and ``oc_ninit``/``oc_inits`` (run when
#: the module is imported), defined by the module's table.
_DRIVER = r"""
#include <time.h>
static int oc_table(PyObject* tab, const int** kid, const int** off, const int** refs,
                    int* nsteps, int* ncells, int* nrefs)
{
    const int* t; Py_ssize_t n;
    if (!PyBytes_CheckExact(tab) || PyBytes_GET_SIZE(tab) < 3 * (Py_ssize_t)sizeof(int)) {
        PyErr_SetString(PyExc_TypeError, "run: the step table must be bytes");
        return -1; }
    t = (const int*)PyBytes_AS_STRING(tab);
    n = PyBytes_GET_SIZE(tab) / (Py_ssize_t)sizeof(int);
    *nsteps = t[0]; *ncells = t[1]; *nrefs = t[2];
    if (*nsteps < 0 || *ncells < 0 || *nrefs < 0
        || n != 3 + 2 * (Py_ssize_t)*nsteps + (Py_ssize_t)*nrefs) {
        PyErr_SetString(PyExc_ValueError, "run: malformed step table");
        return -1; }
    *kid = t + 3; *off = *kid + *nsteps; *refs = *off + *nsteps;
    return 0;
}

static PyObject* oc_check(PyObject* self, PyObject* const* args, Py_ssize_t n)
{
    const int *kid, *off, *refs; int nsteps, ncells, nrefs, k, j;
    if (n != 1 || oc_table(args[0], &kid, &off, &refs, &nsteps, &ncells, &nrefs)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "check(table)");
        return NULL; }
    for (k = 0; k < nsteps; k++) {
        if (kid[k] < -1 || kid[k] >= oc_nk) {
            PyErr_Format(PyExc_ValueError, "check: step %d names kernel %d of %d", k, kid[k],
                         oc_nk);
            return NULL; }
        if (kid[k] < 0) continue;
        if (off[k] < 0 || (long long)off[k] + oc_arity[kid[k]] > nrefs) {
            PyErr_Format(PyExc_ValueError, "check: step %d reads past the cell table", k);
            return NULL; }
        for (j = 0; j < oc_arity[kid[k]]; j++)
            if (refs[off[k] + j] < 0 || refs[off[k] + j] >= ncells) {
                PyErr_Format(PyExc_ValueError, "check: step %d names cell %d of %d", k,
                             refs[off[k] + j], ncells);
                return NULL; }
    }
    Py_RETURN_NONE;
}

#define OC_T0 if (prof) clock_gettime(CLOCK_MONOTONIC, &oc_t0)
#define OC_T1(k) if (prof) { clock_gettime(CLOCK_MONOTONIC, &oc_t1); \
    prof[k] += (double)(oc_t1.tv_sec - oc_t0.tv_sec) \
               + 1e-9 * (double)(oc_t1.tv_nsec - oc_t0.tv_nsec); }

/* run(cells, thunks, params, err, names, table[, times]): step k calls kernel kid[k] on the
   cells refs[off[k]...] (or, for kid[k] == -1, the Python thunk thunks[k]) with params[k] and
   the node's run-time strings names[k]; on failure err[0] = k.  ``times``, a float64 array with
   one slot per step, makes the call a profiled one (each step's seconds added to its slot). */
static PyObject* oc_run(PyObject* self, PyObject* const* args, Py_ssize_t n)
{
    PyObject** cells; PyObject *thunks, *params, *names, *r;
    const int *kid, *off, *refs; int nsteps, ncells, nrefs;
    int step = 0; double* prof = NULL; struct timespec oc_t0, oc_t1;
    if ((n != 6 && n != 7) || !PyTuple_CheckExact(args[0]) || !PyTuple_CheckExact(args[1])
        || !PyTuple_CheckExact(args[2]) || !PyList_CheckExact(args[3])
        || PyList_GET_SIZE(args[3]) < 1 || !PyTuple_CheckExact(args[4])) {
        PyErr_SetString(PyExc_TypeError, "run(cells, thunks, params, err, names, table[, times])");
        return NULL; }
    if (oc_table(args[5], &kid, &off, &refs, &nsteps, &ncells, &nrefs)) return NULL;
    if (PyTuple_GET_SIZE(args[0]) != ncells || PyTuple_GET_SIZE(args[1]) != nsteps
        || PyTuple_GET_SIZE(args[2]) != nsteps || PyTuple_GET_SIZE(args[4]) != nsteps) {
        PyErr_SetString(PyExc_ValueError, "run: cells, thunks, params and names do not match "
                        "the step table");
        return NULL; }
    if (n == 7 && args[6] != Py_None) {
        PyArrayObject* t = (PyArrayObject*)args[6];
        if (!PyArray_Check(args[6]) || PyArray_TYPE(t) != NPY_FLOAT64
            || !PyArray_IS_C_CONTIGUOUS(t) || !PyArray_ISWRITEABLE(t)
            || PyArray_SIZE(t) < nsteps) {
            PyErr_SetString(PyExc_TypeError, "run: times must be a writeable contiguous "
                            "float64 array with one slot per step");
            return NULL; }
        prof = (double*)PyArray_DATA(t); }
    cells = &PyTuple_GET_ITEM(args[0], 0); thunks = args[1]; params = args[2]; names = args[4];
    (void)oc_t0; (void)oc_t1;
    for (step = 0; step < nsteps; step++) {
        OC_T0;
        if (kid[step] >= 0) {
            if (oc_kernels[kid[step]](cells, refs + off[step], PyTuple_GET_ITEM(params, step),
                                      PyTuple_GET_ITEM(names, step)))
                goto fail;
        } else {
            r = PyObject_CallNoArgs(PyTuple_GET_ITEM(thunks, step));
            if (r == NULL) goto fail;
            Py_DECREF(r);
        }
        OC_T1(step);
    }
    Py_RETURN_NONE;
fail:
    { PyObject* e = PyLong_FromLong(step);
      if (e) { PyObject* old = PyList_GET_ITEM(args[3], 0);
               PyList_SET_ITEM(args[3], 0, e); Py_XDECREF(old); } }
    return NULL;
}

static PyMethodDef oc_methods[] = {
    {"run", (PyCFunction)(void(*)(void))oc_run, METH_FASTCALL, "run the schedule"},
    {"check", (PyCFunction)(void(*)(void))oc_check, METH_FASTCALL, "validate a step table"},
    {NULL, NULL, 0, NULL}
};

OC_LINKAGE PyObject* oc_module_init(const char* name)
{
    static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, NULL, NULL, -1, oc_methods};
    int k;
    import_array();
    for (k = 0; k < oc_ninit; k++) if (oc_inits[k]() == NULL) return NULL;
    def.m_name = name;
    return PyModule_Create(&def);
}
"""

_PYINIT = """PyMODINIT_FUNC PyInit_@MODNAME@(void) { return oc_module_init("@MODNAME@"); }
"""

#: The driver as its own translation unit (one cached object shared by every linked module);
#: the module's table source defines the symbols declared here.
_DRIVER_UNIT = "\n".join([
    "#define OC_HELPERS_DEFINE  /* the helpers of opcore_helpers.h, for every kernel unit */",
    PRELUDE,
    "typedef int (*oc_kernel_t)(PyObject**, const int*, PyObject*, PyObject*);",
    "typedef PyObject* (*oc_init_t)(void);",
    "extern const int oc_nk, oc_ninit;", "extern const oc_kernel_t oc_kernels[];",
    "extern const int oc_arity[];", "extern const oc_init_t oc_inits[];",
    "#define OC_LINKAGE", _DRIVER])


def step_table(kernel_ids: list[int], refs: list[list[int]], ncells: int) -> bytes:
    """The schedule as the module's ``run`` reads it: native ints ``[nsteps, ncells, nrefs,
    kernel id per step (-1: Python thunk), offset of its cells per step, cell indices...]``."""
    offs, flat = [], []
    for r in refs:
        offs.append(len(flat))
        flat.extend(r)
    return array("i", [len(kernel_ids), ncells, len(flat), *kernel_ids, *offs, *flat]).tobytes()


def build_program(nodes: list, storage_map: dict, py_thunk: Callable) -> tuple[Any, list]:
    """Generate and compile the module for ``nodes``; returns ``(callable, c_nodes)``.

    ``callable()`` runs the schedule; raises with ``.node`` set to the failing node."""
    cell_index: dict = {}
    cells: list = []
    for node in nodes:
        for v in node.inputs + node.outputs:
            if v not in cell_index:
                cell_index[v] = len(cells)
                cells.append(storage_map[v])
    gen = _Gen()
    texts: list = []
    refs: list = []
    names: list = []
    thunks = []
    params = []
    c_nodes = []
    for k, node in enumerate(nodes):
        prov = node_supported(node)
        if prov is not None:
            text, node_names = gen.node_kernel(k, node, prov)
            texts.append(text)
            refs.append([cell_index[v] for v in node.inputs + node.outputs])
            names.append(node_names)
            thunks.append(None)
            c_nodes.append(node)
        else:
            texts.append(None)
            refs.append([])
            names.append(())
            thunks.append(py_thunk(node))
        has_params = getattr(node.op, "params_type", None) is not None
        params.append(params_of(node.op, node) if has_params else node.op)
    if not c_nodes:
        return None, []
    index = gen.order()
    opt = config.cpu_c__optimization.split()
    lock_timeout = float(config.cpu_c__cache_timeout)
    ops = sorted({k.op for k in gen.kernels.values()})
    if gen.cacheable and config.cpu_c__kernel_objects:
        src, parts, part_flags, versions = gen.linked()
        mod = compile_linked_module(src, "ocmod", parts, versions, cflags=opt,
                                    ldflags=gen.libs, pch=bool(config.cpu_c__pch), ops=ops,
                                    part_ops=[["driver"]] + [[gen.kernels[key].op]
                                                             for key in sorted(gen.kernels)],
                                    part_cflags=part_flags, lock_timeout=lock_timeout)
        src = "\n".join([src, *parts])
    else:
        src, versions = gen.source()
        mod = compile_module(src, "ocmod", versions, cached=gen.cacheable,
                             cflags=[*opt, *gen.flags],
                             ldflags=gen.libs, pch=bool(config.cpu_c__pch), ops=ops,
                             lock_timeout=lock_timeout)
    table = step_table([-1 if t is None else index[t] for t in texts], refs, len(cells))
    mod.check(table)
    run = mod.run
    names_t = tuple(names)
    cells_t = tuple(cells)
    thunks_t = tuple(thunks)
    params_t = tuple(params)
    err = [0]

    def program() -> None:
        try:
            run(cells_t, thunks_t, params_t, err, names_t, table)
        except Exception as exc:
            try:
                exc.node = nodes[err[0]]
            except Exception:
                pass
            raise

    def run_profiled(times: Any) -> None:
        """Run the same module, adding each step's seconds to ``times[k]`` (float64 array)."""
        try:
            run(cells_t, thunks_t, params_t, err, names_t, table, times)
        except Exception as exc:
            try:
                exc.node = nodes[err[0]]
            except Exception:
                pass
            raise

    program.run_profiled = run_profiled
    #: what ``module.run`` takes, for a caller running the schedule from C (a Scan's loop)
    program.run_args = (cells_t, thunks_t, params_t, err, names_t, table)
    program.nodes = list(nodes)
    program.module = mod
    program.source = src  # all of the module's C (its table and parts, when linked)
    #: the C function of each distinct kernel, in kernel index order
    program.kernel_sources = [gen.kernels[key].func for key in sorted(gen.kernels)]
    program.kernel_ids = [-1 if t is None else index[t] for t in texts]
    return program, c_nodes


def _py_make(node: Any, storage_map: dict) -> Callable:
    """The thunk of a node without C: the backend owning its types runs it (a GPU op's host code
    runs on the ``gpu`` backend's path); else the ``py`` backend's impl, else ``perform``."""
    host = get_host().ensure_loaded()
    owner = host.impls.owner(node)
    if owner is not None and owner != "c":
        factory = host.backends[owner].linker_factory
        if factory is not None:
            return factory(None).make_thunk(node, storage_map)
    impl = host.impls.lookup("py", node.op)
    if impl is not None:
        return impl(node, storage_map)
    return node.op.make_py_thunk(node, storage_map)


class CLinker(Linker):
    """Links a function graph into one C extension module (see the module docstring)."""

    backend_name = "c"

    def __init__(self, impl_lookup: Callable | None = None) -> None:
        super().__init__(impl_lookup)
        self.c_nodes: list = []
        self.program = None

    def _py_thunk(self, storage_map: dict) -> Callable:
        def make(node: Any) -> Callable:
            return _py_make(node, storage_map)
        return make

    def make_thunk(self, node: Any, storage_map: dict) -> Callable:
        """A thunk for ``node`` alone; its C module is compiled on the first call."""
        if node_supported(node) is None or any(not isinstance(storage_map[v], list)
                                               for v in node.inputs + node.outputs):
            return _py_make(node, storage_map)
        state: list = []

        def thunk() -> None:
            if not state:
                prog, _ = build_program([node], storage_map, self._py_thunk(storage_map))
                state.append(prog)
            state[0]()
        thunk.node = node
        return thunk

    def make_program(self, fgraph: Any, order: list, storage_map: dict) -> Any:
        if any(getattr(n.op, "lazy", False) for n in order):
            return None
        if any(not isinstance(storage_map[v], list) for n in order
               for v in n.inputs + n.outputs):
            return None
        prog, c_nodes = build_program(list(order), storage_map, self._py_thunk(storage_map))
        self.c_nodes = c_nodes
        self._c_node_set = set(c_nodes)
        self.program = prog
        return prog

    def placement(self, node: Any) -> tuple[str, str]:
        """``("c", "compiled")`` for a node with C code in this function's module, else
        ``("c", "python fallback")`` (its thunk is called from the C loop), with the reason in
        parentheses when the op's C implementation declined the node and says why
        (``c_declined(node) -> str``, e.g. a Scan whose inner graph has an ``ifelse``)."""
        if self.program is not None:
            compiled = node in self._c_node_set
        else:
            compiled = node_supported(node) is not None
        if compiled:
            return self.backend_name, "compiled"
        why = getattr(c_provider(node), "c_declined", None)
        why = why(node) if why is not None else ""
        return self.backend_name, f"python fallback ({why})" if why else "python fallback"

    def describe(self) -> str:
        return f"c ({len(self.c_nodes)} C nodes)"
