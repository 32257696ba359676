"""Time the reference CNN ops of conv_step_by_step against PyTorch CPU and the course's four-loop code.

What it measures, side by side in one run, at three sizes (S: the notebook's test shapes, M, L):
conv_forward, conv_backward, pool_forward (max, average) and pool_backward (max, average) of

* reference -- the graded cells of source/conv_step_by_step/conv_step_by_step.ipynb (or --notebook);
* torch     -- PyTorch CPU, float64, channels_last tensors sharing the numpy arrays' memory, functional
               and aten backward ops under torch.no_grad(); max-pool backward gets the indices of its
               forward pass for free, which the reference's (A_prev, hparameters) cache cannot keep;
* loops     -- the plain course-style version with four nested Python loops (S and M only; at M it
               runs on a subset of the examples and its time is scaled up, as the table says);
* candidate -- optionally, another implementation (--candidate file.py or .ipynb) to compare.

Each op's outputs are checked against torch (and the loops) before it is timed: timing wrong code is
worthless. The implementations then take turns, in blocks of consecutive calls rotated over several
rounds (see time_round_robin for why not call by call), so that the machine's noise hits them all
alike; the table shows median and minimum per call and the ratios of both. It also measures the
machine's float64 GEMM rate and single-thread copy bandwidth and relates the conv ops to the former
(% of the GEMM FLOP rate) and the pool ops to the latter (bytes that must move at minimum), and
counts page faults per call: fresh memory is slow to map on a virtual machine (see --reuse-memory).

numpy's BLAS and torch use the same number of threads: os.cpu_count(), or --threads N, which sets
OPENBLAS_NUM_THREADS/OMP_NUM_THREADS/MKL_NUM_THREADS before numpy is imported and torch.set_num_threads.
numpy's elementwise work (all of pooling) is single-threaded whatever the setting.

Run from the repository root (about two minutes; other busy processes make the times noisy, the
minimums suffer least):

    python bench/conv_ops.py
    python bench/conv_ops.py --sizes M L --budget 2 --reuse-memory --candidate /tmp/fast.py

PyTorch is a benchmark-only dependency (pip install torch==2.13.0, the CPU build).
"""

from __future__ import annotations

import argparse
import gc
import os
import runpy
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "conv_step_by_step"

# Imported in main(), after the thread count is in the environment: OpenBLAS reads it when it loads.
np = None
torch = None

# name: (conv A_prev, conv W, pad, stride, pool A_prev, pool f, pool stride)
SIZES = {
    "S": ((10, 4, 4, 3), (2, 2, 3, 8), 2, 2, (10, 4, 4, 3), 2, 2),
    "M": ((16, 32, 32, 8), (3, 3, 8, 16), 1, 1, (16, 32, 32, 16), 2, 2),
    "L": ((64, 32, 32, 16), (3, 3, 16, 32), 1, 1, (64, 32, 32, 32), 2, 2),
}
LOOPS_SIZES = ("S", "M")  # at L the loops would take minutes
LOOPS_TARGET_SECONDS = 0.25  # at M the loops run on as many examples as fit in this time per call


# --------------------------------------------------------------------------- course-style four loops


def course_loops() -> types.SimpleNamespace:
    """The bundled course-style example submission: four nested loops per op."""
    from autograder.course import Course
    from autograder.examples import example_functions

    return example_functions(Course.load(REPO).assignment(ASSIGNMENT), "course_loops")


# --------------------------------------------------------------------------- loading


def import_torch():
    try:
        import torch as torch_module
    except ImportError:
        sys.exit(
            "bench/conv_ops.py compares against PyTorch, a benchmark-only dependency that is not installed.\n"
            "Install the CPU build:  pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
        )
    return torch_module


