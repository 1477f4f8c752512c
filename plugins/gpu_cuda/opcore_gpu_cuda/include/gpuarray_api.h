/* opcore-gpu-cuda: the subset of libgpuarray's / pygpu's C API that Theano GPU ops use in
 * their c_code (host code).  Header-only: every function is static and calls back into the
 * plugin's Python driver layer (opcore_gpu_cuda.capi) for allocation, launches and syncs, so one
 * compiled host module works on CUDA and OpenCL alike.
 *
 *   PyGpuArrayObject *z;  z->ga.data, z->ga.dimensions[i], z->ga.strides[i], z->ga.offset
 *   pygpu_zeros(nd, dims, typecode, GA_C_ORDER, ctx, Py_None)   pygpu_empty(...)
 *   err = <kernel>_call(nd, gs, ls, shmem, args...);  GpuKernel_error(&k, err)
 *   GpuArray_sync(&z->ga)
 */
#ifndef OPCORE_GPUARRAY_API_H
#define OPCORE_GPUARRAY_API_H

#include <Python.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#define GA_NO_ERROR 0
#define GA_IMPL_ERROR -1
#define GA_C_ORDER 0
#define GA_F_ORDER 1
#define GA_ANY_ORDER (-1)
#define GA_MAX_ND 16

enum { GA_BOOL = 0, GA_BYTE = 1, GA_UBYTE = 2, GA_SHORT = 3, GA_USHORT = 4, GA_INT = 5,
       GA_UINT = 6, GA_LONG = 7, GA_ULONG = 8, GA_FLOAT = 11, GA_DOUBLE = 12, GA_HALF = 23,
       GA_SIZE = -10, GA_SSIZE = -11, GA_BUFFER = -1 };

typedef struct _gpudata gpudata;          /* opaque: a driver buffer (a Python object) */
typedef PyObject PyGpuContextObject;      /* opcore_gpu_cuda.drivers.GpuContext */

typedef struct {
  gpudata *data;
  size_t dimensions[GA_MAX_ND];
  ssize_t strides[GA_MAX_ND];
  size_t offset;
  unsigned int nd;
  int typecode;
  PyObject *context;                      /* borrowed from the owning PyGpuArrayObject */
} GpuArray;

typedef struct {
  PyObject_HEAD
  GpuArray ga;
  PyObject *obj;                          /* the Python GpuArray */
  PyGpuContextObject *context;
} PyGpuArrayObject;

typedef struct {
  PyObject *kernel;                       /* opcore_gpu_cuda.kernels.Kernel */
  PyObject *context;
  char error[512];
} GpuKernel;

static PyObject *ga__capi = NULL;         /* the opcore_gpu_cuda.capi module */

static void ga__dealloc(PyGpuArrayObject *self) {
  Py_XDECREF(self->obj);
  Py_XDECREF(self->context);
  PyObject_Free(self);
}

static PyTypeObject PyGpuArrayType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  "opcore_gpu_cuda.PyGpuArrayObject",     /* tp_name */
  sizeof(PyGpuArrayObject),               /* tp_basicsize */
  0,                                      /* tp_itemsize */
  (destructor)ga__dealloc,                /* tp_dealloc */
};

static int ga__init_api(void) {
  if (PyType_Ready(&PyGpuArrayType) < 0) return -1;
  ga__capi = PyImport_ImportModule("opcore_gpu_cuda.capi");
  return ga__capi == NULL ? -1 : 0;
}

/* Wrap a Python GpuArray (new reference); NULL with an exception on error. */
static PyGpuArrayObject *pygpu_wrap(PyObject *arr) {
  PyObject *desc = PyObject_CallMethod(ga__capi, "describe", "O", arr);
  PyGpuArrayObject *res;
  Py_ssize_t nd, i;
  if (desc == NULL) return NULL;
  /* desc = (buffer, offset, shape tuple, strides tuple, typecode, context) */
  nd = PyTuple_GET_SIZE(PyTuple_GET_ITEM(desc, 2));
  if (nd > GA_MAX_ND) {
    Py_DECREF(desc);
    PyErr_SetString(PyExc_ValueError, "GpuArray has too many dimensions for the C API");
    return NULL;
  }
  res = PyObject_New(PyGpuArrayObject, &PyGpuArrayType);
  if (res == NULL) { Py_DECREF(desc); return NULL; }
  res->obj = arr; Py_INCREF(arr);
  res->context = PyTuple_GET_ITEM(desc, 5); Py_INCREF(res->context);
  res->ga.data = (gpudata *)PyTuple_GET_ITEM(desc, 0);  /* kept alive by res->obj */
  res->ga.offset = (size_t)PyLong_AsSize_t(PyTuple_GET_ITEM(desc, 1));
  res->ga.nd = (unsigned int)nd;
  for (i = 0; i < nd; i++) {
    res->ga.dimensions[i] = PyLong_AsSize_t(PyTuple_GET_ITEM(PyTuple_GET_ITEM(desc, 2), i));
    res->ga.strides[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(PyTuple_GET_ITEM(desc, 3), i));
  }
  res->ga.typecode = (int)PyLong_AsLong(PyTuple_GET_ITEM(desc, 4));
  res->ga.context = res->context;
  Py_DECREF(desc);
  if (PyErr_Occurred()) { Py_DECREF(res); return NULL; }
  return res;
}

