"""The explanatory figures of conv_step_by_step.ipynb, none of which depends on the student's code.

`autograder figures conv_step_by_step` draws each one and embeds it as a PNG attachment of the
markdown cell that shows it (``![...](attachment:NAME.png)``), so the figures render as soon as
the notebook opens, executed or not, whatever exercise a student has reached. The figures that
use the student's `conv_forward` (section 7) stay code cells of the notebook.
"""

from pathlib import Path

import h5py
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle

IMAGES = Path(__file__).resolve().parent.parent / "images.h5"
DIGITS = Path(__file__).resolve().parent.parent / "digits.h5"

PAD_GREY = "0.85"
RED = "tab:red"
LIGHT_RED = "#f4c2c2"


# --------------------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------------------


def draw_grid(ax, values, origin=(0, 0), facecolors=None, fmt="{:g}", fontsize=10, edgecolor="0.45"):
    """Draw a 2-D array as a grid of unit squares (row 0 at the top), optionally with its numbers.
    `fmt` is a format string or a function of the value; None draws no numbers."""
    values = np.asarray(values, dtype=object)
    x0, y0 = origin
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            color = "white" if facecolors is None else facecolors[r][c]
            ax.add_patch(Rectangle((x0 + c, y0 + r), 1, 1, facecolor=color, edgecolor=edgecolor, lw=0.8))
            if fmt is not None:
                text = fmt(values[r, c]) if callable(fmt) else fmt.format(values[r, c])
                ax.text(x0 + c + 0.5, y0 + r + 0.5, text, ha="center", va="center", fontsize=fontsize)


def outline(ax, x, y, width, height, color, lw=2.5, **kwargs):
    ax.add_patch(Rectangle((x, y), width, height, fill=False, edgecolor=color, lw=lw, **kwargs))


def arrow(ax, start, end, color="0.2", lw=1.5, style="->", **kwargs):
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, lw=lw, **kwargs)
    )


def finish_axes(ax, xlim, ylim, title=None, fontsize=11):
    """Square cells, row 0 at the top (ylim given top to bottom as (low, high)), no ticks."""
    ax.set_xlim(*xlim)
    ax.set_ylim(ylim[1], ylim[0])
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize)


def draw_box(ax, x, y, width, height, depth, color, edgecolor="0.25", lw=0.8):
    """A cuboid in oblique projection (y up): front face width x height at (x, y), its depth
    drawn up and to the right. Returns the top-right corner of the back face."""
    dx, dy = 0.6 * depth, 0.45 * depth
    front = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
    top = [
        (x, y + height),
        (x + width, y + height),
        (x + width + dx, y + height + dy),
        (x + dx, y + height + dy),
    ]
    side = [
        (x + width, y),
        (x + width + dx, y + dy),
        (x + width + dx, y + height + dy),
        (x + width, y + height),
    ]
    for face, shade in ((side, 0.75), (top, 0.9), (front, 1.0)):
        ax.add_patch(Polygon(face, closed=True, facecolor=_shade(color, shade), edgecolor=edgecolor, lw=lw))
    return x + width + dx, y + height + dy


def _shade(color, factor):
    from matplotlib.colors import to_rgb

    return tuple(factor * channel for channel in to_rgb(color))


def _photographs():
    with h5py.File(IMAGES, "r") as file:
        return file["grayscale"][()].astype(np.float64), file["rgb"][()].astype(np.float64)


# --------------------------------------------------------------------------------------
# Section 2: zero padding
# --------------------------------------------------------------------------------------


def zero_padding():
    """A 3x3 grid padded with p = 1, and the colour photograph (shrunk) padded with p = 3."""
    _, rgb = _photographs()
    thumb = rgb[:176, :144].reshape(22, 8, 18, 8, 3).mean(axis=(1, 3))  # 8x8 block averages
    p = 3
    padded = np.zeros((22 + 2 * p, 18 + 2 * p, 3))
    padded[p : p + 22, p : p + 18] = thumb

    grid_padded = np.zeros((5, 5), dtype=int)
    grid_padded[1:4, 1:4] = np.arange(1, 10).reshape(3, 3)
    colors = [[PAD_GREY if r in (0, 4) or c in (0, 4) else "white" for c in range(5)] for r in range(5)]

    fig = Figure(figsize=(12, 4.2))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.2]})
    draw_grid(axes[0], grid_padded, facecolors=colors, fontsize=12)
    outline(axes[0], 1, 1, 3, 3, RED, lw=2)
    finish_axes(axes[0], (-0.3, 5.3), (-0.3, 5.3), "3×3 grid padded with p = 1 (5×5)")
    axes[1].imshow(thumb, interpolation="nearest")
    axes[1].set_title(f"image {thumb.shape[0]}×{thumb.shape[1]}×3", fontsize=11)
    axes[2].imshow(padded, interpolation="nearest")
    outline(axes[2], p - 0.5, p - 0.5, 18, 22, RED, lw=1.5)
    axes[2].set_title(f"zero-padded with p = {p}: {padded.shape[0]}×{padded.shape[1]}×3", fontsize=11)
    for ax in axes[1:]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Section 4: convolution forward