def load_implementation(path: Path | None) -> types.SimpleNamespace:
    """The reference from the source notebook (default or --notebook), or functions from a .py file."""
    if path is not None and path.suffix == ".py":
        return types.SimpleNamespace(**runpy.run_path(str(path)))
    sys.path.insert(0, str(REPO))
    from autograder.course import Course
    from autograder.notebook import NotebookError, graded_cells, read_cells
    from autograder.reference import load_reference, reference_functions

    try:
        if path is None:
            return load_reference(Course.load(REPO).assignment(ASSIGNMENT))
        return reference_functions(graded_cells(read_cells(path)), f"reference_{ASSIGNMENT}")
    except NotebookError as error:
        sys.exit(f"{error}\n(pass another notebook with --notebook PATH)")


# --------------------------------------------------------------------------- one benchmark case


@dataclass
class Case:
    size: str
    op: str
    runs: dict[str, Callable[[], object]]  # implementation name -> one call of the op
    work: float  # FLOPs (conv) or minimum bytes moved (pool) of one call
    scale: dict[str, float] = field(default_factory=dict)  # loops run on a subset: time multiplier
    note: str = ""
    times: dict[str, list[float]] = field(default_factory=dict)
    faults: dict[str, float] = field(default_factory=dict)  # minor page faults per call

    def median(self, name):
        return statistics.median(self.times[name]) * self.scale.get(name, 1.0) if name in self.times else None

    def minimum(self, name):
        return min(self.times[name]) * self.scale.get(name, 1.0) if name in self.times else None


def nchw(x):
    """An NHWC numpy array as an NCHW torch tensor in channels_last layout, sharing its memory."""
    return torch.from_numpy(x).permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1).numpy()


def check(name, got, expected, what):
    """Refuse to time an op whose outputs disagree."""
    for g, e in zip(got, expected, strict=True):
        g, e = np.asarray(g), np.asarray(e)
        if g.shape != e.shape or not np.allclose(g, e, rtol=1e-9, atol=1e-9):
            diff = np.abs(g - e).max() if g.shape == e.shape else f"shapes {g.shape} vs {e.shape}"
            sys.exit(f"{name} disagrees with {what} (max |difference| {diff}); not timing wrong code")


