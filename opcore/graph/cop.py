"""``COp``: Theano's op whose C code lives in external files (``theano.gof.COp``).

``COp.__init__(func_files, func_name=None)`` reads C files (paths relative to the module defining
the subclass) split into sections by lines ``#section <name>``: ``support_code``,
``support_code_apply``, ``support_code_struct``, ``init_code``, ``init_code_apply``,
``init_code_struct``, ``cleanup_code_struct``, ``code`` and ``code_cleanup``.  With ``func_name``
the node's code is a call ``func_name(inputs..., &outputs..., params)`` returning non-zero on
failure; otherwise the ``code`` section is the node's body.

Inside the sections these macros are defined, as in Theano: ``APPLY_SPECIFIC(x)`` (a name unique
to the node), ``DTYPE_INPUT_k``/``DTYPE_OUTPUT_k`` (``npy_float64``...), ``TYPENUM_INPUT_k``,
``ITEMSIZE_INPUT_k`` (and ``_OUTPUT_k``), ``PARAMS_TYPE`` and ``DTYPE_PARAM_<field>`` for an op
with a :class:`~opcore.graph.params.ParamsType`; in ``code``: ``INPUT_k``, ``OUTPUT_k``, ``FAIL``
and ``PARAMS``.  Only text is produced here: the C backend plugin (``opcore-cpu-c``) compiles it.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Sequence

import numpy as np

from opcore.graph.op import Op
from opcore.graph.params import ParamsType

__all__ = ["COp", "SECTIONS"]

SECTIONS = ("init_code", "init_code_apply", "init_code_struct", "support_code",
            "support_code_apply", "support_code_struct", "cleanup_code_struct", "code",
            "code_cleanup")
_SECTION_RE = re.compile(r"^#section ([a-zA-Z0-9_]+)$", re.MULTILINE)


class COp(Op):
    """Base class of an op whose C code is read from ``func_files`` (see the module docstring)."""

    def __init__(self, func_files: str | Sequence[str], func_name: str | None = None) -> None:
        if isinstance(func_files, str):
            func_files = [func_files]
        self.func_name = func_name
        self.func_files = [self._path(f) for f in func_files]
        self.code_sections = self._load(self.func_files)
        if not self.code_sections:
            raise ValueError(f"{type(self).__name__}: no '#section' in {self.func_files}")
        if func_name is not None and ("code" in self.code_sections
                                      or "code_cleanup" in self.code_sections):
            raise ValueError(f"{type(self).__name__}: a 'code' section and func_name= cannot be "
                             "used together")
        if func_name is None and "code" not in self.code_sections:
            raise ValueError(f"{type(self).__name__}: give func_name= or a '#section code'")

    def _path(self, f: str) -> str:
        if os.path.isabs(f):
            return f
        mod = sys.modules.get(type(self).__module__)
        base = os.path.dirname(os.path.abspath(getattr(mod, "__file__", None) or "."))
        return os.path.realpath(os.path.join(base, f))

    @staticmethod
    def _load(files: Sequence[str]) -> dict[str, str]:
        sections: dict[str, str] = {}
        for path in files:
            with open(path) as fh:
                text = fh.read()
            parts = _SECTION_RE.split(text)
            if parts[0].strip():
                raise ValueError(f"{path}: C code before the first '#section' line")
            for name, body in zip(parts[1::2], parts[2::2]):
                if name not in SECTIONS:
                    raise ValueError(f"{path}: unknown section {name!r}; known: "
                                     f"{', '.join(SECTIONS)}")
                sections[name] = sections.get(name, "") + body
        return sections

    # -- macros ------------------------------------------------------------------------------
    def get_op_params(self) -> list[tuple[str, Any]]:
        """Extra ``(NAME, value)`` macros for every section (override to add your own)."""
        return []

    def _macros(self, node: Any, name: str, check_input: bool = True) -> tuple[str, str]:
        defs: list[tuple[str, Any]] = []
        if check_input:
            names = ([f"INPUT_{i}" for i in range(len(node.inputs))]
                     + [f"OUTPUT_{i}" for i in range(len(node.outputs))])
            for vname, v in zip(names, list(node.inputs) + list(node.outputs)):
                dtype = getattr(v.type, "dtype", None)
                if dtype is None:
                    continue
                d = np.dtype(dtype)
                defs += [(f"DTYPE_{vname}", f"npy_{d.name}"), (f"TYPENUM_{vname}", d.num),
                         (f"ITEMSIZE_{vname}", d.itemsize)]
        defs.append(("APPLY_SPECIFIC(str)", f"str##_{name}"))
        pt = getattr(self, "params_type", None)
        if isinstance(pt, ParamsType):
            defs.append(("PARAMS_TYPE", pt.struct_name))
            for f, t in zip(pt.fields, pt.types):
                dtype = getattr(t, "dtype", None)
                if dtype is not None:
                    defs.append((f"DTYPE_PARAM_{f}", f"npy_{np.dtype(dtype).name}"))
        defs += list(self.get_op_params())
        return _define(defs)

    def _sub_macros(self, sub: dict) -> tuple[str, str]:
        defs = [("FAIL", _one_line(sub["fail"]))]
        if "params" in sub and getattr(self, "params_type", None) is not None:
            defs.append(("PARAMS", sub["params"]))
        return _define(defs)

    @staticmethod
    def _io_macros(inputs: Sequence[str], outputs: Sequence[str]) -> tuple[str, str]:
        return _define([(f"INPUT_{i}", n) for i, n in enumerate(inputs)]
                       + [(f"OUTPUT_{i}", n) for i, n in enumerate(outputs)])

    def _wrapped(self, section: str, node: Any, name: str) -> str:
        body = self.code_sections.get(section, "")
        if not body:
            return ""
        pre, post = self._macros(node, name)
        return "\n".join([pre, body, post])

    # -- the C protocol ----------------------------------------------------------------------
    def c_code_cache_version(self) -> tuple:
        return ()  # the files may change between runs: Theano's COp never caches by version

    def c_support_code(self) -> str:
        return self.code_sections.get("support_code", "")

    def c_support_code_apply(self, node: Any, name: str) -> str:
        # struct members become per-node statics: opcore's C module holds one node instance
        return "\n".join(s for s in (self._wrapped("support_code_apply", node, name),
                                     self._wrapped("support_code_struct", node, name)) if s)

    def c_init_code(self) -> list[str]:
        body = self.code_sections.get("init_code", "")
        return [body] if body else []

    def c_init_code_apply(self, node: Any, name: str) -> str:
        parts = [self._wrapped("init_code_apply", node, name)]
        struct = self.code_sections.get("init_code_struct", "")
        if struct:
            pre, post = self._macros(node, name)
            fpre, fpost = _define([("FAIL", "{ return NULL; }")])
            parts.append("\n".join([pre, fpre, "{", struct, "}", fpost, post]))
        return "\n".join(p for p in parts if p)

    def c_code(self, node: Any, name: str, inputs: Sequence[str], outputs: Sequence[str],
               sub: dict) -> str:
        if self.func_name is not None:
            pre, post = self._macros(node, name, check_input=False)
            args = list(inputs) + [f"&{o}" for o in outputs]
            if "params" in sub and getattr(self, "params_type", None) is not None:
                args.append(sub["params"])
            return (f"{pre}\n{{\n  if ({self.func_name}({', '.join(args)}) != 0) {{\n"
                    f"    {sub['fail']}\n  }}\n}}\n{post}")
        pre, post = self._macros(node, name)
        spre, spost = self._sub_macros(sub)
        ipre, ipost = self._io_macros(inputs, outputs)
        return "\n".join([pre, spre, ipre, self.code_sections["code"], ipost, spost, post])

    def c_code_cleanup(self, node: Any, name: str, inputs: Sequence[str],
                       outputs: Sequence[str], sub: dict) -> str:
        body = self.code_sections.get("code_cleanup", "")
        if not body:
            return ""
        pre, post = self._macros(node, name)
        spre, spost = self._sub_macros(sub)
        ipre, ipost = self._io_macros(inputs, outputs)
        return "\n".join([pre, spre, ipre, body, ipost, spost, post])


def _one_line(code: str) -> str:
    return " ".join(code.split("\n"))


def _define(pairs: Sequence[tuple[str, Any]]) -> tuple[str, str]:
    defs = "\n".join(f"#define {k} {v}" for k, v in pairs)
    undefs = "\n".join(f"#undef {k.split('(')[0]}" for k, _ in pairs)
    return defs, undefs
