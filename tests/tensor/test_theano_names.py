"""Theano names Theano programs reach for exist on opcore.tensor (shared case side_02)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import opcore.tensor as T

SIDE_02 = ("repeat", "tile", "sort", "argsort", "cumsum", "cumprod", "logsumexp", "diff",
           "bincount", "unique", "roll", "triu", "tril", "eye", "identity_like")

MORE = ("topk", "argtopk", "topk_and_argtopk", "tri", "diag", "diagonal", "extract_diag",
        "alloc_diag", "stacklists", "mgrid", "ogrid", "patternbroadcast", "addbroadcast",
        "unbroadcast", "specify_shape", "horizontal_stack", "vertical_stack", "choose", "chi2sf",
        "xlogx", "xlogy0", "abs_", "Rop", "Lop", "squeeze", "fill_diagonal",
        "fill_diagonal_offset", "bartlett", "unravel_index", "ravel_multi_index", "to_one_hot",
        "consider_constant", "extra_ops", "nlinalg", "slinalg", "fft", "jacobian", "hessian",
        "verify_grad", "numeric_grad")


@pytest.mark.parametrize("name", SIDE_02 + MORE)
def test_name_exists(name):
    assert hasattr(T, name), f"opcore.tensor has no {name}"


@pytest.mark.parametrize("module", ["opcore.tensor.extra_ops", "opcore.tensor.nlinalg",
                                    "opcore.tensor.slinalg", "opcore.tensor.fft",
                                    "opcore.tensor.xlogx", "opcore.tensor.sort"])
def test_theano_module_paths_import(module):
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


def test_shared_case_side_02(tmp_path):
    case = Path("/work/shared/cases/side_02.py")
    if not case.exists():
        pytest.skip("the shared case file is not on this machine")
    res = subprocess.run([sys.executable, str(case)], cwd=tmp_path, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout + res.stderr
