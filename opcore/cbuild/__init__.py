"""The one C build-and-render layer shared by every plugin that compiles C-family code.

The C backend, the GPU backend's host code, and the sparse and nnet kernels all compile through
this package, so there is one compiler driver, one crash-safe compile cache under
``config.compiledir`` (listed and cleared by ``opcore cache``), one dtype -> C type table and one
renderer of fused scalar expressions with a table per dialect (C, CUDA, OpenCL).

It lives in the core, not in a plugin, so that both backends can depend on it without depending on
each other; it imports nothing heavier than the standard library, NumPy and filelock, and importing
``opcore`` does not import it.
"""

from opcore.cbuild.cache import CacheWarning, build_library, cache_key, cache_root, compile_module
from opcore.cbuild.driver import (
    INCLUDE_DIR,
    CompileError,
    base_flags,
    compiler_ok,
    openmp_enabled,
    run_compiler,
)
from opcore.cbuild.trust import UntrustedCacheError

__all__ = ["INCLUDE_DIR", "CacheWarning", "CompileError", "UntrustedCacheError", "base_flags",
           "build_library", "cache_key", "cache_root", "compile_module", "compiler_ok",
           "openmp_enabled", "run_compiler"]
