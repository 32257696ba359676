"""The explanatory figures of rnn_step_by_step.ipynb, none of which depends on the student's code.

`autograder figures rnn_step_by_step` draws each one and embeds it as a PNG attachment of the
markdown cell that shows it (``![...](attachment:NAME.png)``), so the figures render as soon as
the notebook opens, executed or not, whatever exercise a student has reached. The figures that
use the student's functions (the gradient norms of sections 4 and 6, the training runs of
section 7) stay code cells of the notebook.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

CELL_RED = "tab:red"
# One colour per gate, shared by the block of `a` and the gate it feeds.
GATE_COLORS = {"i": "#a1d99b", "f": "#fdae6b", "o": "#bcbddc", "g": "#9ecae1"}


# --------------------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------------------


def box(ax, x, y, w, h, text, color="#fdd49e", fontsize=12):
    """A rounded box centred at (x, y) with a label (a layer or a gate)."""
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=color,
            edgecolor="0.25",
            lw=1.2,
            zorder=3,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def node(ax, x, y, text, r=0.28, color="#fee6ce", fontsize=12):
    """A small circle centred at (x, y): a point-wise operation."""
    ax.add_patch(Circle((x, y), r, facecolor=color, edgecolor="0.25", lw=1.2, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def arrow(ax, points, color="0.2", lw=1.5, head=True):
    """A polyline through `points`, with an arrow head at its end (or none)."""
    points = np.asarray(points, dtype=float)
    if len(points) > 2:
        ax.plot(points[:-1, 0], points[:-1, 1], color=color, lw=lw, zorder=2, solid_capstyle="round")
    ax.add_patch(
        FancyArrowPatch(
            points[-2],
            points[-1],
            arrowstyle="-|>" if head else "-",
            mutation_scale=14,
            color=color,
            lw=lw,
            zorder=2,
            shrinkA=0,
            shrinkB=0,
        )
    )


def finish(ax, xlim, ylim, title, fontsize=12):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=fontsize)


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def rnn_unrolled():
    """Section 2: a vanilla RNN unrolled over four time steps."""
    fig = Figure(figsize=(12, 4))
    ax = fig.subplots()
    steps = 4
    xs = [2.2 * t + 2 for t in range(steps)]
    ax.text(-0.1, 1.5, "$h_0$", ha="center", va="center", fontsize=14)
    arrow(ax, [(0.2, 1.5), (xs[0] - 0.6, 1.5)])
    for t, x in enumerate(xs, start=1):
        box(ax, x, 1.5, 1.2, 0.9, "tanh", color="#c6dbef")
        arrow(ax, [(x, 0.0), (x, 1.05)])
        ax.text(x, -0.25, f"$x_{t}$", ha="center", va="top", fontsize=14)
        arrow(ax, [(x, 1.95), (x, 2.9)])
        ax.text(x, 3.05, f"$h_{t}$", ha="center", va="bottom", fontsize=14)
        if t < steps:
            arrow(ax, [(x + 0.6, 1.5), (xs[t] - 0.6, 1.5)])
            ax.text((x + xs[t]) / 2, 1.62, f"$h_{t}$", ha="center", va="bottom", fontsize=11, color="0.35")
    ax.text(xs[-1] + 0.9, 1.5, "...", fontsize=16, va="center")
    ax.text(xs[0] + 0.08, 0.55, "$W_x$", fontsize=10, color="0.35")
    ax.text(xs[0] - 1.1, 1.62, "$W_h$", fontsize=10, color="0.35")
    finish(
        ax,
        (-0.6, xs[-1] + 1.6),
        (-0.8, 3.6),
        "A vanilla RNN unrolled over 4 time steps: the same $W_x$, $W_h$, $b$ in every box",
    )
    return fig


def lstm_cell():
    """Section 5: one LSTM step, its pre-activations split into the blocks i, f, o, g."""
    fig = Figure(figsize=(14, 7))
    ax = fig.subplots()
    y_cell, y_gate, y_in = 6.0, 2.75, 0.95  # the cell state, the gates, the input h_{t-1}
    bar_bottom, bar_top = 0.6, 1.3  # the pre-activations a, one block per gate
    gap = 0.16  # where a line passes under another one
    ax.add_patch(
        FancyBboxPatch(
            (0.35, -0.05),
            10.25,
            6.85,
            boxstyle="round,pad=0.05,rounding_size=0.4",
            facecolor="#f7f7f7",
            edgecolor="0.5",
            lw=1.2,
            zorder=0,
        )
    )

    # a = x_t Wx + h_{t-1} Wh + b, of 4H columns: blocks i, f, o, g in this order
    gates = [
        ("i", r"$\sigma$", "$0:H$"),
        ("f", r"$\sigma$", "$H:2H$"),
        ("o", r"$\sigma$", "$2H:3H$"),
        ("g", "tanh", "$3H:4H$"),
    ]
    width = 1.5
    left = 1.0
    xg = {}
    for k, (name, function, columns) in enumerate(gates):
        x = left + width * (k + 0.5)
        xg[name] = x
        ax.add_patch(
            Rectangle(
                (left + width * k, bar_bottom),
                width,
                bar_top - bar_bottom,
                facecolor=GATE_COLORS[name],
                edgecolor="0.25",
                lw=1.2,
                zorder=3,
            )
        )
        ax.text(x, (bar_bottom + bar_top) / 2, columns, ha="center", va="center", fontsize=11, zorder=4)
        arrow(ax, [(x, bar_top), (x, y_gate - 0.35)])
        box(ax, x, y_gate, 0.9, 0.7, function, color=GATE_COLORS[name], fontsize=12)
        ax.text(x + 0.52, y_gate + 0.38, f"${name}$", fontsize=14, color="0.1", zorder=4)
    right = left + 4 * width
    ax.text(
        (left + right) / 2,
        bar_bottom - 0.12,
        "$a = x_t W_x + h_{t-1} W_h + b$: its 4H columns",
        ha="center",
        va="top",
        fontsize=11,
    )
    arrow(ax, [(-0.6, y_in), (left, y_in)])  # h_{t-1} and x_t feed all four blocks at once
    ax.text(-0.7, y_in + 0.28, "$h_{t-1}$", fontsize=14, ha="left")
    arrow(ax, [(0.7, -0.9), (0.7, y_in)], head=False)
    ax.text(0.7, -1.0, "$x_t$", fontsize=14, ha="center", va="top")

    # the cell state: an additive path along the top
    x_forget, x_add, x_tap, x_out = xg["f"], xg["g"], 8.7, 9.9
    arrow(ax, [(-0.6, y_cell), (x_forget - 0.28, y_cell)], color=CELL_RED, lw=2.5)
    node(ax, x_forget, y_cell, r"$\times$")
    arrow(ax, [(x_forget + 0.28, y_cell), (x_add - 0.28, y_cell)], color=CELL_RED, lw=2.5)
    node(ax, x_add, y_cell, "+")
    arrow(ax, [(x_add + 0.28, y_cell), (11.6, y_cell)], color=CELL_RED, lw=2.5)
    ax.text(-0.7, y_cell + 0.3, "$c_{t-1}$", fontsize=14, ha="left", color=CELL_RED)
    ax.text(11.6, y_cell + 0.3, "$c_t$", fontsize=14, ha="right", color=CELL_RED)

    # f multiplies c_{t-1}; the line from i passes over it
    y_ig = 4.6
    arrow(ax, [(x_forget, y_gate + 0.35), (x_forget, y_ig - gap)], head=False)
    arrow(ax, [(x_forget, y_ig + gap), (x_forget, y_cell - 0.28)])
    # i * g is added to the cell state
    node(ax, x_add, y_ig, r"$\times$")
    arrow(ax, [(xg["i"], y_gate + 0.35), (xg["i"], y_ig), (x_add - 0.28, y_ig)])
    y_o = 3.75
    arrow(ax, [(x_add, y_gate + 0.35), (x_add, y_o - gap)], head=False)  # g, under the line from o
    arrow(ax, [(x_add, y_o + gap), (x_add, y_ig - 0.28)])
    arrow(ax, [(x_add, y_ig + 0.28), (x_add, y_cell - 0.28)])
    # h_t = o * tanh(c_t)
    node(ax, x_tap, 4.85, "tanh", r=0.34, fontsize=9)
    arrow(ax, [(x_tap, y_cell), (x_tap, 4.85 + 0.34)])
    node(ax, x_tap, y_o, r"$\times$")
    arrow(ax, [(x_tap, 4.85 - 0.34), (x_tap, y_o + 0.28)])
    arrow(ax, [(xg["o"], y_gate + 0.35), (xg["o"], y_o), (x_tap - 0.28, y_o)])
    arrow(ax, [(x_tap + 0.28, y_o), (x_out, y_o), (x_out, y_in), (11.6, y_in)])
    arrow(ax, [(x_out, y_o), (x_out, y_cell - gap)], head=False)  # (it passes under c)
    arrow(ax, [(x_out, y_cell + gap), (x_out, 7.5)])
    ax.text(11.6, y_in + 0.28, "$h_t$", fontsize=14, ha="right")
    ax.text(x_out + 0.15, 7.3, "$h_t$ (output)", fontsize=13)

    formulas = [
        "$a = x_t W_x + h_{t-1} W_h + b$",
        r"$i = \sigma(a_{[0:H]})$",
        r"$f = \sigma(a_{[H:2H]})$",
        r"$o = \sigma(a_{[2H:3H]})$",
        r"$g = \tanh(a_{[3H:4H]})$",
        r"$c_t = f \odot c_{t-1} + i \odot g$",
        r"$h_t = o \odot \tanh(c_t)$",
    ]
    ax.text(12.2, 3.4, "\n".join(formulas), fontsize=13, va="center", linespacing=1.7)
    finish(
        ax,
        (-1.0, 17.2),
        (-1.6, 7.9),
        "An LSTM cell: the four blocks of $a$, in the order $i, f, o, g$, make the gates;\n"
        "the cell state (red) only meets a multiplication by $f$ and an addition",
    )
    return fig


FIGURES = {"rnn_unrolled": rnn_unrolled, "lstm_cell": lstm_cell}
