"""Small, original Theano-style programs run unmodified through ``python -m opcore.compat.theano``.

Each program prints what it computed next to an independent NumPy reference (or asserts on the
graph), so a wrong answer fails the test.
"""

from __future__ import annotations

import json


def test_layer_stack_with_dropout_trains(run_theano):
    out = run_theano("""
        import json
        import numpy as np
        import theano
        import theano.tensor as T
        from theano.sandbox.rng_mrg import MRG_RandomStreams

        rng = np.random.RandomState(0)
        X = rng.randn(200, 8).astype(theano.config.floatX)
        y = (X[:, 0] + X[:, 1] > 0).astype('int32')

        class Dense(object):
            def __init__(self, n_in, n_out, act):
                self.W = theano.shared(rng.randn(n_in, n_out).astype(theano.config.floatX) * 0.3)
                self.b = theano.shared(np.zeros(n_out, dtype=theano.config.floatX))
                self.act = act
                self.params = [self.W, self.b]

            def __call__(self, x):
                return self.act(T.dot(x, self.W) + self.b)

        srng = MRG_RandomStreams(seed=1234)

        def dropout(x, p, train):
            if not train:
                return x
            mask = srng.binomial(x.shape, p=1 - p, dtype=theano.config.floatX)
            return x * mask / (1 - p)

        layers = [Dense(8, 16, T.tanh), Dense(16, 2, T.nnet.softmax)]
        x = T.matrix('x')
        t = T.ivector('t')

        def forward(train):
            h = dropout(layers[0](x), 0.5, train)
            return layers[1](h)

        p_train = forward(True)
        cost = T.nnet.categorical_crossentropy(p_train, t).mean()
        params = [p for l in layers for p in l.params]
        grads = T.grad(cost, params)
        updates = [(p, p - 0.5 * g) for p, g in zip(params, grads)]
        train = theano.function([x, t], cost, updates=updates)
        predict = theano.function([x], T.argmax(forward(False), axis=1))

        first = float(train(X, y))
        for _ in range(150):
            last = float(train(X, y))
        acc = float((predict(X) == y).mean())
        # the same forward pass in NumPy, with the trained weights
        W1, b1, W2, b2 = [p.get_value() for p in params]
        ref = np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)
        print(json.dumps({"first": first, "last": last, "acc": acc,
                          "same": bool((predict(X) == ref).all())}))
    """).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert res["last"] < 0.7 * res["first"]
    assert res["acc"] > 0.9
    assert res["same"]


def test_custom_local_optimizer_registered_with_register_specialize(run_theano):
    out = run_theano("""
        import numpy as np
        import theano
        import theano.tensor as T
        from theano import gof
        from theano.tensor.opt import register_specialize

        class Double(gof.Op):
            __props__ = ()

            def make_node(self, x):
                x = T.as_tensor_variable(x)
                return gof.Apply(self, [x], [x.type()])

            def perform(self, node, inputs, output_storage):
                output_storage[0][0] = inputs[0] * 2

        double = Double()

        @register_specialize
        @gof.local_optimizer([Double])
        def local_double_of_double(node):
            # double(double(x)) -> x * 4
            if isinstance(node.op, Double):
                inner = node.inputs[0].owner
                if inner is not None and isinstance(inner.op, Double):
                    return [inner.inputs[0] * 4]
            return False

        x = T.dvector('x')
        f = theano.function([x], double(double(x)))
        kinds = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
        v = np.array([1.0, -2.5])
        print(kinds.count('Double'), f(v).tolist() == (v * 4).tolist())
        g = theano.function([x], double(double(x)),
                            mode=theano.compile.mode.get_default_mode().excluding(
                                'local_double_of_double'))
        print([type(n.op).__name__ for n in g.maker.fgraph.toposort()].count('Double'))
    """).stdout.split()
    assert out == ["0", "True", "2"]


