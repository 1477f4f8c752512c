"""Cache reliability: concurrency, truncated entries, killed compiles, compile errors; fuzzing."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode

from opcore.cbuild import cli as cache_cli
from opcore.cbuild.cache import read_meta
from opcore_cpu_c import CompileError

HERE = os.path.dirname(__file__)


def _env(cachedir):
    env = dict(os.environ)
    env["OPCORE_FLAGS"] = f"compiledir={cachedir}"
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_eight_processes_share_one_cache(tmp_path):
    env = _env(tmp_path)
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "_worker.py"), str(k)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(8)]
    for k, p in enumerate(procs):
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"worker {k} failed:\n{err[-3000:]}"
        assert f"OK {k}" in out
    # 6 distinct graphs -> 6 modules (and the kernel objects they are linked from), each entry
    # with valid checksums, no temp dir left behind
    root = str(tmp_path)
    entries = [os.path.join(root, d, e) for d in os.listdir(root) if len(d) == 2
               for e in os.listdir(os.path.join(root, d))]
    good = [e for e in entries if len(os.path.basename(e)) == 64]
    assert all(read_meta(e) is not None for e in good)
    kinds = [read_meta(e)["kind"] for e in good]
    assert kinds.count("module") == 6, entries
    assert set(kinds) <= {"module", "object"}, kinds
    assert not [e for e in entries if "tmp-" in e], entries
    assert all(os.stat(os.path.dirname(e)).st_mode & 0o777 == 0o700 for e in good)


def test_truncated_so_is_rebuilt(tmp_path):
    env = _env(tmp_path)
    run = [sys.executable, os.path.join(HERE, "_worker.py"), "4"]
    subprocess.run(run, env=env, check=True, capture_output=True)
    root = str(tmp_path)
    (so,) = [os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs
             if f == "mod.so" and "pch-" not in dp]
    with open(so, "r+b") as fh:
        fh.truncate(os.path.getsize(so) // 3)
    r = subprocess.run(run, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "OK 4" in r.stdout, r.stderr[-2000:]
    assert read_meta(os.path.dirname(so)) is not None


def test_killed_compile_leaves_usable_cache(tmp_path):
    """A compiler killed mid-way leaves a lock owned by a dead pid and a temp dir: both are
    ignored/recovered by the next process."""
    env = _env(tmp_path)
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "_worker.py"), "5"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = str(tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline:  # kill it as soon as a lock (a compile) appears
        locks = [f for dp, _, fs in os.walk(root) for f in fs if f.endswith(".lock")] \
            if os.path.isdir(root) else []
        if locks:
            break
        time.sleep(0.005)
    p.kill()
    p.wait()
    # whatever state it left (even none), a stale lock of a dead process must not block
    sub = os.path.join(root, "ab")
    os.makedirs(sub, exist_ok=True)
    r = subprocess.run([sys.executable, os.path.join(HERE, "_worker.py"), "5"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "OK 5" in r.stdout, r.stderr[-2000:]


def test_lock_file_of_dead_process_does_not_block(tmp_path):
    """A lock file left by a killed process is not held (the kernel released its flock)."""
    import socket

    from opcore.cbuild.cache import entry_lock

    lock = os.path.join(tmp_path, "x.lock")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with open(lock, "w") as fh:
        fh.write(f"{dead.pid} {socket.gethostname()} {time.time():.0f}")
    t0 = time.time()
    with entry_lock(lock, timeout=60) as held:
        assert held
        with open(lock) as fh:
            assert fh.read().split()[0] == str(os.getpid())
    assert time.time() - t0 < 5


def test_compile_error_has_message_command_and_source():
    from opcore.graph.basic import Apply
    from opcore.graph.op import Op

    class Broken(Op):
        __props__ = ()

        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0]

        def c_code(self, node, name, inputs, outputs, sub):
            return "this is not C;"

        def c_code_cache_version(self):
            return ()

    x = T.dvector("x")
    with pytest.raises(CompileError) as info:
        opcore.function([x], Broken()(x), mode=Mode(backend="c"))
    err = info.value
    assert "error" in err.output and err.command and os.path.isfile(err.source_path)
    assert "this is not C" in open(err.source_path).read()


def test_unversioned_op_is_not_cached(tmp_path):
    from opcore.config import change_flags
    from opcore.graph.basic import Apply
    from opcore.graph.op import Op

    class Twice(Op):
        __props__ = ()

        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0] * 2

        def c_code(self, node, name, inputs, outputs, sub):
            (x,), (z,) = inputs, outputs
            return (f"Py_XDECREF({z}); {z} = (PyArrayObject*)PyNumber_Multiply((PyObject*){x},"
                    f" PyLong_FromLong(2)); if (!{z}) {sub['fail']}")

    with change_flags(compiledir=str(tmp_path)):
        x = T.dvector("x")
        f = opcore.function([x], Twice()(x), mode=Mode(backend="c"))
        np.testing.assert_allclose(f(np.arange(3.0)), [0, 2, 4])
        assert cache_cli.list_entries() == []


def test_fuzz_never_crashes(tmp_path):
    r = subprocess.run([sys.executable, os.path.join(HERE, "_fuzz.py")], env=_env(tmp_path),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"fuzz process died (rc={r.returncode}):\n{r.stderr[-3000:]}"
    assert "FUZZ" in r.stdout
    n_ok, n_err = map(int, r.stdout.split("FUZZ")[1].split())
    assert n_ok > 50 and n_err > 20


def test_cache_cli(tmp_path, capsys):
    from opcore.config import change_flags
    _cache_run = cache_cli.run

    class A:
        action = "list"
        older_than = None

    with change_flags(compiledir=str(tmp_path)):
        x = T.dvector("x")
        opcore.function([x], x * 3 + 1, mode=Mode(backend="c"))
        kinds = sorted(e["kind"] for e in cache_cli.list_entries())
        # the module, and with cpu_c__kernel_objects the objects it is linked from
        assert kinds.count("module") == 1 and set(kinds) <= {"module", "object"}, kinds
        _cache_run(A)
        out = capsys.readouterr().out
        assert f"{len(kinds)} entries" in out and "Elemwise" in out, out
        A.action = "clear"
        _cache_run(A)
        assert cache_cli.list_entries() == []
        A.action = "purge"
        _cache_run(A)
