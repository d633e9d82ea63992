"""The coding workbench in real headless Chromium (Debian's chromium + chromedriver, Selenium).

Each test drives the page the way a coder does (clicks and keys) and checks the session file
on disk afterwards: the YAML is the source of truth, so the page is only right when the file is.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from annotate_process import Running, mbtkg_annotate
from example_session_facts import counts, next_annotation_id

from mbtkg.annotate.catalog import codable_concepts
from mbtkg.resources import example_sessions
from mbtkg.sessions.to_rdf import session_to_rdf
from mbtkg.sessions.yaml_reader import parse_yaml_session
from mbtkg.validation.fast_shacl.engine import FastValidator

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FILE = "susan-12.yaml"
WAIT = 120


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sessions"
    folder.mkdir()
    for path in example_sessions():
        shutil.copy(path, folder / Path(path).name)
    return folder


@pytest.fixture()
def app(folder: Path) -> Iterator[Running]:
    with mbtkg_annotate(folder) as running:
        yield running


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: Any, check: Callable[[Any], object], what: str) -> Any:
    return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(check, message=what)


def open_session(driver: Any, app: Running, name: str = FILE) -> None:
    driver.get(app.url)
    until(
        driver,
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1",
        "page ready",
    )
    driver.find_element(By.CSS_SELECTOR, f'#file-list li[data-file="{name}"]').click()
    until(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-turn="1"].selected'),
        "session open",
    )


def press(driver: Any, keys: str) -> None:
    driver.find_element(By.TAG_NAME, "body").send_keys(keys)


def selected_turn(driver: Any) -> int:
    return int(
        driver.find_element(By.CSS_SELECTOR, "#turn-body tr.selected").get_attribute("data-turn")
    )


def annotation_lines(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text().splitlines()
        if line.startswith("  - {id:") and "concept:" in line
    ]


def code_with(driver: Any, query: str) -> None:
    """Press / , type a search, and Enter: the coder's path to code the selected turn."""
    before = driver.find_element(By.ID, "status").text
    press(driver, "/")
    box = driver.switch_to.active_element
    assert box.get_attribute("id") == "concept-search"
    box.send_keys(query)
    until(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#concept-results li.hl"),
        "search results",
    )
    box.send_keys(Keys.ENTER)
    until(driver, lambda d: d.find_element(By.ID, "status").text != before, "the edit answered")


def test_open_a_session_and_move_with_keys(browser: Any, app: Running, folder: Path) -> None:
    open_session(browser, app)
    rows = browser.find_elements(By.CSS_SELECTOR, "#turn-body tr")
    assert len(rows) == counts(folder / FILE)[0]
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#turn-head th")]
    assert heads == ["#", "SPEAKER", "TEXT", "A-1", "A-2"] or heads == [
        "#",
        "speaker",
        "text",
        "A-1",
        "A-2",
    ]
    press(browser, "jjj")
    assert selected_turn(browser) == 4
    press(browser, "k")
    assert selected_turn(browser) == 3
    lane = browser.find_element(By.CSS_SELECTOR, 'tr[data-turn="18"] td.lane[data-annotator="A-2"]')
    assert lane.find_element(By.CSS_SELECTOR, ".chip").text == "psychic equivalence"
    assert "Cohen's kappa" in browser.find_element(By.ID, "agreement").text
    press(browser, "/")
    browser.switch_to.active_element.send_keys("rewind")
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#concept-results li.hl"), "results")
    concept = next(c for c in codable_concepts() if c.label == "stop-rewind-explore")
    card = browser.find_element(By.ID, "concept-card").text
    assert browser.find_element(By.CSS_SELECTOR, "#concept-results li.hl").text == concept.label
    assert concept.label in card and concept.definitions[0] in card and concept.curie in card


def test_code_a_turn_and_the_yaml_changes_with_comments_kept(
    browser: Any, app: Running, folder: Path
) -> None:
    path = folder / FILE
    before = path.read_text()
    new = next_annotation_id(path, "A-1")
    open_session(browser, app)
    press(browser, "jj")  # turn 3
    code_with(browser, "not-knowing")
    after = path.read_text()
    assert after.startswith(before), "everything before the new line is kept byte for byte"
    added = after[len(before) :]
    assert added == f"  - {{id: {new}, concept: not-knowing stance, turns: 3, annotator: A-1}}\n"
    assert (
        after.splitlines()[0] == "# Fictional session written for mbtkg. Not real patient material."
    )
    chip = browser.find_element(
        By.CSS_SELECTOR,
        f'tr[data-turn="3"] td.lane[data-annotator="A-1"] .chip[data-annotation="{new}"]',
    )
    assert chip.text == "not-knowing stance"


def cli_words(path: Path) -> list[str]:
    """What ``mbtkg validate --engine fast`` says about a file (the same Violation text)."""
    session = parse_yaml_session(path.read_text(), path.name)
    return [str(v) for v in FastValidator().validate(session_to_rdf(session))]


