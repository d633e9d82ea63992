"""Pictures: the session timeline and the transition diagram, as PNG and SVG."""

from __future__ import annotations

import builtins
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from analysis_stores import analysis_store, store_selector
from click.testing import CliRunner

from mbtkg.analysis import session_data
from mbtkg.cli import main
from mbtkg.errors import InputError, UnknownNameError
from mbtkg.plots import MissingExtraError, plot_timeline, plot_transitions
from mbtkg.plots.timeline import abbreviations, window
from mbtkg.stores import Store

pytest.importorskip("matplotlib", reason="the 'plots' extra (matplotlib) is not installed")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture()
def store() -> Iterator[Store]:
    with analysis_store() as opened:
        yield opened


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_timeline_png(store: Store, tmp_path: Path) -> None:
    out = plot_timeline(store, "susan-12", tmp_path / "susan.png")
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 20_000


def test_timeline_svg_has_lanes_per_coder_and_title(store: Store, tmp_path: Path) -> None:
    texts = _svg_texts(plot_timeline(store, "susan-12", tmp_path / "susan.svg"))
    assert "Session susan-12 (session 12, 2024-10-14, individual)" in texts
    for lane in (
        "P-susan (patient)",
        "T-1 (therapist)",
        "prementalizing modes · A-1",
        "prementalizing modes · A-2",
        "mentalizing · A-1",
        "interventions, stance · A-2",
        "rupture / repair · A-1",
        "rupture / repair · A-2",
        "epistemic trust / mistrust · A-1",
        "we-ness · A-1",
    ):
        assert lane in texts, lane
    assert (
        "epistemic trust / mistrust · A-2" not in texts
    )  # A-2 coded no trust marker: no empty lane
    assert "WR  withdrawal rupture" in texts  # legend entry with its bar code
    assert texts.count("WR") == 2  # one withdrawal-rupture bar per coder


def test_transition_diagram_png_and_svg(store: Store, tmp_path: Path) -> None:
    png = plot_transitions(store, tmp_path / "t.png", session="susan-12")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    texts = _svg_texts(plot_transitions(store, tmp_path / "t.svg", patient="P-x"))
    assert "coder C-1: 3 transitions" in texts
    assert "Mode transitions, patient P-x (2 sessions)" in texts
    assert any("teleological" in t for t in texts)


def test_transition_diagram_without_modes_says_so(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no prementalizing mode or mentalizing is coded"):
        plot_transitions(store, tmp_path / "t.png", session="three-coders")


def test_bad_suffix_and_unknown_session(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"must end in \.png or \.svg, found \.pdf"):
        plot_timeline(store, "susan-12", tmp_path / "susan.pdf")
    with pytest.raises(UnknownNameError, match="did you mean 'susan-12'"):
        plot_timeline(store, "susan-13", tmp_path / "x.png")


def test_missing_matplotlib_is_one_sentence(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(MissingExtraError, match=r"pip install 'mbtkg\[plots\]'"):
        plot_timeline(store, "susan-12", tmp_path / "x.png")


def test_abbreviations_are_unique() -> None:
    codes = abbreviations(["clarification", "challenge", "clarity", "effective mentalizing"])
    assert codes["challenge"] == "C"
    assert len(set(codes.values())) == 4


def test_cli_plot_writes_both_formats(tmp_path: Path) -> None:
    for name in ("tl.png", "tl.svg"):
        result = CliRunner().invoke(
            main,
            [
                "plot",
                "timeline",
                "tiny-02",
                "--out",
                str(tmp_path / name),
                "--store",
                store_selector(),
            ],
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 0
    assert "rupture / repair · C-1" in _svg_texts(tmp_path / "tl.svg")
    bad = CliRunner().invoke(
        main,
        [
            "plot",
            "timeline",
            "tiny-02",
            "--out",
            str(tmp_path / "x.jpg"),
            "--store",
            store_selector(),
        ],
    )
    assert bad.exit_code == 2
    assert "found .jpg" in bad.output


def test_timeline_window_cuts_codes_at_its_edges(store: Store, tmp_path: Path) -> None:
    data = session_data(store, "susan-12")
    part = window(data, 21, 24)
    assert [t.index for t in part.turns] == [21, 22, 23, 24]
    spans = {o.annotation: (o.start, o.end) for o in part.occurrences}
    assert spans["a13"] == (21, 22)  # withdrawal rupture 20-22, cut at turn 21
    assert spans["a15"] == (21, 24)  # repair 21-27, cut at turn 24
    assert "a11" not in spans  # psychic equivalence on turn 18 lies outside
    texts = _svg_texts(plot_timeline(store, "susan-12", tmp_path / "w.svg", turns=(21, 24)))
    assert "rupture / repair · A-2" in texts
    assert "prementalizing modes · A-1" not in texts
    with pytest.raises(InputError, match="turns 60-70 are not a stretch of session 'susan-12'"):
        window(data, 60, 70)


def test_cli_turns_option(tmp_path: Path) -> None:
    out = tmp_path / "w.png"
    args = ["plot", "timeline", "susan-12", "--out", str(out), "--store", store_selector()]
    ok = CliRunner().invoke(main, [*args, "--turns", "16-35"])
    assert ok.exit_code == 0, ok.output
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    bad = CliRunner().invoke(main, [*args, "--turns", "16to35"])
    assert bad.exit_code == 2
    assert "--turns takes FIRST-LAST, for example 20-60; found '16to35'" in bad.output