# --------------------------------------------------------------------------------------


def conv_steps():
    """A 3x3 filter with stride 2 over a 5x5 input padded with p = 1: four steps."""
    n, pad, f, stride = 5, 1, 3, 2
    size = n + 2 * pad
    n_out = (n + 2 * pad - f) // stride + 1
    steps = [(0, 0), (0, 1), (0, 2), (1, 0)]
    is_pad = [[r < pad or r >= n + pad or c < pad or c >= n + pad for c in range(size)] for r in range(size)]
    input_colors = [[PAD_GREY if is_pad[r][c] else "white" for c in range(size)] for r in range(size)]
    out_x, out_y = size + 1.5, (size - n_out) / 2

    fig = Figure(figsize=(16, 4.3))
    axes = fig.subplots(1, len(steps))
    for k, (ax, (h, w)) in enumerate(zip(axes, steps)):
        draw_grid(ax, np.zeros((size, size)), facecolors=input_colors, fmt=None)
        top, left = h * stride, w * stride
        ax.add_patch(Rectangle((left, top), f, f, facecolor=RED, alpha=0.35, edgecolor=RED, lw=2.5))
        done = steps[:k]
        out_colors = [
            [RED if (r, c) == (h, w) else (LIGHT_RED if (r, c) in done else "white") for c in range(n_out)]
            for r in range(n_out)
        ]
        draw_grid(ax, np.zeros((n_out, n_out)), origin=(out_x, out_y), facecolors=out_colors, fmt=None)
        arrow(ax, (left + f, top + f / 2), (out_x + w + 0.5, out_y + h + 0.5), color=RED)
        ax.text(size / 2, size + 0.8, f"padded input {size}×{size}", ha="center", fontsize=10)
        ax.text(out_x + n_out / 2, out_y + n_out + 0.8, f"output {n_out}×{n_out}", ha="center", fontsize=10)
        finish_axes(
            ax,
            (-0.3, out_x + n_out + 0.3),
            (-0.3, size + 1.3),
            f"Z[{h}, {w}]: rows {top}-{top + f - 1}, columns {left}-{left + f - 1}",
        )
    fig.suptitle(
        "A 3×3 filter with stride 2 over a 5×5 input padded with p = 1 (padding in grey)", fontsize=13
    )
    fig.tight_layout()
    return fig


