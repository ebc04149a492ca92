"""Scoped randomness: seeds come from ``random_state``, global state is restored."""

import contextlib
import random
import threading

import numpy as np

from ._parallel import SharedSetting
from ._validation import RANDOM_STATE, check_param


def resolve_seed(random_state):
    """Turn ``random_state`` into one integer seed, without global side effects.

    Parameters
    ----------
    random_state : None, int or numpy.random.RandomState
        ``None`` draws fresh entropy from the operating system (never from
        the global NumPy RNG); an ``int`` is used as is; a ``RandomState`` is
        sampled from a copy, so the caller's generator is left untouched and
        the same generator always gives the same seed.

    Returns
    -------
    int
    """
    check_param("random_state", random_state, RANDOM_STATE, "skimgaug")
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        copy = np.random.RandomState()
        copy.set_state(random_state.get_state())
        return int(copy.randint(np.iinfo(np.int32).max))
    return int(random_state)


def child_seeds(seed, n):
    """``n`` independent integer seeds derived from ``seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


_thread_rngs = threading.local()


def legacy_rng(*entropy):
    """A private ``RandomState`` keyed by integers such as (seed, epoch, batch).

    ``RandomState`` rather than ``Generator`` because Keras'
    ``ImageDataGenerator`` draws from the legacy global ``np.random``; drawing
    the same calls from a private ``RandomState`` reproduces its distributions
    draw for draw. Equal to ``np.random.RandomState(state)`` for the
    ``SeedSequence`` state of ``entropy``, but one generator per thread is
    re-seeded instead of built (building one costs ~100 microseconds, a
    noticeable share of a small batch): the result is only valid until the
    next call in the same thread.
    """
    rng = getattr(_thread_rngs, "rng", None)
    if rng is None:
        rng = _thread_rngs.rng = np.random.RandomState()
    rng.seed(np.random.SeedSequence(list(entropy)).generate_state(4))
    return rng


def _save_global_rngs():
    return random.getstate(), np.random.get_state()


def _restore_global_rngs(states):
    random.setstate(states[0])
    np.random.set_state(states[1])


_GLOBAL_RNGS = SharedSetting(_save_global_rngs, _restore_global_rngs)


@contextlib.contextmanager
def preserved_global_rngs(fresh=False):
    """Restore NumPy's and Python's global RNGs on exit, whatever ran inside.

    Keras draws default seeds for initializers and dropout from Python's
    ``random``, and scikeras seeds both generators for a seeded fit. Blocks
    overlapping in several threads restore the state from before the first.

    Parameters
    ----------
    fresh : bool, default=False
        Re-seed Python's ``random`` from operating-system entropy inside the
        block, so that unseeded fits still differ from each other although
        the caller's generator is restored after each of them.
    """
    with _GLOBAL_RNGS.preserved():
        if fresh:
            random.seed()
        yield
