"""The registry objects, in-process (no discovery involved)."""

from __future__ import annotations

import pytest

import opcore.tensor as T
from opcore.graph.fg import FunctionGraph
from opcore.graph.rewriting import rewrite_graph
from opcore.plugins import Backend, PluginWarning, RegistrationClash
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


class OwnCode(Base):
    """Defines the adapter's method itself."""

    def c_code(self):
        return "own"


class InheritsOwnCode(OwnCode):
    pass


def _c_registry():
    backends = BackendRegistry()
    backends.register(Backend("c", priority=1))
    impls = ImplRegistry(backends)
    impls.backends_final = True
    impls.register_adapter("c", "c_code", lambda op: ("adapted", type(op).__name__))
    return impls


def test_one_precedence_rule_own_method_and_table_along_the_mro():
    impls = _c_registry()
    impls.register("c", Base, "base-impl")
    # the op's own c_code beats an implementation registered for a base class
    assert impls.lookup("c", OwnCode()) == ("adapted", "OwnCode")
    assert impls.lookup("c", InheritsOwnCode()) == ("adapted", "InheritsOwnCode")
    # an implementation registered for a subclass beats the c_code it inherits
    impls.register("c", InheritsOwnCode, "sub-impl")
    assert impls.lookup("c", InheritsOwnCode()) == "sub-impl"
    assert impls.lookup("c", OwnCode()) == ("adapted", "OwnCode")
    assert impls.lookup("c", GrandChild()) == "base-impl"
    # a class (not an op) has no adapted implementation: the adapter needs the instance
    assert impls.lookup("c", OwnCode) is None


def test_register_rejects_an_unknown_backend_listing_the_known_ones():
    from opcore.plugins import UnknownBackend

    impls = _c_registry()
    with pytest.raises(UnknownBackend, match=r"unknown backend 'cpu_c'; known backends: c"):
        impls.register("cpu_c", Base, "typo")
    with pytest.raises(UnknownBackend, match=r"known backends: c"):
        impls.register_adapter("gpu", "gpu_kernels", lambda op: op)
    assert impls.lookup("cpu_c", Base()) is None


def test_registrations_before_the_backends_are_known_are_checked_when_loading_ends():
    backends = BackendRegistry()
    impls = ImplRegistry(backends)  # backends_final is False: plugins are still loading
    with impls.owned_by("early"):
        impls.register("c", Base, "fine")
        impls.register("cpu_c", Child, "typo")
    backends.register(Backend("c"))
    problems = impls.check_backends()
    assert problems == [("early", "implementation of Child registered for unknown backend "
                                  "'cpu_c'; known backends: c")]
    assert impls.lookup("c", Child()) == "fine"
    assert "cpu_c" not in impls.by_backend()


class _Var:
    def __init__(self, t):
        self.type = t


class _Node:
    def __init__(self, op, types):
        self.op = op
        self.inputs = [_Var(t) for t in types]
        self.outputs = []


class DeviceType:
    pass


def test_lookup_of_a_node_looks_at_its_types():
    backends = BackendRegistry()
    backends.register(Backend("c", priority=1))
    backends.register(Backend("dev", priority=2, owns_type=lambda t: isinstance(t, DeviceType)))
    impls = ImplRegistry(backends)
    impls.register("c", Base, "c-impl")
    impls.register("dev", Base, "dev-impl")
    host_node = _Node(Base(), [object()])
    device_node = _Node(Base(), [object(), DeviceType()])
    assert impls.owner(host_node) is None
    assert impls.lookup("c", host_node) == "c-impl"
    assert impls.owner(device_node) == "dev"
    assert impls.lookup("c", device_node) is None  # runs on the backend owning its types
    assert impls.lookup("dev", device_node) == "dev-impl"


def test_by_backend_lists_each_backends_implementations_by_op_type():
    impls = _c_registry()
    with impls.owned_by("plug"):
        impls.register("c", Child, "x")
    table = impls.by_backend()["c"]
    assert table["ops"] == [f"{__name__}.Child"]
    assert table["plugins"] == {f"{__name__}.Child": "plug"}
    assert table["adapter"] == "c_code"


def test_a_plugin_declares_where_its_rewrite_phase_runs():
    seen: list[str] = []

    def note(name):
        def fn(fgraph, node):
            seen.append(name)
        return fn

    rewrites = RewriteRegistry()
    rewrites.declare_phase("my_lift", after="fusion")
    rewrites.declare_phase("my_lift", after="fusion")  # same slot again: fine
    with pytest.raises(ValueError, match="already declared to run after 'fusion'"):
        rewrites.declare_phase("my_lift", after="canonicalize")
    rewrites.register("lift", note("lift"), "t", phase="my_lift")
    rewrites.register("fuse", note("fuse"), "t", phase="fusion")
    x = T.dvector("x")
    rewrite_graph(FunctionGraph([x], [T.exp(x)]), include=("t",), entries=rewrites.entries,
                  phase_slots=rewrites.phase_slots)
    assert seen == ["fuse", "lift"]


def test_deferred_impls_register_at_the_first_lookup_of_their_backend():
    impls = ImplRegistry()
    calls = []

    def register(registry):
        calls.append(registry)
        registry.register("x", Child, "child-impl")

    with impls.owned_by("later"):
        impls.defer("x", register)
    impls.register("y", Base, "y-impl")
    assert impls.lookup("y", GrandChild()) == "y-impl"
    assert calls == []  # another backend's lookup leaves it deferred
    assert impls.lookup("x", GrandChild()) == "child-impl"
    assert calls == [impls]
    assert impls.by_plugin["later"] == ["x:Child"]  # attributed to the deferring plugin
    assert impls.lookup("x", Child()) == "child-impl"
    assert len(calls) == 1  # once


def test_listings_include_deferred_impls_and_forget_drops_them():
    impls = ImplRegistry()
    with impls.owned_by("p"):
        impls.defer("x", lambda r: r.register("x", Child, "c"))
    assert impls.by_backend()["x"]["ops"] == [f"{Child.__module__}.Child"]
    other = ImplRegistry()
    with other.owned_by("p"):
        other.defer("x", lambda r: r.register("x", Child, "c"))
    other.forget("p")
    assert other.lookup("x", Child()) is None


def test_a_failing_deferred_registration_warns_naming_the_plugin():
    impls = ImplRegistry()

    def broken(registry):
        raise RuntimeError("kernels missing")

    with impls.owned_by("gpuish"):
        impls.defer("x", broken)
    with pytest.warns(PluginWarning, match="gpuish.*kernels missing"):
        assert impls.lookup("x", Child()) is None
    assert impls.lookup("x", Child()) is None  # reported once
