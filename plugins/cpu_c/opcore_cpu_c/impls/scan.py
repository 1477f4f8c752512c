"""C implementation of ``Scan`` (``opcore.scan.op``): the loop over the steps runs in C.

The inner graph is compiled once per outer compile by ``opcore.function`` (with the outer
function's mode, as the Python loop does); with the C backend that gives one C module whose
``run`` entry point runs the whole step.  The Scan node's C code then

1. calls :func:`begin` once per call (Python): :meth:`Scan.loop_begin` checks the outer values,
   allocates the state and output buffers and binds the non-sequences, exactly as the Python loop;
2. runs every step in C (``oc_scan_steps``): per step it puts views of the sequences' and the
   states' entries in the inner input cells, calls the inner module's ``run`` directly (no Python
   frame; nodes of the inner graph without C run their Python thunk from there, as in any C
   module), copies the new states into their buffers (``memcpy`` for contiguous values), stacks
   the nit outputs and tests the ``until`` condition;
3. calls :func:`end` (Python): :meth:`Scan.loop_end` builds the outputs.

An error at a step is raised as the Python loop raises it: the inner node's error (its
``Apply node that caused the error`` report) wrapped in ``Scan{name}: error at step t: ...``.

A Scan whose inner function is not all C (an inner node without C, lazy ``ifelse`` nodes, a
profiled inner function, a backend other than C for the inner graph) is declined
(:meth:`ScanC.c_supports`): it runs the Python loop, and ``Function.placement`` reports it as
``python fallback (Python loop: <reason>)``, as ``debugprint`` and the profile do (the reason is
:func:`why_python`'s).
"""

from __future__ import annotations

import weakref
from typing import Any

from opcore.compile.vm import node_error
from opcore.scan.op import Scan

__all__ = ["ScanC", "begin", "end", "register", "why_python"]

#: Scan op -> its runner (the inner function compiled at the op's last link) or the reason the
#: loop runs in Python (a str).
_RUNNERS: "weakref.WeakKeyDictionary[Scan, Any]" = weakref.WeakKeyDictionary()


class _Runner:
    """The inner function of one Scan op and the pieces the C loop calls."""

    __slots__ = ("fn", "node", "run", "run_args", "nodes", "err", "storage_map", "swapped")

    def __init__(self, fn: Any, node: Any, swapped: dict) -> None:
        prog = fn.vm.program
        self.fn = fn
        outs = fn.maker.fgraph.outputs
        #: state -> (its inner input, whether its output cell may be emptied: a node's output)
        self.swapped = {k: (i, outs[k].owner is not None) for k, i in swapped.items()}
        self.node = node
        self.run = prog.module.run
        self.run_args = prog.run_args
        self.nodes = prog.nodes
        self.err = prog.run_args[3]
        self.storage_map = fn.storage_map

    def step_error(self, exc: BaseException, t: int) -> BaseException:
        """The exception for ``exc`` raised by the inner module at step ``t``."""
        k = self.err[0]
        if 0 <= k < len(self.nodes):
            inner = node_error(exc, self.nodes[k], self.storage_map)
            inner._opcore_wrapped = True
        else:
            inner = exc
        return self.node.op.step_error(inner, t)


def _inner_program_reason(fn: Any) -> str:
    """Why ``fn`` (a compiled inner function) cannot be run by the C loop; ``""`` when it can."""
    vm = getattr(fn, "vm", None)
    if vm is None:
        return "the inner function has no VM"
    if vm.profile is not None:
        return "the inner function is profiled (the Python loop times its nodes)"
    if vm.lazy:
        return "the inner graph has lazy nodes (ifelse): the C loop needs one compiled module"
    prog = vm.program
    if prog is None or getattr(prog, "run_args", None) is None:
        return (f"the inner function has no C module (backend "
                f"{getattr(fn.linker, 'backend_name', '?')})")
    py = [str(n.op) for n in prog.nodes if fn.placement(n)[1] != "compiled"]
    if py:
        return f"inner nodes without C: {', '.join(sorted(set(py)))}"
    return ""


def _runner(node: Any) -> Any:
    """The runner of ``node``'s Scan op, compiling its inner function on first use (at link time,
    so it compiles with the outer function's mode); a ``str`` when the loop runs in Python."""
    op = node.op
    r = _RUNNERS.get(op)
    if r is None:
        swapped = swapped_states(op.info)
        fn = op.compile_inner(mutable=sorted(swapped.values()))
        why = _inner_program_reason(fn)
        r = why or _Runner(fn, node, swapped)
        _RUNNERS[op] = r
    return r


