"""The ``cpu_c`` plugin's hooks: the ``c`` backend and its flags (``opcore cache`` is the core's)."""

from __future__ import annotations

from typing import Any

import opcore.cbuild as cbuild  # names resolve lazily: the compiler driver loads at the health check
from opcore.config import parse_bool
from opcore.plugins.hookspecs import hookimpl
from opcore.plugins.registries import Backend


def _linker(mode: Any) -> Any:
    from opcore_cpu_c.linker import CLinker

    return CLinker()


def _available() -> tuple[bool, str]:
    return cbuild.compiler_ok()


def _supports(op: Any) -> tuple[bool, str]:
    return True, ""  # every op runs: C where it has C, else its Python thunk in the schedule


def _implements(op: Any) -> tuple[bool, str]:
    """Whether backend ``c`` has C for ``op`` (what ``OPCORE_TEST_BACKEND=c`` tests; the ops
    without C xfail with this reason)."""
    from opcore.plugins import get_host

    if get_host().impls.lookup("c", op) is not None:
        return True, ""
    return False, (f"no C implementation of {type(op).__name__} (opcore-cpu-c runs its "
                   "Python perform inside the compiled module)")


@hookimpl
def opcore_register_config(config: Any) -> None:
    # -march=native: this machine's vector instructions (the cache key names the CPU's explicit
    # flags, opcore.cbuild.driver.resolve_native); -ffp-contract=off: no fused multiply-add, so
    # a*b+c rounds twice as NumPy does
    config.add("cpu_c__optimization", "C compiler optimisation flags",
               "-O2 -ftree-vectorize -fno-math-errno -march=native -ffp-contract=off")
    config.add("cpu_c__blas", "BLAS for 2-d Dot: 'numpy' (NumPy's, sharing its thread pool) or "
               "'scipy' (scipy.linalg.cython_blas function pointers)", "numpy",
               choices=("numpy", "scipy"))
    config.add("cpu_c__vector_math", "The functions of elementwise loops' transcendental steps: "
               "'numpy' (NumPy's own ufunc loops: NumPy's values bit for bit) or 'sleef' "
               "(float64 sin and cos from SLEEF's 1-ulp SIMD functions, where NumPy's loop is "
               "scalar; needs libsleef-dev)", "numpy", choices=("numpy", "sleef"))
    config.add("cpu_c__threads", "Threads of an elementwise loop of at least "
               "openmp_elemwise_minsize elements (opcore's own pool, see docs/cpu_c.md): 0 = "
               "OMP_NUM_THREADS when set, else every CPU this process may use; 1 = serial",
               0, convert=int, bounds=(0, None))
    config.add("cpu_c__kernel_objects", "Compile each distinct kernel of a function into its own "
               "cached object file and link them (a module made of known kernels costs a link; "
               "new kernels compile in parallel); False: one source per module", True,
               convert=parse_bool)
    config.add("cpu_c__pch", "Precompile the Python/NumPy headers once (GCC)", True,
               convert=parse_bool)
    config.add("cpu_c__cache_timeout", "Seconds to wait for another process's build of the same "
               "module before building it unlocked (the owner's lock is never taken)", 120.0,
               convert=float, bounds=(0.0, None))


@hookimpl
def opcore_register_impls(impls: Any) -> None:
    from opcore_cpu_c.impls import own_c_code, register_families

    impls.register_adapter("c", "c_code", own_c_code)
    # the op-family modules (and the C renderer they import) load at the first lookup of
    # backend c, when a function is linked: building graphs does not pay for them
    impls.defer("c", register_families)


@hookimpl
def opcore_register_backends(backends: Any) -> None:
    backends.register(Backend(
        name="c", priority=10, available=_available, linker_factory=_linker,
        doc="C: one compiled CPython extension per function (system C compiler + NumPy C-API)",
        supports=_supports, implements=_implements))


@hookimpl
def opcore_doctor_checks(report: Any) -> None:
    from opcore.config import config

    from opcore_cpu_c.doctor import add_checks

    add_checks(report, config)
