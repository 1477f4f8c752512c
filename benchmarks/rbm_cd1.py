"""The RBM row of ``run_all.py``: one CD-1 training step of a binary RBM, 784 visible and 500
hidden units, batch 20, float32, written as the Theano deep-learning tutorial writes it (Gibbs
step in ``scan`` with ``n_steps=k``, binomial samples from the library's random streams, the
free-energy cost, ``grad(..., consider_constant=[chain_end])``, plain SGD updates).

Each framework draws its own random numbers, so only the work per step compares, not the values.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

N_VIS, N_HID, BATCH, LR = 784, 500, 20, 0.1


def _data() -> tuple:
    rng = np.random.RandomState(0)
    X = (rng.rand(BATCH, N_VIS) > 0.5).astype(np.float32)
    W = rng.uniform(-0.05, 0.05, (N_VIS, N_HID)).astype(np.float32)
    return X, W


def rbm_numpy() -> Callable[[], Any]:
    """The same step by hand: sample h0, one Gibbs step v1, h1 means, gradient of the
    free-energy difference (the tutorial's cost) and the updates."""
    X, W = _data()
    hb, vb = np.zeros(N_HID, np.float32), np.zeros(N_VIS, np.float32)
    rng = np.random.default_rng(0)
    lr = np.float32(LR)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def step():
        nonlocal W, hb, vb
        h0 = sigmoid(X @ W + hb)
        h0s = (rng.random(h0.shape, dtype=np.float32) < h0).astype(np.float32)
        v1 = sigmoid(h0s @ W.T + vb)
        v1s = (rng.random(v1.shape, dtype=np.float32) < v1).astype(np.float32)
        h1 = sigmoid(v1s @ W + hb)
        W -= lr * (v1s.T @ h1 - X.T @ h0) / BATCH
        hb -= lr * (h1.sum(0) - h0.sum(0)) / BATCH
        vb -= lr * (v1s.sum(0) - X.sum(0)) / BATCH
        return v1
    return step


def rbm_symbolic(lib: Any, T: Any, framework: str, k: int = 1, profile: bool = False) -> tuple:
    """``(function, X)`` for opcore or PyTensor."""
    X, W0 = _data()
    if framework == "opcore":
        from opcore.tensor.shared_randomstreams import RandomStreams

        srng = RandomStreams(1234)
        sigmoid = T.nnet.sigmoid

        def binom(p):
            return srng.binomial(size=p.shape, n=1, p=p, dtype="float32")
    else:
        from pytensor.tensor.random.utils import RandomStream

        srng = RandomStream(1234)
        sigmoid = T.sigmoid

        def binom(p):
            return T.cast(srng.binomial(1, p, size=p.shape), "float32")
    W = lib.shared(W0, name="W")
    hb = lib.shared(np.zeros(N_HID, np.float32), name="hbias")
    vb = lib.shared(np.zeros(N_VIS, np.float32), name="vbias")
    x = T.matrix("x", dtype="float32")

    def free_energy(v):
        wx_b = T.dot(v, W) + hb
        return -T.sum(T.log(1 + T.exp(wx_b)), axis=1) - T.dot(v, vb)

    def h_given_v(v):
        m = sigmoid(T.dot(v, W) + hb)
        return [m, binom(m)]

    def gibbs_hvh(h):
        vm = sigmoid(T.dot(h, W.T) + vb)
        vs = binom(vm)
        return [vm, vs] + h_given_v(vs)

    _, h0 = h_given_v(x)
    (_, v_samples, _, _), updates = lib.scan(gibbs_hvh, outputs_info=[None, None, None, h0],
                                             n_steps=k)
    chain_end = v_samples[-1]
    cost = T.mean(free_energy(x)) - T.mean(free_energy(chain_end))
    params = [W, hb, vb]
    grads = lib.grad(cost, params, consider_constant=[chain_end])
    for p, g in zip(params, grads):
        updates[p] = p - g * T.cast(LR, dtype="float32")
    return lib.function([x], cost, updates=updates, profile=profile), X


def rbm_jax() -> tuple:
    """``(step, state, X)``: the step jitted, the key carried in the state."""
    import jax
    import jax.numpy as jnp

    X, W0 = _data()
    params = (jnp.asarray(W0), jnp.zeros(N_HID, jnp.float32), jnp.zeros(N_VIS, jnp.float32))

    def free_energy(params, v):
        W, hb, vb = params
        return -jnp.sum(jax.nn.softplus(v @ W + hb), axis=1) - v @ vb

    @jax.jit
    def step(params, key, X):
        W, hb, vb = params
        k1, k2, key = jax.random.split(key, 3)
        h0 = jax.nn.sigmoid(X @ W + hb)
        h0s = jax.random.bernoulli(k1, h0).astype(jnp.float32)
        v1 = jax.nn.sigmoid(h0s @ W.T + vb)
        v1s = jax.lax.stop_gradient(jax.random.bernoulli(k2, v1).astype(jnp.float32))

        def cost(p):
            return jnp.mean(free_energy(p, X)) - jnp.mean(free_energy(p, v1s))
        c, g = jax.value_and_grad(cost)(params)
        return c, tuple(p - LR * gp for p, gp in zip(params, g)), key
    return step, (params, jax.random.PRNGKey(0)), jnp.asarray(X)