def swapped_states(info: Any) -> dict:
    """``{state: inner input}`` of the states the C loop keeps in one array it owns (only their
    last value is kept and their only tap is -1): the inner function may update them in place."""
    out = {}
    i = info.n_seqs
    for k, taps in enumerate(info.state_taps):
        if info.save_last[k] and taps == (-1,):
            out[k] = i
        i += len(taps)
    return out


def why_python(op: Scan) -> str:
    """Why the Scan ``op`` runs the Python loop under the C backend (``""``: its loop is in C or
    it has not been linked yet)."""
    r = _RUNNERS.get(op)
    return r if isinstance(r, str) else ""


def begin(op: Scan, *inputs: Any) -> tuple:
    """Called by the C code once per call: the plan of the loop (see ``oc_scan_steps``)."""
    r = _RUNNERS[op]
    st = op.loop_begin(r.fn, r.node, list(inputs))
    info = op.info
    swapped = r.swapped
    reads = []
    j = 0
    for k, taps in enumerate(info.state_taps):
        for _ in taps:
            if k not in swapped:
                cell, buf, m, tap, ring = st.reads[j]
                reads.append((cell, buf, m, tap, int(ring)))
            j += 1
    writes = tuple((cell, buf, m, int(ring), k) for cell, buf, m, ring, _, k in st.writes
                   if k not in swapped)
    nits = tuple((cell, q, int(last), st.nit_dtypes[q].num)
                 for q, cell, last in st.nit_cells)
    swaps = tuple((r.fn.input_cells[i], r.fn.output_cells[k], clear, st.bufs[k], k)
                  for k, (i, clear) in swapped.items())
    return (r.run, r.run_args, st.n, tuple(st.seq_cells), tuple(reads), writes, nits,
            st.nit_bufs, st.until_cell, r.step_error, _shape_error(op, st), st, swaps)


def _shape_error(op: Scan, st: Any):
    def make(kind: int, k: int, val: Any, t: int) -> BaseException:
        if kind == 0:
            return op.state_shape_error(k, val, t, st.bufs[k].shape[1:])
        return op.nit_shape_error(k, val.shape, t, st.nit_bufs[k].shape[1:])
    return make


def end(op: Scan, plan: tuple, n_done: int) -> tuple:
    """Called by the C code after the steps: the outputs of a loop that ran ``n_done`` steps."""
    out = [[None] for _ in range(op.info.n_states + op.info.n_nit)]
    op.loop_end(plan[11], n_done, out)
    return tuple(c[0] for c in out)