def test_cop_with_dtype_typedefs_runs_in_c(run_theano, tmp_path):
    (tmp_path / "scale_add.c").write_text("""\
#section support_code_apply
int APPLY_SPECIFIC(scale_add)(PyArrayObject* x, PyArrayObject* y, PyArrayObject** z)
{
    npy_intp n = PyArray_DIM(x, 0);
    npy_intp i;
    Py_XDECREF(*z);
    *z = (PyArrayObject*)PyArray_EMPTY(1, &n, TYPENUM_OUTPUT_0, 0);
    if (*z == NULL) return 1;
    for (i = 0; i < n; i++) {
        ((DTYPE_OUTPUT_0*)PyArray_DATA(*z))[i] =
            3 * *(DTYPE_INPUT_0*)PyArray_GETPTR1(x, i) + *(DTYPE_INPUT_1*)PyArray_GETPTR1(y, i);
    }
    return 0;
}
""")
    out = run_theano("""
        import numpy as np
        import theano
        import theano.tensor as T
        from theano import gof

        class ScaleAdd(gof.COp):
            __props__ = ()

            def __init__(self):
                gof.COp.__init__(self, ['scale_add.c'], 'APPLY_SPECIFIC(scale_add)')

            def make_node(self, x, y):
                x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
                return gof.Apply(self, [x, y], [x.type()])

            def perform(self, node, inputs, output_storage):
                raise RuntimeError('perform must not run: the C code should')

        class Square(gof.Op):
            __props__ = ()

            def make_node(self, x):
                x = T.as_tensor_variable(x)
                return gof.Apply(self, [x], [x.type()])

            def perform(self, node, inputs, output_storage):
                raise RuntimeError('perform must not run: the C code should')

            def c_code_cache_version(self):
                return (1,)

            def c_code(self, node, name, inp, out, sub):
                x, = inp
                z, = out
                return '''
                Py_XDECREF(%(z)s);
                %(z)s = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(%(x)s), PyArray_DIMS(%(x)s),
                                                      type_num_%(z)s, 0);
                if (!%(z)s) %(fail)s;
                if (itemsize_%(x)s != sizeof(dtype_%(x)s)) {
                    PyErr_SetString(PyExc_RuntimeError, "itemsize"); %(fail)s;
                }
                {
                    npy_intp i, n = PyArray_SIZE(%(x)s);
                    dtype_%(x)s* a = (dtype_%(x)s*)PyArray_DATA(%(x)s);
                    dtype_%(z)s* b = (dtype_%(z)s*)PyArray_DATA(%(z)s);
                    for (i = 0; i < n; i++) b[i] = a[i] * a[i];
                }
                ''' % dict(x=x, z=z, fail=sub['fail'])

        for dt in ['float64', 'float32', 'int32', 'int64']:
            x = T.vector('x', dtype=dt)
            y = T.vector('y', dtype=dt)
            f = theano.function([x, y], [ScaleAdd()(x, y), Square()(x)], mode='FAST_RUN')
            a = np.arange(5).astype(dt)
            b = (np.arange(5) * 7).astype(dt)
            r1, r2 = f(a, b)
            print(dt, r1.dtype == dt, r1.tolist() == (3 * a + b).tolist(),
                  r2.tolist() == (a * a).tolist())
    """).stdout.split("\n")
    rows = [r.split() for r in out if r.strip()]
    assert len(rows) == 4
    for row in rows:
        assert row[1:] == ["True", "True", "True"], row


def test_typed_list_program(run_theano):
    out = run_theano("""
        import numpy as np
        import theano
        import theano.tensor as T
        import theano.typed_list as tl

        l = tl.TypedListType(T.dmatrix)()
        m = T.dmatrix('m')
        i = T.lscalar('i')
        out = [tl.length(tl.append(l, m)), tl.getitem(l, i).sum(), tl.reverse(l)[0],
               tl.count(l, m), tl.index_(l, m)]
        f = theano.function([l, m, i], out)
        mats = [np.full((2, 2), k, dtype='float64') for k in range(3)]
        n, s, first, c, idx = f(mats, mats[1], 2)
        print(int(n), float(s), first.tolist() == mats[2].tolist(), int(c), int(idx))
    """).stdout.split()
    assert out == ["4", "8.0", "True", "1", "1"]
