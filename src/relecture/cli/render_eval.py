"""Rich rendering of evaluation metrics."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table


class EvalProgress:
    """A progress bar fed by `update(done, total)`."""

    def __init__(self, console: Console, what: str):
        self.progress = Progress(TextColumn(f"eval {what}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=console, transient=True)
        self.task = self.progress.add_task(what, total=None)

    def __enter__(self) -> "EvalProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def update(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


def print_metrics(console: Console, what: str, metrics: dict) -> None:
    """Headline numbers, then any nested tables (per class or video, confusion matrices)."""
    table = Table(title=f"{what} evaluation")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.3f}")
        elif isinstance(value, (int, str)):
            table.add_row(key, str(value))
        elif isinstance(value, dict) and {"n", "exact"} <= value.keys():  # a scored subset
            exact = "-" if value["exact"] is None else f"{value['exact']:.3f}"
            table.add_row(key, f"{exact} (n {value['n']})")
    console.print(table)
    for key, title in (("per_class", "per class"), ("per_video", "per video"),
                       ("per_format", "per format"), ("halves", "per half (rows of labels.csv)"),
                       ("per_style", "per body style (halves: even and odd rows)"),
                       ("per_threshold", "body styles pooled, per mark")):
        if isinstance(metrics.get(key), dict):
            console.print(_per_row_table(title, key.removeprefix("per_"), metrics[key]))
    for tag, rows in (metrics.get("groups") or {}).items():  # rendered plates, per condition
        if tag != "format":
            console.print(_per_row_table(f"per {tag}", tag, rows))
    if "failing" in metrics:
        console.print("conditions under target: " + ("; ".join(metrics["failing"]) or "none"),
                      highlight=False)
    for key, value in metrics.items():
        if key.endswith("confusion") and isinstance(value, dict):
            name = key.removesuffix("confusion").replace("_", " ")
            console.print(_confusion_table(f"{name}confusion", value))
    for key in ("missed", "missed_at_k"):
        if metrics.get(key):
            console.print(f"{key.replace('_', ' ')}: {', '.join(map(str, metrics[key]))}",
                          highlight=False)


def _per_row_table(title: str, first: str, rows: dict) -> Table:
    """One row per class (or video), one column per metric."""
    table = Table(title=title)
    cols = list(dict.fromkeys(k for v in rows.values() for k in v))
    if first == "class":
        cols = sorted(cols)
    table.add_column(first)
    for c in cols:
        table.add_column(c, justify="right")
    for name, vals in rows.items():
        table.add_row(name, *(_fmt(vals.get(c)) for c in cols))
    return table


def _confusion_table(title: str, conf: dict) -> Table:
    """Counts {truth: {predicted: n}} as a matrix."""
    labels = sorted({p for row in conf.values() for p in row} | set(conf))
    table = Table(title=f"{title} (rows: truth, columns: predicted)")
    table.add_column("")
    for lb in labels:
        table.add_column(lb[:6], justify="right")
    for truth in sorted(conf):
        table.add_row(truth, *(str(conf[truth].get(p, "")) for p in labels))
    return table


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))
