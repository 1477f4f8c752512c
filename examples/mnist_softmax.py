"""The Theano tutorial's softmax (logistic) regression, ported with ``import opcore as theano``.

Only the data source changed: scikit-learn's 8x8 digits (offline) instead of the MNIST pickle.
The model, cost, gradients, ``givens`` minibatches and early-stopping loop are the tutorial's.

    python examples/mnist_softmax.py
"""

from __future__ import annotations

import timeit

import numpy

import opcore as theano
import opcore.tensor as T


class LogisticRegression:
    """Multi-class logistic regression: ``p(y | x) = softmax(x W + b)``."""

    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(numpy.zeros((n_in, n_out), dtype=theano.config.floatX),
                               name="W", borrow=True)
        self.b = theano.shared(numpy.zeros((n_out,), dtype=theano.config.floatX),
                               name="b", borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        """Mean negative log-likelihood of the labels ``y`` (fused and stabilised by rewrites)."""
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        """Fraction of the minibatch that is misclassified."""
        if y.ndim != self.y_pred.ndim:
            raise TypeError("y should have the same shape as self.y_pred",
                            ("y", y.type, "y_pred", self.y_pred.type))
        if y.dtype.startswith("int"):
            return T.mean(T.neq(self.y_pred, y))
        raise NotImplementedError()


def load_data():
    """Train/valid/test splits of the digits as shared variables (the tutorial's layout)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data / 16.0
    y = d.target
    perm = numpy.random.default_rng(0).permutation(len(y))
    parts = numpy.split(perm, [1100, 1400])

    def shared_dataset(idx, borrow=True):
        shared_x = theano.shared(numpy.asarray(x[idx], dtype=theano.config.floatX), borrow=borrow)
        shared_y = theano.shared(numpy.asarray(y[idx], dtype=theano.config.floatX), borrow=borrow)
        return shared_x, T.cast(shared_y, "int32")

    return [shared_dataset(p) for p in parts]


def sgd_optimization(learning_rate=0.5, n_epochs=60, batch_size=50):
    datasets = load_data()
    train_set_x, train_set_y = datasets[0]
    valid_set_x, valid_set_y = datasets[1]
    test_set_x, test_set_y = datasets[2]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0] // batch_size
    n_test_batches = test_set_x.get_value(borrow=True).shape[0] // batch_size

    print("... building the model")
    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")
    classifier = LogisticRegression(input=x, n_in=8 * 8, n_out=10)
    cost = classifier.negative_log_likelihood(y)

    def batch(data):
        return data[index * batch_size: (index + 1) * batch_size]

    test_model = theano.function([index], classifier.errors(y),
                                 givens={x: batch(test_set_x), y: batch(test_set_y)})
    validate_model = theano.function([index], classifier.errors(y),
                                     givens={x: batch(valid_set_x), y: batch(valid_set_y)})
    g_W = T.grad(cost=cost, wrt=classifier.W)
    g_b = T.grad(cost=cost, wrt=classifier.b)
    updates = [(classifier.W, classifier.W - learning_rate * g_W),
               (classifier.b, classifier.b - learning_rate * g_b)]
    train_model = theano.function([index], cost, updates=updates,
                                  givens={x: batch(train_set_x), y: batch(train_set_y)})

    print("... training the model")
    patience, patience_increase, improvement_threshold = 2000, 2, 0.995
    validation_frequency = min(n_train_batches, patience // 2)
    best_validation_loss = numpy.inf
    test_score = 0.0
    start_time = timeit.default_timer()
    done_looping = False
    epoch = 0
    while epoch < n_epochs and not done_looping:
        epoch += 1
        for minibatch_index in range(n_train_batches):
            train_model(minibatch_index)
            it = (epoch - 1) * n_train_batches + minibatch_index
            if (it + 1) % validation_frequency == 0:
                this_validation_loss = numpy.mean([validate_model(i)
                                                   for i in range(n_valid_batches)])
                print(f"epoch {epoch}, minibatch {minibatch_index + 1}/{n_train_batches}, "
                      f"validation error {this_validation_loss * 100:f} %")
                if this_validation_loss < best_validation_loss:
                    if this_validation_loss < best_validation_loss * improvement_threshold:
                        patience = max(patience, it * patience_increase)
                    best_validation_loss = this_validation_loss
                    test_score = numpy.mean([test_model(i) for i in range(n_test_batches)])
                    print(f"     epoch {epoch}, minibatch {minibatch_index + 1}/"
                          f"{n_train_batches}, test error of best model {test_score * 100:f} %")
            if patience <= it:
                done_looping = True
                break
    end_time = timeit.default_timer()
    print(f"Optimization complete with best validation score of {best_validation_loss * 100:f} %,"
          f" with test performance {test_score * 100:f} %")
    print(f"The code run for {epoch} epochs, with {epoch / (end_time - start_time):f} epochs/sec")
    return best_validation_loss, test_score


if __name__ == "__main__":
    sgd_optimization()
