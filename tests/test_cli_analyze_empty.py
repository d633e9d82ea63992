"""An analysis that finds nothing says so in a sentence naming what was looked for and where,
never as a bare "(0 rows)"; csv and json keep their empty table on stdout for programs."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mbtkg.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
NO_CODES = FIXTURES / "valid" / "one-turn.yaml"  # one turn, no annotation at all


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def test_no_rupture_is_said_with_the_scope_and_the_store() -> None:
    code, out, err = _run("ruptures", "--session", "valid-one-turn", "--load", str(NO_CODES))
    assert code == 0, out + err
    assert "(0 rows)" not in out
    assert "no ruptures coded in session valid-one-turn in oxigraph:memory" in out


def test_no_transition_and_no_follower_are_said_too() -> None:
    code, out, err = _run("transitions", "--load", str(NO_CODES))
    assert code == 0, out + err
    assert out.startswith("no transitions: no coded prementalizing mode or mentalizing")
    code, out, err = _run("follows", "-k", "2", "--load", str(NO_CODES))
    assert code == 0, out + err
    assert out.startswith("no intervention followed by a code within 2 turns")


def test_machine_formats_keep_an_empty_table_and_say_it_on_stderr() -> None:
    code, out, err = _run("ruptures", "--format", "json", "--load", str(NO_CODES))
    assert code == 0
    assert json.loads(out) == []
    assert "no ruptures coded" in err
    code, out, err = _run("ruptures", "--format", "csv", "--unrepaired", "--load", str(NO_CODES))
    assert code == 0
    assert (
        out.strip().startswith("session,annotator,rupture") and len(out.strip().splitlines()) == 1
    )
    assert "no unrepaired ruptures coded" in err
