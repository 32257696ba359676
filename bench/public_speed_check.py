"""The public speed check under load: how often it fails correct, fast code, before and after.

A student's notebook times their function against the course's limit (testkit.py, the
`conv_backward_test` cell). The grader gives the runtime points to code within the limit; the
public check must never call such code "far too slow". This script runs, side by side in one
process and on the same correct conv_backward (a loop over the f*f filter offsets, as the notebook
recommends; about 1x the reference), the public check of

* before -- the kit of another checkout (--baseline DIR, e.g. a worktree of an earlier commit):
            its testkit.py, public_tests.py and public_tests.h5,
* after  -- this checkout's kit (autograder/testkit.py with source/conv_step_by_step's spec),

each RUNS times, alternating, while LOAD processes (default: one per core) keep every core busy
with multi-threaded matrix products. It prints, for each, how many runs failed and the ratios the
check reported. numpy's BLAS threads are left as a notebook has them (no OPENBLAS_NUM_THREADS).

    python bench/public_speed_check.py --baseline /tmp/base --runs 20
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "conv_step_by_step"


def conv_backward_by_offsets(dZ, cache):
    """A correct conv_backward vectorized over examples, positions and channels: one matrix
    product per filter offset (h, w)."""
    A_prev, W, b, hparameters = cache
    stride, pad, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_pad, dW = np.zeros_like(A_pad), np.zeros_like(W)
    rows = lambda h: slice(h, h + stride * (n_H - 1) + 1, stride)  # noqa: E731
    cols = lambda w: slice(w, w + stride * (n_W - 1) + 1, stride)  # noqa: E731
    for h in range(f):
        for w in range(f):
            window = A_pad[:, rows(h), cols(w), :]
            dW[h, w] = np.tensordot(window, dZ, axes=([0, 1, 2], [0, 1, 2]))
            dA_pad[:, rows(h), cols(w), :] += dZ @ W[h, w].T
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
    return dA_pad[:, pad : pad + A_prev.shape[1], pad : pad + A_prev.shape[2], :], dW, db


def busy(stop) -> None:
    """Keep a core (and BLAS's threads) busy until told to stop."""
    a = np.random.default_rng(0).standard_normal((400, 400))
    while not stop.is_set():
        a @ a


def load_kit(folder: Path, label: str):
    """public_tests.py of `folder`, importing the testkit.py beside it."""
    sys.path.insert(0, str(folder))
    try:
        sys.modules.pop("testkit", None)
        spec = importlib.util.spec_from_file_location(f"public_tests_{label}", folder / "public_tests.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("testkit", None)


def kit_folder(checkout: Path, scratch: Path, label: str) -> Path:
    """A folder laid out as a release: the checkout's kit, spec, expected values and limits."""
    folder = scratch / label
    folder.mkdir()
    source = checkout / "source" / ASSIGNMENT
    for name in ("public_tests.py", "public_tests.h5"):
        shutil.copy(source / name, folder / name)
    shutil.copy(checkout / "autograder" / "testkit.py", folder / "testkit.py")
    shutil.copy(ROOT / "release" / ASSIGNMENT / "limits.json", folder / "limits.json")
    return folder


def run_once(module) -> tuple[bool, str]:
    """(passed, the ratio it reported) of one conv_backward_test."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            module.conv_backward_test(conv_backward_by_offsets)
        passed, text = True, out.getvalue()
    except AssertionError as failure:
        passed, text = False, str(failure)
    found = re.search(r"about ([\d.]+)×", text)
    return passed, found.group(1) if found else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the earlier kit")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--load", type=int, default=os.cpu_count(), help="busy processes (0: idle)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        kits = {
            "before": load_kit(kit_folder(args.baseline, Path(scratch), "before"), "before"),
            "after": load_kit(kit_folder(ROOT, Path(scratch), "after"), "after"),
        }
        stop = multiprocessing.Event()
        workers = [multiprocessing.Process(target=busy, args=(stop,)) for _ in range(args.load)]
        for worker in workers:
            worker.start()
        time.sleep(1.0 if workers else 0.0)
        outcomes = {label: [] for label in kits}
        try:
            for run in range(args.runs):
                for label in sorted(kits, reverse=run % 2 == 1):
                    outcomes[label].append(run_once(kits[label]))
        finally:
            stop.set()
            for worker in workers:
                worker.join()
    print(f"conv_backward by filter offsets, {args.runs} runs each, {args.load} busy processes:")
    for label, results in outcomes.items():
        failed = sum(not passed for passed, _ in results)
        ratios = ", ".join(ratio for _, ratio in results)
        print(f"  {label:6}  failed {failed:2} of {len(results)}   reported ratios: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
