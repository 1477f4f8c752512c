"""The code snippets of the Theano tutorials in shared/reference, ported with import changes only.

Each test is one snippet, written the way a user porting Theano code writes it
(``import opcore as theano`` / ``import opcore.tensor as T``), and checks what the tutorial
prints against NumPy or against the tutorial's printed values.  Deviations from a verbatim
port are limited to: a local data set (``sklearn.datasets.load_digits``) instead of the
MNIST pickle, fewer training steps, ``time.perf_counter`` instead of the removed
``time.clock``, and a seeded random generator.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore as theano
import opcore.tensor as T
from opcore import function, pp, shared, tensor


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# -- theano-tutorial-1 ---------------------------------------------------------------------

def test_t1_add_two_dscalars():
    a = tensor.dscalar()
    b = tensor.dscalar()
    c = a + b
    f = theano.function([a, b], c)
    assert 4.0 == f(1.5, 2.5)


def test_t1_named_float32_scalars_net_input():
    x = T.scalar(name='input', dtype='float32')
    w = T.scalar(name='weight', dtype='float32')
    b = T.scalar(name='bias', dtype='float32')
    z = w * x + b
    net_input = theano.function(inputs=[w, x, b], outputs=z)
    assert 'net_input: %2f' % net_input(2.0, 3.0, 0.5) == 'net_input: 6.500000'
    assert net_input(2.0, 3.0, 0.5).dtype == np.float32


def test_t1_builtin_and_custom_variable_types():
    x = T.scalar(name='input', dtype='float32')
    data = T.vector(name='data', dtype='float64')
    assert (x.name, x.dtype, x.ndim) == ('input', 'float32', 0)
    assert (data.name, data.dtype, data.broadcastable) == ('data', 'float64', (False,))
    # Theano's full signature, including sparse_grad (accepted, identity unchanged).
    mytype = T.TensorType('float64', broadcastable=(), name=None, sparse_grad=False)
    assert mytype == T.dscalar
    v = mytype('v')
    assert theano.function([v], v * 2)(1.25) == 2.5
    five_d = T.TensorType('float64', broadcastable=(False,) * 5)
    t = five_d('t')
    arr = np.arange(32.0).reshape(2, 2, 2, 2, 2)
    np.testing.assert_array_equal(theano.function([t], t.sum(axis=4))(arr), arr.sum(axis=4))


def test_t1_row_plus_matrix_broadcasting():
    r = T.row()
    assert r.broadcastable == (True, False)
    mtr = T.matrix()
    assert mtr.broadcastable == (False, False)
    f_row = theano.function([r, mtr], [r + mtr])
    R = np.arange(1, 3).reshape(1, 2)
    M = np.arange(1, 7).reshape(3, 2)
    out = f_row(R, M)
    assert isinstance(out, list) and len(out) == 1
    np.testing.assert_array_equal(out[0], [[2., 4.], [4., 6.], [6., 8.]])


def test_t1_shared_from_numpy_array():
    data = np.array([[1, 2], [3, 4]])
    shared_data = theano.shared(data)
    assert isinstance(shared_data, theano.compile.SharedVariable)
    assert shared_data.type.ndim == 2 and shared_data.dtype == str(data.dtype)
    np.testing.assert_array_equal(shared_data.get_value(), data)


def test_t1_graph_structure_owner_apply():
    x = T.dmatrix('x')
    y = T.dmatrix('y')
    z = x + y
    assert x.owner is None and y.owner is None
    node = z.owner
    assert node.inputs == [x, y] and node.outputs[0] is z
    assert x.type == T.dmatrix and z.type == T.dmatrix


def test_t1_fscalars_two_outputs():
    x, y = theano.tensor.fscalars('x', 'y')
    z1 = x + y
    z2 = x * y
    f = theano.function([x, y], [z1, z2])
    out = f(2, 3)
    # tutorial prints: [array(5.0, dtype=float32), array(6.0, dtype=float32)]
    assert [o.dtype for o in out] == [np.float32, np.float32]
    assert [float(o) for o in out] == [5.0, 6.0]


def test_t1_grad_of_logistic_at_3():
    x = theano.tensor.fscalar('x')
    y = 1 / (1 + theano.tensor.exp(-x))
    dx = theano.grad(y, x)
    f = theano.function([x], dx)
    s = _sigmoid(np.float64(3))
    # tutorial prints 0.045176658779382706 (a float32 result)
    np.testing.assert_allclose(f(3), s * (1 - s), rtol=1e-6)
    np.testing.assert_allclose(f(3), 0.045176658779382706, rtol=1e-6)


def test_t1_shared_update_w_plus_x():
    w = theano.shared(1)
    x = theano.tensor.iscalar('x')
    f = theano.function([x], w, updates=[[w, w + x]])
    assert f(3) == 1            # tutorial prints 1 ...
    assert w.get_value() == 4   # ... then 4


def _numpy_binary_lr(X, Y, w, b, steps, lr=0.1, l2=0.01):
    """Reference: full-batch gradient descent on the tutorial's logistic cost."""
    n = X.shape[0]
    errs = []
    for _ in range(steps):
        p = _sigmoid(X @ w + b)
        xent = -Y * np.log(p) - (1 - Y) * np.log(1 - p)
        errs.append(xent.mean())
        d = (p - Y) / n
        w, b = w - lr * (X.T @ d + 2 * l2 * w), b - lr * d.sum()
    return w, b, errs