def conv_cases(size, impls, rng):
    loops = course_loops()
    A_shape, W_shape, pad, stride, *_ = SIZES[size]
    A = rng.standard_normal(A_shape)
    W = rng.standard_normal(W_shape)
    b = rng.standard_normal((1, 1, 1, W_shape[3]))
    hp = {"stride": stride, "pad": pad}
    f, _, n_C_prev, n_C = W_shape
    Z, cache = impls["reference"].conv_forward(A, W, b, hp)
    dZ = rng.standard_normal(Z.shape)
    m, n_H, n_W, _ = Z.shape
    flops = 2 * m * n_H * n_W * f * f * n_C_prev * n_C

    # torch: weights (n_C, n_C_prev, f, f) in channels_last memory order (n_C, f, f, n_C_prev)
    At, dZt, bt = nchw(A), nchw(dZ), torch.from_numpy(b.reshape(n_C))
    Wt = nchw(np.ascontiguousarray(W.transpose(3, 0, 1, 2)))
    assert At.is_contiguous(memory_format=torch.channels_last)
    assert Wt.is_contiguous(memory_format=torch.channels_last)

    def torch_forward():
        return torch.nn.functional.conv2d(At, Wt, bt, stride=stride, padding=pad)

    def torch_backward():
        return torch.ops.aten.convolution_backward(
            dZt, At, Wt, [n_C], [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, [True, True, True]
        )

    def fwd(impl):
        return lambda: impl.conv_forward(A, W, b, hp)

    def bwd(impl):
        return lambda: impl.conv_backward(dZ, cache)

    forward_runs = {name: fwd(impl) for name, impl in impls.items()}
    backward_runs = {name: bwd(impl) for name, impl in impls.items()}
    forward_runs["torch"], backward_runs["torch"] = torch_forward, torch_backward

    dA_t, dW_t, db_t = torch_backward()
    torch_fwd_out = [nhwc(torch_forward())]
    torch_bwd_out = [nhwc(dA_t), dW_t.permute(2, 3, 1, 0).numpy(), db_t.numpy().reshape(1, 1, 1, n_C)]
    for name, impl in impls.items():
        check(f"{name} conv_forward ({size})", [impl.conv_forward(A, W, b, hp)[0]], torch_fwd_out, "torch")
        check(f"{name} conv_backward ({size})", impl.conv_backward(dZ, cache), torch_bwd_out, "torch")

    cases = [
        Case(size, "conv_forward", forward_runs, flops),
        Case(size, "conv_backward", backward_runs, 2 * flops),
    ]
    if size in LOOPS_SIZES:
        add_loops(
            cases[0],
            A.shape[0],
            lambda k: (A[:k],),
            lambda a: loops.conv_forward(a, W, b, hp)[0],
            lambda a: impls["reference"].conv_forward(a, W, b, hp)[0],
        )
        add_loops(
            cases[1],
            A.shape[0],
            lambda k: (dZ[:k], (A[:k], W, b, hp)),
            loops.conv_backward,
            impls["reference"].conv_backward,
        )
    return cases


def pool_cases(size, impls, rng):
    loops = course_loops()
    *_, A_shape, f, stride = SIZES[size]
    A = rng.standard_normal(A_shape)
    hp = {"f": f, "stride": stride}
    At = nchw(A)
    kernel, strides, zeros, ones = [f, f], [stride, stride], [0, 0], [1, 1]
    P_t, indices = torch.ops.aten.max_pool2d_with_indices(At, kernel, strides, zeros, ones, False)
    dP = rng.standard_normal(nhwc(P_t).shape)
    dPt = nchw(dP)
    itemsize = A.itemsize
    in_bytes, out_bytes = A.size * itemsize, dP.size * itemsize

    torch_runs = {
        "max": (
            lambda: torch.ops.aten.max_pool2d_with_indices(At, kernel, strides, zeros, ones, False)[0],
            # indices from the forward pass, as autograd would keep them
            lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                dPt, At, kernel, strides, zeros, ones, False, indices
            ),
        ),
        "average": (
            lambda: torch.ops.aten.avg_pool2d(At, kernel, strides, zeros, False, True, None),
            lambda: torch.ops.aten.avg_pool2d_backward(dPt, At, kernel, strides, zeros, False, True, None),
        ),
    }
    # minimum traffic: forward reads A_prev, writes A; backward reads dA (and A_prev for max), writes dA_prev
    min_bytes = {
        ("fwd", "max"): in_bytes + out_bytes,
        ("fwd", "average"): in_bytes + out_bytes,
        ("bwd", "max"): 2 * in_bytes + out_bytes,
        ("bwd", "average"): in_bytes + out_bytes,
    }
    forwards, backwards = [], []
    ref = impls["reference"]
    cache = (A, hp)
    for mode, short in (("max", "max"), ("average", "avg")):
        t_fwd, t_bwd = torch_runs[mode]
        fwd_runs = {n: (lambda i=i, mode=mode: i.pool_forward(A, hp, mode)) for n, i in impls.items()}
        bwd_runs = {n: (lambda i=i, mode=mode: i.pool_backward(dP, cache, mode)) for n, i in impls.items()}
        fwd_runs["torch"], bwd_runs["torch"] = t_fwd, t_bwd
        for name, impl in impls.items():
            what = f"{name} pool_{{}} {mode} ({size})"
            check(what.format("forward"), [impl.pool_forward(A, hp, mode)[0]], [nhwc(t_fwd())], "torch")
            check(what.format("backward"), [impl.pool_backward(dP, cache, mode)], [nhwc(t_bwd())], "torch")
        forward = Case(size, f"pool_fwd {short}", fwd_runs, min_bytes[("fwd", mode)])
        backward = Case(size, f"pool_bwd {short}", bwd_runs, min_bytes[("bwd", mode)])
        if size in LOOPS_SIZES:
            add_loops(
                forward,
                A.shape[0],
                lambda k: (A[:k],),
                lambda a, mode=mode: loops.pool_forward(a, hp, mode)[0],
                lambda a, mode=mode: ref.pool_forward(a, hp, mode)[0],
            )
            add_loops(
                backward,
                A.shape[0],
                lambda k: (dP[:k], (A[:k], hp)),
                lambda d, c, mode=mode: loops.pool_backward(d, c, mode),
                lambda d, c, mode=mode: ref.pool_backward(d, c, mode),
            )
        forwards.append(forward)
        backwards.append(backward)
    return forwards + backwards


