"""`relecture eval`: each flag goes with some evaluations only; the wrong mix is refused
before any model loads or any footage is read."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from relecture.cli import app
from relecture.errors import UsageError
from relecture.evaluation.choose import EvalRequest, check, evaluation


@pytest.mark.parametrize("req, words", [
    (EvalRequest("speed", data="d"), "unknown evaluation 'speed'"),
    (EvalRequest("colours", rendered=True), "--rendered goes with `eval plates`"),
    (EvalRequest("plates", data="d", video=True), "--video goes with `eval plates --rendered`"),
    (EvalRequest("plates"), "give --data DIR, or --rendered"),
    (EvalRequest("plates", data="d", rendered=True), "give --data DIR, or --rendered"),
    (EvalRequest("colours", data="d", videos="v"), "--videos goes with"),
    (EvalRequest("plates", data="d", detector="tiled"), "--detector goes with"),
    (EvalRequest("plates", rendered=True, video=True, recogniser=True), "--recogniser goes with"),
    (EvalRequest("colours", data="d", recogniser=True), "--recogniser goes with"),
])
def test_flags_that_do_not_go_together_are_refused(req, words):
    with pytest.raises(UsageError, match=words.replace("?", r"\?").replace("*", r"\*")):
        check(req)


def test_each_name_runs_its_own_evaluation():
    from relecture.evaluation.colours import evaluate_colours
    from relecture.evaluation.plates import evaluate_plates

    check(EvalRequest("plates", rendered=True, video=True))  # no folder needed: no error
    plates = evaluation(EvalRequest("plates", data="d"))
    assert plates.func is evaluate_plates and plates.keywords["reader"].recogniser is None
    # --recogniser: the reader asks the registry for platerec (the shipped weights)
    asked = evaluation(EvalRequest("plates", data="d", recogniser=True))
    assert asked.keywords["reader"].recogniser is not None
    assert evaluation(EvalRequest("colours", data="d")) is evaluate_colours
    passages = evaluation(EvalRequest("passages", data="d", k=5, detector="tiled"))
    assert passages.func.__name__ == "evaluate_passages"
    assert passages.keywords == {"videos_dir": None, "detector": "tiled"}


def test_the_cli_says_which_flag_is_wrong_and_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["eval", "colours", "--data", str(tmp_path), "--k", "5",
                                      "--videos", str(tmp_path)])
    assert result.exit_code == 2
    assert "--videos goes with" in result.stderr and "\n" not in result.stderr.strip()