def test_t1_logistic_regression_small():
    rng = np.random.RandomState(0)
    N = 10
    feats = 3
    D = (rng.randn(N, feats).astype(np.float32),
         rng.randint(size=N, low=0, high=2).astype(np.float32))
    x = T.matrix("x")
    y = T.vector("y")
    w0 = rng.randn(feats)
    w = theano.shared(w0, name="w")
    b = theano.shared(0., name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    prediction = p_1 > 0.5
    train = theano.function(inputs=[x, y], outputs=[prediction, xent],
                            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)
    errs = []
    for i in range(100):
        pred, err = train(D[0], D[1])
        errs.append(err.mean())
    X64, Y64 = D[0].astype(np.float64), D[1].astype(np.float64)
    w_ref, b_ref, errs_ref = _numpy_binary_lr(X64, Y64, w0, 0.0, 100)
    np.testing.assert_allclose(errs, errs_ref, rtol=1e-6)
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=1e-6)
    np.testing.assert_allclose(b.get_value(), b_ref, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(predict(D[0]), _sigmoid(X64 @ w_ref + b_ref) > 0.5)


def test_t1_switch_vs_lazy_ifelse():
    import time

    from opcore.ifelse import ifelse
    a, b = T.scalars('a', 'b')
    x, y = T.matrices('x', 'y')
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = theano.function([a, b, x, y], z_switch, mode=theano.Mode(linker='vm'))
    f_lazyifelse = theano.function([a, b, x, y], z_lazy, mode=theano.Mode(linker='vm'))
    big_mat1 = np.ones((1000, 100))
    big_mat2 = np.ones((1000, 100)) * 3
    tic = time.perf_counter()   # time.clock() no longer exists in Python 3
    for _ in range(3):
        assert f_switch(0., 1., big_mat1, big_mat2) == 1.0
        assert f_lazyifelse(0., 1., big_mat1, big_mat2) == 1.0
        assert f_switch(1., 0., big_mat1, big_mat2) == 3.0
        assert f_lazyifelse(1., 0., big_mat1, big_mat2) == 3.0
    assert time.perf_counter() - tic >= 0


def test_t1_ifelse_evaluates_one_branch_only():
    """What the timing comparison is about: ifelse under the VM skips the other branch."""
    from opcore.ifelse import ifelse

    calls = []

    class Count(theano.Op):
        __props__ = ("tag",)

        def __init__(self, tag):
            self.tag = tag

        def make_node(self, v):
            v = T.as_tensor_variable(v)
            return theano.Apply(self, [v], [v.type()])

        def perform(self, node, inputs, out):
            calls.append(self.tag)
            out[0][0] = inputs[0].copy()

    a, b = T.scalars('a', 'b')
    x, y = T.matrices('x', 'y')
    z = ifelse(T.lt(a, b), Count("x")(x).mean(), Count("y")(y).mean())
    f = theano.function([a, b, x, y], z, mode=theano.Mode(linker='vm'))
    assert f(0., 1., np.ones((2, 2)), np.zeros((2, 2))) == 1.0
    assert calls == ["x"]
    del calls[:]
    assert f(1., 0., np.ones((2, 2)), np.zeros((2, 2))) == 0.0
    assert calls == ["y"]


def test_t1_scan_polynomial_terms():
    def one_step(coef, power, x):
        return coef * x ** power

    coefs = T.ivector()
    powers = T.ivector()
    x = T.iscalar()
    result, updates = theano.scan(fn=one_step, sequences=[coefs, powers],
                                  outputs_info=None, non_sequences=x)
    f_poly = theano.function([x, coefs, powers], result, allow_input_downcast=True)
    coef_val = np.array([2, 3, 4, 6, 5])
    power_val = np.array([0, 1, 2, 3, 4])
    x_val = 10
    np.testing.assert_array_equal(f_poly(x_val, coef_val, power_val),
                                  [2, 30, 400, 6000, 50000])
    f_poly = theano.function([x, coefs, powers], result.sum(), allow_input_downcast=True)
    assert f_poly(x_val, coef_val, power_val) == 56432 == (coef_val * 10 ** power_val).sum()


def test_t1_scan_sequences_of_different_lengths_truncate():
    """As in Theano: the loop runs over the shortest sequence."""
    coefs = T.ivector()
    powers = T.ivector()
    x = T.iscalar()
    result, _ = theano.scan(lambda c, p, x: c * x ** p, sequences=[coefs, powers],
                            non_sequences=x)
    f = theano.function([x, coefs, powers], result)
    c, p = np.arange(5, dtype='int32'), np.arange(3, dtype='int32')
    np.testing.assert_array_equal(f(10, c, p), c[:3] * 10 ** p)


def test_t1_shared_accumulator():
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    accumulator(1)
    assert state.get_value() == 1


# -- theano-tutorial-2 (LR / MLP) -----------------------------------------------------------

def test_t2_adding_two_scalars_and_types():
    x = T.dscalar('x')
    y = T.dscalar('y')
    z = x + y
    f = function([x, y], z)
    out = f(2, 3)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out == 5.0
    assert type(x).__name__ == 'TensorVariable'
    assert str(x.type) == 'TensorType(float64, scalar)' == str(T.dscalar)
    assert x.type is T.dscalar


def test_t2_logistic_function_and_tanh_identity():
    x = T.dmatrix('x')
    s = 1 / (1 + T.exp(-x))
    logistic = theano.function([x], s)
    vals = [[0, 1], [-1, -2]]
    expect = [[0.5, 0.73105858], [0.26894142, 0.11920292]]
    np.testing.assert_allclose(logistic(vals), expect, rtol=1e-7)
    s2 = (1 + T.tanh(x / 2)) / 2
    logistic2 = theano.function([x], s2)
    np.testing.assert_allclose(logistic2(vals), expect, rtol=1e-7)
    np.testing.assert_allclose(logistic2(vals), _sigmoid(np.array(vals, float)), rtol=1e-12)


def test_t2_accumulator_set_value_decrementor_givens():
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    assert accumulator(1) == 0
    assert state.get_value() == 1
    assert accumulator(300) == 1
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1
    assert state.get_value() == 2
    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert decrementor(2) == 2
    assert state.get_value() == 0
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0


def test_t2_grad_of_square_and_pp():
    x = T.dscalar('x')
    y = x ** 2
    gy = T.grad(y, x)
    text = pp(gy)
    # Theano: '((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2})
    #          * (x ** (TensorConstant{2} - TensorConstant{1})))'
    assert text.startswith('((fill((x ** TensorConstant{2')
    assert '(x ** (TensorConstant{2' in text
    f = theano.function([x], gy)
    assert f(4) == 8.0
    assert np.allclose(f(94.2), 188.4)


def test_t2_a_plus_a_pow_10():
    a = theano.tensor.vector("a")
    b = a + a ** 10
    f = theano.function([a], b)
    np.testing.assert_array_equal(f([0, 1, 2]), [0., 2., 1026.])


def test_t2_pydotprint_needs_graphviz(tmp_path):
    a = theano.tensor.vector("a")
    b = a + a ** 10
    f = theano.function([a], b)
    try:
        import graphviz  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="graphviz"):
            theano.printing.pydotprint(b, outfile=str(tmp_path / "unopt.png"),
                                       var_with_name_simple=True)
        return
    for g, name in ((b, "unopt.png"), (f, "opt.png")):
        try:
            theano.printing.pydotprint(g, outfile=str(tmp_path / name),
                                       var_with_name_simple=True)
        except Exception as exc:  # the python package without the 'dot' program
            pytest.skip(f"graphviz 'dot' program unavailable: {exc}")
        assert (tmp_path / name).stat().st_size > 0


