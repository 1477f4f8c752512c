"""Theano's optimizer databases (``optdb``, ``Query``, ``register_canonicalize``...) over opcore's
rewrite registry.

Theano orders its global database ``optdb`` by float positions (merge 0, canonicalize 1,
stabilize 1.5, specialize 2, uncanonicalize 3, fusion 49, inplace 75); opcore has ordered phases
instead.  ``optdb.register(name, opt, position, *tags)`` registers ``opt`` (through
:func:`~opcore.graph.rewriting.optimizers.as_rewrite`) into the phase that position falls in, and
``optdb['canonicalize'].register(name, local_opt, *tags)`` into that phase, so rewrites written for
Theano run in ``opcore.function`` with the tags they were given (``'fast_run'``...).

>>> import opcore, opcore.tensor as T
>>> from opcore.graph.rewriting.optimizers import local_optimizer
>>> @local_optimizer([T.Elemwise])
... def local_doc_neg_neg(node):
...     inner = node.inputs[0].owner
...     if (getattr(node.op.scalar_op, 'name', None) == 'neg' and inner is not None
...             and getattr(getattr(inner.op, 'scalar_op', None), 'name', None) == 'neg'):
...         return [inner.inputs[0]]
>>> _ = optdb['specialize'].register('local_doc_neg_neg', local_doc_neg_neg, 'fast_run')
>>> x = T.dvector('x')
>>> f = opcore.function([x], -(-x), mode=opcore.Mode(linker='py'))
>>> f.maker.fgraph.outputs[0] is f.maker.fgraph.inputs[0] or len(f.maker.fgraph.apply_nodes) <= 1
True
"""

from __future__ import annotations

from typing import IO, Any, Callable, Sequence

from opcore.graph.fg import FunctionGraph
from opcore.graph.rewriting.engine import rewrite_graph
from opcore.graph.rewriting.optimizers import Optimizer, as_rewrite
from opcore.compile.mode import rewrite_settings
from opcore.plugins import get_host

__all__ = ["DB", "EquilibriumDB", "LocalGroupDB", "ProxyDB", "Query", "SequenceDB", "optdb",
           "phase_of_position", "register_canonicalize", "register_specialize",
           "register_stabilize", "register_uncanonicalize"]

#: Theano's positions in ``optdb`` -> the opcore phase they fall in (upper bounds, exclusive)
_POSITION_PHASES = ((1.5, "canonicalize"), (2.0, "stabilize"), (49.0, "specialize"),
                    (75.0, "fusion"))
#: Theano's sub-database names -> opcore phases
PHASE_NAMES = {"canonicalize": "canonicalize", "stabilize": "stabilize",
               "specialize": "specialize", "uncanonicalize": "specialize",
               "specialize_device": "specialize", "elemwise_fusion": "fusion",
               "inplace": "inplace", "inplace_opt": "inplace"}


def phase_of_position(position: float) -> str:
    """The opcore phase a Theano ``optdb`` position falls in (``1`` -> ``'canonicalize'``)."""
    for bound, phase in _POSITION_PHASES:
        if position < bound:
            return phase
    return "inplace"


class Query:
    """Theano's query: tags to include, require and exclude (``Mode.including`` & co.)."""

    def __init__(self, include: Sequence[str] = (), require: Sequence[str] | None = None,
                 exclude: Sequence[str] | None = None, subquery: dict | None = None,
                 position_cutoff: float | None = None, extra_optimizations: Any = None) -> None:
        self.include = tuple(include)
        self.require = tuple(require or ())
        self.exclude = tuple(exclude or ())
        self.subquery = subquery or {}
        self.position_cutoff = position_cutoff

    def including(self, *tags: str) -> "Query":
        return Query(self.include + tags, self.require, self.exclude, self.subquery,
                     self.position_cutoff)

    def excluding(self, *tags: str) -> "Query":
        return Query(self.include, self.require, self.exclude + tags, self.subquery,
                     self.position_cutoff)

    def requiring(self, *tags: str) -> "Query":
        return Query(self.include, self.require + tags, self.exclude, self.subquery,
                     self.position_cutoff)

    def __str__(self) -> str:
        return (f"Query{{inc={self.include},ex={self.exclude},require={self.require},"
                f"position_cutoff={self.position_cutoff}}}")