def conv_output_floor():
    """n = 6, f = 3, s = 2, p = 0: two windows per row, and the last column in none of them."""
    n, f, s = 6, 3, 2
    n_out = (n - f) // s + 1  # 2
    window_colors = ["tab:blue", "tab:orange"]

    fig = Figure(figsize=(13, 4.6))
    left_ax, right_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})

    # Along one row: the windows that fit, and the one that would not.
    ax = left_ax
    draw_grid(ax, np.arange(n)[None, :], origin=(0, 3), fmt="col {:d}", fontsize=9)
    ax.add_patch(Rectangle((n - 1, 3), 1, 1, fill=False, hatch="///", edgecolor="0.6", lw=0))
    ax.add_patch(Rectangle((n, 3), 1, 1, fill=False, edgecolor=RED, ls="--", lw=1))
    ax.text(n + 0.5, 3.5, "no\ncol 6", ha="center", va="center", fontsize=9, color=RED)
    for k in range(n_out):
        start = k * s
        y = 2.4 - 0.75 * k
        ax.plot([start + 0.05, start + f - 0.05], [y, y], color=window_colors[k], lw=6, solid_capstyle="butt")
        ax.text(
            start + f / 2, y - 0.3, f"window {k}: columns {start}-{start + f - 1}", ha="center", fontsize=10
        )
    start, y = n_out * s, 0.9
    ax.plot([start + 0.05, start + f - 0.05], [y, y], color=RED, lw=3, ls="--")
    ax.text(
        start + f / 2, y - 0.3, "a third window would need columns 4-6", ha="center", fontsize=10, color=RED
    )
    ax.text(n - 0.5, 4.5, "column 5 is in no window", ha="center", fontsize=10)
    finish_axes(
        ax, (-0.6, n + 2.1), (0.0, 5.1), "Along one row: windows start at 0, 2, 4, ... while they fit"
    )

    # The whole input and the output.
    ax = right_ax
    colors = [["0.8" if r == n - 1 or c == n - 1 else "white" for c in range(n)] for r in range(n)]
    draw_grid(ax, np.zeros((n, n)), facecolors=colors, fmt=None)
    for r in range(n):
        for c in range(n):
            if r == n - 1 or c == n - 1:
                ax.add_patch(Rectangle((c, r), 1, 1, fill=False, hatch="///", edgecolor="0.5", lw=0))
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for k, (h, w) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        inset = 0.06 + 0.07 * k
        outline(ax, w * s + inset, h * s + inset, f - 2 * inset, f - 2 * inset, palette[k], lw=2.2)
    out_x, out_y = n + 1.8, (n - n_out) / 2
    draw_grid(
        ax,
        [["Z[0,0]", "Z[0,1]"], ["Z[1,0]", "Z[1,1]"]],
        origin=(out_x, out_y),
        facecolors=[["#c6dbef", "#fdd0a2"], ["#c7e9c0", "#dadaeb"]],
        fmt="{}",
        fontsize=9,
    )
    arrow(ax, (n + 0.3, n / 2), (out_x - 0.2, n / 2))
    ax.text(n / 2, n + 0.8, "input 6×6 (hatched: never used)", ha="center", fontsize=10)
    ax.text(out_x + 1, out_y + n_out + 0.8, "output 2×2", ha="center", fontsize=10)
    finish_axes(
        ax, (-0.3, out_x + n_out + 0.3), (-0.3, n + 1.3), "The four windows of a 3×3 filter, stride 2"
    )
    fig.suptitle("n = 6, f = 3, s = 2, p = 0:   ⌊(6 − 3) / 2⌋ + 1 = ⌊1.5⌋ + 1 = 2", fontsize=13, y=1.03)
    fig.tight_layout()
    return fig


def weight_sharing():
    """One output's receptive window in a convolution (9 shared weights) and in a dense layer."""
    n, f = 6, 3
    n_out = n - f + 1
    labels = [[f"w{3 * r + c + 1}" for c in range(f)] for r in range(f)]
    out_x, out_y = n + 3, (n - n_out) / 2

    fig = Figure(figsize=(14, 5.0))
    conv_ax, dense_ax = fig.subplots(1, 2)

    ax = conv_ax
    draw_grid(ax, np.zeros((n, n)), fmt=None)
    draw_grid(ax, np.zeros((n_out, n_out)), origin=(out_x, out_y), fmt=None)
    for (h, w), color in (((0, 0), "tab:blue"), ((2, 3), "tab:orange")):
        ax.add_patch(Rectangle((w, h), f, f, facecolor=color, alpha=0.25, edgecolor=color, lw=2.5))
        for r in range(f):
            for c in range(f):
                ax.text(w + c + 0.5, h + r + 0.5, labels[r][c], ha="center", va="center", fontsize=9.5)
        cone = [(w + f, h), (out_x + w, out_y + h), (out_x + w, out_y + h + 1), (w + f, h + f)]
        ax.add_patch(Polygon(cone, closed=True, facecolor=color, alpha=0.18, edgecolor=color, lw=0.8))
        ax.add_patch(Rectangle((out_x + w, out_y + h), 1, 1, facecolor=color, edgecolor="0.3", lw=1))
    ax.text(n / 2, n + 0.7, "input 6×6", ha="center", fontsize=10)
    ax.text(out_x + n_out / 2, n + 0.7, "output 4×4", ha="center", fontsize=10)
    ax.text(
        (out_x + n_out) / 2,
        n + 1.5,
        "each output sees only a 3×3 window (sparse connectivity),\n"
        "and every window uses the same w1 ... w9 and b (weight sharing):\n"
        "(3·3·1 + 1)·1 = 10 parameters for all 16 outputs",
        ha="center",
        va="top",
        fontsize=10.5,
    )
    finish_axes(ax, (-0.3, out_x + n_out + 0.3), (-0.3, n + 3.4), "Convolution, one 3×3 filter")

    ax = dense_ax
    draw_grid(ax, np.zeros((n, n)), fmt=None)
    draw_grid(ax, np.zeros((n_out, n_out)), origin=(out_x, out_y), fmt=None)
    for (h, w), color in (((0, 0), "tab:blue"), ((2, 3), "tab:orange")):
        for r in range(n):
            for c in range(n):
                ax.plot(
                    [c + 0.5, out_x + w + 0.5], [r + 0.5, out_y + h + 0.5], color=color, lw=0.45, alpha=0.8
                )
        ax.add_patch(Rectangle((out_x + w, out_y + h), 1, 1, facecolor=color, edgecolor="0.3", lw=1))
    ax.text(n / 2, n + 0.7, "input 6×6 = 36 numbers", ha="center", fontsize=10)
    ax.text(out_x + n_out / 2, n + 0.7, "16 outputs", ha="center", fontsize=10)
    ax.text(
        (out_x + n_out) / 2,
        n + 1.5,
        "each output sees all 36 inputs,\nwith 36 weights and a bias of its own:\n"
        "36·16 + 16 = 592 parameters for the same 16 outputs",
        ha="center",
        va="top",
        fontsize=10.5,
    )
    finish_axes(ax, (-0.3, out_x + n_out + 0.3), (-0.3, n + 3.4), "Dense (fully connected) layer")
    fig.tight_layout()
    return fig


