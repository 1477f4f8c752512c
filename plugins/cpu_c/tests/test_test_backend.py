"""``OPCORE_TEST_BACKEND=c``: the pytest plugin runs marked tests on the C backend; an op without
C xfails with the backend's reason, an op with C passes (and a wrong C result would fail)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_marked_tests_run_on_c_and_ops_without_c_xfail(tmp_path):
    (tmp_path / "test_family.py").write_text(textwrap.dedent('''
        import numpy as np
        import pytest
        import opcore.tensor as T
        from opcore.testing import compare_backends

        pytestmark = pytest.mark.opcore_backend

        def test_with_c():
            x = T.dmatrix("x")
            res = compare_backends([x], [T.exp(x).sum(axis=0)], [np.ones((2, 3))])
            assert "c" in res and not res.skipped
            np.testing.assert_allclose(res["c"][0], np.full(3, 2 * np.e))

        def test_without_c():
            from opcore.tensor.nlinalg import det

            x = T.dmatrix("x")
            compare_backends([x], [det(x)], [np.eye(2)])
    '''))
    env = dict(os.environ, OPCORE_TEST_BACKEND="c")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rx", "-p", "no:cacheprovider",
                           str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "1 passed, 1 xfailed" in out, out
    assert "backend 'c' does not support Det: no C implementation of Det" in out, out
