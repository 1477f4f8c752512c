"""Large elementwise loops run on opcore's thread pool (``opcore_cpu_c.threads``): the values are
the serial loop's and NumPy's bit for bit, errors raised in a worker's chunk reach the caller, a
forked child runs threaded loops without hanging, concurrent Python threads get their own
answers, and the thread count follows ``config.cpu_c__threads`` / ``OMP_NUM_THREADS``.

``openmp_elemwise_minsize`` is lowered so that small arrays (a few chunks of
``ufuncloops.CHUNK`` elements) take the threaded path and the tests stay fast."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.cbuild import CompileError
from opcore.compile import Mode
from opcore.config import change_flags, config

from opcore_cpu_c import threads, ufuncloops

C = Mode(backend="c")
CH = ufuncloops.CHUNK
SIZES = (1, CH - 1, CH, CH + 1, 3 * CH + 5)


def transc(xp, x):
    return xp.exp(-x) * xp.sin(x) + x ** 2 / (1 + abs(x))


def compiled(inputs, outputs, nthreads, minsize=1):
    with change_flags(cpu_c__threads=nthreads, openmp_elemwise_minsize=minsize):
        return opcore.function(inputs, outputs, mode=C)


def data(n, dtype="float64", seed=0):
    r = np.random.default_rng(seed).normal(size=n) * 3
    r[:4] = [np.nan, np.inf, -np.inf, -0.0][: min(4, n)]
    return r.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_threaded_loops_give_the_serial_and_numpy_values_bit_for_bit(dtype):
    x = T.vector("x", dtype=dtype)
    outs = [transc(T, x),            # NumPy-loop kernel (exp, sin), contiguous chunks
            x * 2 + 1]               # plain loop, contiguous chunks
    f2 = compiled([x], outs, 2)
    f1 = compiled([x], outs, 1)
    assert "OC_POOL_RUN" in f2.vm.program.source
    assert "OC_POOL_RUN" not in f1.vm.program.source
    for n in SIZES:
        a = data(n, dtype, n)
        with np.errstate(all="ignore"):
            want = [transc(np, a), a * a.dtype.type(2) + a.dtype.type(1)]
            for views in (a, a[::2], a[::-1]):  # contiguous, strided, negative stride
                got2, got1 = f2(views), f1(views)
                w = ([transc(np, np.ascontiguousarray(views)),
                      views * a.dtype.type(2) + a.dtype.type(1)] if views is not a else want)
                for g2, g1, ww in zip(got2, got1, w):
                    np.testing.assert_array_equal(g2, ww, err_msg=f"n={n}")
                    np.testing.assert_array_equal(g2, g1, err_msg=f"n={n}")
    assert threads.workers() >= 1


def test_threaded_strided_rows_and_broadcast_row_match_numpy():
    """2-d: a transposed (strided) input runs row blocks on the pool; a bias row too."""
    x = T.dmatrix("x")
    r = T.drow("r")
    f = compiled([x, r], [T.tanh(x.T) * 3, T.exp(x + r), x * r - 1], 2)
    a = data(257 * 301).reshape(257, 301)
    ra = data(301, seed=3).reshape(1, 301)
    with np.errstate(all="ignore"):
        got = f(a, ra)
        np.testing.assert_array_equal(got[0], np.tanh(np.ascontiguousarray(a.T)) * 3)
        np.testing.assert_array_equal(got[1], np.exp(a + ra))
        np.testing.assert_array_equal(got[2], a * ra - 1)


def test_an_error_in_a_workers_chunk_is_raised_by_the_call():
    i = T.lvector("i")
    j = T.lvector("j")
    f = compiled([i, j], i ** j + 1, 2)
    a = np.arange(4 * CH, dtype=np.int64) % 5 + 1
    b = np.ones(4 * CH, dtype=np.int64)
    np.testing.assert_array_equal(f(a, b), a ** b + 1)
    for where in (0, CH + 3, 4 * CH - 1):  # the caller's chunk or a worker's
        bad = b.copy()
        bad[where] = -1
        with pytest.raises(ValueError, match="Integers to negative integer powers"):
            f(a, bad)


def test_small_loops_stay_on_the_calling_thread():
    """Below openmp_elemwise_minsize the loop runs serially: the pool is not started."""
    code = textwrap.dedent(f"""
        import numpy as np, opcore, opcore.tensor as T
        from opcore.config import change_flags
        from opcore.plugins import get_host
        get_host().ensure_loaded()
        from opcore_cpu_c import threads
        x = T.dvector("x")
        with change_flags(cpu_c__threads=2, openmp_elemwise_minsize=10 * {CH}):
            f = opcore.function([x], T.exp(x) * 2 + 1)
        a = np.linspace(-3, 3, 9 * {CH})
        assert np.array_equal(f(a), np.exp(a) * 2 + 1)
        assert threads.workers() == 0, threads.workers()
        b = np.linspace(-3, 3, 10 * {CH})
        assert np.array_equal(f(b), np.exp(b) * 2 + 1)
        assert threads.workers() == 1, threads.workers()
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # Python >= 3.12 warns
def test_a_forked_child_runs_threaded_loops():
    """The parent's workers do not exist in a forked child: the pool starts new ones there
    (libgomp's pool hangs in that case, which is why the loops do not use OpenMP)."""
    x = T.dvector("x")
    f = compiled([x], transc(T, x), 2)
    a = data(4 * CH)
    with np.errstate(all="ignore"):
        want = transc(np, a)
        np.testing.assert_array_equal(f(a), want)  # the parent's workers are started
    assert threads.workers() >= 1
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 when it started its own worker and got NumPy's values
        code = 1
        try:
            before = threads.workers()
            with np.errstate(all="ignore"):
                same = np.array_equal(f(a), want, equal_nan=True)
            code = 0 if (before == 0 and threads.workers() >= 1 and same) else 2
        finally:
            os.write(w, bytes([code]))
            os._exit(code)
    os.close(w)
    ready, _, _ = select.select([r], [], [], 120)
    try:
        assert ready, "the forked child hung in a threaded loop"
        assert os.read(r, 1) == b"\x00"
    finally:
        os.close(r)
        if not ready:
            os.kill(pid, 9)
        os.waitpid(pid, 0)


