"""GPU ops with C host code (the Op guide's second form): ``gpu_kernels`` + ``c_code``.

The node's ``c_code`` is compiled into a small CPython extension together with the shipped header
``include/gpuarray_api.h`` (``PyGpuArrayObject``, ``pygpu_zeros``, ``GpuKernel_error``...) and a
generated ``<kernel>_call(nd, gs, ls, shmem, ...)`` per kernel.  Allocation and launches call back
into the Python driver layer, so the same module serves CUDA and OpenCL, and the kernels
themselves go through the driver's compiler (NVRTC / OpenCL) with the dialect preamble.

Modules are built by :mod:`opcore.cbuild` (``config.cxx``, the one crash-safe cache under
``config.compiledir`` that ``opcore cache`` lists and clears) and kept in memory per process.
"""

from __future__ import annotations

import os
from typing import Any

from opcore.cbuild import CompileError, compile_module
from opcore.cbuild.ctypes import plain_ctype

from opcore_gpu_cuda.dialect import (
    GA_BUFFER, GA_SIZE, GA_SSIZE, typecode_to_dtype,
)

INCLUDE_DIR = os.path.join(os.path.dirname(__file__), "include")


class HostCodeError(RuntimeError):
    """The host code of a GPU op failed to compile; carries the compiler output and the source."""


def has_host_code(op: Any) -> bool:
    """True for ops written in the Op guide's C form (``gpu_kernels`` and ``c_code``)."""
    return callable(getattr(op, "gpu_kernels", None)) and callable(getattr(op, "c_code", None))


def _c_param(code: int) -> str:
    if code == GA_BUFFER:
        return "gpudata *"
    if code == GA_SIZE:
        return "size_t "
    if code == GA_SSIZE:
        return "ssize_t "
    return plain_ctype(typecode_to_dtype(code)) + " "


def _py_value(code: int, var: str) -> str:
    if code == GA_BUFFER:
        return f"(Py_INCREF((PyObject *){var}), (PyObject *){var})"
    if code == GA_SIZE:
        return f"PyLong_FromSize_t({var})"
    if code == GA_SSIZE:
        return f"PyLong_FromSsize_t({var})"
    dt = typecode_to_dtype(code)
    if dt.kind == "f":
        return f"PyFloat_FromDouble((double){var})"
    if dt.kind in "ub":
        return f"PyLong_FromUnsignedLongLong((unsigned long long){var})"
    return f"PyLong_FromLongLong((long long){var})"


def _call_function(kernel: Any) -> str:
    params = [f"{_c_param(c)}a{i}" for i, c in enumerate(kernel.typecodes)]
    sig = ", ".join(["unsigned int nd", "const size_t *gs", "const size_t *ls", "size_t shmem"]
                    + params)
    n = len(kernel.typecodes)
    lines = [f"static int {kernel.name}_call({sig}) {{",
             f"  PyObject *args = PyTuple_New({n});",
             "  if (args == NULL) return GA_IMPL_ERROR;"]
    for i, c in enumerate(kernel.typecodes):
        lines.append(f"  PyTuple_SET_ITEM(args, {i}, {_py_value(c, f'a{i}')});")
    lines += [f"  return ga__launch(&{kernel.objvar}, nd, gs, ls, shmem, args);", "}"]
    return "\n".join(lines)


