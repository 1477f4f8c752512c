"""Theano's ``theano.scan_module`` names: ``scan`` and the ``until`` stop condition.

>>> import opcore, opcore.tensor as T
>>> from opcore.scan_module import until
>>> x = T.dscalar('x')
>>> vals, _ = opcore.scan(lambda p: (p * 2, until(p * 2 > 50)), outputs_info=x, n_steps=100)
>>> opcore.function([x], vals)(1.0).tolist()
[2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
"""

from __future__ import annotations

from opcore.scan import Scan, ScanError, scan
from opcore.scan.utils import until
from opcore.scan_module import scan_op, scan_utils  # noqa: F401

__all__ = ["Scan", "ScanError", "scan", "scan_op", "scan_utils", "until"]