def test_t2_binary_lr_400_samples():
    rng = np.random.RandomState(1)
    N = 400
    feats = 784
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    training_steps = 20
    x = T.dmatrix("x")
    y = T.dvector("y")
    w0 = rng.randn(feats)
    w = theano.shared(w0, name="w")
    b = theano.shared(0., name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theano.function(inputs=[x, y], outputs=[prediction, xent],
                            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)
    for i in range(training_steps):
        pred, err = train(D[0], D[1])
    assert np.all(np.isfinite(err))
    with np.errstate(over='ignore', divide='ignore', invalid='ignore'):
        w_ref, b_ref, _ = _numpy_binary_lr(D[0], D[1].astype(float), w0, 0.0,
                                           training_steps)
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.get_value(), b_ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(predict(D[0]), D[0] @ w_ref + b_ref > 0)


class LogisticRegression(object):
    """The tutorial's multi-class logistic regression class, unchanged."""

    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(value=np.zeros((n_in, n_out), dtype=theano.config.floatX),
                               name='W', borrow=True)
        self.b = theano.shared(value=np.zeros((n_out,), dtype=theano.config.floatX),
                               name='b', borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError('y should have the same shape as self.y_pred',
                            ('y', y.type, 'y_pred', self.y_pred.type))
        if y.dtype.startswith('int'):
            return T.mean(T.neq(self.y_pred, y))
        else:
            raise NotImplementedError()


def _load_digits_as_shared():
    """load_data() of the tutorial with sklearn's 8x8 digits instead of mnist.pkl.gz."""
    datasets = pytest.importorskip("sklearn.datasets",
                                   reason="the local data set ships with scikit-learn")
    digits = datasets.load_digits()
    X = digits.data / 16.0
    y = digits.target
    splits = [(X[:1200], y[:1200]), (X[1200:1500], y[1200:1500]), (X[1500:], y[1500:])]

    def shared_dataset(data_xy, borrow=True):
        data_x, data_y = data_xy
        shared_x = theano.shared(np.asarray(data_x, dtype=theano.config.floatX),
                                 borrow=borrow)
        shared_y = theano.shared(np.asarray(data_y, dtype=theano.config.floatX),
                                 borrow=borrow)
        return shared_x, T.cast(shared_y, 'int32')

    return [shared_dataset(s) for s in splits], splits


def test_t2_sgd_optimization_digits_givens_and_pickle():
    datasets, raw = _load_digits_as_shared()
    (train_set_x, train_set_y), (valid_set_x, valid_set_y), (test_set_x, test_set_y) = datasets
    learning_rate, batch_size, n_epochs = 0.13, 100, 3
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    y = T.ivector('y')
    classifier = LogisticRegression(input=x, n_in=8 * 8, n_out=10)
    cost = classifier.negative_log_likelihood(y)
    validate_model = theano.function(
        inputs=[index], outputs=classifier.errors(y),
        givens={x: valid_set_x[index * batch_size: (index + 1) * batch_size],
                y: valid_set_y[index * batch_size: (index + 1) * batch_size]})
    g_W = T.grad(cost=cost, wrt=classifier.W)
    g_b = T.grad(cost=cost, wrt=classifier.b)
    updates = [(classifier.W, classifier.W - learning_rate * g_W),
               (classifier.b, classifier.b - learning_rate * g_b)]
    train_model = theano.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size],
                y: train_set_y[index * batch_size: (index + 1) * batch_size]})

    # NumPy reference of the same minibatch SGD
    Xtr, ytr = raw[0]
    W_ref = np.zeros((64, 10))
    b_ref = np.zeros(10)
    costs, costs_ref = [], []
    for epoch in range(n_epochs):
        for i in range(n_train_batches):
            costs.append(float(train_model(i)))
            xb = Xtr[i * batch_size:(i + 1) * batch_size]
            yb = ytr[i * batch_size:(i + 1) * batch_size]
            z = xb @ W_ref + b_ref
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            costs_ref.append(-np.mean(np.log(p[np.arange(len(yb)), yb])))
            d = p.copy()
            d[np.arange(len(yb)), yb] -= 1
            d /= len(yb)
            W_ref -= learning_rate * xb.T @ d
            b_ref -= learning_rate * d.sum(0)
    np.testing.assert_allclose(costs[0], np.log(10))
    np.testing.assert_allclose(costs, costs_ref, rtol=1e-7)
    np.testing.assert_allclose(classifier.W.get_value(), W_ref, rtol=1e-7, atol=1e-12)
    Xv, yv = raw[1]
    errs = [validate_model(i) for i in range(n_valid_batches)]
    ref_err = np.mean(np.argmax(Xv @ W_ref + b_ref, 1) != yv)
    np.testing.assert_allclose(np.mean(errs), ref_err)
    assert np.mean(errs) < 0.2

    # predict(): pickle the classifier, reload, compile from classifier.input
    restored = pickle.loads(pickle.dumps(classifier))
    predict_model = theano.function(inputs=[restored.input], outputs=restored.y_pred)
    test_x = test_set_x.get_value()
    np.testing.assert_array_equal(predict_model(test_x[:10]),
                                  np.argmax(test_x[:10] @ W_ref + b_ref, axis=1))


