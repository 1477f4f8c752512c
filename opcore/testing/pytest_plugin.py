"""pytest plugin: run opcore's op tests against any backend (NetworkX's backend-testing idea).

Installed as the ``pytest11`` entry point ``opcore``.  With ``OPCORE_TEST_BACKEND=<name>`` (or
``--opcore-backend=<name>``), tests marked ``@pytest.mark.opcore_backend`` or using the
``opcore_mode``/``opcore_backend`` fixtures compile with that backend; an op the backend does not
implement (its ``Backend.implements`` callback, else ``supports``) makes the test xfail with the
backend's own reason.  From a checkout, the core's op-family tests on the C backend::

    OPCORE_TEST_BACKEND=c pytest tests/tensor -m opcore_backend -rx

Without the variable, the same tests run on the default backend.  This module imports nothing
from opcore until a test needs it, so installing opcore does not slow other projects' pytest.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Iterator

import pytest

MARKER = "opcore_backend"
ENV = "OPCORE_TEST_BACKEND"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opcore")
    group.addoption("--opcore-backend", default=None, metavar="NAME",
                    help=f"run opcore backend tests on backend NAME (default: ${ENV})")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: run the test with the backend named by {ENV} / --opcore-backend; "
                   "ops the backend does not support xfail with its reason")
    name = requested_backend(config)
    if name is not None:
        # A requested backend that is unknown or unhealthy is a usage error, not a fallback.
        from opcore.plugins import BackendError, get_host

        try:
            get_host().ensure_loaded().select_backend(name)
        except BackendError as exc:
            raise pytest.UsageError(f"{ENV}={name}: {exc}") from None


def requested_backend(config: pytest.Config) -> str | None:
    """The backend asked for on the command line or in the environment, if any."""
    return config.getoption("--opcore-backend") or os.environ.get(ENV) or None


def pytest_report_header(config: pytest.Config) -> str | None:
    name = requested_backend(config)
    return f"opcore test backend: {name}" if name else None


@pytest.fixture(scope="session")
def opcore_backend(request: pytest.FixtureRequest) -> str:
    """Name of the backend the backend tests run on (``py`` unless one is requested)."""
    return requested_backend(request.config) or "py"


@pytest.fixture
def opcore_mode(opcore_backend: str, _opcore_backend_active: None) -> Any:
    """A ``Mode`` compiling with the backend under test."""
    from opcore.compile import Mode

    return Mode(backend=opcore_backend)


@pytest.fixture
def _opcore_backend_active(request: pytest.FixtureRequest, opcore_backend: str) -> Iterator[None]:
    """Route default-mode compiles to the backend under test, strictly (unsupported -> raise)."""
    if requested_backend(request.config) is None:
        yield
        return
    from opcore.config import config
    from opcore.testing.backends import strict_backend

    undo = strict_backend(opcore_backend)
    try:
        with config.change_flags(backend=opcore_backend):
            yield
    finally:
        undo()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker(MARKER) is not None and hasattr(item, "fixturenames"):
            if "_opcore_backend_active" not in item.fixturenames:
                item.fixturenames.append("_opcore_backend_active")


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Iterator[Any]:
    try:
        return (yield)
    except NotImplementedError as exc:
        # look the class up without importing opcore into projects that never use it
        registries = sys.modules.get("opcore.plugins.registries")
        if registries is not None and isinstance(exc, registries.UnsupportedOp):
            pytest.xfail(str(exc))
        raise
