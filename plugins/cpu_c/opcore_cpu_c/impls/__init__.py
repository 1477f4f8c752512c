"""The C backend's implementations of the core's ops, one module per op family.

The modules mirror ``opcore/tensor/`` (``elemwise``, ``reduce``, ``basic``, ``shape``,
``subtensor``, ``blas``, ...).  Each defines ``register(impls)``, which gives backend ``c`` its
implementations through the host's :class:`~opcore.plugins.registries.ImplRegistry`; the plugin's
``opcore_register_impls`` hook registers the adapter of ops with their own ``c_code``
(:func:`own_c_code`) and defers :func:`register_families` to the first lookup of backend ``c``
(linking a function; building a graph imports none of the families).  There is no other table:
the linker finds every implementation with ``impls.lookup("c", node)``.

An implementation is an object with the C protocol methods taking the node (``c_code(node, name,
inputs, outputs, sub)``, ``c_support_code(node)``, ``c_code_cache_version(node)``, ...) and,
optionally, ``c_supports(node) -> bool`` for the nodes it declines.  A new module in this package
is picked up by :func:`register_families` without further wiring.
"""

from __future__ import annotations

import importlib
import os
from typing import Any


def family_modules() -> list[str]:
    """The names of this package's op-family modules, sorted (``["basic", "blas", ...]``).

    A directory listing, not :mod:`pkgutil` (whose import costs more than the listing)."""
    return sorted({name[:-3] for folder in __path__ for name in os.listdir(folder)
                   if name.endswith(".py") and not name.startswith("_")})


def own_c_code(op: Any) -> Any:
    """The adapter of ops carrying Theano's ``c_code``: the op is its own C implementation."""
    return op if callable(getattr(op, "c_code", None)) else None


def register_families(impls: Any) -> None:
    """Import every op-family module and call its ``register(impls)`` (the plugin defers this to
    the first lookup of backend ``c``: ``ImplRegistry.defer``)."""
    for name in family_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(impls)