def test_t2_errors_checks_y():
    x = T.matrix('x')
    classifier = LogisticRegression(input=x, n_in=3, n_out=2)
    with pytest.raises(TypeError, match="same shape"):
        classifier.errors(T.imatrix('y'))
    with pytest.raises(NotImplementedError):
        classifier.errors(T.dvector('y'))
    y = T.ivector('y')
    f = theano.function([x, y], classifier.errors(y))
    assert f(np.ones((4, 3)), np.array([0, 1, 0, 1], dtype='int32')) == 0.5


# -- theano-tutorial-3 ----------------------------------------------------------------------

def test_t3_optimized_gradient_graph_is_two_times_x():
    x = T.dscalar('x')
    y = x ** 2
    gy = T.grad(y, x)
    f = theano.function([x], gy)
    assert f(4) == 8.0
    # Theano prints '(2.0 * x)'; opcore prints the constant with its type tag.
    out = f.maker.fgraph.outputs[0]
    assert pp(out) == '(TensorConstant{2.0} * x)'
    assert len(f.maker.fgraph.apply_nodes) == 1


# -- op-guide (Python part) -----------------------------------------------------------------

class AXPBOp(theano.Op):
    """The op guide's a*x+b Op, unchanged."""
    __props__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b
        super(AXPBOp, self).__init__()

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = self.a * x + self.b

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [self.a * output_grads[0]]


