"""The hooks an opcore plugin may implement.  This file is the plugin API: change it with care.

A plugin is a module named by an entry point in the ``opcore`` group::

    [project.entry-points.opcore]
    mything = "opcore_mything.plugin"

and implements some of the functions below, decorated with ``opcore.plugins.hookimpl`` (a
function whose name starts with ``opcore_`` is also taken as a hook implementation, so that a
misspelt name is reported instead of silently ignored).  Every hook receives a *registry* instead
of returning a value: the host knows which plugin is calling, records what it registered and
reports a name registered by two plugins with both plugins named.

The host calls the hooks once per process, lazily (first compile, first use of a plugin namespace
or an ``opcore`` CLI command), in this order: ``opcore_addhooks`` (historic),
``opcore_register_config``, ``opcore_register_ops``, ``opcore_register_rewrites``, ``opcore_register_backends``,
``opcore_register_impls``, ``opcore_register_commands``.  Within a hook, plugins are called in load
order: the built-in ``core`` plugin first, then entry points sorted by name.  No hook's return value
is used.  An exception raised by a hook disables that plugin (its registrations are dropped) and is
reported by ``opcore plugins``; with ``OPCORE_STRICT_PLUGINS=1`` it is raised.

``opcore_doctor_checks`` is not a registration hook: only ``opcore doctor`` calls it, after the
plugins loaded; an exception there becomes a ``problem`` line of that plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from opcore.plugins.registries import (
        BackendRegistry,
        CommandRegistry,
        ConfigView,
        DoctorReport,
        ImplRegistry,
        NamespaceRegistry,
        RewriteRegistry,
    )

PROJECT = "opcore"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(historic=True)
def opcore_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specifications of your own (``pluginmanager.add_hookspecs(module)``).

    Historic: a plugin loaded later is still called with it, so its own hooks can be implemented by
    plugins loaded before or after it.
    """


@hookspec
def opcore_register_config(config: ConfigView) -> None:
    """Declare flags: ``config.add(name, doc, default, convert=, choices=, validate=)``.

    The owner of each flag is set to the calling plugin.  Values set in ``OPCORE_FLAGS`` or
    ``~/.opcorerc`` before the plugin loaded are applied when it declares the flag.  Name flags
    ``<plugin>__<flag>`` (``cpu_c__optimization``) to avoid clashes.
    """


@hookspec
def opcore_register_ops(namespaces: NamespaceRegistry) -> None:
    """Contribute modules to plugin namespaces, lazily.

    ``namespaces.add("opcore.tensor.nnet", "opcore_nnet.api", ops=("Softmax", ...))``: the module
    is imported the first time ``opcore.tensor.nnet`` is used, not now.  ``ops`` (optional) lists
    the op classes the module offers, so ``opcore plugins`` can show them without importing it.
    """


@hookspec
def opcore_register_rewrites(rewrites: RewriteRegistry) -> None:
    """Register graph rewrites.

    ``rewrites.register(name, fn, *tags, phase="canonicalize", after=(), before=())`` where
    ``fn(fgraph, node)`` returns a list of replacement outputs, a dict ``{old: new}``, or
    ``None``/``False`` when it does not apply.  Phases: ``canonicalize``, ``stabilize``,
    ``specialize``, ``fusion``, ``inplace`` and backend phases such as ``gpu_lift``.
    """


@hookspec
def opcore_register_backends(backends: BackendRegistry) -> None:
    """Register backends: ``backends.register(Backend(name, priority, available, linker_factory))``.

    ``FAST_RUN`` uses the healthy backend with the highest ``priority`` (the core's ``py`` has 0).
    ``available()`` must be cheap and must not raise; its reason is shown to users.
    """


@hookspec
def opcore_register_impls(impls: ImplRegistry) -> None:
    """Give a backend an implementation of an op type: ``impls.register("c", Softmax, impl)``.

    Either side may do it: a backend plugin for the core's ops, or an op plugin for a backend.
    The backend name must be registered (``UnknownBackend`` lists the known ones).  A backend
    plugin may also say which method makes an op its own implementation:
    ``impls.register_adapter("c", "c_code", adapt)``.  The precedence rule is
    :class:`~opcore.plugins.registries.ImplRegistry`'s (docs/plugins.md, "Implementations").
    """


@hookspec
def opcore_register_commands(commands: CommandRegistry) -> None:
    """Add ``opcore`` CLI subcommands: ``commands.add(name, help, run, configure=None)``.

    ``configure(parser)`` adds arguments to the subcommand's ``argparse`` parser; ``run(args)``
    does the work and returns the exit status (``None`` means 0).
    """


@hookspec
def opcore_doctor_checks(report: DoctorReport) -> None:
    """Add lines to ``opcore doctor``: ``report.add(topic, status, detail, fix="")``.

    ``status`` is ``"ok"``, ``"note"`` (an optional part is absent: not an error) or ``"problem"``
    (broken; ``opcore doctor`` exits 1); ``fix`` says what to do.  Called only by ``opcore
    doctor`` (never at load or compile time), so it may be slow-ish (probe drivers, devices).
    """
