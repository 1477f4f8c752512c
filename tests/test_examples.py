"""Every script in examples/ runs and prints what the tutorial says it should."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("name,argv,expect", [
    ("scalar_add.py", [], "f(2, 3) = 5.0"),
    ("logistic_function.py", [], "logistic"),
    ("shared_accumulator.py", [], "accumulator(300) returned 1 -> state 301"),
    ("givens.py", [], "skip_shared(1, 3) = 7"),
    ("logistic_regression.py", ["--steps", "60"], "training accuracy: 1.000"),
])
def test_tutorial_example(name, argv, expect, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [name] + argv)
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert expect in capsys.readouterr().out


def test_demo_trains_digits_above_90_percent(monkeypatch, capsys):
    pytest.importorskip("sklearn", reason="the demo's data set ships with scikit-learn")
    monkeypatch.setattr(sys, "argv", ["demo.py", "--epochs", "8"])
    runpy.run_path(str(EXAMPLES / "demo.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "epoch   1  loss" in out and "epoch   8  loss" in out
    acc = float(out.split("test accuracy: ")[1].split()[0])
    assert acc > 0.9


@pytest.mark.parametrize("name,argv,pattern", [
    ("denoising_autoencoder.py", ["--epochs", "3"], "Training epoch {}, cost "),
    ("rbm.py", ["--epochs", "3", "--k", "3", "--n-train", "200"], "Training epoch {}, cost is "),
])
def test_random_stream_examples_print_a_falling_cost(name, argv, pattern, monkeypatch, capsys):
    pytest.importorskip("sklearn", reason="the examples' data set ships with scikit-learn")
    monkeypatch.setattr(sys, "argv", [name] + argv)
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    out = capsys.readouterr().out
    costs = [float(out.split(pattern.format(e))[1].split()[0]) for e in range(3)]
    assert all(np.isfinite(costs))
    if name == "rbm.py":  # pseudo-likelihood: a log-probability, rises as the model learns
        assert costs[2] > costs[0]
    else:  # reconstruction cross-entropy falls
        assert costs[2] < costs[0]