def test_a_violation_appears_at_its_turn_and_disappears(
    browser: Any, app: Running, folder: Path
) -> None:
    path = folder / FILE
    new = next_annotation_id(path, "A-1")
    open_session(browser, app)
    press(browser, "jjjj")  # turn 5
    code_with(browser, "clarification")
    browser.find_element(
        By.CSS_SELECTOR, f'tr[data-turn="5"] .chip[data-annotation="{new}"]'
    ).click()
    quote = browser.find_element(By.ID, "ed-quote")
    quote.send_keys("words nobody said")
    browser.find_element(By.ID, "save").click()
    until(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-turn="5"] .problem'),
        "violation shown",
    )
    shown = [p.text for p in browser.find_elements(By.CSS_SELECTOR, 'tr[data-turn="5"] .problem')]
    assert 'quote: "words nobody said"' in path.read_text()
    assert shown == cli_words(path)
    assert "the quote is not found in the text of any turn the annotation covers" in shown[0]
    assert "violation" in browser.find_element(
        By.CSS_SELECTOR, f'#file-list li[data-file="{FILE}"]'
    ).get_attribute("class")
    quote = browser.find_element(By.ID, "ed-quote")
    quote.clear()
    browser.find_element(By.ID, "save").click()
    until(
        browser,
        lambda d: not d.find_elements(By.CSS_SELECTOR, "#turn-body .problem"),
        "violation gone",
    )
    assert cli_words(path) == []
    assert "quote: " not in path.read_text().splitlines()[-1]


def test_accept_a_suggestion(browser: Any, app: Running, folder: Path) -> None:
    path = folder / FILE
    new = next_annotation_id(path, "A-1")
    open_session(browser, app)
    press(browser, "jj")  # turn 3
    until(
        browser,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#suggestions li[data-iri]")) == 5,
        "suggestions",
    )
    first = browser.find_element(By.CSS_SELECTOR, "#suggestions li[data-iri]").text.rsplit(" ", 1)[
        0
    ]
    count = len(annotation_lines(path))
    press(browser, "a")
    until(browser, lambda d: len(annotation_lines(path)) == count + 1, "suggestion saved")
    line = annotation_lines(path)[-1]
    assert (
        line
        == f"  - {{id: {new}, concept: {first}, turns: 3, annotator: A-1, suggested: mbtkg-lexical}}"
    )
    until(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, f'.chip.suggested[data-annotation="{new}"]'),
        "chip",
    )


def test_a_conflicting_edit_is_refused_and_the_page_offers_reload(
    browser: Any, app: Running, folder: Path
) -> None:
    path = folder / FILE
    new = next_annotation_id(path, "A-1")
    open_session(browser, app)
    changed = path.read_text() + "# changed in another editor\n"
    path.write_text(changed)
    press(browser, "jj")
    code_with(browser, "mentalizing")
    until(browser, lambda d: d.find_element(By.ID, "conflict").is_displayed(), "conflict shown")
    assert "changed on disk" in browser.find_element(By.ID, "conflict-text").text
    assert path.read_text() == changed
    browser.find_element(By.ID, "reload").click()
    until(browser, lambda d: not d.find_element(By.ID, "conflict").is_displayed(), "reloaded")
    press(browser, "jj")
    code_with(browser, "mentalizing")
    after = path.read_text()
    line = f"  - {{id: {new}, concept: mentalizing, turns: 3, annotator: A-1}}\n"
    assert line in after and after.replace(line, "") == changed  # the other editor's line is kept


def test_a_suggestion_is_never_accepted_for_another_turn(
    browser: Any, app: Running, folder: Path
) -> None:
    """Regression: moving on and pressing a at once accepted the previous turn's suggestion."""
    path = folder / FILE
    before = path.read_text()
    open_session(browser, app)
    press(browser, "jj")  # turn 3
    until(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#suggestions li[data-iri]"),
        "suggestions",
    )
    press(browser, "ja")  # turn 4, before its suggestions arrive
    until(
        browser,
        lambda d: d.find_element(By.ID, "status").text == "no suggestion for this turn yet",
        "said",
    )
    assert selected_turn(browser) == 4
    assert path.read_text() == before


def test_the_picker_shows_each_branch_heading_once(browser: Any, app: Running) -> None:
    """Regression: results sorted by match alone split a branch under several headings."""
    open_session(browser, app)
    press(browser, "/")
    browser.switch_to.active_element.send_keys("mental")
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#concept-results li.hl"), "results")
    items = [
        (li.get_attribute("class"), li.get_attribute("textContent"))
        for li in browser.find_elements(By.CSS_SELECTOR, "#concept-results li")
    ]
    headings = [text for kind, text in items if kind == "family"]
    assert len(headings) == len(set(headings)) > 1
    group = {c.label: c.group for c in codable_concepts()}
    under = None
    listed = []
    for kind, text in items:
        if kind == "family":
            under = text
        else:
            assert group[text] == under, f"{text} listed under {under}, its branch is {group[text]}"
            listed.append(text)
    expected = {
        c.label
        for c in codable_concepts()
        if "mental" in c.label.lower()
        or any("mental" in s.lower() for s in c.synonyms)
        or any("mental" in d.lower() for d in c.definitions)
    }
    assert set(listed) == expected
    assert listed[0].lower().startswith("mental")  # the best match is highlighted first