#: The loop over the steps, shared by every Scan node of a module (``plan`` is :func:`begin`'s).
SUPPORT = r"""
#ifndef OC_SCAN_LOOP
#define OC_SCAN_LOOP
static PyObject* oc_scan_begin = NULL;
static PyObject* oc_scan_end = NULL;

/* a view of entry i of a's leading axis (base a), or NULL with an exception set */
static PyObject* oc_scan_row(PyArrayObject* a, npy_intp i)
{
    PyArray_Descr* d = PyArray_DESCR(a);
    PyObject* v;
    Py_INCREF(d);
    v = PyArray_NewFromDescr(&PyArray_Type, d, PyArray_NDIM(a) - 1, PyArray_DIMS(a) + 1,
                             PyArray_STRIDES(a) + 1, PyArray_BYTES(a) + i * PyArray_STRIDES(a)[0],
                             PyArray_FLAGS(a) & NPY_ARRAY_WRITEABLE, NULL);
    if (v == NULL) return NULL;
    Py_INCREF(a);
    if (PyArray_SetBaseObject((PyArrayObject*)v, (PyObject*)a) < 0) { Py_DECREF(v); return NULL; }
    return v;
}

/* v as an ndarray (a new reference): arrays as they are, anything else converted */
static PyObject* oc_scan_array(PyObject* v)
{
    if (v == NULL) v = Py_None;
    if (PyArray_Check(v)) { Py_INCREF(v); return v; }
    return PyArray_FROM_O(v);
}

static void oc_scan_set(PyObject* cell, PyObject* v)
{
    PyObject* old = PyList_GET_ITEM(cell, 0);
    PyList_SET_ITEM(cell, 0, v);
    Py_XDECREF(old);
}

/* 1 when the trailing shape of buf (after its leading axis) is v's shape */
static int oc_scan_same_shape(PyArrayObject* buf, PyArrayObject* v)
{
    int d, nd = PyArray_NDIM(buf) - 1;
    if (PyArray_NDIM(v) != nd) return 0;
    for (d = 0; d < nd; d++) if (PyArray_DIMS(v)[d] != PyArray_DIMS(buf)[d + 1]) return 0;
    return 1;
}

/* buf[i] = v (v of buf's trailing shape) */
static int oc_scan_put(PyArrayObject* buf, npy_intp i, PyArrayObject* v)
{
    PyObject* row;
    int r;
    if (PyArray_EquivTypes(PyArray_DESCR(v), PyArray_DESCR(buf)) && PyArray_IS_C_CONTIGUOUS(v)
        && PyArray_IS_C_CONTIGUOUS(buf)) {
        memmove(PyArray_BYTES(buf) + i * PyArray_STRIDES(buf)[0], PyArray_DATA(v),
                (size_t)PyArray_NBYTES(v));
        return 0;
    }
    row = oc_scan_row(buf, i);
    if (row == NULL) return -1;
    r = PyArray_CopyInto((PyArrayObject*)row, v);
    Py_DECREF(row);
    return r;
}

/* raise the exception returned by make(args...) (a Python callable building it) */
static void oc_scan_raise(PyObject* made)
{
    if (made == NULL) return;
    PyErr_SetObject((PyObject*)Py_TYPE(made), made);
    Py_DECREF(made);
}

/* The new value of a swapped state: o (a new reference, given away) when the loop may own it,
   else a copy of o into *cur when the loop owns *cur, else into a new array.  When o becomes
   the state, the old value, if nothing else holds it, goes to the output cell `recycle` (NULL:
   none), where the node computing the state reuses it as its output buffer at the next step. */
static int oc_scan_swap(PyArrayObject** cur, PyObject* o, PyObject* recycle)
{
    PyArrayObject* c = *cur;
    PyArrayObject* a;
    if (o == (PyObject*)c) { Py_DECREF(o); return 0; }  /* updated in place */
    a = (PyArrayObject*)o;
    if (Py_REFCNT(o) == 1 && PyArray_CheckExact(o) && PyArray_BASE(a) == NULL
        && PyArray_IS_C_CONTIGUOUS(a) && PyArray_ISWRITEABLE(a) && PyArray_ISALIGNED(a)
        && PyArray_TYPE(a) == PyArray_TYPE(c)) {
        if (recycle != NULL && Py_REFCNT(c) == 1 && PyArray_BASE(c) == NULL)
            oc_scan_set(recycle, (PyObject*)c);  /* reference given to the cell */
        else
            Py_DECREF(c);
        *cur = a;  /* nothing else holds it: it is the state now */
        return 0;
    }
    if (!(Py_REFCNT(c) == 1 && PyArray_BASE(c) == NULL)) {
        PyArrayObject* n = (PyArrayObject*)PyArray_NewLikeArray(c, NPY_CORDER, NULL, 0);
        if (n == NULL) { Py_DECREF(o); return -1; }
        Py_DECREF(c);
        *cur = c = n;
    }
    if (PyArray_CopyInto(c, a) < 0) { Py_DECREF(o); return -1; }
    Py_DECREF(o);
    return 0;
}

/* Run the steps of plan (opcore_cpu_c.impls.scan.begin); *n_done = the steps run.
   A "swapped" state (only its last value kept, one tap -1) is not read from its buffer: the loop
   owns one array holding its value, which the inner function may update in place (its input is
   mutable there); a new value nothing else references becomes the state without a copy. */
static int oc_scan_steps(PyObject* plan, npy_intp* n_done)
{
    PyObject* run = PyTuple_GET_ITEM(plan, 0);
    PyObject* run_args_t = PyTuple_GET_ITEM(plan, 1);
    npy_intp n = (npy_intp)PyLong_AsSsize_t(PyTuple_GET_ITEM(plan, 2));
    PyObject* seqs = PyTuple_GET_ITEM(plan, 3);
    PyObject* reads = PyTuple_GET_ITEM(plan, 4);
    PyObject* writes = PyTuple_GET_ITEM(plan, 5);
    PyObject* nits = PyTuple_GET_ITEM(plan, 6);
    PyObject* nit_bufs = PyTuple_GET_ITEM(plan, 7);
    PyObject* until = PyTuple_GET_ITEM(plan, 8);
    PyObject* on_error = PyTuple_GET_ITEM(plan, 9);
    PyObject* on_shape = PyTuple_GET_ITEM(plan, 10);
    PyObject* swaps = PyTuple_GET_ITEM(plan, 12);
    PyObject* run_args[8];
    Py_ssize_t n_args = PyTuple_GET_SIZE(run_args_t);
    Py_ssize_t n_seq = PyTuple_GET_SIZE(seqs), n_read = PyTuple_GET_SIZE(reads);
    Py_ssize_t n_write = PyTuple_GET_SIZE(writes), n_nit = PyTuple_GET_SIZE(nits);
    Py_ssize_t n_swap = PyTuple_GET_SIZE(swaps);
    PyArrayObject** cur = NULL;   /* the swapped states' values */
    PyObject** took = NULL;       /* their new values, taken from the output cells */
    Py_ssize_t j;
    npy_intp t;
    int status = -1;
    if (n < 0 && PyErr_Occurred()) return -1;
    if (n_args > 8) {
        PyErr_SetString(PyExc_RuntimeError, "scan: run takes at most 8 arguments");
        return -1; }
    for (j = 0; j < n_args; j++) run_args[j] = PyTuple_GET_ITEM(run_args_t, j);
    *n_done = n;
    if (n_swap) {
        cur = (PyArrayObject**)PyMem_Calloc((size_t)n_swap, sizeof(PyArrayObject*));
        took = (PyObject**)PyMem_Calloc((size_t)n_swap, sizeof(PyObject*));
        if (cur == NULL || took == NULL) { PyErr_NoMemory(); goto done; }
        for (j = 0; j < n_swap; j++) {
            PyArrayObject* buf = (PyArrayObject*)PyTuple_GET_ITEM(PyTuple_GET_ITEM(swaps, j), 3);
            PyObject* row = oc_scan_row(buf, 0);
            if (row == NULL) goto done;
            cur[j] = (PyArrayObject*)PyArray_NewCopy((PyArrayObject*)row, NPY_CORDER);
            Py_DECREF(row);
            if (cur[j] == NULL) goto done;
        }
    }
    for (t = 0; t < n; t++) {
        PyObject* r;
        int stop = 0;
        for (j = 0; j < n_seq; j++) {
            PyObject* it = PyTuple_GET_ITEM(seqs, j);
            PyObject* v = oc_scan_row((PyArrayObject*)PyTuple_GET_ITEM(it, 1), t);
            if (v == NULL) goto done;
            oc_scan_set(PyTuple_GET_ITEM(it, 0), v);
        }
        for (j = 0; j < n_read; j++) {
            PyObject* it = PyTuple_GET_ITEM(reads, j);
            npy_intp m = PyLong_AsSsize_t(PyTuple_GET_ITEM(it, 2));
            npy_intp tap = PyLong_AsSsize_t(PyTuple_GET_ITEM(it, 3));
            npy_intp i = PyLong_AsLong(PyTuple_GET_ITEM(it, 4)) == 0
                         ? m + t + tap : (((t + tap) % m) + m) % m;
            PyObject* v = oc_scan_row((PyArrayObject*)PyTuple_GET_ITEM(it, 1), i);
            if (v == NULL) goto done;
            oc_scan_set(PyTuple_GET_ITEM(it, 0), v);
        }
        for (j = 0; j < n_swap; j++) {
            Py_INCREF(cur[j]);
            oc_scan_set(PyTuple_GET_ITEM(PyTuple_GET_ITEM(swaps, j), 0), (PyObject*)cur[j]);
        }
        r = PyObject_Vectorcall(run, run_args, (size_t)n_args, NULL);
        if (r == NULL) {
            PyObject *et, *ev, *etb;
            PyErr_Fetch(&et, &ev, &etb);
            PyErr_NormalizeException(&et, &ev, &etb);
            if (etb != NULL && ev != NULL) PyException_SetTraceback(ev, etb);
            oc_scan_raise(PyObject_CallFunction(on_error, "On", ev ? ev : Py_None, (Py_ssize_t)t));
            Py_XDECREF(et); Py_XDECREF(ev); Py_XDECREF(etb);
            goto done;
        }
        Py_DECREF(r);
        for (j = 0; j < n_write; j++) {
            PyObject* it = PyTuple_GET_ITEM(writes, j);
            PyArrayObject* buf = (PyArrayObject*)PyTuple_GET_ITEM(it, 1);
            npy_intp m = PyLong_AsSsize_t(PyTuple_GET_ITEM(it, 2));
            int ring = PyLong_AsLong(PyTuple_GET_ITEM(it, 3)) != 0;
            PyObject* val = PyList_GET_ITEM(PyTuple_GET_ITEM(it, 0), 0);
            PyArrayObject* a;
            int bad;
            if (val == NULL) val = Py_None;
            a = (PyArrayObject*)oc_scan_array(val);
            if (a == NULL) goto done;
            if (!oc_scan_same_shape(buf, a)) {
                Py_DECREF(a);
                oc_scan_raise(PyObject_CallFunction(on_shape, "iOOn", 0, PyTuple_GET_ITEM(it, 4),
                                                    val, (Py_ssize_t)t));
                goto done;
            }
            bad = oc_scan_put(buf, ring ? t % m : m + t, a);
            Py_DECREF(a);
            if (bad) goto done;
        }
        for (j = 0; j < n_nit; j++) {
            PyObject* it = PyTuple_GET_ITEM(nits, j);
            Py_ssize_t q = PyLong_AsSsize_t(PyTuple_GET_ITEM(it, 1));
            int last = PyLong_AsLong(PyTuple_GET_ITEM(it, 2)) != 0;
            int typenum = (int)PyLong_AsLong(PyTuple_GET_ITEM(it, 3));
            PyObject* val = PyList_GET_ITEM(PyTuple_GET_ITEM(it, 0), 0);
            PyObject* b = PyList_GET_ITEM(nit_bufs, q);
            PyArrayObject* a = (PyArrayObject*)oc_scan_array(val);
            int bad;
            if (a == NULL) goto done;
            if (last) {
                PyObject* c = PyArray_NewCopy(a, NPY_CORDER);
                Py_DECREF(a);
                if (c == NULL || PyList_SetItem(nit_bufs, q, c) < 0) goto done;
                continue;
            }
            if (b == Py_None) {
                npy_intp dims[NPY_MAXDIMS + 1];
                int d, nd = PyArray_NDIM(a);
                if (nd >= NPY_MAXDIMS) {
                    Py_DECREF(a);
                    PyErr_SetString(PyExc_ValueError, "scan: a nit output has too many dimensions");
                    goto done;
                }
                dims[0] = n;
                for (d = 0; d < nd; d++) dims[d + 1] = PyArray_DIMS(a)[d];
                b = PyArray_EMPTY(nd + 1, dims, typenum, 0);
                if (b == NULL || PyList_SetItem(nit_bufs, q, b) < 0) { Py_DECREF(a); goto done; }
            } else if (!oc_scan_same_shape((PyArrayObject*)b, a)) {
                oc_scan_raise(PyObject_CallFunction(on_shape, "inOn", 1, q, (PyObject*)a,
                                                    (Py_ssize_t)t));
                Py_DECREF(a);
                goto done;
            }
            bad = oc_scan_put((PyArrayObject*)b, t, a);
            Py_DECREF(a);
            if (bad) goto done;
        }
        if (until != Py_None) {
            stop = PyObject_IsTrue(PyList_GET_ITEM(until, 0));
            if (stop < 0) goto done;
        }
        if (n_swap) {
            /* take every new value first (two states may return the same variable), then empty
               the cells so that a value nothing else holds can become the state */
            for (j = 0; j < n_swap; j++) {
                PyObject* it = PyTuple_GET_ITEM(swaps, j);
                PyArrayObject* buf = (PyArrayObject*)PyTuple_GET_ITEM(it, 3);
                PyObject* val = PyList_GET_ITEM(PyTuple_GET_ITEM(it, 1), 0);
                PyObject* a = oc_scan_array(val);
                if (a == NULL) goto done;
                if (!oc_scan_same_shape(buf, (PyArrayObject*)a)) {
                    Py_DECREF(a);
                    oc_scan_raise(PyObject_CallFunction(on_shape, "iOOn", 0,
                                                        PyTuple_GET_ITEM(it, 4), val,
                                                        (Py_ssize_t)t));
                    goto done;
                }
                took[j] = a;
            }
            for (j = 0; j < n_swap; j++) {
                PyObject* it = PyTuple_GET_ITEM(swaps, j);
                Py_INCREF(Py_None);
                oc_scan_set(PyTuple_GET_ITEM(it, 0), Py_None);
                if (PyObject_IsTrue(PyTuple_GET_ITEM(it, 2))) {
                    Py_INCREF(Py_None);
                    oc_scan_set(PyTuple_GET_ITEM(it, 1), Py_None);
                }
            }
            for (j = 0; j < n_swap; j++) {
                PyObject* it = PyTuple_GET_ITEM(swaps, j);
                PyObject* o = took[j];
                took[j] = NULL;
                if (oc_scan_swap(&cur[j], o, PyObject_IsTrue(PyTuple_GET_ITEM(it, 2))
                                 ? PyTuple_GET_ITEM(it, 1) : NULL)) goto done;
            }
        }
        if (stop) { *n_done = t + 1; break; }
    }
    status = 0;
done:
    for (j = 0; j < n_swap && cur != NULL; j++) {
        PyObject* it = PyTuple_GET_ITEM(swaps, j);
        if (took != NULL) Py_XDECREF(took[j]);
        if (cur[j] != NULL) {
            if (status == 0 && *n_done > 0
                && oc_scan_put((PyArrayObject*)PyTuple_GET_ITEM(it, 3), 0, cur[j]) < 0)
                status = -1;
            Py_DECREF(cur[j]);
        }
        Py_INCREF(Py_None);
        oc_scan_set(PyTuple_GET_ITEM(it, 0), Py_None);
    }
    PyMem_Free(cur);
    PyMem_Free(took);
    return status;
}
#endif
"""

