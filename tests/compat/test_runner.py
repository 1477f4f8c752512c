"""The runner: ``import theano`` served by opcore, flags mapped, a real Theano never shadowed."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import opcore
from opcore.compat.theano import TheanoShadowError, flags, install, installed, uninstall


def test_theano_modules_are_opcore_modules(run_theano):
    out = run_theano("""
        import sys
        import theano, theano.tensor as T, theano.compile, theano.printing, opcore
        assert theano is opcore and T is opcore.tensor and theano.compile is opcore.compile
        import theano.tensor.nnet as nnet
        assert nnet is opcore.tensor.nnet
        from theano.tensor import nnet as nnet2
        assert nnet2 is nnet
        print(sys.argv[1:])
    """, "a", "--b").stdout
    assert out.strip() == "['a', '--b']"


def test_script_computes_numpy_answer(run_theano):
    out = run_theano("""
        import numpy as np
        import theano
        import theano.tensor as T
        x = T.dmatrix('x')
        w = theano.shared(np.arange(6.0).reshape(3, 2), name='w')
        f = theano.function([x], T.tanh(T.dot(x, w)).sum())
        v = np.linspace(-1, 1, 6).reshape(2, 3)
        print(repr(float(f(v))), repr(float(np.tanh(v @ w.get_value()).sum())))
    """).stdout.split()
    assert float(out[0]) == pytest.approx(float(out[1]), rel=1e-12)


def test_dash_m_runs_a_module(tmp_path, run_theano):
    pkg = tmp_path / "mylib.py"
    pkg.write_text("import theano.tensor as T\nimport sys\nprint('mylib', T.__name__, sys.argv[1:])\n")
    proc = subprocess.run([sys.executable, "-m", "opcore.compat.theano", "-m", "mylib", "-x", "1"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "mylib opcore.tensor ['-x', '1']"


def test_refused_module_says_why(run_theano):
    out = run_theano("""
        try:
            import theano.sandbox.cuda
        except ImportError as exc:
            print(exc)
        try:
            from theano.sandbox import cuda
        except ImportError as exc:
            print(exc)
    """).stdout.splitlines()
    assert len(out) == 2
    for line in out:
        assert "old CUDA backend" in line and "device=cuda" in line


def test_missing_module_says_which_opcore_module(run_theano):
    out = run_theano("""
        try:
            import theano.tensor.no_such_module
        except ImportError as exc:
            print(exc)
    """).stdout
    assert "opcore.tensor.no_such_module" in out and "porting.md" in out


def test_theano_flags_floatx(run_theano):
    out = run_theano("""
        import theano, theano.tensor as T
        x = T.matrix('x')
        print(theano.config.floatX, x.dtype, theano.config.mode)
    """, env={"THEANO_FLAGS": "floatX=float32,mode=FAST_COMPILE"}).stdout.split()
    assert out == ["float32", "float32", "FAST_COMPILE"]


def test_theanorc_and_unknown_flag_warns_once(tmp_path, run_theano):
    rc = tmp_path / "rc"
    rc.write_text("[global]\nfloatX = float32\n\n[blas]\nldflags = -lopenblas\n")
    proc = run_theano("""
        import theano
        print(theano.config.floatX)
    """, env={"THEANORC": str(rc), "THEANO_FLAGS": "lib.cnmem=0.5"})
    assert proc.stdout.split() == ["float32"]
    assert proc.stderr.count("'blas.ldflags'") == 1
    assert proc.stderr.count("'lib.cnmem'") == 1
    assert "Traceback" not in proc.stderr


def test_opcore_flags_win_over_theano_flags(run_theano, tmp_path):
    out = run_theano("""
        import theano
        print(theano.config.floatX)
    """, env={"THEANO_FLAGS": "floatX=float32",
              "OPCORE_FLAGS": f"floatX=float16,compiledir={tmp_path / 'c'}"}).stdout
    assert out.split() == ["float16"]


def test_real_theano_is_never_shadowed(tmp_path, run_theano):
    fake = tmp_path / "site" / "theano"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("REAL = True\n")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    proc = run_theano("import theano\nprint(getattr(theano, 'REAL', False))\n", env=env,
                      check=False)
    assert proc.returncode == 2
    assert "real Theano is installed" in proc.stderr and "--shadow-theano" in proc.stderr
    assert proc.stdout == ""
    proc = run_theano("import theano, opcore\nprint(theano is opcore)\n", env=env,
                      runner_args=["--shadow-theano"])
    assert proc.stdout.split() == ["True"]


def test_install_in_process(monkeypatch):
    monkeypatch.setenv("THEANO_FLAGS", "")
    assert not installed()
    install()
    try:
        import theano
        import theano.tensor

        assert theano is opcore and theano.tensor is opcore.tensor
    finally:
        uninstall()
    assert not installed() and "theano" not in sys.modules


def test_install_refuses_real_theano(tmp_path, monkeypatch):
    fake = tmp_path / "theano"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("OPCORE_SHADOW_THEANO", raising=False)
    with pytest.raises(TheanoShadowError, match="shadow"):
        install()
    assert not installed()


def test_flag_translation_table():
    mapped, ignored = flags.translate({"floatX": "float32", "device": "gpu0", "optimizer": "None",
                                       "compiledir": "/a", "base_compiledir": "/b",
                                       "dnn.enabled": "False", "cxx": ""})
    assert ignored == ["dnn.enabled"]
    assert mapped["device"] == "cuda0" and mapped["compiledir"] == "/a"
    assert mapped["mode"] == "Mode" and mapped["optimizer"] == "None" and mapped["cxx"] == ""


def test_flags_string_parsing():
    assert flags.parse_flags_string("floatX=float32, gpuarray.sync=True,'a=b,c'") == {
        "floatX": "float32", "gpuarray__sync": "True", "a": "b,c"}


def test_optimizer_flag_reaches_mode():
    from opcore.compile.mode import get_mode

    with opcore.config.change_flags(mode="Mode", optimizer="None", linker="py"):
        m = get_mode(None)
        assert m.include == () and m.linker == "py"
    with opcore.config.change_flags(optimizer_excluding="fusion:inplace"):
        m = get_mode("FAST_RUN")
        assert set(m.exclude) >= {"fusion", "inplace"}


def test_debugprint_under_the_runner_is_theano_text(run_theano):
    out = run_theano("""
        import theano, theano.tensor as T
        x = T.dvector('x')
        f = theano.function([x], T.exp(x))
        theano.printing.debugprint(f)
    """).stdout.splitlines()
    assert out[0].endswith("''   0") and out[1] == " |x [id B]"


def test_theano_only_flags_are_readable_and_settable(run_theano):
    proc = run_theano("""
        import theano
        theano.config.warn.subtensor_merge_bug = False
        theano.config.print_test_value = True
        print(theano.config.print_test_value, theano.config.blas.ldflags,
              theano.config.traceback.limit, theano.config.warn.subtensor_merge_bug)
    """, env={"THEANO_FLAGS": "blas.ldflags=-lopenblas"})
    assert proc.stdout.split() == ["True", "-lopenblas", "8", "False"]
    assert proc.stderr.count("'blas.ldflags'") == 1


THEANO_MODULES = [
    "theano.tensor.nnet.abstract_conv", "theano.tensor.nnet.conv", "theano.tensor.nnet.nnet",
    "theano.tensor.nnet.bn", "theano.tensor.nnet.neighbours", "theano.tensor.signal.pool",
    "theano.tensor.signal.conv", "theano.tensor.shared_randomstreams", "theano.sandbox.rng_mrg",
    "theano.tensor.extra_ops", "theano.tensor.nlinalg", "theano.tensor.slinalg",
    "theano.tensor.fft", "theano.tensor.sort", "theano.tensor.inplace", "theano.tensor.utils",
    "theano.tensor.opt", "theano.tensor.basic", "theano.tensor.var", "theano.tensor.type",
    "theano.tensor.elemwise", "theano.tensor.subtensor", "theano.tensor.blas",
    "theano.compile.ops", "theano.compile.mode", "theano.compile.function_module",
    "theano.compile.sharedvalue", "theano.compile.io", "theano.scan_module.scan_utils",
    "theano.scan_module.scan_op", "theano.gof", "theano.gof.graph", "theano.gof.opt",
    "theano.gof.toolbox", "theano.gof.type", "theano.gof.params_type", "theano.typed_list",
    "theano.gpuarray", "theano.gpuarray.dnn", "theano.sandbox.gpuarray", "theano.misc.pkl_utils",
    "theano.printing", "theano.gradient", "theano.ifelse", "theano.sparse", "theano.compat",
    "theano.configparser", "theano.tests.unittest_tools", "theano.updates", "theano.d3viz",
]


def test_every_module_of_the_map_imports_through_the_runner(run_theano):
    out = run_theano(f"""
        import importlib
        import opcore
        bad = []
        for name in {THEANO_MODULES!r}:
            try:
                mod = importlib.import_module(name)
                assert mod.__name__.startswith(('opcore', 'opcore_')), mod
            except Exception as exc:
                bad.append((name, repr(exc)))
        print(bad)
    """).stdout
    assert out.strip() == "[]"


def test_uninstall_restores_the_flags_install_set(monkeypatch):
    monkeypatch.setenv("THEANO_FLAGS", "floatX=float32")
    before = (opcore.config.floatX, opcore.config.print_placement)
    install()
    try:
        assert opcore.config.floatX == "float32" and opcore.config.print_placement is False
    finally:
        uninstall()
    assert (opcore.config.floatX, opcore.config.print_placement) == before
