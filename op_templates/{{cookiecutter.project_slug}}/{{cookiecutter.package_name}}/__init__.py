"""{{ cookiecutter.description }}."""

from {{ cookiecutter.package_name }}.op import {{ cookiecutter.op_class }}, {{ cookiecutter.op_name }}

__version__ = "{{ cookiecutter.version }}"
__all__ = ["{{ cookiecutter.op_class }}", "{{ cookiecutter.op_name }}"]
