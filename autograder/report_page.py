"""The class report as one self-contained HTML page: figures embedded as PNG data, no script, no
link to anything outside it, every text that came from a submission escaped."""

from __future__ import annotations

import html
import statistics

from autograder.figures import png_base64
from autograder.report import ClassReport
from autograder.text import visible

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 0.2em 0.8em; text-align: left; }
th { background: #f0f0f0; } tr:nth-child(even) td { background: #fafafa; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 0.8em; background: #4c72b0; vertical-align: middle; }
.low { background: #c44e52; } .who { color: #555; font-size: 0.9em; }
.summary span { margin-right: 2em; } img { max-width: 100%; }
"""
SHOWN_STUDENTS = 12  # names listed per mistake before "and N more"


def text(value: object) -> str:
    """Text from a result or a submission, as HTML that shows it literally."""
    return html.escape(visible(str(value)))


def report_html(report: ClassReport) -> str:
    sections = [
        summary(report),
        scores(report),
        functions(report),
        cases(report),
        mistakes(report),
        runtimes(report),
        broken(report),
        similar(report),
    ]
    title = f"{text(report.assignment)}: class report"
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>\n" + "\n".join(sections) + "\n</body></html>\n"
    )


def summary(report: ClassReport) -> str:
    graded = report.graded
    mean = statistics.fmean(result.score for result in graded) if graded else 0.0
    points = max((result.max_score for result in graded), default=0.0)
    parts = [
        f"<span>{len(report.results)} submissions</span>",
        f"<span>{len(graded)} graded</span>",
        f"<span>{len(report.broken)} not graded</span>",
        f"<span>mean score {mean:.1f} / {points:g}</span>",
    ]
    return f"<p class='summary'>{''.join(parts)}</p>"


def figure_tag(figure, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{png_base64(figure)}'>"


def scores(report: ClassReport) -> str:
    from matplotlib.figure import Figure

    graded = report.graded
    figure = Figure(figsize=(8, 3))
    ax = figure.subplots()
    points = max((result.max_score for result in graded), default=100.0) or 100.0
    ax.hist(
        [result.score for result in graded], bins=20, range=(0, points), color="#4c72b0", edgecolor="white"
    )
    ax.set_xlabel("score")
    ax.set_ylabel("submissions")
    ax.set_title("Score distribution (graded submissions)")
    return "<h2>Scores</h2>" + figure_tag(figure, "histogram of the scores")


def functions(report: ClassReport) -> str:
    rows = "".join(
        f"<tr><td>{text(f.name)}</td><td class='number'>{f.points:g}</td>"
        f"<td class='number'>{f.mean:.2f}</td><td class='number'>{f.full_share:.0%}</td>"
        f"<td>{bar(f.full_share)}</td></tr>"
        for f in report.functions
    )
    return (
        "<h2>Per function</h2><table><tr><th>function</th><th>points</th><th>mean score</th>"
        f"<th>full marks</th><th></th></tr>{rows}</table>"
    )


def bar(share: float, width: float = 12.0) -> str:
    low = " low" if share < 0.5 else ""
    return f"<span class='bar{low}' style='width: {max(share, 0.0) * width:.2f}em'></span>"


def cases(report: ClassReport) -> str:
    rows = "".join(
        f"<tr><td>{text(case.test)}</td><td>{text(case.function)}</td>"
        f"<td class='number'>{case.pass_rate:.0%}</td><td>{bar(case.pass_rate)}</td>"
        f"<td class='number'>{case.passed}</td><td class='number'>{case.failed}</td></tr>"
        for case in report.cases
    )
    return (
        "<h2>Hidden test cases, hardest first</h2><p>Also in cases.csv.</p><table><tr><th>test</th>"
        f"<th>function</th><th>pass rate</th><th></th><th>passed</th><th>failed</th></tr>{rows}</table>"
    )


def who(students: tuple[str, ...]) -> str:
    shown = ", ".join(text(student) for student in students[:SHOWN_STUDENTS])
    more = len(students) - SHOWN_STUDENTS
    return shown + (f" and {more} more" if more > 0 else "")


def mistakes(report: ClassReport) -> str:
    parts = ["<h2>Common mistakes</h2><p>What the failing tests said, once per student.</p>"]
    for function in (f.name for f in report.functions):
        items = report.diagnoses.get(function, [])
        if not items:
            continue
        rows = "".join(
            f"<tr><td class='number'>{len(item.students)}</td><td>{text(item.says)}</td>"
            f"<td class='who'>{who(item.students)}</td></tr>"
            for item in items
        )
        parts.append(
            f"<h3>{text(function)}</h3><table><tr><th>students</th><th>what it shows</th><th>who</th></tr>"
            f"{rows}</table>"
        )
    return "".join(parts)


def runtimes(report: ClassReport) -> str:
    from matplotlib.figure import Figure

    if not report.ratios:
        return "<h2>Runtime</h2><p>No runtime tests.</p>"
    names = list(report.ratios)
    figure = Figure(figsize=(8, 0.6 + 0.5 * len(names)))
    ax = figure.subplots()
    for row, name in enumerate(names):
        values = report.ratios[name]
        jitter = [row + 0.25 * ((index * 0.618) % 1 - 0.5) for index in range(len(values))]
        ax.scatter(values, jitter, s=14, alpha=0.6, color="#4c72b0")
    ax.axvline(report.limit, color="#c44e52", linestyle="--", label=f"limit {report.limit:g}×")
    ax.set_xscale("log")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("time / the reference's time (log scale)")
    ax.legend(loc="lower right")
    rows = "".join(
        f"<tr><td>{text(name)}</td><td class='number'>{statistics.median(values):.2f}×</td>"
        f"<td class='number'>{max(values):.1f}×</td>"
        f"<td class='number'>{sum(value > report.limit for value in values)}</td></tr>"
        for name, values in report.ratios.items()
    )
    return (
        "<h2>Runtime</h2>"
        + figure_tag(figure, "runtime ratios per timed function")
        + "<table><tr><th>function</th><th>median</th><th>slowest</th><th>over the limit</th></tr>"
        + rows
        + "</table>"
    )


def broken(report: ClassReport) -> str:
    rows = "".join(
        f"<tr><td>{text(student)}</td><td>{text(reason)}</td></tr>" for student, reason in report.broken
    )
    rows += "".join(
        f"<tr><td>{text(student)}</td><td>results unreadable: {text(reason)}</td></tr>"
        for student, reason in report.unreadable
    )
    if not rows:
        return "<h2>Not graded</h2><p>Every submission was graded.</p>"
    return f"<h2>Not graded</h2><table><tr><th>student</th><th>why</th></tr>{rows}</table>"


def similar(report: ClassReport) -> str:
    if not report.similar:
        return "<h2>Similar submissions</h2><p>No two submissions share near-identical graded cells.</p>"
    rows = "".join(
        f"<tr><td>{text(pair.student_a)}</td><td>{text(pair.student_b)}</td>"
        f"<td class='number'>{pair.similarity:.0%}</td><td>{text(', '.join(pair.functions))}</td></tr>"
        for pair in report.similar
    )
    return (
        "<h2>Similar submissions</h2><p>Graded cells identical or near-identical once comments, "
        "whitespace and names are normalised (the released stubs, short functions and idioms most "
        "of the class shares never count). Also in similar.csv.</p><table><tr><th>student</th>"
        f"<th>student</th><th>similarity</th><th>matching functions</th></tr>{rows}</table>"
    )