def add_loops(case, m, args_for, loops_fn, reference_fn):
    """Add the four-loop version to a case: all m examples if that is quick, else a timed subset."""
    start = time.perf_counter()
    loops_fn(*args_for(1))
    per_example = time.perf_counter() - start
    k = max(1, min(m, round(LOOPS_TARGET_SECONDS / per_example)))
    args = args_for(k)
    got, expected = loops_fn(*args), reference_fn(*args)
    check(
        f"loops {case.op} ({case.size})",
        got if isinstance(got, tuple) else [got],
        expected if isinstance(expected, tuple) else [expected],
        "the reference",
    )
    case.runs["loops"] = lambda: loops_fn(*args)
    if k < m:
        case.scale["loops"] = m / k
        case.note = f"loops timed on {k} of {m} examples, x{m / k:.3g}"


# --------------------------------------------------------------------------- timing


def reuse_freed_memory():
    """Make glibc keep freed memory for the next array instead of giving it back to the kernel.

    By default glibc maps big arrays fresh from the kernel (and returns them on free) depending on
    its recent history, and every fresh page then costs a page fault when first written -- on a
    virtual machine a few microseconds per 4 KB page, milliseconds per call at size M. Which
    implementation that hits is luck; with this, none are hit once warmed up.
    """
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name) if libc_name else None
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    if libc is None or not hasattr(libc, "mallopt"):
        print("warning: --reuse-memory needs glibc; ignored", file=sys.stderr)
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 256 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


def minor_faults():
    """Minor page faults of this process so far (0 where the resource module is missing)."""
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_round_robin(case, budget, rounds, settle=0.1):
    """Time the implementations in turn, `rounds` blocks of consecutive calls each, rotating the order.

    Interleaving call by call would measure the libraries' thread pools more than the ops: after a
    call, OpenBLAS's idle workers spin for ~2**28 TSC cycles (~0.1 s) and torch's OpenMP workers a few
    ms, and on a machine with few cores a spinning worker of one library halves the next one's speed.
    So each block first calls its op for `settle` seconds unrecorded, until the other's workers sleep;
    sleeping instead would not do: an idle virtual CPU wakes up slowly. The noise that drifts over
    seconds still hits all implementations alike.
    Page faults are counted too: where a fresh array's pages are slow to map, they matter.
    """
    names = list(case.runs)
    case.times = {n: [] for n in names}
    faults = dict.fromkeys(names, 0)
    gc.disable()
    try:
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                run = case.runs[name]
                start = time.perf_counter()
                while time.perf_counter() - start < settle:
                    run()
                block_start, faults_before = time.perf_counter(), minor_faults()
                while True:
                    start = time.perf_counter()
                    run()
                    stop = time.perf_counter()
                    case.times[name].append(stop - start)
                    if stop - block_start >= budget / rounds:
                        break
                faults[name] += minor_faults() - faults_before
    finally:
        gc.enable()
    case.faults = {n: faults[n] / len(case.times[n]) for n in names}


def best_time(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure_machine():
    """float64 GEMM rate, large-copy bandwidth and copy bandwidth at each size's pool-input size."""
    pool_bytes = {s: int(np.prod(SIZES[s][4])) * 8 for s in SIZES}
    return (
        gemm_rate(),
        copy_bandwidth(256 << 20, 5),
        {s: copy_bandwidth(max(n, 1 << 16), 50) for s, n in pool_bytes.items()},
    )


def gemm_rate(n=2048):
    a, b = np.random.default_rng(1).standard_normal((2, n, n))
    out = np.empty((n, n))
    return 2 * n**3 / best_time(lambda: np.matmul(a, b, out=out), 7)


def copy_bandwidth(n_bytes, reps):
    """Read + write bytes per second of np.copyto between two preallocated float64 arrays."""
    src = np.random.default_rng(2).standard_normal(n_bytes // 8)
    dst = np.empty_like(src)
    return 2 * src.nbytes / best_time(lambda: np.copyto(dst, src), reps)


# --------------------------------------------------------------------------- report


def fmt_time(seconds):
    if seconds is None:
        return "-"
    # the smallest unit in which the value has at most 3 digits before the point
    for unit, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1)):
        text = f"{seconds / scale:.3g}"
        if float(text) < 1000 or unit == "s":
            return text + unit


