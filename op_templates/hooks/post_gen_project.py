"""cookiecutter hook: drop the C and GPU files that were not asked for."""

import os
import shutil

WITH_C = "{{ cookiecutter.with_c }}" == "yes"
WITH_GPU = "{{ cookiecutter.with_gpu }}" == "yes"
PACKAGE = "{{ cookiecutter.package_name }}"

REMOVE = []
if not WITH_C:
    REMOVE += [os.path.join("tests", "test_c.py")]
if not WITH_GPU:
    REMOVE += [os.path.join(PACKAGE, "gpu.py"), os.path.join("tests", "test_gpu.py")]

for path in REMOVE:
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)
