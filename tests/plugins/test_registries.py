"""The registry objects, in-process (no discovery involved)."""

from __future__ import annotations

import pytest

from opcore.plugins import Backend, RegistrationClash
from opcore.plugins.registries import (
    BackendRegistry,
    ConfigView,
    ImplRegistry,
    NamespaceRegistry,
    RewriteRegistry,
)


class Base:
    pass


class Child(Base):
    pass


class GrandChild(Child):
    pass


def test_impl_lookup_walks_the_mro_and_sees_later_registrations():
    impls = ImplRegistry()
    impls.register("x", Base, "base-impl")
    assert impls.lookup("x", GrandChild()) == "base-impl"
    assert impls.lookup("y", GrandChild()) is None
    impls.register("x", Child, "child-impl")  # invalidates the lookup cache
    assert impls.lookup("x", GrandChild()) == "child-impl"
    assert impls.lookup("x", Base()) == "base-impl"
    assert impls.implementations(Child()) == {"x": "child-impl"}
    with pytest.raises(TypeError, match="needs an op class"):
        impls.register("x", Child(), "instance")


def test_clash_without_handler_raises_naming_both_owners():
    rewrites = RewriteRegistry()
    with rewrites.owned_by("first"):
        rewrites.register("r", lambda fg, node: None, "fast_run", phase="stabilize", after=("a",))
    with rewrites.owned_by("second"), pytest.raises(RegistrationClash) as info:
        rewrites.register("r", lambda fg, node: None)
    assert "rewrite 'r' is registered by both plugin 'first' and plugin 'second'" in str(info.value)
    (entry,) = rewrites.entries
    assert (entry.name, entry.tags, entry.phase, entry.after, entry.plugin) == (
        "r", ("fast_run",), "stabilize", ("a",), "first")


def test_forget_removes_only_that_plugins_entries():
    backends = BackendRegistry()
    with backends.owned_by("a"):
        backends.register(Backend("one", priority=1))
    with backends.owned_by("b"):
        backends.register(Backend("two", priority=5))
    assert [b.name for b in backends.by_priority()] == ["two", "one"]
    backends.forget("b")
    assert backends.names() == ["one"] and "two" not in backends
    assert backends["one"].priority == 1
    with pytest.raises(KeyError, match="known: one"):
        backends["two"]


def test_backend_health_check_is_robust():
    assert Backend("a").check() == (True, "")
    assert Backend("b", available=lambda: False).check() == (False, "unavailable (no reason given)")

    def boom():
        raise RuntimeError("nope")

    assert Backend("c", available=boom).check() == (False, "health check raised RuntimeError: nope")
    assert Backend("d", supports=lambda op: (op == 1, "only ones")).supports_op(2) == (
        False, "only ones")
    assert Backend("e").supports_op(object()) == (True, "")


def test_namespace_must_live_under_opcore_and_resolution_is_lazy():
    namespaces = NamespaceRegistry()
    with pytest.raises(ValueError, match="under 'opcore.'"):
        namespaces.add("numpy.extra", "json")
    namespaces.add("opcore.jsonlike", "json", ops=("Dumps",))
    assert namespaces.target("opcore.jsonlike") == "json"
    import json

    assert namespaces.resolve("opcore.jsonlike") is json
    assert namespaces.ops_by_plugin == {"core": ["Dumps"]}


def test_config_view_sets_the_owner_and_detects_clashes():
    from opcore.config import Config

    view = ConfigView(Config())
    with view.owned_by("plug"):
        view.add("plug__speed", "how fast", 3, convert=int)
    flag = view.config.flags()["plug__speed"]
    assert (flag.owner, view.plug__speed) == ("plug", 3)
    assert view.by_plugin == {"plug": ["plug__speed"]}
    clash = pytest.raises(RegistrationClash, match="'plug' and plugin 'other'")
    with view.owned_by("other"), clash:
        view.add("plug__speed", "again", 4)