def test_op_guide_axpb_forward_props_and_printing():
    mult4plus5op = AXPBOp(4, 5)
    x = theano.tensor.matrix()
    y = mult4plus5op(x)
    f = theano.function([x], y)
    v = np.random.RandomState(0).rand(3, 2)
    np.testing.assert_allclose(f(v), 4 * v + 5)
    mult4plus5op2 = AXPBOp(4, 5)
    assert mult4plus5op == mult4plus5op2
    assert hash(mult4plus5op) == hash(mult4plus5op2)
    assert mult4plus5op != AXPBOp(4, 6)
    assert 'AXPBOp{a=4, b=5}' in theano.printing.pprint(y)
    assert str(mult4plus5op) == 'AXPBOp{a=4, b=5}'


def test_op_guide_axpb_grad_and_shape():
    x = theano.tensor.matrix()
    y = AXPBOp(4, 5)(x)
    dy = theano.tensor.grad(y.sum(), x)
    assert 'AXPBOp{a=4, b=5}' in theano.printing.pprint(dy)
    df = theano.function([x], dy)
    v = np.random.RandomState(1).rand(3, 2)
    np.testing.assert_array_equal(df(v), np.full((3, 2), 4.0))
    # as in the guide's debugprint: the optimised gradient is an Alloc of 4 over x's
    # shape, AXPBOp itself is no longer computed.
    ops = [type(n.op).__name__ for n in df.maker.fgraph.toposort()]
    assert 'AXPBOp' not in ops and 'Alloc' in ops
    theano.gradient.verify_grad(AXPBOp(4, 5), [v], rng=np.random.RandomState(0))
    # infer_shape lets y.shape skip the op
    fs = theano.function([x], y.shape)
    np.testing.assert_array_equal(fs(v), [3, 2])
    assert all(not isinstance(n.op, AXPBOp) for n in fs.maker.fgraph.apply_nodes)


