"""The C backend's thread pool: large elementwise loops run on every core the process may use.

One pool per process, a small C extension (:data:`POOL_SOURCE`, built once into the compile
cache) whose API every compiled module fetches at import time from :func:`capsule`:
``run(nthreads, nwork, task, ctx)`` calls ``task(ctx, lo, hi)`` on disjoint ranges of the work
items ``0 .. nwork-1`` (claimed one at a time from a shared counter, so a thread slowed by
another process's load takes fewer), on the calling thread and up to ``nthreads - 1`` workers,
and returns once every item is done.  An elementwise loop's items are chunks of its index
range, each computed exactly as the serial loop computes it, so the results are the serial
results bit for bit whatever the number of threads.

Why not OpenMP (``config.openmp``): GCC's libgomp is not fork-safe (a forked child whose parent
ran a parallel region hangs in its first one), and its idle workers spin (``GOMP_SPINCOUNT``)
after each parallel region, taking the core OpenBLAS's threads need for the next matrix product
(the MLP and RBM steps ran 2-3x slower, and used 2.6x the CPU time, with ``openmp=True`` on a
2-core machine).  This pool's
workers sleep on a condition variable as soon as they find no work, a forked child starts with
no workers (``pthread_atfork``) and makes new ones on its first parallel loop, a caller that
finds the pool busy (another thread's loop) runs its loop serially, workers block all signals,
and each job carries the caller's floating-point control word (rounding, flush-to-zero), so
the workers compute as the caller would.

The number of threads is :func:`num_threads` (``config.cpu_c__threads``; ``0`` = ``OMP_NUM_THREADS``
when set, else the CPUs this process may run on), read when a function is compiled; loops of
fewer than ``config.openmp_elemwise_minsize`` elements stay on the calling thread.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any

from opcore.cbuild import CompileError, compile_module
from opcore.config import config

__all__ = ["ABI", "CAPSULE", "KERNEL_SUPPORT", "POOL_SOURCE", "capsule", "num_threads",
           "workers"]

#: Version of the C API below (the capsule's name carries it).
ABI = 1
CAPSULE = f"opcore_cpu_c.threads.pool_v{ABI}"

#: The pool module.  ``oc_pool_api.run(nthreads, nwork, task, ctx)``: see the module docstring.
POOL_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define OC_HAVE_CSR 1
#endif

typedef void (*oc_task_t)(void* ctx, intptr_t lo, intptr_t hi);
typedef struct { int abi; void (*run)(int, intptr_t, oc_task_t, void*); int (*workers)(void); }
    oc_pool_api;

static pthread_mutex_t oc_busy = PTHREAD_MUTEX_INITIALIZER;  /* one job at a time */
static pthread_mutex_t oc_mu = PTHREAD_MUTEX_INITIALIZER;    /* guards the job fields */
static pthread_cond_t oc_wake = PTHREAD_COND_INITIALIZER;    /* a new job was posted */
static pthread_cond_t oc_done = PTHREAD_COND_INITIALIZER;    /* a worker left its job */
static int oc_nworkers = 0;         /* workers started (in this process) */
static unsigned long oc_gen = 0;    /* job counter */
static int oc_open = 0;             /* the current job still takes workers */
static int oc_want = 0;             /* workers 0 .. oc_want-1 may join it */
static int oc_inside = 0;           /* workers working on it */
static oc_task_t oc_task = NULL;
static void* oc_ctx = NULL;
static intptr_t oc_n = 0;
static intptr_t oc_next = 0;        /* next work item (atomic) */
static unsigned int oc_csr = 0;     /* the caller's MXCSR control bits */

static void oc_work(oc_task_t task, void* ctx, intptr_t n)
{
    for (;;) {
        intptr_t i = __atomic_fetch_add(&oc_next, 1, __ATOMIC_RELAXED);
        if (i >= n) return;
        task(ctx, i, i + 1);
    }
}

static void* oc_worker(void* arg)
{
    const int id = (int)(intptr_t)arg;
    unsigned long seen = 0;
    int first = 1;  /* a worker started for a job joins that job */
    pthread_mutex_lock(&oc_mu);
    for (;;) {
        oc_task_t task; void* ctx; intptr_t n;
        while (!first && oc_gen == seen) pthread_cond_wait(&oc_wake, &oc_mu);
        first = 0;
        seen = oc_gen;
        if (!oc_open || id >= oc_want) continue;
        oc_inside++;
        task = oc_task; ctx = oc_ctx; n = oc_n;
#ifdef OC_HAVE_CSR
        _mm_setcsr((_mm_getcsr() & 0x3f) | oc_csr);
#endif
        pthread_mutex_unlock(&oc_mu);
        oc_work(task, ctx, n);
        pthread_mutex_lock(&oc_mu);
        if (--oc_inside == 0) pthread_cond_signal(&oc_done);
    }
    return NULL;
}

static void oc_start_workers(int want)
{
    sigset_t all, old;
    pthread_attr_t attr;
    if (oc_nworkers >= want) return;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  /* signals stay with the Python threads */
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (oc_nworkers < want) {
        pthread_t t;
        if (pthread_create(&t, &attr, oc_worker, (void*)(intptr_t)oc_nworkers) != 0) break;
        oc_nworkers++;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void oc_run(int nthreads, intptr_t n, oc_task_t task, void* ctx)
{
    if (n <= 0) return;
    if (nthreads > n) nthreads = (int)n;
    /* one thread asked for, or the pool busy with another caller's loop: run it here */
    if (nthreads <= 1 || pthread_mutex_trylock(&oc_busy) != 0) { task(ctx, 0, n); return; }
    pthread_mutex_lock(&oc_mu);
    oc_start_workers(nthreads - 1);
    if (oc_nworkers == 0) {
        pthread_mutex_unlock(&oc_mu); pthread_mutex_unlock(&oc_busy);
        task(ctx, 0, n); return; }
    oc_task = task; oc_ctx = ctx; oc_n = n;
    __atomic_store_n(&oc_next, 0, __ATOMIC_RELAXED);
    oc_want = nthreads - 1; oc_open = 1; oc_inside = 0; oc_gen++;
#ifdef OC_HAVE_CSR
    oc_csr = _mm_getcsr() & ~0x3fu;
#endif
    pthread_cond_broadcast(&oc_wake);
    pthread_mutex_unlock(&oc_mu);
    oc_work(task, ctx, n);
    pthread_mutex_lock(&oc_mu);
    oc_open = 0;  /* a worker waking from now on does not join */
    while (oc_inside > 0) pthread_cond_wait(&oc_done, &oc_mu);
    pthread_mutex_unlock(&oc_mu);
    pthread_mutex_unlock(&oc_busy);
}

static int oc_workers(void) { return oc_nworkers; }

/* fork: no job runs while the process forks; the child has none of the workers */
static void oc_prefork(void) { pthread_mutex_lock(&oc_busy); pthread_mutex_lock(&oc_mu); }
static void oc_parent(void) { pthread_mutex_unlock(&oc_mu); pthread_mutex_unlock(&oc_busy); }
static void oc_child(void)
{
    pthread_mutex_init(&oc_busy, NULL); pthread_mutex_init(&oc_mu, NULL);
    pthread_cond_init(&oc_wake, NULL); pthread_cond_init(&oc_done, NULL);
    oc_nworkers = 0; oc_open = 0; oc_inside = 0;
}

static oc_pool_api oc_api = {1, oc_run, oc_workers};

static PyObject* oc_py_workers(PyObject* self, PyObject* args)
{
    return PyLong_FromLong(oc_nworkers);
}

static PyMethodDef oc_methods[] = {
    {"workers", oc_py_workers, METH_NOARGS, "worker threads started in this process"},
    {NULL, NULL, 0, NULL}
};

PyMODINIT_FUNC PyInit_@MODNAME@(void)
{
    static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "@MODNAME@", NULL, -1, oc_methods};
    PyObject* m = PyModule_Create(&def);
    PyObject* cap;
    if (m == NULL) return NULL;
    cap = PyCapsule_New(&oc_api, "@CAPSULE@", NULL);
    if (cap == NULL || PyModule_AddObject(m, "api", cap) < 0) {
        Py_XDECREF(cap); Py_DECREF(m); return NULL; }
    if (pthread_atfork(oc_prefork, oc_parent, oc_child) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "opcore thread pool: pthread_atfork failed");
        Py_DECREF(m); return NULL; }
    return m;
}
""".replace("@CAPSULE@", CAPSULE)

