"""Oclgrind (an OpenCL device simulator) re-runs the kernels to catch out-of-bounds accesses and
data races.  Skipped when ``oclgrind`` is not installed (scripts/install_system_deps.sh adds it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

OCLGRIND = shutil.which("oclgrind")
pytestmark = pytest.mark.skipif(OCLGRIND is None, reason="oclgrind not installed")
HERE = os.path.dirname(__file__)


def _run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([OCLGRIND, "--data-races", sys.executable, script],
                          capture_output=True, text=True, timeout=300)


def test_kernels_clean_under_oclgrind():
    proc = _run(os.path.join(HERE, "_oclgrind_workload.py"))
    assert "WORKLOAD OK" in proc.stdout, proc.stdout + proc.stderr
    bad = [line for line in proc.stderr.splitlines()
           if line.startswith(("Invalid", "Read-write data race", "Write-write data race",
                               "Uninitialized", "Work-group divergence"))]
    assert not bad, proc.stderr


def test_oclgrind_catches_out_of_bounds(tmp_path):
    script = tmp_path / "oob.py"
    script.write_text(
        "import numpy as np\n"
        "from opcore_gpu_cuda import array as A, kernels as K\n"
        "from opcore_gpu_cuda.drivers import open_context\n"
        "ctx = open_context('opencl0:0')\n"
        "g = A.asarray(np.zeros(8, 'float32'), ctx)\n"
        "k = K.Kernel('KERNEL void oob(GLOBAL_MEM ga_float *x) { x[LID_0 + 4] = 1; }', 'oob',"
        " [A.GpuArray])\n"
        "k.call(ctx, 1, [1], [8], 0, g)\n"
        "ctx.sync()\n")
    proc = _run(str(script))
    assert "Invalid write of size 4" in proc.stderr and "Kernel: oob" in proc.stderr