def test_concurrent_python_threads_each_get_their_answer():
    x = T.dvector("x")
    f = compiled([x], transc(T, x), 2)
    arrays = [data(3 * CH + k, seed=k) for k in range(6)]
    results: dict = {}

    def work(k):
        with np.errstate(all="ignore"):
            for _ in range(3):
                results[k] = f(arrays[k]).copy()

    ts = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with np.errstate(all="ignore"):
        for k, a in enumerate(arrays):
            np.testing.assert_array_equal(results[k], transc(np, a))


def test_thread_count_from_the_flag_then_omp_num_threads_then_the_cpus(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with change_flags(cpu_c__threads=0):
        assert threads.num_threads() == len(os.sched_getaffinity(0))
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        assert threads.num_threads() == 3
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert threads.num_threads() == 1
        x = T.dvector("x")
        f = opcore.function([x], T.exp(x), mode=C)
        assert "OC_POOL_RUN" not in f.vm.program.source
    with change_flags(cpu_c__threads=5):
        assert threads.num_threads() == 5
    assert config.cpu_c__threads == 0


def test_without_the_pool_the_loops_run_serially_with_a_warning(monkeypatch):
    def no_pool():
        raise CompileError("no compiler for the pool")

    monkeypatch.setattr(threads, "_module", no_pool)
    x = T.dvector("x")
    f = compiled([x], T.exp(x) * 2 + 7, 2, minsize=7)  # a kernel no other test compiled
    a = data(2 * CH + 3, seed=9)
    with pytest.warns(RuntimeWarning, match="thread pool could not be built"):
        got = f(a)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(got, np.exp(a) * 2 + 7)