#: Support code of a module using the pool: ``OC_POOL_RUN(nthreads, nwork, task, ctx)`` runs a
#: job on the pool, fetching its API from :func:`capsule` on the first call (the kernels run
#: holding the GIL); where the pool is unavailable (it could not be built: :func:`capsule` warned
#: once and returned None) the task runs on the calling thread.
KERNEL_SUPPORT = r"""
#ifndef OC_POOL_DEFINED
#define OC_POOL_DEFINED
typedef void (*oc_task_t)(void* ctx, npy_intp lo, npy_intp hi);
typedef struct { int abi; void (*run)(int, npy_intp, oc_task_t, void*); int (*workers)(void); }
    oc_pool_api;
static const oc_pool_api* oc_pool = NULL;
static int oc_pool_state = 0;  /* 0: not fetched yet, 1: oc_pool set, -1: no pool */
static const oc_pool_api* oc_pool_get(void)
{
    PyObject *m, *cap = NULL;
    if (oc_pool_state != 0) return oc_pool;
    oc_pool_state = -1;
    m = PyImport_ImportModule("opcore_cpu_c.threads");
    if (m != NULL) { cap = PyObject_CallMethod(m, "capsule", NULL); Py_DECREF(m); }
    if (cap != NULL && cap != Py_None) {
        /* the pool module stays loaded for the life of the process */
        oc_pool = (const oc_pool_api*)PyCapsule_GetPointer(cap, "@CAPSULE@");
        if (oc_pool != NULL) oc_pool_state = 1;
    }
    Py_XDECREF(cap);
    PyErr_Clear();
    return oc_pool;
}
#define OC_POOL_RUN(nt, nwork, task, ctx) do { const oc_pool_api* p_ = oc_pool_get(); \
    if (p_ != NULL) p_->run((nt), (nwork), (task), (ctx)); else (task)((ctx), 0, (nwork)); \
    } while (0)
#endif
""".replace("@CAPSULE@", CAPSULE)


