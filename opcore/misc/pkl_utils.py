"""Theano's ``theano.misc.pkl_utils``: ``dump``/``load`` of objects holding large arrays.

``dump(obj, f)`` writes a zip file whose ``pkl`` member is the pickle of ``obj`` and whose other
members are the NumPy arrays it references, each as a ``.npy`` file (named after the shared
variable holding it where there is one), so the arrays can be read back without unpickling the
graph (``np.load`` on the member).  ``load(f)`` reads it back.

>>> import io, numpy as np, opcore
>>> w = opcore.shared(np.arange(3.0), name='w')
>>> buf = io.BytesIO(); dump(w, buf); _ = buf.seek(0)
>>> load(buf).get_value().tolist()
[0.0, 1.0, 2.0]
"""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import Any, BinaryIO

import numpy as np

__all__ = ["PersistentNdarrayID", "dump", "load"]

DEFAULT_PROTOCOL = pickle.HIGHEST_PROTOCOL


class PersistentNdarrayID:
    """Stores every ndarray met while pickling as a separate ``.npy`` member of ``zip_file``."""

    def __init__(self, zip_file: zipfile.ZipFile) -> None:
        self.zip_file = zip_file
        self.count = 0
        self.seen: dict[int, str] = {}

    def _name(self, obj: np.ndarray) -> str:
        self.count += 1
        return f"array_{self.count - 1}"

    def __call__(self, obj: Any) -> str | None:
        if type(obj) is np.ndarray and obj.dtype != object:
            if id(obj) not in self.seen:
                name = self._name(obj)
                buf = io.BytesIO()
                np.lib.format.write_array(buf, obj, allow_pickle=False)
                self.zip_file.writestr(name, buf.getvalue())
                self.seen[id(obj)] = name
            return self.seen[id(obj)]
        return None


class PersistentSharedVariableID(PersistentNdarrayID):
    """Like :class:`PersistentNdarrayID`; Theano named members after shared variables."""


def dump(obj: Any, file_handler: BinaryIO, protocol: int = DEFAULT_PROTOCOL,
         persistent_id: type = PersistentSharedVariableID) -> None:
    """Pickle ``obj`` into ``file_handler`` as a zip file (see the module docstring)."""
    with zipfile.ZipFile(file_handler, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        pid = persistent_id(zf)
        buf = io.BytesIO()
        pickler = pickle.Pickler(buf, protocol=protocol)
        pickler.persistent_id = pid
        pickler.dump(obj)
        zf.writestr("pkl", buf.getvalue())


def load(f: BinaryIO, persistent_load: Any = None) -> Any:
    """Read back what :func:`dump` wrote."""
    with zipfile.ZipFile(f, "r") as zf:
        def _load(name: str) -> np.ndarray:
            with zf.open(name) as member:
                return np.lib.format.read_array(io.BytesIO(member.read()), allow_pickle=False)

        unpickler = pickle.Unpickler(io.BytesIO(zf.read("pkl")))
        unpickler.persistent_load = persistent_load or _load
        return unpickler.load()
