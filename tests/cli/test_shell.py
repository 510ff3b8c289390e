"""The shell's one exit policy: 1 for a located user error, 2 usage, 3 a bug, 130 Ctrl-C."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
import pytest
from click.testing import CliRunner

from gitops_gen.cli import Shell, run
from gitops_gen.errors import GitopsGenError


def _exit_of(command: click.Command, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(command, list(args))
    return result.exit_code, result.output


def _shell(body: object) -> click.Group:
    @click.group(cls=Shell)
    def group() -> None:
        pass

    @group.command()
    def go() -> int:
        if isinstance(body, BaseException):
            raise body
        assert isinstance(body, int)
        return body

    return group


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (GitopsGenError("bad value", "a.yaml", 3, 5), 1),
        (ValueError("oops"), 3),
        (KeyboardInterrupt(), 130),
        (click.UsageError("give --x"), 2),
        (BrokenPipeError(), 1),
    ],
)
def test_each_failure_has_one_exit_code(raised: BaseException, code: int) -> None:
    assert _exit_of(_shell(raised), "go")[0] == code


def test_a_user_error_is_one_located_line() -> None:
    code, output = _exit_of(_shell(GitopsGenError("bad value", "a.yaml", 3, 5)), "go")
    assert (code, output) == (1, "gitops-gen: error: a.yaml:3:5: bad value\n")


def test_a_bug_says_so() -> None:
    code, output = _exit_of(_shell(ValueError("oops")), "go")
    assert code == 3 and "internal error (a bug, please report it): ValueError: oops" in output


def test_the_command_return_value_is_the_exit_code() -> None:
    assert _exit_of(_shell(1), "go")[0] == 1
    assert _exit_of(_shell(0), "go")[0] == 0


def test_a_command_module_that_fails_to_import_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops_gen.cli import main

    monkeypatch.setitem(sys.modules, "gitops_gen.cli.commands.build", None)  # import raises ImportError
    code, output = _exit_of(main, "build", ".")
    assert code == 3 and "internal error (a bug" in output and "gitops_gen.cli.commands.build" in output


def test_run_exits_with_what_the_command_returns() -> None:
    def command() -> NoReturn:
        run(lambda: 7)

    with pytest.raises(SystemExit) as exc:
        command()
    assert exc.value.code == 7
