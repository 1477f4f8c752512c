"""The one C build-and-render layer shared by every plugin that compiles C-family code.

The C backend, the GPU backend's host code, and the sparse and nnet kernels all compile through
this package, so there is one compiler driver, one crash-safe compile cache under
``config.compiledir`` (listed and cleared by ``opcore cache``), one dtype -> C type table and one
renderer of fused scalar expressions with a table per dialect (C, CUDA, OpenCL).

It lives in the core, not in a plugin, so that both backends can depend on it without depending on
each other; it imports nothing heavier than the standard library and NumPy, and importing
``opcore`` does not import it.
"""
