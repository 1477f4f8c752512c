"""Subprocess helper of test_cache.py.

``build K[,K...] [pch] [timeout=T]``: compile (or load) the tiny modules number K and print
``OK K <f(7)>`` for each; ``entry K``: print the path of module K's cache entry (without building);
``lock PATH ROUNDS``: take PATH's build lock ROUNDS times, noting any second holder;
``purge``: ``opcore cache purge``.  The compile cache is ``config.compiledir`` (OPCORE_FLAGS).
"""

import os
import sys
import time
import warnings

from opcore.cbuild import cache_key, cache_root, compile_module
from opcore.cbuild.cache import entry_lock
from opcore.cbuild.cli import purge

SOURCE = r"""
#include <Python.h>
static PyObject* f(PyObject* self, PyObject* arg) { return PyLong_FromLong(PyLong_AsLong(arg) * %d); }
static PyMethodDef m[] = {{"f", f, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, "@MODNAME@", NULL, -1, m};
PyMODINIT_FUNC PyInit_@MODNAME@(void) { return PyModule_Create(&d); }
"""


def build(k: int, pch: bool, timeout: float) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mod = compile_module(SOURCE % (k + 2), "octest", ("test", 1), pch=pch,
                             ops=[f"Times{k + 2}"], lock_timeout=timeout)
    for w in caught:
        print("WARNING", w.message, file=sys.stderr)
    print("OK", k, mod.f(7))


def lock(path: str, rounds: int) -> None:
    holder = path + ".holder"
    doubles = 0
    for _ in range(rounds):
        with entry_lock(path, timeout=60) as held:
            assert held
            try:
                fd = os.open(holder, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                doubles += 1
                continue
            os.close(fd)
            time.sleep(0.002)
            os.unlink(holder)
    print("DOUBLES", doubles)


if __name__ == "__main__":
    if sys.argv[1] == "build":
        opts = dict(a.split("=") for a in sys.argv[3:] if "=" in a)
        for k in sys.argv[2].split(","):
            build(int(k), "pch" in sys.argv[3:], float(opts.get("timeout", 120)))
    elif sys.argv[1] == "entry":
        key = cache_key(SOURCE % (int(sys.argv[2]) + 2), ("test", 1))
        print(os.path.join(cache_root(), key[:2], key))
    elif sys.argv[1] == "lock":
        lock(sys.argv[2], int(sys.argv[3]))
    else:
        purge()
        print("PURGED")