def fmt_ratio(case, a, b):
    """Ratio of the medians, and of the minimums in parentheses."""
    if a not in case.times or b not in case.times:
        return "-"
    return f"{case.median(a) / case.median(b):.2f} ({case.minimum(a) / case.minimum(b):.2f})"


def efficiency(case, name, gemm, copy_bw):
    t = case.minimum(name)
    if t is None:
        return "-"
    if case.op.startswith("conv"):
        return f"{case.work / t / 1e9:.1f} GF/s {100 * case.work / t / gemm:.0f}%"
    return f"{case.work / t / 1e9:.1f} GB/s {100 * case.work / t / copy_bw[case.size]:.0f}%"


def print_table(cases, names, gemm, copy_bw):
    has = {n: any(n in c.times for c in cases) for n in names}
    cols = [n for n in names if has[n]]
    header = ["size", "op"] + [f"{n} med (min)" for n in cols]
    ratio_cols = [("reference", "torch", "ref/torch")]
    if has.get("candidate"):
        ratio_cols += [("candidate", "torch", "cand/torch"), ("reference", "candidate", "ref/cand")]
    if has.get("loops"):
        ratio_cols += [("loops", "reference", "loops/ref")]
    header += [label for *_, label in ratio_cols]
    eff_cols = [n for n in cols if n != "loops"]
    header += [f"{n} eff." for n in eff_cols]
    rows = []
    for c in cases:
        row = [c.size, c.op]
        for n in cols:
            row.append(f"{fmt_time(c.median(n))} ({fmt_time(c.minimum(n))})" if n in c.times else "-")
        row += [fmt_ratio(c, a, b) for a, b, _ in ratio_cols]
        row += [efficiency(c, n, gemm, copy_bw) for n in eff_cols]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r, c in zip(rows, cases, strict=True):
        note = f"  [{c.note}]" if c.note else ""
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + note)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--notebook",
        type=Path,
        default=None,
        help=f"notebook with the reference (default: source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb)",
    )
    parser.add_argument(
        "--candidate",
        type=Path,
        default=None,
        help="another implementation to time alongside: a .py file or a notebook",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="threads for numpy's BLAS and for torch (default: os.cpu_count())",
    )
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="seconds of timing per op and size for the fast implementations (default 1)",
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="blocks per implementation, interleaved (default 5)"
    )
    parser.add_argument(
        "--reuse-memory",
        action="store_true",
        help="keep freed memory in the process (glibc mallopt), so that page faults on fresh arrays "
        "do not add the allocator's luck to the times",
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def print_targets(cases, gemm) -> None:
    """The targets: every op at M and L no slower than torch (median), conv_forward at L at >= 70 %
    of the GEMM rate (from the min). Max-pool backward is listed, though torch's indices make it
    a different task (see the bandwidth line above)."""
    verdicts = []
    for c in cases:
        if c.size in ("M", "L"):
            ratio = c.median("reference") / c.median("torch")
            verdicts.append(f"{c.size} {c.op} {ratio:.2f}x {'met' if ratio <= 1 else 'MISSED'}")
        if c.size == "L" and c.op == "conv_forward":
            share = c.work / c.minimum("reference") / gemm
            met = "met" if share >= 0.7 else "MISSED"
            verdicts.append(f"L conv_forward {100 * share:.0f}% of GEMM {met}")
    if verdicts:
        print("targets, reference vs torch (median ratio <= 1) and GEMM share: " + "; ".join(verdicts))


def main(argv=None):
    args = parse_args(argv)
    if "numpy" in sys.modules:
        print("warning: numpy was imported before the thread count could be set", file=sys.stderr)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    global np, torch
    import numpy as np

    reusing = args.reuse_memory and reuse_freed_memory()

    torch = import_torch()
    torch.set_num_threads(args.threads)

    impls = {"reference": load_implementation(args.notebook)}
    if args.candidate is not None:
        impls["candidate"] = load_implementation(args.candidate)

    print(
        f"numpy {np.__version__}, torch {torch.__version__}, {args.threads} threads "
        f"(OpenBLAS and torch; numpy elementwise work is single-threaded), float64"
        + (", freed memory reused (--reuse-memory)" if reusing else "")
    )
    load_before = os.getloadavg()
    machine = measure_machine()

    rng = np.random.default_rng(args.seed)
    cases = []
    with torch.no_grad():
        for size in args.sizes:
            for case in conv_cases(size, impls, rng) + pool_cases(size, impls, rng):
                time_round_robin(case, args.budget, args.rounds)
                cases.append(case)
                print(f"  timed {size} {case.op}", file=sys.stderr, flush=True)

    # The machine's rates once more, after the ops: keep the better of the two measurements.
    gemm, dram_bw, copy_bw = (
        max(a, b) if not isinstance(a, dict) else {k: max(a[k], b[k]) for k in a}
        for a, b in zip(machine, measure_machine(), strict=True)
    )
    print(f"GEMM rate (2048^3 matmul, best of 7, start and end): {gemm / 1e9:.1f} GFLOP/s")
    print(
        f"copy bandwidth (np.copyto, read + write, single thread, best): 256 MB {dram_bw / 1e9:.1f} GB/s; "
        + "; ".join(f"{s}-pool-input size {copy_bw[s] / 1e9:.1f} GB/s" for s in SIZES)
    )
    load_after = os.getloadavg()
    print(
        f"load average (1 min) before/after: {load_before[0]:.2f} / {load_after[0]:.2f}"
        + (
            "  -- other processes were running: expect noise, torch's threads suffer most"
            if max(load_before[0], load_after[0]) > 0.5
            else ""
        )
    )
    print()
    names = ["reference", "candidate", "torch", "loops"]
    print("All outputs were checked against torch (allclose, rtol = atol = 1e-9) and the loops, then timed.")
    print("Times: median (min) per call. Ratios: of the medians (of the minimums); > 1: the first is slower.")
    print("eff. (from the min): conv ops in GFLOP/s and % of the GEMM rate,")
    print("  FLOPs = 2*m*n_H*n_W*f^2*n_C_prev*n_C (x2 for backward);")
    print("  pool ops in GB/s of the minimum traffic (read inputs, write outputs), % of a same-size copy.")
    print("torch's max-pool backward gets the forward's indices; the reference must find the maxima again.")
    print()
    print_table(cases, names, gemm, copy_bw)

    impl_names = [n for n in ("reference", "candidate") if n in impls]
    for c in cases:
        if c.size == "L" and c.op == "conv_forward":
            shares = [f"{n} {100 * c.work / c.minimum(n) / gemm:.0f}%" for n in impl_names + ["torch"]]
            print("\nconv_forward at L, % of the GEMM rate (from the min): " + ", ".join(shares))
    pools = [c for c in cases if c.op.startswith("pool") and c.size != "S"]
    if pools:

        def share(c, n):
            return f"{100 * c.work / c.minimum(n) / dram_bw:.0f}%"

        shares = [f"{c.size} {c.op} " + "/".join(share(c, n) for n in impl_names) for c in pools]
        print(
            f"pool ops vs the 256 MB copy bandwidth ({dram_bw / 1e9:.1f} GB/s), from the min, "
            f"{' / '.join(impl_names)}: " + "; ".join(shares)
        )
    print_targets(cases, gemm)
    heavy = [f"{c.size} {c.op} {n} {c.faults[n]:.0f}" for c in cases for n in c.faults if c.faults[n] >= 20]
    if heavy:
        print("minor page faults per call (fresh memory the kernel maps page by page): " + ", ".join(heavy))
        if not reusing:
            print("  (rerun with --reuse-memory to take the allocator's luck out of the comparison)")


if __name__ == "__main__":
    main()
