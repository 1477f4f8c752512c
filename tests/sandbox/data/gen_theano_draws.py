"""Regenerate theano_1_0_5_draws.json with Theano 1.0.5 itself (not run by the tests).

In a separate virtualenv: ``pip install theano==1.0.5 "numpy<1.24" "scipy<1.11"``, then for
floatX in float64 and float32 (C mode: a C++ compiler on PATH):
``THEANO_FLAGS=blas.ldflags=,floatX=<fx> python gen_theano_draws.py theano_<fx>.json`` and
merge the two files as ``{"float64": ..., "float32": ...}``.
test_theano_reference.py replays the same calls on opcore.
"""
import json, sys
import numpy as np
import theano
import theano.tensor as T
from theano.sandbox.rng_mrg import MRG_RandomStreams
from theano.tensor.shared_randomstreams import RandomStreams

out = {"floatX": theano.config.floatX, "cxx": bool(theano.config.cxx)}
fx = theano.config.floatX
def run(f, n=2):
    return [np.asarray(f()).tolist() for _ in range(n)]
R = MRG_RandomStreams(234)
out["mrg_uniform_3x4"] = run(theano.function([], R.uniform(size=(3, 4))))
out["mrg_uniform_f32_7x9"] = run(theano.function([], R.uniform(size=(7, 9), dtype="float32")))
x = T.matrix("x")
f = theano.function([x], R.uniform(size=x.shape))
xv = np.zeros((2, 3), dtype=fx)
out["mrg_uniform_symbolic_2x3"] = [f(xv).tolist(), f(xv).tolist()]
R2 = MRG_RandomStreams(123)
out["mrg_normal_5"] = run(theano.function([], R2.normal(size=(5,))))
out["mrg_normal_2x3_avg_std"] = run(theano.function([], R2.normal(size=(2, 3), avg=1.0, std=2.0)))
out["mrg_normal_trunc_7"] = run(theano.function([], R2.normal(size=(7,), truncate=True)))
out["mrg_truncated_normal_6"] = run(theano.function([], R2.truncated_normal(size=(6,))))
R3 = MRG_RandomStreams(99)
out["mrg_binomial_4x5"] = run(theano.function([], R3.binomial(size=(4, 5), p=0.3)))
pv = np.array([[.2, .3, .5], [.5, .4, .1]], dtype=fx)
out["mrg_multinomial_n2"] = run(theano.function([], R3.multinomial(pvals=pv, n=2)))
p4 = np.array([[.1, .2, .3, .4], [.4, .3, .2, .1], [.25, .25, .25, .25]], dtype=fx)
out["mrg_choice_2"] = run(theano.function([], R3.choice(size=2, p=p4, replace=False)))
R3.seed(77)
out["mrg_after_seed77_binomial"] = run(theano.function([], R3.state_updates[0][1].owner.outputs[1]), 1)
S = RandomStreams(234)
out["rs_uniform"] = run(theano.function([], S.uniform((2, 2))))
out["rs_normal"] = run(theano.function([], S.normal((3,), avg=1.0, std=2.0)))
out["rs_binomial"] = run(theano.function([], S.binomial((4,), n=5, p=0.4)))
out["rs_random_integers"] = run(theano.function([], S.random_integers((5,), low=-2, high=3)))
out["rs_choice"] = run(theano.function([], S.choice((3,), a=6, replace=False)))
out["rs_permutation"] = run(theano.function([], S.permutation((2,), n=4)))
out["rs_multinomial"] = run(theano.function([], S.multinomial((2,), n=5, pvals=[.3, .7])))
out["rs_poisson"] = run(theano.function([], S.poisson((4,), lam=3.0)))
json.dump(out, open(sys.argv[1], "w"))
print("ok", fx)
