import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="session", autouse=True)
def _compiledir(tmp_path_factory):
    """Every test run compiles into its own cache directory."""
    from opcore.config import config
    from opcore.plugins import get_host

    get_host().ensure_loaded()
    d = str(tmp_path_factory.mktemp("compiledir"))
    old = config.compiledir
    config.compiledir = d
    os.environ["OPCORE_FLAGS"] = f"compiledir={d}"
    yield d
    config.compiledir = old


@pytest.fixture(autouse=True)
def _need_compiler():
    from opcore.cbuild import compiler_ok

    ok, why = compiler_ok()
    if not ok:
        pytest.skip(f"no working C compiler: {why}")
