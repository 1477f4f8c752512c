"""``python -m opcore.compat.theano [--shadow-theano] (script.py | -m module | -c code) [args]``.

Runs a program written for Theano with ``import theano`` served by opcore (see
:mod:`opcore.compat.theano`).  ``sys.argv`` and ``sys.path[0]`` are set as ``python`` itself sets
them, so ``-m pytest tests/`` runs a Theano library's tests.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys

from opcore.compat.theano import TheanoShadowError, install


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m opcore.compat.theano",
        description="Run a Theano program on opcore (import theano is served by opcore).")
    p.add_argument("--shadow-theano", action="store_true",
                   help="use opcore even though a real Theano is installed")
    p.add_argument("--no-theano-flags", action="store_true",
                   help="do not read THEANO_FLAGS / ~/.theanorc")
    p.add_argument("-m", dest="module", nargs=argparse.REMAINDER, metavar="MODULE ...",
                   help="run a library module as a script (the rest are its arguments)")
    p.add_argument("-c", dest="code", nargs=argparse.REMAINDER, metavar="CODE ...",
                   help="run a program passed as a string (the rest are its arguments)")
    p.add_argument("script", nargs=argparse.REMAINDER, default=[],
                   help="the script and its arguments")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    # sys.path[0] as python sets it, before looking for a real Theano there
    if args.module:
        sys.path[0] = os.getcwd()
    elif args.code:
        sys.path[0] = ""
    elif args.script:
        sys.path[0] = os.path.dirname(os.path.abspath(args.script[0]))
    try:
        install(shadow=args.shadow_theano or None, read_flags=not args.no_theano_flags)
    except TheanoShadowError as exc:
        print(f"python -m opcore.compat.theano: {exc}", file=sys.stderr)
        return 2
    if args.module:
        sys.argv = [args.module[0], *args.module[1:]]
        runpy.run_module(args.module[0], run_name="__main__", alter_sys=True)
    elif args.code:
        sys.argv = ["-c", *args.code[1:]]
        exec(compile(args.code[0], "<string>", "exec"), {"__name__": "__main__"})
    elif args.script:
        script = args.script[0]
        sys.argv = list(args.script)
        runpy.run_path(script, run_name="__main__")
    else:
        _parser().error("give a script, -m module or -c code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
