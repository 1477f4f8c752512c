"""The training demo (examples/nnet_demo.py) really learns: the MLP reaches >= 95% on digits."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_demo_mlp_reaches_95_percent():
    pytest.importorskip("sklearn", reason="the demo's data set comes from scikit-learn")
    demo = _load("nnet_demo")
    lines: list[str] = []
    acc = demo.train("mlp", demo.load_digits_split(), epochs=20, lr=0.2, log=lines.append)
    assert len(lines) == 20 and "test accuracy" in lines[-1]
    assert acc >= 0.95, lines[-3:]


def test_tutorial_softmax_regression_learns():
    pytest.importorskip("sklearn", reason="the example's data set comes from scikit-learn")
    tut = _load("mnist_softmax")
    best_valid, test_err = tut.sgd_optimization(n_epochs=15)
    assert best_valid < 0.08 and test_err < 0.08


def test_demo_saves_training_curves_png(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot is drawn with matplotlib")
    demo = _load("nnet_demo")
    hist = {"softmax": [(1, 1.2, 0.8), (2, 0.6, 0.9)], "mlp": [(1, 2.0, 0.5), (2, 0.9, 0.85)]}
    path = demo.save_plot(hist, str(tmp_path / "curves.png"))
    data = (tmp_path / "curves.png").read_bytes()
    assert path and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
