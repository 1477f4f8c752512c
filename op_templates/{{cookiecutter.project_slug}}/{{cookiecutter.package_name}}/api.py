"""Public API of {{ cookiecutter.project_slug }}, also reachable as ``opcore.{{ cookiecutter.op_name }}``.

``plugin.py`` registers this module behind the ``opcore.{{ cookiecutter.op_name }}`` namespace, so
``import opcore.{{ cookiecutter.op_name }}`` and ``from {{ cookiecutter.package_name }} import api``
give the same module object.
"""

from {{ cookiecutter.package_name }}.op import {{ cookiecutter.op_class }}, {{ cookiecutter.op_name }}

__all__ = ["{{ cookiecutter.op_class }}", "{{ cookiecutter.op_name }}"]
