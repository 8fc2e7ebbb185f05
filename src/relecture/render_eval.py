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
    """Headline numbers, then any nested tables (per class, confusion matrix)."""
    table = Table(title=f"{what} evaluation")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.3f}")
        elif isinstance(value, (int, str)):
            table.add_row(key, str(value))
    console.print(table)
    if isinstance(metrics.get("per_class"), dict):
        per = Table(title="per class")
        cols = sorted({k for v in metrics["per_class"].values() for k in v})
        per.add_column("class")
        for c in cols:
            per.add_column(c, justify="right")
        for cls, vals in metrics["per_class"].items():
            per.add_row(cls, *(_fmt(vals.get(c)) for c in cols))
        console.print(per)
    if isinstance(metrics.get("confusion"), dict):
        conf = metrics["confusion"]
        labels = sorted({p for row in conf.values() for p in row} | set(conf))
        mat = Table(title="confusion (rows: truth, columns: predicted)")
        mat.add_column("")
        for lb in labels:
            mat.add_column(lb[:6], justify="right")
        for truth in sorted(conf):
            mat.add_row(truth, *(str(conf[truth].get(p, "")) for p in labels))
        console.print(mat)


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))
