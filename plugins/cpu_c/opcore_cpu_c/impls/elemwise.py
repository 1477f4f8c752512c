"""C implementations of ``Elemwise`` (fused ``Composite`` loops included) and ``DimShuffle``.

The scalar expressions inside the loops come from the one renderer, :mod:`opcore.cbuild.render`.

Registered for backend ``c`` by :func:`register` (called from the plugin's
``opcore_register_impls``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from opcore.cbuild import render
from opcore.config import config
from opcore.tensor.elemwise import DimShuffle, Elemwise

from opcore_cpu_c.ccode import c_string, ctype, typenum
from opcore_cpu_c import threads, ufuncloops


def loop_threads() -> tuple[int, int]:
    """``(threads, minsize)`` of the elementwise loops compiled now: :func:`threads.num_threads`
    and ``config.openmp_elemwise_minsize``."""
    return threads.num_threads(), int(config.openmp_elemwise_minsize)


def _flat_loop(ind: list, scalar: list, lines: list, lo: str, hi: str, pad: str) -> list:
    """C lines running ``lines`` for ``i`` in ``[lo, hi)`` of contiguous inputs ``p<j>`` (the
    declared scalars read once, before the loop) as ``x<j>``."""
    L = [f"{pad}const {ctype(d)} x{j} = p{j}[0];" for j, d in enumerate(ind) if scalar[j]]
    L.append(f"{pad}for (npy_intp i = {lo}; i < {hi}; i++) {{")
    L += [f"{pad}    const {ctype(d)} x{j} = p{j}[i];" for j, d in enumerate(ind) if not scalar[j]]
    L += [f"{pad}    {x}" for x in lines]
    L.append(f"{pad}}}")
    return L


def _rowlike(node: Any) -> list:
    """Per input: broadcast along every dimension but the last (a bias row of a matrix)."""
    nd = node.outputs[0].type.ndim
    return [nd >= 2 and all(v.type.broadcastable[:-1]) and not v.type.broadcastable[-1]
            for v in node.inputs]


def _pool_call(nthreads: int, minsize: int, task: str, fields: str, nwork: str, errors: bool,
               tail: str) -> list:
    """C lines running ``task`` on the pool when ``n >= minsize``: its job initialised with
    ``fields``, ``nwork`` work items; ``tail`` opens the serial branch."""
    L = [f"  if (n >= {minsize}) {{", f"    {task}_job job = {{{fields}}};",
         f"    OC_POOL_RUN({nthreads}, {nwork}, {task}, &job);"]
    if errors:
        L.append("    oc_err |= job.err;")
    return L + [tail]


def _strided_inner(ind: list, outd: list, body: list, res: list, stride: Any, extent: str,
                   pad: str) -> list:
    """C lines of the innermost loop of a strided walk: ``i`` over ``extent`` elements, input
    ``j`` read at ``b<j> + i * stride(j)`` bytes, output ``o`` written at
    ``c<o> + i * stride(nin + o)``."""
    nin = len(ind)
    L = [f"{pad}for (npy_intp i = 0; i < {extent}; i++) {{"]
    L += [f"{pad}    const {ctype(d)} x{j} = *(const {ctype(d)}*)(b{j} + i * {stride(j)});"
          for j, d in enumerate(ind)]
    L += [f"{pad}    {x}" for x in body]
    L += [f"{pad}    *({ctype(d)}*)(c{o} + i * {stride(nin + o)}) = ({ctype(d)})({res[o]});"
          for o, d in enumerate(outd)]
    L.append(f"{pad}}}")
    return L


def _named_task(text: str, fields: str) -> tuple:
    """``(name, C)`` of a pool task whose body is ``text`` (``@JOB@`` standing for its job
    struct, whose members are ``fields``); a digest of the code names it, so identical loops
    share one task."""
    name = "oc_pt_" + hashlib.sha256((fields + text).encode()).hexdigest()[:16]
    job = name + "_job"
    code = "\n".join([
        f"#ifndef {name.upper()}", f"#define {name.upper()}",
        f"typedef struct {{ {fields} }} {job};",
        f"static void {name}(void* c_, npy_intp lo, npy_intp hi)",
        text.replace("@JOB@", job), "#endif"])
    return name, code


def _row_tasks(node: Any, body: list, res: list, scalar: list, rowlike: list,
               errors: bool) -> tuple:
    """``((row name, C), (strided name, C))``: the pool tasks of the bias-row path (work item
    ``k``: rows ``k * rb ..`` of contiguous inputs and bias rows) and of the general strided
    path (item ``k``: rows ``k * rb ..`` of any strides, the last dimension innermost)."""
    ind = [v.type.dtype for v in node.inputs]
    outd = [v.type.dtype for v in node.outputs]
    nin, nout = len(ind), len(outd)
    nd = node.outputs[0].type.ndim
    err = (["    int oc_err = 0;"] if errors else [])
    err_out = (["    if (oc_err) __atomic_fetch_or(&((@JOB@*)c_)->err, oc_err, "
                "__ATOMIC_RELAXED);"] if errors else [])
    # bias rows: typed pointers, the inner loop over contiguous columns
    L = ["{", "    const @JOB@* jb = (const @JOB@*)c_;"]
    L += [f"    const {ctype(ind[j])}* p{j} = (const {ctype(ind[j])}*)jb->p[{j}];"
          for j in range(nin)]
    L += [f"    {ctype(outd[o])}* q{o} = ({ctype(outd[o])}*)jb->q[{o}];" for o in range(nout)]
    L += ["    const npy_intp cols = jb->cols;",
          "    const npy_intp r1 = hi * jb->rb < jb->rows ? hi * jb->rb : jb->rows;", *err]
    L += [f"    const {ctype(ind[j])} x{j} = p{j}[0];" for j in range(nin) if scalar[j]]
    L += ["    for (npy_intp r = lo * jb->rb; r < r1; r++) {",
          "        for (npy_intp c = 0; c < cols; c++) {",
          "            const npy_intp i = r * cols + c;"]
    for j in range(nin):
        if rowlike[j]:
            L.append(f"            const {ctype(ind[j])} x{j} = p{j}[c];")
        elif not scalar[j]:
            L.append(f"            const {ctype(ind[j])} x{j} = p{j}[i];")
    L += ["            " + x for x in body]
    L += [f"            q{o}[i] = ({ctype(outd[o])})({res[o]});" for o in range(nout)]
    L += ["        }", "    }", *err_out, "}"]
    rows = _named_task("\n".join(L), f"const void* p[{nin}]; void* q[{nout}]; "
                                     "npy_intp cols, rows, rb; int err;")
    # any strides: the base of row r from its index, as the serial walker reaches it
    last = nd - 1
    L = ["{", "    const @JOB@* jb = (const @JOB@*)c_;",
         "    const npy_intp r1 = hi * jb->rb < jb->rows ? hi * jb->rb : jb->rows;",
         "    const npy_intp* st = jb->st;", *err]
    L.append("    for (npy_intp r = lo * jb->rb; r < r1; r++) {")
    L.append("        npy_intp rem = r;")
    L += [f"        const char* b{j} = jb->b[{j}];" for j in range(nin)]
    L += [f"        char* c{o} = jb->o[{o}];" for o in range(nout)]
    L.append(f"        for (int e = {nd - 2}; e >= 0; e--) {{")
    L.append("            const npy_intp id = rem % jb->dims[e]; rem /= jb->dims[e];")
    L += [f"            b{j} += id * st[{j * nd} + e];" for j in range(nin)]
    L += [f"            c{o} += id * st[{(nin + o) * nd} + e];" for o in range(nout)]
    L.append("        }")
    L += _strided_inner(ind, outd, body, res, lambda k: f"st[{k * nd + last}]",
                        f"jb->dims[{last}]", "        ")
    L += ["    }", *err_out, "}"]
    strided = _named_task("\n".join(L), f"const char* b[{nin}]; char* o[{nout}]; "
                                         "const npy_intp* dims; const npy_intp* st; "
                                         "npy_intp rows, rb; int err;")
    return rows, strided


def _contiguous_task(node: Any, body: list, store: list, scalar: list, errors: bool) -> tuple:
    """``(name, C)`` of the pool task computing chunks of the contiguous loop: its job holds
    the data pointers, ``n`` and the error bits; a digest of the code names it, so identical
    loops share one task."""
    ind = [v.type.dtype for v in node.inputs]
    outd = [v.type.dtype for v in node.outputs]
    nin, nout = len(ind), len(outd)
    chunk = ufuncloops.CHUNK
    L = ["{", "    const @JOB@* c = (const @JOB@*)c_;"]
    L += [f"    const {ctype(ind[j])}* p{j} = (const {ctype(ind[j])}*)c->p[{j}];"
          for j in range(nin)]
    L += [f"    {ctype(outd[o])}* q{o} = ({ctype(outd[o])}*)c->q[{o}];" for o in range(nout)]
    L += [f"    const npy_intp a = lo * {chunk}, b = hi * {chunk} < c->n ? hi * {chunk} : c->n;"]
    if errors:
        L.append("    int oc_err = 0;")
    L += _flat_loop(ind, scalar, body + store, "a", "b", "    ")
    if errors:
        L.append("    if (oc_err) __atomic_fetch_or(&((@JOB@*)c_)->err, oc_err, __ATOMIC_RELAXED);")
    L.append("}")
    return _named_task("\n".join(L), f"const void* p[{nin}]; void* q[{nout}]; npy_intp n; "
                                      "int err;")


class ElemwiseC:
    """Fused loops: a contiguous fast path (on the thread pool when large, see
    :mod:`opcore_cpu_c.threads`), a bias-row path and a strided one."""

    def c_supports(self, node: Any) -> bool:
        return not render.supports(node.op.scalar_op, [v.type.dtype for v in node.inputs],
                                   [v.type.dtype for v in node.outputs], render.C)

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (11, *loop_threads())

    def c_support_code(self, node: Any = None) -> str:
        # a loop with exp/tanh/... steps: the blocked kernel calling NumPy's ufunc loops
        p = ufuncloops.plan(node) if node is not None else None
        code = ufuncloops.kernel(p)[1] if p is not None else ""
        if node is not None and loop_threads()[0] > 1:
            code = ufuncloops.POOL_TASKS + code
            if p is None:
                code += "\n" + "\n".join(t[1] for t in self._tasks(node))
        return code

    def _tasks(self, node: Any) -> list:
        """The pool tasks of the plain loops of ``node``: contiguous (:func:`_contiguous_task`),
        then, for ``ndim >= 1``, bias-row and strided (:func:`_row_tasks`)."""
        ind = [v.type.dtype for v in node.inputs]
        outd = [v.type.dtype for v in node.outputs]
        xs = [f"x{j}" for j in range(len(ind))]
        body, res = render.scalar_lines(node.op.scalar_op, xs, ind, outd, render.C)
        store = [f"q{o}[i] = ({ctype(outd[o])})({res[o]});" for o in range(len(outd))]
        nd = node.outputs[0].type.ndim
        scalar = [all(v.type.broadcastable) and nd > 0 for v in node.inputs]
        errors = bool(render.raised_errors(node.op.scalar_op, body, render.C))
        tasks = [_contiguous_task(node, body, store, scalar, errors)]
        if nd >= 1:
            tasks += _row_tasks(node, body, res, scalar, _rowlike(node), errors)
        return tasks

    def c_libraries(self, node: Any = None) -> list:
        p = ufuncloops.plan(node) if node is not None else None
        return ["sleef"] if p is not None and p.sleef else []

    def c_code(self, node: Any, name: str, inputs: list, outputs: list, sub: dict) -> str:
        op = node.op
        nd = node.outputs[0].type.ndim
        nin, nout = len(inputs), len(outputs)
        ind = [v.type.dtype for v in node.inputs]
        outd = [v.type.dtype for v in node.outputs]
        inplace = dict(op.inplace_pattern)
        fail = sub["fail"]
        L = [f"npy_intp dims[{nd + 1}]; npy_intp n = 1; int d, k; int fast = 1;"]
        L.append(f"for (d = 0; d < {nd}; d++) {{ dims[d] = 1;")
        for j, x in enumerate(inputs):
            L.append(f"  {{ npy_intp s = PyArray_DIMS({x})[d]; if (s != 1) {{"
                     f" if (dims[d] == 1) dims[d] = s; else if (dims[d] != s) {{"
                     f" PyErr_Format(PyExc_ValueError, \"%s: input shapes do not broadcast"
                     f" along dimension %d (length %zd vs %zd)\", {c_string(str(op))}, d,"
                     f" (Py_ssize_t)dims[d],"
                     f" (Py_ssize_t)s); {fail} }} }} }}")
        L.append("  n *= dims[d]; }")
        for j, (x, v) in enumerate(zip(inputs, node.inputs)):
            for d, bc in enumerate(v.type.broadcastable):
                if bc:
                    continue
                msg = (f"{op}: input {j} ({v}) has length 1 in dimension {d} at run time but "
                       f"its type {v.type} does not declare that dimension broadcastable")
                # the variable's name reaches the module at run time (not in its cache key)
                fmt, what = (("%U", sub["runtime_string"](msg)) if "runtime_string" in sub
                             else ("%s", c_string(msg)))
                L.append(f"if (PyArray_DIMS({x})[{d}] == 1 && dims[{d}] != 1) {{ PyErr_Format("
                         f"PyExc_ValueError, \"{fmt} (the other inputs have length %zd); use a "
                         f"row/col type, T.addbroadcast, or dimshuffle('x', ...)\", {what}, "
                         f"(Py_ssize_t)dims[{d}]); {fail} }}")
        for o, out in enumerate(outputs):
            if o in inplace:
                src = inputs[inplace[o]]
                L.append(f"for (d = 0; d < {nd}; d++) if (PyArray_DIMS({src})[d] != dims[d]) {{"
                         f" PyErr_SetString(PyExc_ValueError, "
                         f"{c_string(f'{op}: the in-place input has a broadcast shape')}); "
                         f"{fail} }}")
                L.append(f"Py_XDECREF({out}); {out} = {src}; Py_INCREF({out});")
                L.append(f"if (!PyArray_IS_C_CONTIGUOUS({out})) fast = 0;")
            else:
                L.append(f"if (oc_alloc(&{out}, {nd}, dims, {typenum(outd[o])})) {fail}")
        # inputs broadcastable in every dimension are scalars (hoisted out of the loop); the
        # others take the fast path only when contiguous and of the output's size
        scalar = [all(v.type.broadcastable) and nd > 0 for v in node.inputs]
        for j, x in enumerate(inputs):
            if not scalar[j]:
                L.append(f"if (PyArray_SIZE({x}) != n || !PyArray_IS_C_CONTIGUOUS({x})) fast = 0;")
        plan = ufuncloops.plan(node)
        if plan is not None:
            for o, out in enumerate(outputs):
                L.append(f"if (!PyArray_IS_C_CONTIGUOUS({out})) fast = 0;")
            L += ufuncloops.driver(plan, ufuncloops.kernel(plan)[0], nd, inputs, outputs, fail,
                                   *loop_threads())
            L.append("(void)k;")
            return "\n".join(L)
        for j, x in enumerate(inputs):
            L.append(f"const {ctype(ind[j])}* p{j} = (const {ctype(ind[j])}*)PyArray_DATA({x});")
        for o, out in enumerate(outputs):
            L.append(f"{ctype(outd[o])}* q{o} = ({ctype(outd[o])}*)PyArray_DATA({out});")
        xs = [f"x{j}" for j in range(nin)]
        body, res = render.scalar_lines(op.scalar_op, xs, ind, outd, render.C)
        store = [f"q{o}[i] = ({ctype(outd[o])})({res[o]});" for o in range(nout)]
        # errors the scalar code flags in oc_err (integer ** negative): raised after the loops
        errors = render.raised_errors(op.scalar_op, body, render.C)
        checks = [f"if (oc_err & {bit}) {{ PyErr_SetString(PyExc_{exc}, {c_string(msg)}); "
                  f"{fail} }}" for bit, exc, msg in errors]
        if errors:
            L.append("int oc_err = 0;")
        nthreads, minsize = loop_threads()
        ptrs = (f"{{{', '.join(f'p{j}' for j in range(nin))}}}, "
                f"{{{', '.join(f'q{o}' for o in range(nout))}}}")
        L.append("if (n > 0 && fast) {")
        if nthreads > 1:
            # a large loop: chunks of CHUNK elements on the thread pool
            L += _pool_call(nthreads, minsize, self._tasks(node)[0][0],
                            f"{ptrs}, n, 0", f"(n + {ufuncloops.CHUNK} - 1) / {ufuncloops.CHUNK}",
                            errors, "  } else {")
        else:
            L.append("  {")
        L += _flat_loop(ind, scalar, body + store, "0", "n", "  ")
        L.append("  }")
        if nd == 0:
            L.append("}")
            return "\n".join(L + checks)
        # inputs broadcast along every dimension but the last (a bias row): rows x columns
        rowlike = _rowlike(node)
        tasks = self._tasks(node) if nthreads > 1 else None
        if any(rowlike):
            cond = []
            for j, x in enumerate(inputs):
                if rowlike[j]:
                    cond.append(f"PyArray_DIMS({x})[{nd - 1}] == dims[{nd - 1}] && "
                                f"(PyArray_STRIDES({x})[{nd - 1}] == sizeof({ctype(ind[j])}) || "
                                f"dims[{nd - 1}] < 2)")
                elif not scalar[j]:
                    cond.append(f"PyArray_SIZE({x}) == n && PyArray_IS_C_CONTIGUOUS({x})")
            for o, out in enumerate(outputs):
                cond.append(f"PyArray_IS_C_CONTIGUOUS({out})")
            L.append(f"}} else if (n > 0 && {' && '.join(cond)}) {{")
            L.append(f"  const npy_intp cols = dims[{nd - 1}], rows = n / cols;")
            if tasks:
                rb = f"(cols >= {ufuncloops.CHUNK} ? 1 : {ufuncloops.CHUNK} / cols)"
                L += _pool_call(nthreads, minsize, tasks[1][0], f"{ptrs}, cols, rows, {rb}, 0",
                                "(rows + job.rb - 1) / job.rb", errors, "  } else {")
            else:
                L.append("  {")
            L += [f"  const {ctype(ind[j])} x{j} = p{j}[0];" for j in range(nin) if scalar[j]]
            L.append("  for (npy_intp r = 0; r < rows; r++) {")
            L.append("    for (npy_intp c = 0; c < cols; c++) {")
            L.append("      const npy_intp i = r * cols + c;")
            for j in range(nin):
                if rowlike[j]:
                    L.append(f"      const {ctype(ind[j])} x{j} = p{j}[c];")
                elif not scalar[j]:
                    L.append(f"      const {ctype(ind[j])} x{j} = p{j}[i];")
            L += ["      " + s for s in body + store]
            L.append("    }")
            L.append("  }")
            L.append("  }")
        # general strided path: walk the outer dimensions, inner loop over the last one
        L.append("} else if (n > 0) {")
        L.append(f"  npy_intp idx[{nd}]; npy_intp rows = n / dims[{nd - 1}], r;")
        L.append(f"  npy_intp st[{nin + nout}][{nd}];")
        for j, x in enumerate(inputs):
            L.append(f"  for (d = 0; d < {nd}; d++) st[{j}][d] = PyArray_DIMS({x})[d] == 1 ? 0 "
                     f": PyArray_STRIDES({x})[d];")
        for o, out in enumerate(outputs):
            L.append(f"  for (d = 0; d < {nd}; d++) st[{nin + o}][d] = PyArray_STRIDES({out})[d];")
        L.append(f"  for (d = 0; d < {nd}; d++) idx[d] = 0;")
        if tasks:
            last = f"dims[{nd - 1}]"
            data = ("{" + ", ".join(f"(const char*)PyArray_DATA({x})" for x in inputs) + "}, {"
                    + ", ".join(f"(char*)PyArray_DATA({o})" for o in outputs) + "}")
            L += _pool_call(nthreads, minsize, tasks[2][0],
                            f"{data}, dims, &st[0][0], rows, ({last} >= {ufuncloops.CHUNK} ? 1 "
                            f": {ufuncloops.CHUNK} / {last}), 0",
                            "(rows + job.rb - 1) / job.rb", errors, "  } else")
        L.append("  for (r = 0; r < rows; r++) {")
        for j, x in enumerate(inputs):
            L.append(f"    const char* b{j} = (const char*)PyArray_DATA({x});")
        for o, out in enumerate(outputs):
            L.append(f"    char* c{o} = (char*)PyArray_DATA({out});")
        L.append(f"    for (d = 0; d < {nd - 1}; d++) {{")
        L += [f"      b{j} += idx[d] * st[{j}][d];" for j in range(nin)]
        L += [f"      c{o} += idx[d] * st[{nin + o}][d];" for o in range(nout)]
        L.append("    }")
        L += _strided_inner(ind, outd, body, res, lambda k: f"st[{k}][{nd - 1}]",
                            f"dims[{nd - 1}]", "    ")
        L.append(f"    for (d = {nd - 2}; d >= 0; d--) {{ if (++idx[d] < dims[d]) break; "
                 "idx[d] = 0; }")
        L.append("  }")
        L.append("}")
        L.append("(void)k;")
        return "\n".join(L + checks)


class DimShuffleC:
    """A view: transpose then reshape (NumPy C-API)."""

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (1,)

    def c_code(self, node: Any, name: str, inputs: list, outputs: list, sub: dict) -> str:
        op = node.op
        (x,), (z,) = inputs, outputs
        nd_in = len(op.input_broadcastable)
        perm = list(op.shuffle) + list(op.drop)
        fail = sub["fail"]
        L = ["PyArrayObject* t; npy_intp nd_[%d]; PyArray_Dims nd = {nd_, %d};"
             % (len(op.new_order) + 1, len(op.new_order))]
        for d in op.drop:
            L.append(f"if (PyArray_DIMS({x})[{d}] != 1) {{ PyErr_Format(PyExc_ValueError, "
                     f"\"%s: dimension {d} should have length 1, got %zd\", "
                     f"{c_string(str(op))}, (Py_ssize_t)PyArray_DIMS({x})[{d}]); {fail} }}")
        if perm == list(range(nd_in)):
            L.append(f"t = {x}; Py_INCREF(t);")
        else:
            L.append(f"{{ static npy_intp p_[] = {{{', '.join(map(str, perm)) or '0'}}}; "
                     f"PyArray_Dims p = {{p_, {nd_in}}};")
            L.append(f"  t = (PyArrayObject*)PyArray_Transpose({x}, &p); if (!t) {fail} }}")
        if op.drop or op.augment:
            for k, d in enumerate(op.new_order):
                L.append(f"nd_[{k}] = " + ("1;" if d == "x" else f"PyArray_DIMS({x})[{d}];"))
            L.append("{ PyArrayObject* r = (PyArrayObject*)PyArray_Newshape(t, &nd, NPY_CORDER);"
                     f" Py_DECREF(t); if (!r) {fail} t = r; }}")
        L.append(f"Py_XDECREF({z}); {z} = t;")
        return "\n".join(L)


def register(impls: Any) -> None:
    """Give backend ``c`` these implementations (``impls`` is the host's ImplRegistry)."""
    impls.register("c", Elemwise, ElemwiseC())
    impls.register("c", DimShuffle, DimShuffleC())