def one_by_one_conv():
    """A 1x1 convolution as a dense layer at every pixel, and what a bottleneck saves."""
    fig = Figure(figsize=(14, 8.4))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.1, 1])
    ax = fig.add_subplot(grid[0, :])

    # Input volume 6x6x32 -> 1x1 conv with 8 filters -> 6x6x8, seen at one pixel (h, w) = (2, 3).
    cell, n, c_in, c_out, unit = 0.5, 6, 32, 8, 0.1
    px, py = 3 * cell, (n - 1 - 2) * cell
    draw_box(ax, 0, 0, n * cell, n * cell, c_in * 0.06, "#c6dbef")
    ax.add_patch(Rectangle((px, py), cell, cell, facecolor="tab:blue", edgecolor="0.25", lw=0.8))
    ax.text(n * cell / 2, -0.35, "input A: 6×6×32", ha="center", va="top", fontsize=11)

    def strip(x, y, count, color, vertical=False, columns=1):
        for k in range(count):
            for j in range(columns):
                xy = (x + j * unit, y + (count - 1 - k) * unit) if vertical else (x + k * unit, y)
                size = (unit, unit) if vertical else (unit, 0.3)
                ax.add_patch(Rectangle(xy, *size, facecolor=color, edgecolor="0.35", lw=0.4))

    vx, vy = 5.0, 1.45
    strip(vx, vy, c_in, "tab:blue")
    ax.text(
        vx + c_in * unit / 2, vy + 0.55, "A[i, 2, 3, :]\n32 numbers", ha="center", va="bottom", fontsize=10
    )
    arrow(ax, (px + cell + 1.2, py + cell / 2 + 0.3), (vx - 0.15, vy + 0.15), color="tab:blue")
    ax.text(vx + c_in * unit + 0.3, vy + 0.15, "@", ha="center", va="center", fontsize=16)
    mx = vx + c_in * unit + 0.65
    strip(mx, 0.0, c_in, "#fdae6b", vertical=True, columns=c_out)
    ax.text(mx + c_out * unit / 2, -0.35, "W[0, 0]: 32×8\n(8 filters)", ha="center", va="top", fontsize=10)
    ax.text(mx + c_out * unit + 0.55, vy + 0.15, "+ b =", ha="center", va="center", fontsize=13)
    zx = mx + c_out * unit + 1.15
    strip(zx, vy, c_out, "tab:orange")
    ax.text(
        zx + c_out * unit / 2, vy + 0.55, "Z[i, 2, 3, :]\n8 numbers", ha="center", va="bottom", fontsize=10
    )
    ox = zx + c_out * unit + 1.4
    draw_box(ax, ox, 0, n * cell, n * cell, c_out * 0.06, "#fdd0a2")
    ax.add_patch(Rectangle((ox + px, py), cell, cell, facecolor="tab:orange", edgecolor="0.25", lw=0.8))
    arrow(ax, (zx + c_out * unit + 0.1, vy + 0.15), (ox + px - 0.05, py + cell / 2), color="tab:orange")
    ax.text(ox + n * cell / 2, -0.35, "output Z: 6×6×8", ha="center", va="top", fontsize=11)
    ax.text(
        (ox + n * cell) / 2,
        4.5,
        "at every position (h, w):  Z[i, h, w, :] = A[i, h, w, :] @ W[0, 0] + b,  "
        "a dense layer from 32 channels to 8,\n"
        "the same one at all 36 positions: n_H and n_W do not change, n_C goes from 32 to 8",
        ha="center",
        va="center",
        fontsize=11,
    )
    ax.set_xlim(-0.3, ox + n * cell + 0.8)
    ax.set_ylim(-1.3, 5.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("A 1×1 convolution mixes the channels of each pixel", fontsize=13)

    # What it saves: multiplications of two classic cases, stacked bars.
    cases = [
        (
            fig.add_subplot(grid[1, 0]),
            "Inception bottleneck: 28×28×192 → 28×28×32, 5×5 filters",
            [("5×5 conv", [(28 * 28 * 32 * 5 * 5 * 192, "tab:gray")])],
            [
                (
                    "1×1 to 16 channels,\nthen 5×5 conv",
                    [(28 * 28 * 16 * 192, "tab:orange"), (28 * 28 * 32 * 5 * 5 * 16, "tab:gray")],
                )
            ],
            [("1×1 conv (192 → 16)", "tab:orange"), ("5×5 conv", "tab:gray")],
        ),
        (
            fig.add_subplot(grid[1, 1]),
            "MobileNet: 32×32×64 → 32×32×128, 3×3 filters",
            [("3×3 conv", [(3 * 3 * 64 * 128 * 32 * 32, "tab:gray")])],
            [
                (
                    "depthwise 3×3,\nthen pointwise 1×1",
                    [(3 * 3 * 64 * 32 * 32, "tab:green"), (64 * 128 * 32 * 32, "tab:orange")],
                )
            ],
            [("depthwise 3×3 (per channel)", "tab:green"), ("pointwise 1×1 (64 → 128)", "tab:orange")],
        ),
    ]
    for ax, title, plain, cheap, legend in cases:
        rows = plain + cheap
        for y, (_, parts) in enumerate(rows):
            left = 0
            for value, color in parts:
                ax.barh(y, value / 1e6, left=left, color=color, height=0.55)
                left += value / 1e6
            ax.text(left + 1.5, y, f"{left:.1f} M", va="center", fontsize=10)
        ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=10)
        ax.invert_yaxis()
        ax.set_xlabel("multiplications (millions)")
        ax.set_xlim(0, max(sum(v for v, _ in parts) for _, parts in rows) / 1e6 * 1.25)
        ax.set_title(title, fontsize=11)
        handles = [Rectangle((0, 0), 1, 1, color=color) for _, color in legend]
        ax.legend(handles, [label for label, _ in legend], fontsize=9, loc="lower right", frameon=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Section 5: pooling, and a whole network
# --------------------------------------------------------------------------------------


def pooling():
    """Max and average pooling of a 4x4 input with f = s = 2."""
    values = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [3, 1, 1, 2], [0, 2, 7, 4]])
    window_colors = [["#9ecae1", "#fdae6b"], ["#a1d99b", "#bcbddc"]]
    f = stride = 2
    input_colors = [[window_colors[r // stride][c // stride] for c in range(4)] for r in range(4)]
    max_pool = values.reshape(2, 2, 2, 2).max(axis=(1, 3))
    avg_pool = values.reshape(2, 2, 2, 2).mean(axis=(1, 3))

    fig = Figure(figsize=(10, 3.6))
    ax = fig.subplots()
    draw_grid(ax, values, facecolors=input_colors, fontsize=13)
    for r in range(0, 4, stride):
        for c in range(0, 4, stride):
            outline(ax, c, r, f, f, "0.2")
            rr, cc = np.unravel_index(np.argmax(values[r : r + f, c : c + f]), (f, f))
            ax.add_patch(Circle((c + cc + 0.5, r + rr + 0.5), 0.32, fill=False, edgecolor="black", lw=1.5))
    draw_grid(ax, max_pool, origin=(6, 1), facecolors=window_colors, fontsize=13)
    draw_grid(ax, avg_pool, origin=(10, 1), facecolors=window_colors, fontsize=13)
    ax.text(2, 4.7, "input 4×4, windows f = 2, s = 2 (maxima circled)", ha="center", fontsize=11)
    ax.text(7, 3.7, "max pooling", ha="center", fontsize=11)
    ax.text(11, 3.7, "average pooling", ha="center", fontsize=11)
    arrow(ax, (4.3, 2), (5.8, 2))
    finish_axes(ax, (-0.3, 12.3), (-0.3, 5.1))
    fig.tight_layout()
    return fig


def lenet5():
    """The shapes of LeNet-5: n_H, n_W shrink while n_C grows, then dense layers."""
    scale, depth_scale = 0.11, 0.1
    volumes = [  # (n_H, n_C, label)
        (32, 1, "32×32×1"),
        (28, 6, "28×28×6"),
        (14, 6, "14×14×6"),
        (10, 16, "10×10×16"),
        (5, 16, "5×5×16"),
    ]
    steps = [
        ("conv 5×5\n6 filters", "(5·5·1 + 1)·6\n= 156"),
        ("pool\n2×2, s = 2", "0"),
        ("conv 5×5\n16 filters", "(5·5·6 + 1)·16\n= 2,416"),
        ("pool\n2×2, s = 2", "0"),
        ("flatten, FC", "400·120 + 120\n= 48,120"),
        ("FC", "120·84 + 84\n= 10,164"),
        ("FC, softmax", "84·10 + 10\n= 850"),
    ]
    dense = [(120, "FC\n120"), (84, "FC\n84"), (10, "softmax\n10")]

    fig = Figure(figsize=(15.5, 5.2))
    ax = fig.subplots()
    x, gap, base = 0.0, 1.55, 0.0
    rights = []
    colors = ["#c6dbef", "#9ecae1", "#a1d99b", "#74c476", "#fdd0a2"]
    for (n_hw, n_c, label), color in zip(volumes, colors):
        side = n_hw * scale
        y = base - side / 2
        right, _ = draw_box(ax, x, y, side, side, n_c * depth_scale, color)
        ax.text(x + side / 2, -2.35, label, ha="center", va="top", fontsize=11)
        rights.append((x, right))
        x = right + gap
    for units, label in dense:
        height = units * 0.03
        ax.add_patch(Rectangle((x, base - height / 2), 0.28, height, facecolor="#fdae6b", edgecolor="0.25"))
        ax.text(x + 0.14, -2.35, label, ha="center", va="top", fontsize=11)
        rights.append((x, x + 0.28))
        x += 0.28 + gap + 0.45
    for k, (operation, parameters) in enumerate(steps):
        start, end = rights[k][1] + 0.1, rights[k + 1][0] - 0.1
        arrow(ax, (start, base), (end, base), lw=1.6)
        middle = (start + end) / 2
        ax.text(middle, 0.25, operation, ha="center", va="bottom", fontsize=9.5)
        ax.text(middle, 2.45, parameters, ha="center", va="bottom", fontsize=9, color="tab:blue")
    ax.text(-0.2, 2.45, "parameters:", ha="right", va="bottom", fontsize=10, color="tab:blue")
    ax.text(
        x / 2,
        -3.45,
        "height and width shrink (32 → 28 → 14 → 10 → 5) while the number of channels grows (1 → 6 → 16); "
        "61,706 parameters in all, 78 % of them in the first dense layer",
        ha="center",
        va="top",
        fontsize=10.5,
    )
    ax.set_xlim(-1.6, x - gap - 0.15)
    ax.set_ylim(-4.1, 3.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("LeNet-5: CONV → POOL → CONV → POOL → FC → FC → softmax", fontsize=13)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Section 6: backward passes
# --------------------------------------------------------------------------------------


def conv_backward():
    """How dZ at one output position flows back to a window of dA_prev and to dW."""
    A = np.array([[1, 0, 2, 1, 0], [0, 1, 3, 0, 1], [2, 1, 0, 1, 2], [1, 0, 1, 2, 0], [0, 2, 1, 0, 1]])
    W = np.array([[1, 2, 0], [0, 1, -1], [-1, 0, 2]])
    h, w, dz = 0, 1, 2  # the output position followed, and its gradient
    window = A[h : h + 3, w : w + 3]
    Z = np.array([[np.sum(A[r : r + 3, c : c + 3] * W) for c in range(3)] for r in range(3)])
    dZ = np.array([[1, dz, -1], [0, 1, 2], [-1, 1, 0]])
    blue, orange = "#c6dbef", "#fdd0a2"
    in_window = [[h <= r < h + 3 and w <= c < w + 3 for c in range(5)] for r in range(5)]
    in_colors = [[blue if in_window[r][c] else "white" for c in range(5)] for r in range(5)]
    one = [[orange if (r, c) == (h, w) else "white" for c in range(3)] for r in range(3)]

    fig = Figure(figsize=(15, 9.4))
    ax = fig.subplots()
    # Row 1: forward.
    draw_grid(ax, A, facecolors=in_colors, fontsize=11)
    outline(ax, w, h, 3, 3, "tab:blue")
    ax.text(2.5, 5.7, "A_prev (5×5, one channel)", ha="center", fontsize=11)
    ax.text(6.2, 2.5, "⊙", ha="center", va="center", fontsize=20)
    draw_grid(ax, W, origin=(7, 1), facecolors=[["#e5e5e5"] * 3] * 3, fontsize=11)
    ax.text(8.5, 4.7, "W (3×3), b = 0", ha="center", fontsize=11)
    arrow(ax, (10.4, 2.5), (12.1, 2.5), lw=2)
    draw_grid(ax, Z, origin=(12.5, 1), facecolors=one, fontsize=11)
    ax.text(14, 4.7, "Z (3×3)", ha="center", fontsize=11)
    ax.text(
        21.5,
        2.5,
        f"forward, stride 1, no padding:\nZ[{h}, {w}] = sum(window ⊙ W) = {Z[h, w]}\n"
        "(the blue window is rows 0-2, columns 1-3)",
        ha="center",
        va="center",
        fontsize=11,
    )

    # Row 2: backward to dA_prev and dW.
    y2 = 8.8
    draw_grid(ax, dZ, origin=(0.5, y2 + 1), facecolors=one, fontsize=11)
    ax.text(2, y2 + 4.7, "dZ (3×3)", ha="center", fontsize=11)
    dA = np.zeros((5, 5), dtype=int)
    dA[h : h + 3, w : w + 3] = dz * W
    contribution = np.where(in_window, dA.astype(object), "")
    draw_grid(ax, contribution, origin=(7, y2), facecolors=in_colors, fmt="{}", fontsize=11)
    outline(ax, 7 + w, y2 + h, 3, 3, "tab:blue")
    ax.text(9.5, y2 + 5.7, f"added to dA_prev: W · dZ[{h}, {w}] = {dz}·W", ha="center", fontsize=11)
    draw_grid(ax, dz * window, origin=(14.5, y2 + 1), facecolors=[[blue] * 3] * 3, fontsize=11)
    ax.text(16, y2 + 4.7, f"added to dW: window · {dz}", ha="center", fontsize=11)
    ax.text(16, y2 + 5.4, f"(and db += dZ[{h}, {w}] = {dz})", ha="center", fontsize=11)
    arrow(ax, (3.6, y2 + 2.5), (6.8, y2 + 2.5), color="tab:orange", lw=2)
    arrow(ax, (2.0, y2 + 0.9), (14.4, y2 + 1.4), color="tab:orange", lw=2, connectionstyle="arc3,rad=-0.32")

    # Overlap: how many windows touch each input element.
    counts = np.zeros((5, 5), dtype=int)
    for r in range(3):
        for c in range(3):
            counts[r : r + 3, c : c + 3] += 1
    shades = [[_count_color(counts[r, c], 9) for c in range(5)] for r in range(5)]
    draw_grid(ax, counts, origin=(19.5, y2), facecolors=shades, fontsize=11)
    ax.text(
        22,
        y2 + 5.5,
        "number of windows holding each input element:\n"
        "every output adds its share, so dA_prev[2, 2]\nsums the gradients of all 9 outputs",
        ha="center",
        va="top",
        fontsize=10.5,
    )
    ax.text(
        13,
        y2 - 2.3,
        "backward: each dZ[h, w] is sent back along the path it came by",
        ha="center",
        fontsize=12,
    )
    finish_axes(ax, (-0.3, 26.5), (-0.6, y2 + 7.4))
    fig.tight_layout()
    return fig


def _count_color(count, most):
    from matplotlib import colormaps

    return colormaps["Purples"](0.12 + 0.6 * count / most)


def pool_overlap():
    """Overlapping pooling windows (f = 3, s = 2): their gradients add up in the backward pass."""
    A = np.array([[1, 3, 2, 0, 4], [2, 0, 9, 5, 1], [0, 4, 1, 2, 3], [6, 1, 3, 0, 2], [2, 5, 0, 1, 7]])
    f, s = 3, 2
    dA = np.array([[1, 2], [3, 4]])
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    positions = [(0, 0), (0, 1), (1, 0), (1, 1)]
    max_prev = np.zeros((5, 5), dtype=int)
    ninths = np.zeros((5, 5), dtype=int)
    pooled = np.zeros((2, 2), dtype=int)
    for h, w in positions:
        block = A[h * s : h * s + f, w * s : w * s + f]
        pooled[h, w] = block.max()
        r, c = np.unravel_index(np.argmax(block), block.shape)
        max_prev[h * s + r, w * s + c] += dA[h, w]
        ninths[h * s : h * s + f, w * s : w * s + f] += dA[h, w]

    fig = Figure(figsize=(15, 5.6))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [9.1, 9.1, 5.6]})

    def windows(ax):
        for k, (h, w) in enumerate(positions):
            inset = 0.03 + 0.05 * k
            outline(ax, w * s + inset, h * s + inset, f - 2 * inset, f - 2 * inset, palette[k], lw=2.2)

    output_colors = [["#c6dbef", "#fdd0a2"], ["#c7e9c0", "#dadaeb"]]
    ax = axes[0]
    shared = [[("0.85" if r == 2 or c == 2 else "white") for c in range(5)] for r in range(5)]
    draw_grid(ax, A, facecolors=shared, fontsize=12)
    windows(ax)
    arrow(ax, (5.3, 2.5), (6.3, 2.5))
    draw_grid(ax, pooled, origin=(6.5, 1.5), facecolors=output_colors, fontsize=12)
    ax.text(2.5, 5.8, "A_prev 5×5 (grey: in 2 or 4 windows)", ha="center", fontsize=10.5)
    ax.text(7.5, 4.3, "max pool\n2×2", ha="center", va="top", fontsize=10.5)
    finish_axes(ax, (-0.3, 8.8), (-0.3, 6.4), "Forward: f = 3, s = 2, the windows overlap")

    ax = axes[1]
    draw_grid(ax, dA, origin=(0, 1.5), facecolors=output_colors, fontsize=12)
    ax.text(1, 4.3, "dA\n(given)", ha="center", va="top", fontsize=10.5)
    arrow(ax, (2.3, 2.5), (3.3, 2.5))
    hits = [["#fcbba1" if max_prev[r, c] else "white" for c in range(5)] for r in range(5)]
    draw_grid(ax, max_prev, origin=(3.5, 0), facecolors=hits, fmt=lambda v: f"{v}" if v else "0", fontsize=12)
    for k, (h, w) in enumerate(positions):
        inset = 0.03 + 0.05 * k
        outline(ax, 3.5 + w * s + inset, h * s + inset, f - 2 * inset, f - 2 * inset, palette[k], lw=1.6)
    ax.text(
        6,
        5.8,
        "the 9 is the maximum of two windows: 1 + 2 = 3",
        ha="center",
        fontsize=10.5,
    )
    finish_axes(ax, (-0.3, 8.8), (-0.3, 6.4), "Max-pool backward: dA_prev")

    ax = axes[2]
    shades = [[_count_color(ninths[r, c], 10) for c in range(5)] for r in range(5)]
    draw_grid(ax, ninths, facecolors=shades, fmt=lambda v: f"{v}/9", fontsize=10)
    windows(ax)
    ax.text(2.5, 5.8, "centre: (1 + 2 + 3 + 4)/9 = 10/9", ha="center", fontsize=10.5)
    finish_axes(ax, (-0.3, 5.3), (-0.3, 6.4), "Average-pool backward: dA_prev")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Section 7: image kernels
# --------------------------------------------------------------------------------------

KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "blur (× 1/16)": [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "bottom Sobel": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "top Sobel": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "left Sobel": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "right Sobel": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
}


def photographs():
    """The two photographs of images.h5."""
    gray, rgb = _photographs()
    fig = Figure(figsize=(7.5, 4.2))
    axes = fig.subplots(1, 2)
    axes[0].imshow(gray, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title(f"grayscale image, {gray.shape[0]}×{gray.shape[1]}")
    axes[1].imshow(rgb, interpolation="nearest")
    axes[1].set_title(f"RGB image, {rgb.shape[0]}×{rgb.shape[1]}×3")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def kernels():
    """The nine kernels of section 7 as grids of weights (blue positive, red negative)."""
    from matplotlib import colormaps

    cmap = colormaps["RdBu"]
    fig = Figure(figsize=(13, 3.4))
    axes = fig.subplots(1, len(KERNELS))
    for ax, (name, kernel) in zip(axes, KERNELS.items()):
        kernel = np.array(kernel)
        top = 8 if name == "outline" else 5
        colors = [[cmap(0.5 + 0.45 * np.clip(v / top, -1, 1)) for v in row] for row in kernel]
        draw_grid(ax, kernel, facecolors=colors, fmt="{:d}", fontsize=11)
        finish_axes(ax, (-0.1, 3.1), (-0.1, 3.1), name, fontsize=11)
    fig.tight_layout()
    return fig


def digits():
    """Two training digits of each class of digits.h5."""
    with h5py.File(DIGITS, "r") as file:
        images, labels = file["train_images"][()], file["train_labels"][()]
    fig = Figure(figsize=(10, 2.5))
    axes = fig.subplots(2, 10)
    for digit in range(10):
        examples = images[labels == digit]
        for row in range(2):
            axes[row, digit].imshow(examples[row], cmap="gray_r", vmin=0, vmax=16)
            axes[row, digit].axis("off")
        axes[0, digit].set_title(str(digit))
    fig.suptitle("Two training digits of each class (8×8 pixels, ink from 0 to 16)")
    return fig


FIGURES = {
    "zero_padding": zero_padding,
    "conv_steps": conv_steps,
    "conv_output_floor": conv_output_floor,
    "weight_sharing": weight_sharing,
    "one_by_one_conv": one_by_one_conv,
    "pooling": pooling,
    "lenet5": lenet5,
    "conv_backward": conv_backward,
    "pool_overlap": pool_overlap,
    "photographs": photographs,
    "kernels": kernels,
    "digits": digits,
}
