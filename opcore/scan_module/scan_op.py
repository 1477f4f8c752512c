"""Theano's ``theano.scan_module.scan_op``: the ``Scan`` op."""

from opcore.scan.op import Scan, ScanInfo  # noqa: F401
