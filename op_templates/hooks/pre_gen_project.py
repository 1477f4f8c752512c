"""cookiecutter hook: refuse bad names before anything is written."""

import sys

OP_NAME = "{{ cookiecutter.op_name }}"
OP_CLASS = "{{ cookiecutter.op_class }}"
CHECK_INSTALLED = "{{ cookiecutter._check_installed }}" != "no"


def _fallback_check(name: str, cls: str) -> None:
    import keyword
    import re

    if not re.match(r"^[a-z][a-z0-9_]*$", name) or keyword.iskeyword(name):
        raise ValueError(f"op name {name!r} must be a lowercase Python identifier such as 'axpb'")
    if not cls.isidentifier() or not cls[:1].isupper():
        raise ValueError(f"op class name {cls!r} must be an identifier starting with an "
                         "uppercase letter")


def main() -> int:
    try:
        from opcore.templates.names import BadOpName, check_class_name, check_op_name
    except ImportError:  # rendering without opcore installed: only the syntax is checked
        try:
            _fallback_check(OP_NAME, OP_CLASS)
        except ValueError as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 1
        return 0
    try:
        check_op_name(OP_NAME, check_installed=CHECK_INSTALLED)
        check_class_name(OP_CLASS)
    except BadOpName as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