@functools.lru_cache(maxsize=1)
def _module() -> Any:
    return compile_module(POOL_SOURCE, "ocpool", (ABI,), cflags=["-O2"], ldflags=["-pthread"],
                          ops=["thread pool"],
                          lock_timeout=float(config.cpu_c__cache_timeout))


def capsule() -> Any:
    """The pool's C API (a ``PyCapsule`` named :data:`CAPSULE`); builds the pool module into
    the compile cache the first time.  ``None``, with a :class:`RuntimeWarning` once, when it
    cannot be built (the loops then run on the calling thread)."""
    try:
        return _module().api
    except CompileError as exc:
        _warn_once(str(exc))
        return None


@functools.lru_cache(maxsize=None)
def _warn_once(why: str) -> None:
    warnings.warn(f"opcore C backend: the thread pool could not be built ({why}); large "
                  "elementwise loops run on one thread", RuntimeWarning, stacklevel=3)


def workers() -> int:
    """Worker threads the pool has started in this process (0 before its first parallel loop,
    and in a forked child until its first one).  Raises :class:`opcore.cbuild.CompileError`
    when the pool cannot be built."""
    return int(_module().workers())


def num_threads() -> int:
    """Threads of a large elementwise loop compiled now: ``config.cpu_c__threads`` when
    positive; for ``0`` (the default), ``OMP_NUM_THREADS`` when it is a positive integer, else
    the number of CPUs this process may run on (``os.sched_getaffinity``)."""
    n = int(config.cpu_c__threads)
    if n > 0:
        return n
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