class _QueryOptimizer(Optimizer):
    """What ``db.query(...)`` returns: applies the selected rewrites with the engine."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self.name = str(query)

    def apply(self, fgraph: FunctionGraph) -> None:
        rewrite_graph(fgraph, include=self.query.include, exclude=self.query.exclude,
                      require=self.query.require, **rewrite_settings())


class DB:
    """A named collection of optimizers registering into one opcore phase.

    ``register(name, opt, *tags)``: ``opt`` is a Theano local or global optimizer (or a
    ``fn(node)``); it runs in this database's phase when a mode's query selects one of ``tags``
    or ``name``.
    """

    def __init__(self, phase: str | None = None, name: str | None = None) -> None:
        self.phase = phase
        self.name = name or phase
        self.__db__: dict[str, Any] = {}
        self._children: dict[str, "DB"] = {}

    def _register(self, name: str, obj: Any, phase: str, tags: Sequence[str]) -> Any:
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}.register: the name must be a string, got "
                            f"{name!r}")
        registry = get_host().ensure_loaded().rewrites
        if name in registry or name in self._children:
            raise ValueError(f"{type(self).__name__}.register: the name {name!r} is already "
                             "registered (a rewrite name must be unique)")
        tags = tuple(t for t in tags if isinstance(t, str))
        with registry.owned_by("theano-api"):
            registry.register(name, as_rewrite(obj, name), *tags, phase=phase)
        self.__db__[name] = obj
        return obj

    def register(self, name: str, obj: Any, *tags: str, **kwargs: Any) -> Any:
        phase = self.phase or "canonicalize"
        return self._register(name, obj, phase, tags)

    def __getitem__(self, name: str) -> Any:
        if name in self._children:
            return self._children[name]
        if name in self.__db__:
            return self.__db__[name]
        raise KeyError(f"{self.name or 'optdb'} has no entry {name!r}")

    def __contains__(self, name: object) -> bool:
        return name in self.__db__ or name in self._children

    def query(self, *tags: Any, **kwtags: Any) -> Optimizer:
        """An optimizer applying the rewrites the query selects (``Query`` or tag strings;
        Theano's ``+tag``/``-tag`` spellings included)."""
        if len(tags) >= 1 and isinstance(tags[0], Query):
            return _QueryOptimizer(tags[0])
        inc = [t.lstrip("+") for t in tags if not t.startswith("-")]
        exc = [t[1:] for t in tags if t.startswith("-")]
        return _QueryOptimizer(Query(inc, kwtags.get("require"), exc))

    def print_summary(self, stream: IO[str] | None = None) -> None:
        print(f"{type(self).__name__} ({self.name}): {sorted(self.__db__)}", file=stream)


class EquilibriumDB(DB):
    """Theano's ``EquilibriumDB``: local optimizers applied until none changes the graph."""

    def register(self, name: str, obj: Any, *tags: str, final_opt: bool = False,
                 cleanup: bool = False, **kwargs: Any) -> Any:
        return super().register(name, obj, *tags)


class LocalGroupDB(DB):
    """Theano's ``LocalGroupDB``: local optimizers tried on each node."""


class SequenceDB(DB):
    """Theano's ``SequenceDB`` (``optdb``): ``register(name, opt, position, *tags)``."""

    def register(self, name: str, obj: Any, position: Any = 1, *tags: str,
                 **kwargs: Any) -> Any:
        if isinstance(position, str):  # register(name, opt, 'tag', ...) without a position
            tags = (position,) + tags
            position = 1
        if position == "last":
            position = 100
        if isinstance(obj, DB):
            self._children[name] = obj
            return obj
        return self._register(name, obj, phase_of_position(float(position)), tags)


class ProxyDB(DB):
    """Theano's ``ProxyDB``: a database presented under another name."""

    def __init__(self, db: DB) -> None:
        super().__init__(db.phase, db.name)
        self.db = db

    def register(self, name: str, obj: Any, *tags: str, **kwargs: Any) -> Any:
        return self.db.register(name, obj, *tags, **kwargs)


#: Theano's global optimizer database
optdb = SequenceDB(None, "optdb")
for _name, _phase in PHASE_NAMES.items():
    optdb._children[_name] = EquilibriumDB(_phase, _name)
del _name, _phase


def _register_in(db_name: str) -> Callable:
    def register(lopt: Any, *tags: str, **kwargs: Any) -> Any:
        if isinstance(lopt, str):  # @register_x('tag', ...) : the tags come first
            def deco(inner: Any) -> Any:
                return register(inner, lopt, *tags, **kwargs)

            return deco
        name = kwargs.pop("name", None) or getattr(lopt, "__name__", None) or str(lopt)
        optdb[db_name].register(name, lopt, "fast_run", *tags, **kwargs)
        return lopt

    register.__name__ = f"register_{db_name}"
    register.__doc__ = (f"Register a Theano local optimizer into opcore's {PHASE_NAMES[db_name]!r}"
                        f" phase with tag 'fast_run' (Theano's ``register_{db_name}``; usable as "
                        "``@register_x`` or ``@register_x('tag', ...)``, ``name=`` optional).")
    return register


register_canonicalize = _register_in("canonicalize")
register_stabilize = _register_in("stabilize")
register_specialize = _register_in("specialize")
register_uncanonicalize = _register_in("uncanonicalize")
register_specialize_device = _register_in("specialize_device")
