"""Optional dependencies, imported only when an op that needs them runs.

``import opcore`` and compiling a graph never import SciPy; an op such as
``opcore.tensor.slinalg.Cholesky`` asks for it in ``perform`` through :func:`require`, which
raises an ``ImportError`` naming the op and the package to install when it is missing.  One
helper for the whole core, so no module needs a function-local ``import`` statement.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: module prefix -> the distribution that provides it
_PACKAGES = {"scipy": "scipy"}


def require(module: str, user: str) -> ModuleType:
    """Import ``module`` (e.g. ``"scipy.linalg"``) for ``user`` (the op or function that needs it).

    Raises ``ImportError``: ``"Cholesky needs scipy.linalg: pip install scipy"`` when missing.

    >>> require("numpy.linalg", "example").__name__
    'numpy.linalg'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = _PACKAGES.get(module.split(".")[0], module.split(".")[0])
        raise ImportError(f"{user} needs {module}, which is not installed: pip install {pkg} "
                          f"({exc})") from exc
