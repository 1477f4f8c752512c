"""A denoising autoencoder in the style of the classic Theano deep-learning tutorials.

The program is written as a Theano user writes it (``theano.shared``, ``T.nnet.sigmoid``,
``theano_rng.binomial`` for the corruption mask, ``theano.function`` with updates); only the
import lines name opcore.  It trains on scikit-learn's 8x8 digits scaled to [0, 1] and prints the
reconstruction cost per epoch.

Run: python examples/denoising_autoencoder.py [--epochs 15] [--corruption 0.3]
"""

from __future__ import annotations

import argparse

import numpy

import opcore as theano
import opcore.tensor as T
from opcore.tensor.shared_randomstreams import RandomStreams


def load_data():
    from sklearn.datasets import load_digits

    x = load_digits().data / 16.0
    return theano.shared(numpy.asarray(x, dtype=theano.config.floatX), borrow=True)


class dA(object):
    """Tied-weight denoising autoencoder: corrupt, encode, decode, cross-entropy cost."""

    def __init__(self, numpy_rng, theano_rng=None, input=None, n_visible=64, n_hidden=32,
                 W=None, bhid=None, bvis=None):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        if not theano_rng:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))
        if not W:
            bound = 4 * numpy.sqrt(6. / (n_hidden + n_visible))
            initial_W = numpy.asarray(numpy_rng.uniform(low=-bound, high=bound,
                                                        size=(n_visible, n_hidden)),
                                      dtype=theano.config.floatX)
            W = theano.shared(value=initial_W, name='W', borrow=True)
        if not bvis:
            bvis = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX),
                                 borrow=True)
        if not bhid:
            bhid = theano.shared(value=numpy.zeros(n_hidden, dtype=theano.config.floatX),
                                 name='b', borrow=True)
        self.W = W
        self.b = bhid
        self.b_prime = bvis
        self.W_prime = self.W.T
        self.theano_rng = theano_rng
        if input is None:
            self.x = T.dmatrix(name='input')
        else:
            self.x = input
        self.params = [self.W, self.b, self.b_prime]

    def get_corrupted_input(self, input, corruption_level):
        # keep each input with probability 1 - corruption_level, zero it otherwise
        return self.theano_rng.binomial(size=input.shape, n=1, p=1 - corruption_level,
                                        dtype=theano.config.floatX) * input

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, corruption_level, learning_rate):
        tilde_x = self.get_corrupted_input(self.x, corruption_level)
        y = self.get_hidden_values(tilde_x)
        z = self.get_reconstructed_input(y)
        # cross-entropy of the reconstruction, summed over the visible units
        L = - T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        cost = T.mean(L)
        gparams = T.grad(cost, self.params)
        updates = [(param, param - learning_rate * gparam)
                   for param, gparam in zip(self.params, gparams)]
        return (cost, updates)


def test_dA(learning_rate=0.1, training_epochs=15, batch_size=20, corruption_level=0.3,
            n_hidden=32):
    train_set_x = load_data()
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    rng = numpy.random.RandomState(123)
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    da = dA(numpy_rng=rng, theano_rng=theano_rng, input=x, n_visible=64, n_hidden=n_hidden)
    cost, updates = da.get_cost_updates(corruption_level=corruption_level,
                                        learning_rate=learning_rate)
    train_da = theano.function(
        [index], cost, updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size]})
    costs = []
    for epoch in range(training_epochs):
        c = []
        for batch_index in range(n_train_batches):
            c.append(train_da(batch_index))
        costs.append(numpy.mean(c))
        print('Training epoch %d, cost %f' % (epoch, costs[-1]))
    return costs


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--corruption", type=float, default=0.3)
    a = ap.parse_args()
    test_dA(training_epochs=a.epochs, corruption_level=a.corruption)
