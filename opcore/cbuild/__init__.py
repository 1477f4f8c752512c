"""The one C build-and-render layer shared by every plugin that compiles C-family code.

The C backend, the GPU backend's host code, and the sparse and nnet kernels all compile through
this package, so there is one compiler driver, one crash-safe compile cache under
``config.compiledir`` (listed and cleared by ``opcore cache``), one dtype -> C type table and one
renderer of fused scalar expressions with a table per dialect (C, CUDA, OpenCL).

It lives in the core, not in a plugin, so that both backends can depend on it without depending on
each other; it imports nothing heavier than the standard library, NumPy and filelock, and importing
``opcore`` does not import it.  The names below are imported from their modules at first use, so
``from opcore.cbuild import compiler_ok`` does not import the cache (and a cache hit never imports
``filelock``: only a build takes a lock).
"""

from importlib import import_module
from typing import Any

_WHERE = {"CacheWarning": "cache", "build_library": "cache", "cache_key": "cache",
          "cache_root": "cache", "compile_linked_module": "cache",
          "compile_module": "cache", "INCLUDE_DIR": "driver",
          "CompileError": "driver", "base_flags": "driver", "compiler_ok": "driver",
          "openmp_enabled": "driver", "run_compiler": "driver", "UntrustedCacheError": "trust"}

__all__ = ["INCLUDE_DIR", "CacheWarning", "CompileError", "UntrustedCacheError", "base_flags",
           "build_library", "cache_key", "cache_root", "compile_linked_module", "compile_module",
           "compiler_ok",
           "openmp_enabled", "run_compiler"]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