def host_source(node: Any, name: str, modname: str) -> tuple[str, list]:
    """The extension's C source for ``node`` and the kernels it launches."""
    op = node.op
    kernels = list(op.gpu_kernels(node, name))
    ins = [f"V_in{i}" for i in range(len(node.inputs))]
    outs = [f"V_out{i}" for i in range(len(node.outputs))]
    sub = {"fail": "{ goto __fail; }", "params": "__ctx"}
    body = op.c_code(node, name, ins, outs, sub)
    support = ""
    if callable(getattr(op, "c_support_code", None)):
        support = op.c_support_code()
    if callable(getattr(op, "c_support_code_apply", None)):
        support += "\n" + op.c_support_code_apply(node, name)
    decl = ", ".join(f"*{v} = NULL" for v in ins + outs)
    L = ['#include "gpuarray_api.h"', support]
    L += [f"static GpuKernel {k.objvar};" for k in kernels]
    L += [_call_function(k) for k in kernels]
    L += ["static PyObject *run(PyObject *self, PyObject *args) {",
          "  PyObject *ins, *prev, *__ctx, *result = NULL;",
          f"  PyGpuArrayObject {decl};",
          "  if (!PyArg_ParseTuple(args, \"OOO\", &ins, &prev, &__ctx)) return NULL;"]
    for i, v in enumerate(ins):
        L.append(f"  {v} = pygpu_wrap(PyTuple_GET_ITEM(ins, {i})); if (!{v}) goto __fail;")
    for i, v in enumerate(outs):
        L.append(f"  if (PyTuple_GET_ITEM(prev, {i}) != Py_None) {{ {v} = "
                 f"pygpu_wrap(PyTuple_GET_ITEM(prev, {i})); if (!{v}) goto __fail; }}")
    L += ["  {", body, "  }", f"  result = PyTuple_New({len(outs)});",
          "  if (result == NULL) goto __fail;"]
    for i, v in enumerate(outs):
        L += [f"  if ({v} == NULL) {{ Py_CLEAR(result); PyErr_SetString(PyExc_RuntimeError, "
              f"\"{type(op).__name__}: c_code left output {i} unset\"); goto __fail; }}",
              f"  Py_INCREF({v}->obj); PyTuple_SET_ITEM(result, {i}, {v}->obj);"]
    L += ["__fail:"]
    L += [f"  Py_XDECREF({v});" for v in ins + outs]
    L += ["  if (result == NULL && !PyErr_Occurred())",
          f"    PyErr_SetString(PyExc_RuntimeError, \"{type(op).__name__}: host code failed\");",
          "  return result;", "}",
          "static PyObject *init_kernels(PyObject *self, PyObject *pairs) {"]
    for i, k in enumerate(kernels):
        L += [f"  Py_XDECREF({k.objvar}.kernel); Py_XDECREF({k.objvar}.context);",
              f"  {k.objvar}.kernel = PyTuple_GET_ITEM(PyTuple_GET_ITEM(pairs, {i}), 0);",
              f"  {k.objvar}.context = PyTuple_GET_ITEM(PyTuple_GET_ITEM(pairs, {i}), 1);",
              f"  Py_INCREF({k.objvar}.kernel); Py_INCREF({k.objvar}.context);",
              f"  {k.objvar}.error[0] = 0;"]
    L += ["  Py_RETURN_NONE;", "}",
          "static PyMethodDef methods[] = {",
          "  {\"run\", run, METH_VARARGS, NULL},",
          "  {\"init_kernels\", init_kernels, METH_O, NULL},",
          "  {NULL, NULL, 0, NULL}};",
          f"static struct PyModuleDef moddef = {{PyModuleDef_HEAD_INIT, \"{modname}\", NULL, -1,"
          " methods};",
          f"PyMODINIT_FUNC PyInit_{modname}(void) {{",
          "  if (ga__init_api() < 0) return NULL;",
          "  return PyModule_Create(&moddef);", "}"]
    return "\n".join(L), kernels


def compile_host_module(source_fn, key_hint: str) -> Any:
    """Compile (or load from the cache) the module whose source ``source_fn(modname)`` returns.

    Raises :class:`HostCodeError` with the compiler's message and the kept source."""
    src, _ = source_fn("@MODNAME@")
    try:
        return compile_module(src, "gpuhost", ("gpu_host", 1), cflags=["-O1"],
                              include_dirs=[INCLUDE_DIR], ops=[key_hint])
    except CompileError as exc:
        raise HostCodeError(f"host code of {key_hint} failed to compile:\n{exc.output}\n"
                            f"command: {' '.join(exc.command)}\nsource kept at "
                            f"{exc.source_path}") from None


def make_host_thunk(node: Any, storage_map: dict, name: str) -> Any:
    """A thunk running ``node``'s C host code on its storage cells."""
    from opcore_gpu_cuda.type import GpuArrayType, get_context

    for v in list(node.inputs) + list(node.outputs):
        if not isinstance(v.type, GpuArrayType):
            raise NotImplementedError(f"{node.op}: C host code supports GpuArrayType inputs and "
                                      f"outputs only, got {v.type}")
    ctx_name = getattr(node.op, "context_name", node.outputs[0].type.context_name)
    ctx = get_context(ctx_name)
    mod = compile_host_module(lambda modname: host_source(node, name, modname), str(node.op))
    kernels = list(node.op.gpu_kernels(node, name))
    mod.init_kernels(tuple((k, ctx) for k in kernels))
    ins = [storage_map[v] for v in node.inputs]
    outs = [storage_map[v] for v in node.outputs]
    run = mod.run

    def thunk():
        res = run(tuple(c[0] for c in ins), tuple(c[0] for c in outs), ctx)
        for c, r in zip(outs, res):
            c[0] = r

    thunk.inputs = ins
    thunk.outputs = outs
    return thunk
