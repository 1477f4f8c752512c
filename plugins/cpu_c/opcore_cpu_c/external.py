"""``ExternalCOp``: an op whose C lives in ``.c`` files next to its Python module.

A file is split into sections by lines ``#section <name>``: ``support_code`` (once per module),
``support_code_apply`` (once per node), ``code`` (the node's body), ``init_code`` and
``cleanup_code``.  Inside them these macros are defined for the node: ``INPUT_k``/``OUTPUT_k``
(the ``PyArrayObject*`` variables, outputs assignable), ``DTYPE_INPUT_k``/``DTYPE_OUTPUT_k`` (C
types), ``TYPENUM_INPUT_k``/``TYPENUM_OUTPUT_k``, ``NDIM_OUTPUT_k``, ``FAIL`` (jump to the
error exit; set a Python exception first), ``PARAMS`` (the op object) and ``APPLY_SPECIFIC(x)``
(a name unique to the node, for functions in ``support_code_apply``).
"""

from __future__ import annotations

import inspect
import os
import re
from typing import Any, Sequence

from opcore.graph.op import Op

from opcore_cpu_c.ccode import ctype, typenum

__all__ = ["ExternalCOp", "parse_sections"]

_SECTION = re.compile(r"^#section\s+(\w+)\s*$", re.M)
_KNOWN = ("support_code", "support_code_apply", "code", "init_code", "cleanup_code")


def parse_sections(text: str, path: str = "<string>") -> dict[str, str]:
    """Split C source into its ``#section`` parts (text before the first marker is an error)."""
    parts = _SECTION.split(text)
    if parts[0].strip():
        raise ValueError(f"{path}: C code before the first '#section' line")
    out: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        if name not in _KNOWN:
            raise ValueError(f"{path}: unknown section {name!r}; known: {', '.join(_KNOWN)}")
        out[name] = out.get(name, "") + body
    return out


class ExternalCOp(Op):
    """Base class: set ``func_files`` (paths relative to the subclass's module file).

    Subclasses still define ``make_node`` (and ``perform`` for the Python backend); bump
    ``c_version`` whenever the C changes (``()`` means: never cache).
    """

    func_files: Sequence[str] = ()
    c_version: tuple = (1,)

    def _sections(self) -> dict[str, str]:
        cls = type(self)
        cached = cls.__dict__.get("_oc_sections")
        if cached is not None:
            return cached
        base = os.path.dirname(os.path.abspath(inspect.getfile(cls)))
        secs: dict[str, str] = {}
        for f in self.func_files:
            path = f if os.path.isabs(f) else os.path.join(base, f)
            with open(path) as fh:
                for k, v in parse_sections(fh.read(), path).items():
                    secs[k] = secs.get(k, "") + v
        if "code" not in secs:
            raise ValueError(f"{cls.__name__}: no '#section code' in {list(self.func_files)}")
        cls._oc_sections = secs
        return secs

    def _macros(self, node: Any, name: str, inputs: Sequence[str], outputs: Sequence[str],
                sub: dict | None) -> tuple[str, str]:
        defs = [f"#define APPLY_SPECIFIC(str) str##_{name}"]
        for k, v in enumerate(node.inputs):
            defs += [f"#define DTYPE_INPUT_{k} {ctype(v.type.dtype)}",
                     f"#define TYPENUM_INPUT_{k} {typenum(v.type.dtype)}"]
            if inputs:
                defs.append(f"#define INPUT_{k} {inputs[k]}")
        for k, v in enumerate(node.outputs):
            defs += [f"#define DTYPE_OUTPUT_{k} {ctype(v.type.dtype)}",
                     f"#define TYPENUM_OUTPUT_{k} {typenum(v.type.dtype)}",
                     f"#define NDIM_OUTPUT_{k} {v.type.ndim}"]
            if outputs:
                defs.append(f"#define OUTPUT_{k} {outputs[k]}")
        if sub is not None:
            defs += [f"#define FAIL {sub['fail']}", f"#define PARAMS {sub['params']}"]
        undefs = [f"#undef {d.split()[1].split('(')[0]}" for d in defs]
        return "\n".join(defs) + "\n", "\n" + "\n".join(undefs) + "\n"

    def c_code_cache_version(self) -> tuple:
        return tuple(self.c_version)

    def c_support_code(self) -> str:
        return self._sections().get("support_code", "")

    def c_support_code_apply(self, node: Any, name: str) -> str:
        body = self._sections().get("support_code_apply", "")
        if not body:
            return ""
        pre, post = self._macros(node, name, (), (), None)
        return pre + body + post

    def c_code(self, node: Any, name: str, inputs: Sequence[str], outputs: Sequence[str],
               sub: dict) -> str:
        pre, post = self._macros(node, name, inputs, outputs, sub)
        return pre + self._sections()["code"] + post

    def c_code_cleanup(self, node: Any, name: str, inputs: Sequence[str],
                       outputs: Sequence[str], sub: dict) -> str:
        body = self._sections().get("cleanup_code", "")
        if not body:
            return ""
        pre, post = self._macros(node, name, inputs, outputs, sub)
        return pre + body + post

    def c_init_code(self) -> list[str]:
        body = self._sections().get("init_code", "")
        return [body] if body else []
