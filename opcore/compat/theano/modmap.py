"""Theano's module map: which opcore module serves each ``theano.X.Y``, and what opcore refuses.

A Theano name maps to the opcore module of the same path (``theano.tensor.nnet`` ->
``opcore.tensor.nnet``) unless :data:`RENAMED` says otherwise; :data:`REFUSED` lists the Theano
modules opcore cannot honour, each with the reason and what to use instead.  The table in
docs/porting.md is this data.
"""

from __future__ import annotations

#: Theano module prefixes served by an opcore module of another name (longest prefix wins)
RENAMED: dict[str, str] = {
    "theano": "opcore",
    "theano.sandbox.gpuarray": "opcore.gpuarray",  # Theano 0.9's name of the new GPU backend
    "theano.configparser": "opcore.config",
    "theano.configdefaults": "opcore.config",
    "theano.compat": "opcore.compat.theano.pycompat",
    "theano.tests.unittest_tools": "opcore.testing.unittest_tools",
    "theano.tests": "opcore.testing",
    "theano.sandbox.linalg": "opcore.tensor.nlinalg",
}

#: renamings that also apply under opcore's spelling: ``from theano.sandbox import gpuarray``
#: imports ``opcore.sandbox.gpuarray`` (the parent module's own name), which is opcore.gpuarray
OPCORE_SPELLING_RENAMED: dict[str, str] = {"opcore.sandbox.gpuarray": "opcore.gpuarray"}

#: Theano packages that are only containers: when opcore has no such package, an empty one is
#: made so that their modules can be served (``theano.sandbox.rng_mrg``) or refused one by one
CONTAINER_PACKAGES = frozenset({"theano.sandbox", "theano.misc", "theano.tensor.signal"})

#: Theano modules opcore cannot honour: prefix -> why, and what to use instead
REFUSED: dict[str, str] = {
    "theano.sandbox.cuda": (
        "the old CUDA backend (theano.sandbox.cuda) was removed in Theano 1.0 and opcore does not "
        "provide it; opcore's GPU backend is Theano's new one: set THEANO_FLAGS=device=cuda and "
        "use theano.gpuarray"),
    "theano.tensor.raw_random": (
        "theano.tensor.raw_random (RandomStateType functions) is not provided by opcore; use "
        "theano.tensor.shared_randomstreams.RandomStreams or "
        "theano.sandbox.rng_mrg.MRG_RandomStreams"),
    "theano.sandbox.theano_object": "an experimental Theano 0.x module opcore does not provide",
    "theano.sandbox.neighbourhoods": (
        "an experimental Theano 0.x module opcore does not provide; use "
        "theano.tensor.nnet.neighbours"),
    "theano.sandbox.conv": "removed in Theano 0.7; use theano.tensor.nnet.conv2d",
    "theano.sandbox.softsign": "removed; use theano.tensor.nnet.softsign",
    "theano.gof.cc": (
        "Theano's C linker internals (gof.cc) are not provided: opcore's C backend is the "
        "opcore-cpu-c plugin; select it with THEANO_FLAGS=linker=c or mode=FAST_RUN"),
    "theano.gof.cmodule": (
        "Theano's compiled-module cache internals (gof.cmodule) are not provided: opcore-cpu-c "
        "keeps its own cache (opcore cache list|clear|purge)"),
    "theano.gof.lazylinker_c": "Theano's C VM is not provided: opcore links graphs its own way",
}

#: why an opcore module a Theano name maps to may be missing from an installation
MISSING_WHY: dict[str, str] = {
    "opcore.tensor.nnet": "the nnet op family is the opcore-nnet plugin: pip install opcore-nnet",
    "opcore.sparse": "sparse matrices are the opcore-sparse plugin: pip install opcore-sparse",
    "opcore.sandbox.rng_mrg": "MRG_RandomStreams (Theano's MRG31k3p streams) is not in this opcore",
    "opcore.tensor.shared_randomstreams": "RandomStreams is not in this opcore",
    "opcore.tensor.random": "random variables are not in this opcore",
    "opcore.tensor.signal": (
        "the signal op family (pool, conv) is not in this opcore (it comes with opcore-nnet)"),
}


def refused(theano_name: str) -> str | None:
    """Why opcore refuses ``theano_name`` (``None`` when it serves it)."""
    for prefix, why in REFUSED.items():
        if theano_name == prefix or theano_name.startswith(prefix + "."):
            return why
    return None


def opcore_name(theano_name: str) -> str:
    """The opcore module serving ``theano_name`` (``theano.gof.opt`` -> ``opcore.gof.opt``)."""
    best = max((p for p in RENAMED if theano_name == p or theano_name.startswith(p + ".")),
               key=len)
    return RENAMED[best] + theano_name[len(best):]


def missing_why(opcore_module: str) -> str:
    """Why ``opcore_module`` may be absent (the nearest known parent's reason)."""
    parts = opcore_module.split(".")
    for k in range(len(parts), 1, -1):
        why = MISSING_WHY.get(".".join(parts[:k]))
        if why:
            return why
    return "opcore has no module of that name; docs/porting.md lists the Theano modules it serves"