INIT = r"""
{
    PyObject* m_ = PyImport_ImportModule("opcore_cpu_c.impls.scan");
    if (m_ == NULL) return NULL;
    oc_scan_begin = PyObject_GetAttrString(m_, "begin");
    oc_scan_end = PyObject_GetAttrString(m_, "end");
    Py_DECREF(m_);
    if (oc_scan_begin == NULL || oc_scan_end == NULL) return NULL;
}
"""


class ScanC:
    """The C backend's ``Scan``: the steps loop in C around the inner function's C module."""

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (2,)

    def c_supports(self, node: Any) -> bool:
        """True when the inner function compiled to a C module (see :func:`why_python`)."""
        return not isinstance(_runner(node), str)

    def c_declined(self, node: Any) -> str:
        """Why this Scan runs the Python loop (what ``Function.placement`` shows)."""
        return f"Python loop: {why_python(node.op)}" if why_python(node.op) else ""

    def c_support_code(self, node: Any = None) -> str:
        return SUPPORT

    def c_init_code(self, node: Any = None) -> list:
        return [INIT]

    def c_code(self, node: Any, name: str, inputs: list, outputs: list, sub: dict) -> str:
        fail = sub["fail"]
        args = ", ".join(f"(PyObject*){x}" for x in inputs)
        lines = [
            "PyObject* plan_; PyObject* res_; npy_intp done_ = 0;",
            f"plan_ = PyObject_CallFunctionObjArgs(oc_scan_begin, __params, {args}, NULL);",
            f"if (plan_ == NULL) {fail}",
            f"if (oc_scan_steps(plan_, &done_)) {{ Py_DECREF(plan_); {fail} }}",
            "res_ = PyObject_CallFunction(oc_scan_end, \"OOn\", __params, plan_, "
            "(Py_ssize_t)done_);",
            "Py_DECREF(plan_);",
            f"if (res_ == NULL) {fail}",
        ]
        for j, z in enumerate(outputs):
            lines.append(f"Py_XDECREF({z}); {z} = (PyArrayObject*)PyTuple_GET_ITEM(res_, {j}); "
                         f"Py_INCREF({z});")
        lines.append("Py_DECREF(res_);")
        return "\n".join(lines)


def register(impls: Any) -> None:
    """Give backend ``c`` the Scan implementation (``impls`` is the host's ImplRegistry)."""
    impls.register("c", Scan, ScanC())