static PyGpuArrayObject *ga__alloc(const char *fn, unsigned int nd, const size_t *dims,
                                   int typecode, int order, PyGpuContextObject *ctx) {
  PyObject *shape = PyTuple_New(nd), *arr;
  PyGpuArrayObject *res;
  unsigned int i;
  if (shape == NULL) return NULL;
  if (order == GA_F_ORDER) {
    Py_DECREF(shape);
    PyErr_SetString(PyExc_NotImplementedError, "pygpu_zeros/empty: only GA_C_ORDER");
    return NULL;
  }
  for (i = 0; i < nd; i++) PyTuple_SET_ITEM(shape, i, PyLong_FromSize_t(dims[i]));
  arr = PyObject_CallMethod(ga__capi, fn, "OiO", shape, typecode, (PyObject *)ctx);
  Py_DECREF(shape);
  if (arr == NULL) return NULL;
  res = pygpu_wrap(arr);
  Py_DECREF(arr);
  return res;
}

static PyGpuArrayObject *pygpu_zeros(unsigned int nd, const size_t *dims, int typecode,
                                     int order, PyGpuContextObject *ctx, PyObject *cls) {
  (void)cls;
  return ga__alloc("zeros", nd, dims, typecode, order, ctx);
}

static PyGpuArrayObject *pygpu_empty(unsigned int nd, const size_t *dims, int typecode,
                                     int order, PyGpuContextObject *ctx, PyObject *cls) {
  (void)cls;
  return ga__alloc("empty", nd, dims, typecode, order, ctx);
}

static int GpuArray_sync(GpuArray *a) {
  PyObject *r = PyObject_CallMethod(ga__capi, "sync", "O", a->context);
  if (r == NULL) return GA_IMPL_ERROR;
  Py_DECREF(r);
  return GA_NO_ERROR;
}

static const char *GpuKernel_error(const GpuKernel *k, int err) {
  (void)err;
  return k->error[0] ? k->error : "unknown GPU error";
}

/* Launch k with a tuple of arguments (stolen); used by the generated <name>_call functions. */
static int ga__launch(GpuKernel *k, unsigned int nd, const size_t *gs, const size_t *ls,
                      size_t shmem, PyObject *args) {
  PyObject *g = PyTuple_New(nd), *l = PyTuple_New(nd), *r;
  unsigned int i;
  k->error[0] = 0;
  if (args == NULL || g == NULL || l == NULL) {
    Py_XDECREF(args); Py_XDECREF(g); Py_XDECREF(l);
    return GA_IMPL_ERROR;
  }
  for (i = 0; i < nd; i++) {
    PyTuple_SET_ITEM(g, i, PyLong_FromSize_t(gs[i]));
    PyTuple_SET_ITEM(l, i, PyLong_FromSize_t(ls[i]));
  }
  r = PyObject_CallMethod(ga__capi, "launch", "OOOOnO", k->kernel, k->context, g, l,
                          (Py_ssize_t)shmem, args);
  Py_DECREF(g); Py_DECREF(l); Py_DECREF(args);
  if (r == NULL) {
    PyObject *t, *v, *tb, *s;
    PyErr_Fetch(&t, &v, &tb);
    s = v ? PyObject_Str(v) : NULL;
    snprintf(k->error, sizeof(k->error), "%s", s ? PyUnicode_AsUTF8(s) : "launch failed");
    Py_XDECREF(s); Py_XDECREF(t); Py_XDECREF(v); Py_XDECREF(tb);
    PyErr_Clear();
    return GA_IMPL_ERROR;
  }
  Py_DECREF(r);
  return GA_NO_ERROR;
}

#endif
