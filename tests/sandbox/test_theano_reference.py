"""The same calls as Theano 1.0.5 (C mode) give Theano's draws.

``data/theano_1_0_5_draws.json`` was produced by Theano 1.0.5 itself running
``data/gen_theano_draws.py`` (floatX float64 and float32); this test makes the same calls in the
same order on opcore.  MRG uniform/binomial/multinomial/choice and every ``RandomStreams`` draw
must be bit-identical; MRG normal draws (Box-Muller through ``log``/``sqrt``/``cos``/``sin``)
may differ by an ulp of float32 where libm and NumPy round differently.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.sandbox.rng_mrg import MRG_RandomStreams
from opcore.tensor.shared_randomstreams import RandomStreams

REF = json.loads((Path(__file__).parent / "data" / "theano_1_0_5_draws.json").read_text())


def _replay(fx, mode):
    out = {}
    function = functools.partial(opcore.function, mode=mode)

    def run(f, n=2):
        return [np.asarray(f()) for _ in range(n)]

    R = MRG_RandomStreams(234)
    out["mrg_uniform_3x4"] = run(function([], R.uniform(size=(3, 4))))
    out["mrg_uniform_f32_7x9"] = run(function([], R.uniform(size=(7, 9), dtype="float32")))
    x = T.matrix("x")
    f = function([x], R.uniform(size=x.shape))
    xv = np.zeros((2, 3), dtype=fx)
    out["mrg_uniform_symbolic_2x3"] = [f(xv), f(xv)]
    R2 = MRG_RandomStreams(123)
    out["mrg_normal_5"] = run(function([], R2.normal(size=(5,))))
    out["mrg_normal_2x3_avg_std"] = run(function([], R2.normal(size=(2, 3), avg=1.0,
                                                                       std=2.0)))
    out["mrg_normal_trunc_7"] = run(function([], R2.normal(size=(7,), truncate=True)))
    out["mrg_truncated_normal_6"] = run(function([], R2.truncated_normal(size=(6,))))
    R3 = MRG_RandomStreams(99)
    out["mrg_binomial_4x5"] = run(function([], R3.binomial(size=(4, 5), p=0.3)))
    pv = np.array([[.2, .3, .5], [.5, .4, .1]], dtype=fx)
    out["mrg_multinomial_n2"] = run(function([], R3.multinomial(pvals=pv, n=2)))
    p4 = np.array([[.1, .2, .3, .4], [.4, .3, .2, .1], [.25, .25, .25, .25]], dtype=fx)
    out["mrg_choice_2"] = run(function([], R3.choice(size=2, p=p4, replace=False)))
    R3.seed(77)
    out["mrg_after_seed77_binomial"] = run(
        function([], R3.state_updates[0][1].owner.outputs[1]), 1)
    S = RandomStreams(234)
    out["rs_uniform"] = run(function([], S.uniform((2, 2))))
    out["rs_normal"] = run(function([], S.normal((3,), avg=1.0, std=2.0)))
    out["rs_binomial"] = run(function([], S.binomial((4,), n=5, p=0.4)))
    out["rs_random_integers"] = run(function([], S.random_integers((5,), low=-2, high=3)))
    out["rs_choice"] = run(function([], S.choice((3,), a=6, replace=False)))
    out["rs_permutation"] = run(function([], S.permutation((2,), n=4)))
    out["rs_multinomial"] = run(function([], S.multinomial((2,), n=5, pvals=[.3, .7])))
    out["rs_poisson"] = run(function([], S.poisson((4,), lam=3.0)))
    return out


@pytest.mark.parametrize("backend", ["py", "c"])
@pytest.mark.parametrize("fx", ["float64", "float32"])
def test_same_draws_as_theano(fx, backend):
    if backend == "c":
        pytest.importorskip("opcore_cpu_c", reason="the C backend is the opcore-cpu-c plugin")
    ref = REF[fx]
    with opcore.config.change_flags(floatX=fx):
        got = _replay(fx, Mode(backend=backend))
    assert set(got) == set(ref) - {"floatX", "cxx"}
    for key, values in got.items():
        want = np.array(ref[key], dtype="float64")
        have = np.array([np.asarray(v, dtype="float64") for v in values])
        if "normal" in key and fx == "float32":
            np.testing.assert_allclose(have, want, rtol=0, atol=4e-7, err_msg=key)
        else:
            np.testing.assert_array_equal(have, want, err_msg=key)
