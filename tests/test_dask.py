"""opcore.dask: compiled functions travel to Dask workers, batched inference, data-parallel SGD.

One ``LocalCluster(processes=True, n_workers=2, threads_per_worker=1)`` serves the whole module
(starting worker processes is the slow part).  The workers use the driver's compile cache.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("distributed", reason="opcore.dask needs dask[distributed] (pip install "
                    "opcore[dask])")
cloudpickle = pytest.importorskip("cloudpickle", reason="installed with dask")

import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import opcore  # noqa: E402
import opcore.tensor as T  # noqa: E402
from opcore.compile.io import In  # noqa: E402
from opcore.compile.mode import Mode  # noqa: E402
from opcore.dask import DataParallel, NotRowWiseError, map_blocks, sgd  # noqa: E402


@pytest.fixture(scope="module")
def client():
    env = {"OPCORE_FLAGS": f"compiledir={opcore.config.compiledir}"}
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None,
                      env=env) as cluster, Client(cluster) as c:
        yield c


def _backends():
    out = [pytest.param("py", id="py")]
    try:
        Mode(linker="c")
        out.append(pytest.param("c", id="c"))
    except Exception as exc:  # no C backend installed: say so instead of passing
        out.append(pytest.param("c", id="c", marks=pytest.mark.skip(reason=f"no C backend: {exc}")))
    return out


def _call(f, *args):
    """On a worker: call ``f`` and say which backend ran it."""
    return f(*args), f.linker.backend_name


def _stateful(backend):
    x = T.dmatrix("x")
    w = opcore.shared(np.arange(6.0).reshape(3, 2) / 7, name="w")
    acc = T.dscalar("acc")
    f = opcore.function([x, In(acc, value=1.5, update=acc + 1)], [T.tanh(T.dot(x, w)) * acc],
                        updates=[(w, w * 2)], mode=Mode(linker=backend))
    return f, w


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("dumps,loads", [(pickle.dumps, pickle.loads),
                                         (cloudpickle.dumps, cloudpickle.loads)],
                         ids=["pickle", "cloudpickle"])
def test_pickled_function_keeps_shared_and_stored_values(backend, dumps, loads):
    f, w = _stateful(backend)
    a = np.random.default_rng(0).uniform(size=(4, 3))
    f(a)  # w doubles, the stored acc becomes 2.5, then 3.5 below
    g = loads(dumps(f))
    assert g.linker.backend_name == backend
    w2 = g.maker.shared_vars[0]
    assert w2 is not w  # a copy travels, not a reference
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    np.testing.assert_allclose(g(a)[0], f(a)[0], rtol=1e-12)
    np.testing.assert_array_equal(w2.get_value(), w.get_value())  # both updated alike
    assert g.value[g.maker.inputs[1].variable] == f.value[f.maker.inputs[1].variable] == 3.5


@pytest.mark.parametrize("backend", _backends())
def test_function_gives_the_same_values_on_a_worker(client, backend):
    x = T.dmatrix("x")
    w = opcore.shared(np.random.default_rng(1).normal(size=(3, 4)), name="w")
    f = opcore.function([x], T.nnet.sigmoid(T.dot(x, w)).sum(axis=1), mode=Mode(linker=backend))
    a = np.random.default_rng(2).normal(size=(5, 3))
    expect = (1 / (1 + np.exp(-(a @ w.get_value())))).sum(axis=1)
    out, ran = client.submit(_call, f, a, pure=False).result()
    assert ran == backend
    np.testing.assert_allclose(out, f(a), rtol=1e-12)
    np.testing.assert_allclose(out, expect, rtol=1e-10)


def test_map_blocks_equals_the_local_call(client):
    x, m = T.dmatrix("x"), T.dvector("m")
    w = opcore.shared(np.random.default_rng(3).normal(size=(6, 4)), name="w")
    h = T.tanh(T.dot(x, w)) * m.dimshuffle(0, "x")
    f = opcore.function([x, m], [h, T.argmax(h, axis=1)], name="predict")
    rng = np.random.default_rng(4)
    X, M = rng.normal(size=(23, 6)), rng.uniform(size=23)
    dX = da.from_array(X, chunks=(5, 3))  # also chunked along axis 1: rechunked to whole rows
    dM = da.from_array(M, chunks=7)
    h_d, i_d = map_blocks(f, dX, dM)
    # planned without running f on the data: chunks and dtype from the types and infer_shape
    assert h_d.chunks == ((5, 5, 5, 5, 3), (4,)) and h_d.dtype == np.float64
    assert i_d.chunks == ((5, 5, 5, 5, 3),) and i_d.dtype == np.int64
    h_ref, i_ref = f(X, M)
    np.testing.assert_allclose(h_d.compute(), h_ref, rtol=1e-12)
    np.testing.assert_array_equal(i_d.compute(), i_ref)
    np.testing.assert_allclose(h_ref, np.tanh(X @ w.get_value()) * M[:, None], rtol=1e-12)


@pytest.mark.parametrize("make,why", [
    (lambda x: x.sum(axis=0), "has shape"),
    (lambda x: x - x.mean(axis=0), "differs when computed alone"),
    (lambda x: T.dot(x.T, x)[:, 0], "has shape"),
    (lambda x: T.cumsum(x, axis=0), "differs when computed alone"),
])
def test_map_blocks_refuses_a_function_that_mixes_rows(make, why):
    x = T.dmatrix("x")
    f = opcore.function([x], make(x), name="mixer")
    with pytest.raises(NotRowWiseError, match=f"'mixer' is not row-wise.*{why}"):
        map_blocks(f, da.ones((12, 3), chunks=(4, 3)))


def test_map_blocks_refuses_a_function_with_updates():
    x = T.dmatrix("x")
    c = opcore.shared(0.0, name="calls")
    f = opcore.function([x], x * 2, updates=[(c, c + 1)])
    with pytest.raises(NotRowWiseError, match="updates shared variables.*must be pure"):
        map_blocks(f, da.ones((4, 3), chunks=(2, 3)))


def _model(seed=5):
    rng = np.random.default_rng(seed)
    x, y = T.dmatrix("x"), T.ivector("y")
    W = opcore.shared(rng.normal(scale=0.1, size=(8, 3)), name="W")
    b = opcore.shared(np.zeros(3), name="b")
    p = T.nnet.softmax(T.dot(x, W) + b)
    loss = -T.mean(T.log(p[T.arange(y.shape[0]), y])) + 1e-3 * (W ** 2).sum()
    return x, y, W, b, loss


def _batches(n_steps, seed=6):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(30, 8)), rng.integers(0, 3, size=30).astype("int32"))
            for _ in range(n_steps)]


def _reference(batches, lr):
    x, y, W, b, loss = _model()
    gW, gb = opcore.grad(loss, [W, b])
    train = opcore.function([x, y], loss, updates=[(W, W - lr * gW), (b, b - lr * gb)])
    losses = [float(train(*bt)) for bt in batches]
    return losses, W.get_value(), b.get_value()


def test_data_parallel_sgd_equals_single_process_sgd(client):
    batches = _batches(20)
    ref_losses, ref_W, ref_b = _reference(batches, 0.5)
    x, y, W, b, loss = _model()
    dp = DataParallel(loss, [W, b], [x, y], client, update_rule=sgd(0.5))
    losses = [dp.step(*bt) for bt in batches]
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
    np.testing.assert_allclose(W.get_value(), ref_W, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b.get_value(), ref_b, rtol=1e-10, atol=1e-13)
    assert ref_losses[-1] < ref_losses[0]


def test_a_worker_lost_during_training_leaves_parameters_consistent(client):
    batches = _batches(40, seed=7)
    ref_losses, ref_W, ref_b = _reference(batches, 0.5)
    x, y, W, b, loss = _model()
    dp = DataParallel(loss, [W, b], [x, y], client, lr=0.5, timeout=20)
    todo = iter(batches)
    losses = [dp.step(*next(todo)) for _ in range(2)]
    # one worker process is killed (SIGKILL, as the OS would) while steps run; its nanny starts
    # a new one and Dask reruns the lost tasks on the workers it has
    pids = client.run(os.getpid)
    fired = threading.Event()

    def kill():
        os.kill(pids[sorted(pids)[0]], signal.SIGKILL)
        fired.set()

    killer = threading.Timer(0.1, kill)
    killer.start()
    while not fired.is_set():
        losses.append(dp.step(*next(todo)))  # StopIteration here: the steps never overlapped it
    losses += [dp.step(*next(todo)) for _ in range(2)]
    killer.join()
    # every worker restarts (scattered data is lost): the next step sends the function again
    client.restart(timeout=60)
    losses += [dp.step(*bt) for bt in todo]
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
    np.testing.assert_allclose(W.get_value(), ref_W, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b.get_value(), ref_b, rtol=1e-10, atol=1e-13)


def test_map_blocks_says_which_array_does_not_fit():
    x, m = T.dmatrix("x"), T.dvector("m")
    f = opcore.function([x, m], x * m.dimshuffle(0, "x"))
    with pytest.raises(TypeError, match="array 1 has 2 dimension"):
        map_blocks(f, da.ones((4, 3), chunks=2), da.ones((4, 3), chunks=2))
    with pytest.raises(ValueError, match="array 1 has 5 rows, array 0 has 4"):
        map_blocks(f, da.ones((4, 3), chunks=2), da.ones(5, chunks=2))
    with pytest.raises(TypeError, match=r"takes 2 input\(s\)"):
        map_blocks(f, da.ones((4, 3), chunks=2))


def test_import_opcore_does_not_import_dask():
    code = "import sys, opcore, opcore.tensor; print('dask' in sys.modules, 'distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_data_parallel_with_a_summed_loss_equals_single_process_sgd(client):
    batches = _batches(5, seed=8)
    x, y, W, b, _ = _model()
    p = T.nnet.softmax(T.dot(x, W) + b)
    loss = -T.sum(T.log(p[T.arange(y.shape[0]), y]))
    gW, gb = opcore.grad(loss, [W, b])
    W0, b0 = W.get_value(), b.get_value()
    train = opcore.function([x, y], loss, updates=[(W, W - 0.01 * gW), (b, b - 0.01 * gb)])
    ref = [float(train(*bt)) for bt in batches]
    ref_W = W.get_value()
    W.set_value(W0)
    b.set_value(b0)
    dp = DataParallel(loss, [W, b], [x, y], client, lr=0.01, reduction="sum")
    np.testing.assert_allclose([dp.step(*bt) for bt in batches], ref, rtol=1e-10)
    np.testing.assert_allclose(W.get_value(), ref_W, rtol=1e-10, atol=1e-13)