def test_op_guide_axpb_inside_larger_graph():
    x = theano.tensor.matrix()
    y = AXPBOp(4, 5)(2 * x) + 4 * x
    f = theano.function([x], y)
    v = np.random.RandomState(2).rand(4, 3)
    np.testing.assert_allclose(f(v), 4 * (2 * v) + 5 + 4 * v)


def test_op_guide_itypes_otypes():
    class AXPBTyped(theano.Op):
        __props__ = ("a", "b")
        itypes = [theano.tensor.dmatrix]
        otypes = [theano.tensor.dmatrix]

        def __init__(self, a, b):
            self.a = a
            self.b = b
            super().__init__()

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = self.a * inputs[0] + self.b

    x = theano.tensor.dmatrix()
    f = theano.function([x], AXPBTyped(2, 1)(x))
    np.testing.assert_array_equal(f(np.ones((2, 2))), np.full((2, 2), 3.0))
    with pytest.raises(TypeError, match="float64"):
        AXPBTyped(2, 1)(theano.tensor.fmatrix())


def test_theano_sandbox_rng_mrg_is_provided():
    """Of Theano's sandbox, ``rng_mrg`` (MRG_RandomStreams) is provided; the old CUDA backend
    (``theano.sandbox.cuda``) is not."""
    from opcore.sandbox.rng_mrg import MRG_RandomStreams  # noqa: F401

    with pytest.raises(ImportError):
        import opcore.sandbox.cuda  # noqa: F401


def test_theano_gpuarray_module_reports_no_gpu_on_cpu():
    """``theano.gpuarray`` (the new GPU backend's module) is provided and reports no GPU in use
    on a CPU device."""
    import opcore.gpuarray

    assert opcore.gpuarray.pygpu_activated is False
