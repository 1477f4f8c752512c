"""Theano's ``MRG_RandomStreams``: MRG31k3p streams whose state is a shared int32 matrix.

Same names, signatures and numbers as ``theano.sandbox.rng_mrg``: for a given seed and stream
layout (``nstreams``, order of the calls) the draws equal Theano's, which were checked against the
Java reference of L'Ecuyer et al. (``tests/sandbox/test_rng_mrg.py`` compares against those
published samples).  The generator itself is in :mod:`opcore.sandbox.mrg31k3p`.

>>> import opcore
>>> from opcore.sandbox.rng_mrg import MRG_RandomStreams
>>> srng = MRG_RandomStreams(seed=12345)
>>> f = opcore.function([], srng.uniform(size=(2, 3)))
>>> f().shape
(2, 3)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from opcore.compile.sharedvalue import shared
from opcore.config import config
from opcore.graph.basic import Variable
from opcore.sandbox import multinomial
from opcore.tensor.random.mrg31k3p import (A1p72, A1p134, A2p72, A2p134, M1, M2, NORM,  # noqa: F401
                                     ff_2p72, ff_2p134, matVecModM, multMatVect,
                                     substream_states, uniform_draws)
from opcore.tensor import basic as TB
from opcore.tensor import math as TM
from opcore.tensor.shape import join, reshape
from opcore.tensor.basic import as_tensor_variable, cast
from opcore.tensor.random.mrg import mrg_uniform
from opcore.tensor.random.op import shape_vector, undefined_grad


#: Theano's name for the op family (GPU variants subclass it)
mrg_uniform_base = mrg_uniform


def guess_n_streams(size, warn: bool = False) -> int:
    """Theano's choice of stream count: ``prod(size) // 6`` (if more than 6 draws) capped at
    60 * 256 for a size of Python ints; 60 * 256 otherwise."""
    if isinstance(size, (tuple, list)) and all(isinstance(i, (int, np.integer)) for i in size):
        r = 1
        for s in size:
            r *= int(s)
        if r > 6:
            r = r // 6
        return min(r, 60 * 256)
    if warn:
        warnings.warn(f"MRG_RandomStreams can't determine #streams from size ({size}), "
                      "guessing 60*256", stacklevel=3)
    return 60 * 256


def _check_seed(seed) -> np.ndarray:
    if isinstance(seed, (int, np.integer)):
        if seed == 0:
            raise ValueError("seed should not be 0", seed)
        if seed >= M2:
            raise ValueError(f"seed should be less than {int(M2)}", seed)
        if seed < 0:
            raise ValueError("seed should be positive", seed)
        return np.asarray([seed] * 6, dtype="int32")
    if isinstance(seed, (list, tuple, np.ndarray)) and len(seed) == 6:
        if seed[0] == 0 and seed[1] == 0 and seed[2] == 0:
            raise ValueError("The first 3 values of seed should not be all 0", seed)
        if seed[3] == 0 and seed[4] == 0 and seed[5] == 0:
            raise ValueError("The last 3 values of seed should not be all 0", seed)
        if any(s >= M1 for s in seed[:3]):
            raise ValueError(f"The first 3 values of seed should be less than {int(M1)}", seed)
        if any(s >= M2 for s in seed[3:]):
            raise ValueError(f"The last 3 values of seed should be less than {int(M2)}", seed)
        return np.asarray(seed, dtype="int32")
    raise TypeError("seed should be 1 integer or 6 integers")


def _check_size(size) -> Variable:
    """``size`` (int, tuple/list of ints and scalars, or int vector) as an int64 vector."""
    if isinstance(size, Variable):
        if size.ndim == 1:
            return size
        if size.ndim == 0:
            return shape_vector([size])
        raise ValueError("a size variable must have 1 dimension", size)
    if isinstance(size, (int, np.integer)):
        size = (size,)
    if not isinstance(size, (tuple, list)):
        raise ValueError("size must be an int, a tuple, a list or a variable", size)
    for i in size:
        if isinstance(i, Variable):
            if i.ndim != 0:
                raise ValueError("non-scalar variable in size", size, i)
        elif isinstance(i, (int, np.integer)):
            if i <= 0:
                raise ValueError("non-positive dimensions are not allowed in size", size, i)
        else:
            raise ValueError("only variables and integers are allowed in a size tuple", size, i)
    return shape_vector(tuple(size))


class MRG_RandomStreams:
    """MRG31k3p random streams with the interface of ``numpy.random.RandomState``.

    ``seed``: an int in [1, 2147462579) (replicated 6 times) or 6 ints (the first 3 below
    2147483647 and not all 0, the last 3 below 2147462579 and not all 0).  Each draw gets a
    shared ``(nstreams, 6)`` int32 state whose rows start consecutive substreams (2^72 apart);
    after each draw the stream's state jumps 2^134 ahead (:meth:`inc_rstate`).  The state's
    ``default_update`` advances it on every call of a compiled function.
    """

    def __init__(self, seed: Any = 12345) -> None:
        self.state_updates: list = []
        self.default_instance_seed = seed
        self.set_rstate(seed)

    def updates(self) -> list:
        return list(self.state_updates)

    def set_rstate(self, seed) -> None:
        self.rstate = _check_seed(seed)

    def seed(self, seed=None) -> None:
        """Re-initialise every stream made so far from ``seed`` (default: the constructor's),
        in the order they were made, exactly as a fresh ``MRG_RandomStreams(seed)`` would."""
        if seed is None:
            seed = self.default_instance_seed
        self.set_rstate(seed)
        for old_r, new_r, size, nstreams in self.state_updates:
            if nstreams is None:
                nstreams = self.n_streams(size)
            rstates = self.get_substream_rstates(nstreams, new_r.owner.outputs[1].dtype)
            old_r.set_value(rstates, borrow=True)

    def inc_rstate(self) -> None:
        """Move ``self.rstate`` 2^134 steps ahead, to the start of the next stream."""
        self.rstate = ff_2p134(self.rstate)

    def get_substream_rstates(self, n_streams: int, dtype: str, inc_rstate: bool = True):
        """``(n_streams, 6)`` int32 states starting at ``self.rstate``, 2^72 steps apart; then
        (``inc_rstate``) jump ``self.rstate`` to the next stream."""
        if not isinstance(dtype, str):
            raise TypeError(f"dtype must be a string, got {dtype!r}")
        n_streams = int(n_streams)
        if not 0 < n_streams < 2 ** 72:
            raise ValueError(f"n_streams must be in [1, 2**72), got {n_streams}")
        rval = substream_states(self.rstate, n_streams)
        if inc_rstate:
            self.inc_rstate()
        return rval

    def n_streams(self, size) -> int:
        return guess_n_streams(size)

    def pretty_return(self, node_rstate, new_rstate, sample, size, nstreams):
        sample.tag.rstate = node_rstate
        sample.tag.update = (node_rstate, new_rstate)
        self.state_updates.append((node_rstate, new_rstate, size, nstreams))
        node_rstate.default_update = new_rstate
        return sample

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None,
                **kwargs) -> Variable:
        """Draws uniform in (low, high), shape ``size``; ``dtype`` defaults to the upcast of
        floatX, low and high.  ``nstreams`` defaults to :func:`guess_n_streams`."""
        low = as_tensor_variable(low)
        high = as_tensor_variable(high)
        if dtype is None:
            dtype = np.result_type(config.floatX, low.dtype, high.dtype).name
        low = undefined_grad(cast(low, dtype), "low")
        high = undefined_grad(cast(high, dtype), "high")
        if isinstance(size, (tuple, list)):
            if not all(isinstance(i, (np.integer, int, Variable)) for i in size):
                raise TypeError("size must be a tuple of int or a variable")
            if any(isinstance(i, (np.integer, int)) and i <= 0 for i in size):
                raise ValueError("The specified size contains a dimension with value <= 0", size)
        elif not (isinstance(size, Variable) and size.ndim == 1):
            raise TypeError(f"size must be a tuple of int or a variable with 1 dimension, got "
                            f"{size} of type {type(size)}")
        orig_nstreams = nstreams
        if nstreams is None:
            nstreams = self.n_streams(size)
        rstates = self.get_substream_rstates(nstreams, dtype)
        d = {}
        if "target" in kwargs:
            d = dict(target=kwargs.pop("target"))
        if kwargs:
            raise TypeError(f"uniform() got unexpected keyword arguments {sorted(kwargs)}")
        node_rstate = shared(rstates, **d)
        node_rstate.tag.is_rng = True
        new_r, u = mrg_uniform.new(node_rstate, ndim, dtype, size)
        u = self.pretty_return(node_rstate, new_r, u, size=size, nstreams=orig_nstreams)
        r = u * (high - low) + low
        if u.type.broadcastable != r.type.broadcastable:
            raise NotImplementedError("Increase the size to match the broadcasting pattern of "
                                      "`low` and `high` arguments")
        return r

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None,
                 **kwargs) -> Variable:
        """``n == 1`` only (Theano's limit): ``cast(uniform(size) < p, dtype)``."""
        if n != 1:
            raise NotImplementedError("MRG_RandomStreams.binomial with n > 1")
        p = undefined_grad(as_tensor_variable(p), "p")
        x = self.uniform(size=size, nstreams=nstreams, **kwargs)
        return cast(TM.lt(x, p), dtype)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                    nstreams=None, **kwargs) -> Variable:
        """Counts of ``n`` draws per row of the matrix ``pvals`` (shape of ``pvals``)."""
        if pvals is None:
            raise TypeError("You have to specify pvals")
        pvals = undefined_grad(as_tensor_variable(pvals), "pvals")
        if size is not None:
            raise ValueError("Provided a size argument to MRG_RandomStreams.multinomial, which "
                             "does not use the size argument.")
        if ndim is not None:
            raise ValueError("Provided an ndim argument to MRG_RandomStreams.multinomial, which "
                             "does not use the ndim argument.")
        if pvals.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.multinomial only implemented for "
                                      "pvals.ndim = 2")
        size = pvals[:, 0].shape * n
        unis = self.uniform(size=size, ndim=1, nstreams=nstreams, **kwargs)
        return multinomial.MultinomialFromUniform(dtype)(pvals, unis, as_tensor_variable(n))

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64",
               nstreams=None, **kwargs) -> Variable:
        """``size`` indices per row of the matrix ``p``, without replacement (the only mode
        Theano implements: ``replace=True`` raises ``NotImplementedError``); shape
        ``(p.shape[0], size)``."""
        if replace:
            raise NotImplementedError("MRG_RandomStreams.choice only works without replacement "
                                      "for now.")
        if a is not None:
            raise TypeError("For now, a has to be None in MRG_RandomStreams.choice. Sampled "
                            "values are between 0 and p.shape[1]-1")
        if p is None:
            raise TypeError("For now, p has to be specified in MRG_RandomStreams.choice.")
        p = undefined_grad(as_tensor_variable(p), "p")
        if ndim is not None:
            raise ValueError("ndim argument to MRG_RandomStreams.choice is not used.")
        if p.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.choice is only implemented for "
                                      "p.ndim = 2")
        shape = p[:, 0].shape * size
        unis = self.uniform(size=shape, ndim=1, nstreams=nstreams, **kwargs)
        return multinomial.ChoiceFromUniform(odtype=dtype)(p, unis, as_tensor_variable(size))

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                                   nstreams=None, **kwargs) -> Variable:
        """Deprecated in Theano: ``choice(size=n, replace=False, p=pvals)``."""
        warnings.warn("MRG_RandomStreams.multinomial_wo_replacement() is deprecated; use "
                      "MRG_RandomStreams.choice() instead.", DeprecationWarning, stacklevel=2)
        if size is not None:
            raise ValueError("multinomial_wo_replacement does not use size; give n")
        return self.choice(size=n, a=None, replace=False, p=pvals, dtype=dtype,
                           nstreams=nstreams, ndim=ndim, **kwargs)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
               truncate=False, **kwargs) -> Variable:
        """Normal draws by the Box-Muller transform of uniform pairs (as Theano): the first
        half of ``ceil(n/2)*2`` uniforms gives radii, the second half angles.  ``truncate``:
        values beyond 2 standard deviations are redrawn (radius from uniforms in
        [e^-2, 1))."""
        size = _check_size(size)
        avg = undefined_grad(as_tensor_variable(avg), "avg")
        std = undefined_grad(as_tensor_variable(std), "std")
        if dtype is None:
            dtype = np.result_type(config.floatX, avg.dtype, std.dtype).name
        avg = cast(avg, dtype)
        std = cast(std, dtype)
        n_odd = TM.prod(size, dtype="int64")
        n_even = n_odd + n_odd % 2
        uniform = self.uniform((n_even,), low=0.0, high=1.0, ndim=1, dtype=dtype,
                               nstreams=nstreams, **kwargs)
        half = n_even // 2
        u1 = uniform[:half]
        u2 = uniform[half:]
        r = TM.sqrt(-2.0 * TM.log(u1))
        theta = np.array(2.0 * np.pi, dtype=dtype) * u2
        cos_theta, sin_theta = TM.cos(theta), TM.sin(theta)
        z0 = r * cos_theta
        z1 = r * sin_theta
        if truncate:
            to_fix0 = TM.or_(TM.lt(z0, -2.0), TM.gt(z0, 2.0))
            to_fix1 = TM.or_(TM.lt(z1, -2.0), TM.gt(z1, 2.0))
            z0_valid = z0[TM.nonzero(TM.invert(to_fix0))]
            z1_valid = z1[TM.nonzero(TM.invert(to_fix1))]
            fix0 = TM.nonzero(to_fix0)[0]
            fix1 = TM.nonzero(to_fix1)[0]
            n_fix = fix0.shape[0] + fix1.shape[0]
            lower = TB.constant(1.0 / np.e ** 2, dtype=dtype)
            u_fix = self.uniform((n_fix,), low=lower, high=1.0, ndim=1, dtype=dtype,
                                 nstreams=nstreams, **kwargs)
            r_fix = TM.sqrt(-2.0 * TM.log(u_fix))
            z0_fixed = r_fix[:fix0.shape[0]] * cos_theta[fix0]
            z1_fixed = r_fix[fix0.shape[0]:] * sin_theta[fix1]
            samples = join(0, z0_valid, z0_fixed, z1_valid, z1_fixed)
        else:
            samples = join(0, z0, z1)
        samples = samples[:n_odd]
        nd = ndim if ndim is not None else size.type.shape[0]
        samples = reshape(samples, size, ndim=nd)
        return samples * std + avg

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
                         **kwargs) -> Variable:
        """Normal draws truncated at 2 standard deviations, rescaled so their standard
        deviation is ``std`` (the constant is ``scipy.stats.truncnorm.std(-2, 2)``)."""
        std = std / TB.constant(0.87962566103423978)
        return self.normal(size=size, avg=avg, std=std, truncate=True, ndim=ndim, dtype=dtype,
                           nstreams=nstreams, **kwargs)


__all__ = ["MRG_RandomStreams", "mrg_uniform", "mrg_uniform_base", "guess_n_streams",
           "ff_2p72", "ff_2p134", "multMatVect", "matVecModM", "undefined_grad", "uniform_draws",
           "substream_states", "A1p72", "A2p72", "A1p134", "A2p134", "M1", "M2", "NORM"]
