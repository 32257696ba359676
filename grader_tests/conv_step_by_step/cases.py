"""Inputs for the hidden tests: seeded, so every run grades the same data, except the timed
runs of runtime tests, which draw their values from the generator the `runtime` fixture gives.

Values are continuous random numbers, so pooling windows have a unique maximum (no ties).
Every case varies what the classic tests hold fixed: stride > 1, pad 0, non-square and
non-divisible sizes, f != stride, several examples and channels with distinct data; and the edge
sizes a vectorized solution can get wrong: one input channel, 1×1 windows.
"""

from dataclasses import dataclass

import numpy as np
import pytest

# Every seeded value is drawn from (SALT, seed): a case's seed alone, guessed from a value a
# student's code printed into an exception, does not rebuild the hidden inputs. Change it when
# the hidden tests may have been seen (a new term): only the values change, never a verdict.
SALT = 0x784F2651FEE17B8A


def normal(source: int | np.random.Generator, *shape: int) -> np.ndarray:
    """Standard normal values from a seed (salted), or drawn from a Generator."""
    rng = source if isinstance(source, np.random.Generator) else np.random.default_rng([SALT, source])
    return rng.standard_normal(shape)


def source(rng: np.random.Generator | None, seed: int) -> int | np.random.Generator:
    """What a case draws one array from: a timed run's generator, or else the case's seed."""
    return seed if rng is None else rng


@dataclass(frozen=True)
class Case:
    """What a convolution case and a pooling case both have."""

    id: str  # the test's parameter id
    a_shape: tuple  # of A_prev: (m, n_H_prev, n_W_prev, n_C_prev)
    f: int
    stride: int
    seed: int

    @property
    def input_text(self) -> str:
        """`a 2×7×5×3 input`"""
        return "a " + "×".join(str(n) for n in self.a_shape) + " input"


@dataclass(frozen=True)
class ConvCase(Case):
    n_C: int
    pad: int

    @property
    def describe(self) -> str:
        return f"with stride={self.stride}, pad={self.pad}, f={self.f} on {self.input_text}"

    def inputs(self, rng: np.random.Generator | None = None):
        """(A_prev, W, b, hparameters): the case's seeded values, or values drawn from rng."""
        A_prev = normal(source(rng, self.seed), *self.a_shape)
        W = normal(source(rng, self.seed + 1), self.f, self.f, self.a_shape[3], self.n_C)
        b = normal(source(rng, self.seed + 2), 1, 1, 1, self.n_C)
        return A_prev, W, b, {"stride": self.stride, "pad": self.pad}


@dataclass(frozen=True)
class PoolCase(Case):
    mode: str

    @property
    def describe(self) -> str:
        return f"with mode={self.mode!r}, f={self.f}, stride={self.stride} on {self.input_text}"

    def inputs(self, rng: np.random.Generator | None = None):
        """(A_prev, hparameters): the case's seeded values, or values drawn from rng."""
        return normal(source(rng, self.seed), *self.a_shape), {"f": self.f, "stride": self.stride}


CONV_CASES = [
    ConvCase("stride2-pad1-nonsquare", (2, 7, 5, 3), f=3, n_C=4, stride=2, pad=1, seed=10),
    ConvCase("stride1-pad0-f2-one-channel", (3, 4, 6, 1), f=2, n_C=3, stride=1, pad=0, seed=20),
    ConvCase("stride3-pad2-f4", (2, 9, 8, 2), f=4, n_C=2, stride=3, pad=2, seed=30),
    ConvCase("stride2-pad0-nondivisible", (2, 8, 6, 3), f=3, n_C=2, stride=2, pad=0, seed=40),
    ConvCase("1x1-filters", (2, 3, 4, 5), f=1, n_C=3, stride=1, pad=0, seed=50),
    ConvCase("stride1-pad1-many-channels", (3, 5, 4, 3), f=2, n_C=4, stride=1, pad=1, seed=60),
]

POOL_CASES = [
    PoolCase("max-f2-stride2-nondivisible", (2, 6, 7, 3), f=2, stride=2, mode="max", seed=110),
    PoolCase("average-f2-stride2-nondivisible", (2, 7, 6, 3), f=2, stride=2, mode="average", seed=120),
    PoolCase("max-f3-stride1-overlapping", (2, 5, 6, 2), f=3, stride=1, mode="max", seed=130),
    PoolCase("average-f3-stride2-overlapping", (2, 7, 7, 3), f=3, stride=2, mode="average", seed=140),
    PoolCase("max-f1-stride3-gaps", (3, 8, 7, 2), f=1, stride=3, mode="max", seed=150),
    PoolCase("average-f2-stride3-gaps", (3, 8, 7, 2), f=2, stride=3, mode="average", seed=160),
]

# The runtime tests' size: large enough that a loop over every output element is plainly slow,
# small enough that the reference takes milliseconds.
# Their values are drawn afresh for each grading (the seeds are not used).
RUNTIME_CONV = ConvCase("runtime", (16, 32, 32, 8), f=3, n_C=16, stride=1, pad=1, seed=0)
# pool_forward and pool_backward have one runtime test per mode, max pooling's worth 3 points and
# average pooling's 2.
RUNTIME_POOL = [
    pytest.param(
        PoolCase("runtime", (16, 32, 32, 16), f=2, stride=2, mode=mode, seed=0),
        marks=pytest.mark.points(points),
        id=mode,
    )
    for mode, points in [("max", 3), ("average", 2)]
]
