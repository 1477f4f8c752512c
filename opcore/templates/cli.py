"""``opcore new-op NAME [--with-c] [--with-gpu] [-o DIR] [--no-input]``.

Registered by the core plugin (``opcore/core_plugin.py``) through ``configure``/``run``.
"""

from __future__ import annotations

import argparse
import sys

from opcore.templates.names import BadOpName
from opcore.templates.render import CookiecutterMissing, TemplateNotFound, render


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``opcore new-op``."""
    parser.add_argument("name", help="op name: a lowercase identifier; makes opcore-<name>, "
                                     "module opcore_<name>, namespace opcore.<name>")
    parser.add_argument("--with-c", action="store_true",
                        help="add a C implementation (c_code, for the opcore-cpu-c backend)")
    parser.add_argument("--with-gpu", action="store_true",
                        help="add a GPU kernel (gpu_kernels, for the opcore-gpu-cuda backend)")
    parser.add_argument("-o", "--output-dir", default=".", metavar="DIR",
                        help="where to create opcore-<name>/ (default: the current directory)")
    parser.add_argument("--class-name", default=None, metavar="CLASS",
                        help="the op class name (default: derived from NAME, 'my_op' -> 'MyOp')")
    parser.add_argument("--opcore-source", default=None, metavar="SRC",
                        help="where the new package installs opcore from: a checkout path or a "
                             "VCS URL (default: this opcore's checkout when it runs from one, "
                             "else the package index)")
    parser.add_argument("--no-input", action="store_true",
                        help="do not prompt for the other template variables (use defaults)")


def run(args: argparse.Namespace) -> int:
    """Render the template; returns the exit status (2 for a bad name, 1 for other problems)."""
    try:
        path = render(args.name, args.output_dir, with_c=args.with_c, with_gpu=args.with_gpu,
                      no_input=args.no_input, class_name=args.class_name,
                      opcore_source=args.opcore_source)
    except BadOpName as exc:
        print(f"opcore new-op: {exc}", file=sys.stderr)
        return 2
    except (CookiecutterMissing, TemplateNotFound, FileExistsError) as exc:
        print(f"opcore new-op: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # cookiecutter's own errors (a failing hook, a bad template)
        print(f"opcore new-op: rendering failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"created {path}")
    extras = ",".join(e for e, on in (("c", args.with_c), ("gpu", args.with_gpu)) if on)
    print(f"next: cd {path} && python install_opcore.py{' --extras ' + extras if extras else ''}"
          f" && pip install -e '.[test{',' + extras if extras else ''}]' && pytest")
    return 0
