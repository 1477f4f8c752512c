"""opcore-sparse: CSR/CSC sparse matrices for opcore (``import opcore.sparse as sparse``).

The public API lives in :mod:`opcore_sparse.api`, which the plugin host serves as
``opcore.sparse``.  :func:`verify_grad_sparse` checks gradients of ops with sparse inputs.
"""

from __future__ import annotations


_SUBMODULES = {"api", "basic", "ckernels", "dot", "grad_check", "plugin", "rewrites", "testing",
               "type"}


def __getattr__(name: str):
    # keep `import opcore_sparse` (done by the plugin loader) light: the API loads on first use
    if name.startswith("_") or name in _SUBMODULES:
        raise AttributeError(f"module 'opcore_sparse' has no attribute {name!r}")
    from opcore_sparse import api

    try:
        return getattr(api, name)
    except AttributeError:
        raise AttributeError(f"module 'opcore_sparse' has no attribute {name!r}") from None
