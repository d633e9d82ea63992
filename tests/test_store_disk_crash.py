"""The on-disk store under a crash, a full disk and a second process.

``mbtkg load`` killed at every step (see "Kill points" below) ends, once the store is opened
again, exactly as it was before the load or exactly as the load left it. Further down, a
subprocess writes a large set of sessions (copies of an example under new ids) into an
on-disk store that already holds an older version of the same sessions, and is killed with
SIGKILL in the middle of the write. Opened afterwards, the store holds either every old session
or every new one, never a mix. The subprocess uses the same write path as ``mbtkg load``
(``mbtkg.loading.write``); it skips SHACL validation, which is slow and not what is tested here.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.errors import StoreError
from mbtkg.generate import generate_corpus
from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.stores import Store, open_store, oxigraph_bulk
from mbtkg.stores.oxigraph import OxigraphStore

ALREADY_THERE = Path(__file__).resolve().parent / "fixtures" / "valid" / "one-turn.yaml"

COPIES = 40

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mbtkg import vocab
    from mbtkg.loading import PreparedLoad, ontology_graph_quads, read_graphs, write
    from mbtkg.stores import open_store

    store_dir, folder = sys.argv[1], Path(sys.argv[2])
    graphs, errors = read_graphs(sorted(folder.glob("*.yaml")))
    assert not errors, errors
    batch = {vocab.ONTOLOGY_GRAPH: ontology_graph_quads()}
    batch.update({g.graph: g.quads for g in graphs})
    prepared = PreparedLoad(batch, tuple(g.session_id for g in graphs),
                            sum(len(g) for g in graphs), (), 0.0)
    store = open_store("oxigraph:" + store_dir)
    print("writing", flush=True)
    write(prepared, store)
    store.close()
    print("done", flush=True)
    """
)


def make_sessions(folder: Path, *, version: str) -> None:
    """COPIES copies of the Susan example, ids big-000…, text marked with ``version``."""
    source = next(p for p in example_sessions() if p.stem == "susan-12").read_text("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(COPIES):
        text = source.replace("id: susan-12", f"id: big-{i:03d}", 1)
        assert text != source, "the example's id line moved; update this test"
        text = text.replace('text: "', f'text: "[{version}] ')
        (folder / f"big-{i:03d}.yaml").write_text(text, encoding="utf-8")


def run_writer(store_dir: Path, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store_dir), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def versions(store: Store) -> dict[str, set[str]]:
    """For each big-* session: which version markers its turn texts carry."""
    rows = store.select(
        "PREFIX mbt: <https://w3id.org/mbtkg/ontology#> "
        "SELECT ?g ?text WHERE { GRAPH ?g { ?t mbt:text ?text } "
        'FILTER (CONTAINS(STR(?g), "/session/big-")) }'
    )
    out: dict[str, set[str]] = {}
    for g, text in rows.rows:
        marker = str(text).split("]", 1)[0].lstrip("[") if str(text).startswith("[") else "?"
        out.setdefault(str(g), set()).add(marker)
    return out


def sizes(store: Store) -> dict[str, int]:
    return {g: store.graph_size(g) for g in store.graph_names() if "/session/big-" in g}


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("crash")
    make_sessions(base / "old", version="old")
    make_sessions(base / "new", version="new")
    return base / "old", base / "new"


@pytest.fixture(scope="module")
def old_store(
    tmp_path_factory: pytest.TempPathFactory, old_and_new: tuple[Path, Path]
) -> tuple[Path, dict[str, int]]:
    """A closed on-disk store holding the old version of every big-* session, and its sizes."""
    store_dir = tmp_path_factory.mktemp("old-store") / "store"
    _write_and_wait(store_dir, old_and_new[0])
    with _opened(store_dir) as store:
        old_sizes = sizes(store)
        assert len(old_sizes) == COPIES
        assert all(v == {"old"} for v in versions(store).values())
    return store_dir, old_sizes


def _write_and_wait(store_dir: Path, folder: Path) -> None:
    writer = run_writer(store_dir, folder)
    out, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    assert out.split() == ["writing", "done"]


@pytest.mark.parametrize("delay", [0.1, 1.0])
def test_a_killed_load_leaves_old_or_new_never_a_mix(
    tmp_path: Path,
    old_and_new: tuple[Path, Path],
    old_store: tuple[Path, dict[str, int]],
    delay: float,
) -> None:
    store_dir = tmp_path / "store"
    shutil.copytree(old_store[0], store_dir)
    writer = run_writer(store_dir, old_and_new[1])
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(delay)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)

    with _opened(store_dir) as store:
        found = versions(store)
        assert len(found) == COPIES, "a session graph went missing"
        markers = set().union(*found.values())
        assert markers in ({"old"}, {"new"}), f"a mix of versions: {sorted(markers)}"
        assert sizes(store) == old_store[1]  # the versions differ in text only


def test_the_new_version_differs_from_the_old(
    tmp_path: Path, old_and_new: tuple[Path, Path], old_store: tuple[Path, dict[str, int]]
) -> None:
    """Without a kill, the write completes: the crash test can tell old from new."""
    store_dir = tmp_path / "store"
    shutil.copytree(old_store[0], store_dir)
    _write_and_wait(store_dir, old_and_new[1])
    with _opened(store_dir) as store:
        assert set().union(*versions(store).values()) == {"new"}
        assert sizes(store) == old_store[1]


class _opened:
    """Open an on-disk store and close it on exit (the store releases its lock)."""

    def __init__(self, store_dir: Path) -> None:
        self.store = open_store(f"oxigraph:{store_dir}")

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from mbtkg.stores import open_store
    store = open_store("oxigraph:" + sys.argv[1])
    print("holding", flush=True)
    time.sleep(120)
    """
)


def test_a_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreError, match="in use by another process"):
            open_store(f"oxigraph:{store_dir}")
        result = CliRunner().invoke(main, ["sessions", "--store", f"oxigraph:{store_dir}"])
        assert result.exit_code == 2
        assert "in use by another process" in result.output
        assert "stop that process or choose another directory" in result.output
    finally:
        holder.kill()
        holder.wait(timeout=30)


# ------------------------------------------------------------------ kill points
#
# A helper process (the "zygote") imports mbtkg once, checks the corpus once (reading and SHACL
# are not what is tested here, and are slow) and then, for each kill, forks a child that runs
# ``mbtkg.loading.load`` on a copy of the store. The child replaces the test hook
# ``oxigraph_bulk.checkpoint`` (called after each durable step of a load or a recovery) to kill
# itself with SIGKILL after step N, or to arm a timer at a step that kills it a moment later,
# in the middle of whatever Oxigraph is doing then (a bulk write, the commit transaction).

ZYGOTE = textwrap.dedent(
    """
    import json, os, signal, sys, threading, time, traceback
    from pathlib import Path
    from mbtkg.loading import workers as load_workers
    from mbtkg.loading import load
    from mbtkg.stores import oxigraph_bulk
    from mbtkg.stores.oxigraph import OxigraphStore

    files = json.loads(sys.argv[1])
    checked = list(load_workers.iter_checked(files, engine="fast", jobs=1, infer=True))

    def replay(paths, *, engine, jobs=None, index=None, infer=False):
        assert [str(p) for p in paths] == files and infer
        yield from checked

    load_workers.iter_checked = replay
    oxigraph_bulk.FLUSH_BYTES = 1  # each new session is its own bulk write: more steps

    def child(cmd):
        seen = 0
        armed = []
        log = open(cmd["steps"], "a", encoding="utf-8")

        def die():
            os.kill(os.getpid(), signal.SIGKILL)

        def hook(step):
            nonlocal seen
            seen += 1
            log.write(step + "\\n")
            log.flush()
            if cmd.get("kill_after") == seen:
                die()
            after = cmd.get("delay_after")
            if after and step == after[0] and not armed:
                armed.append(threading.Timer(after[1], die))
                armed[0].start()
            if armed and step == "finished":
                time.sleep(120)  # the timer's kill comes; never exit normally

        oxigraph_bulk.checkpoint = hook
        store = OxigraphStore(cmd["store"])
        if cmd["action"] == "load":
            load(files, store, jobs=1)
        store.close()

    for line in sys.stdin:
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                child(cmd)
            except BaseException:
                traceback.print_exc()
                code = 70
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"rc": rc}), flush=True)
    """
)

Quads = Counter[str]


def every_quad(store_dir: Path) -> Quads:
    """Open the store (which undoes or finishes an interrupted load) and return every quad of
    every graph, the default one included (blank node labels written as ``_:``); check that no
    trace of a load is left: journal, commit mark, temporary bulk files."""
    store = OxigraphStore(store_dir)
    try:
        out: Quads = Counter()
        for quad in store.raw.quads_for_pattern(None, None, None, None):
            terms = (quad.subject, quad.predicate, quad.object, quad.graph_name)
            out[" ".join("_:" if isinstance(t, ox.BlankNode) else str(t) for t in terms)] += 1
        graphs = {g.value for g in store.raw.named_graphs() if isinstance(g, ox.NamedNode)}
        assert oxigraph_bulk.COMMIT_GRAPH not in graphs
    finally:
        store.close()
    assert not (store_dir / oxigraph_bulk.JOURNAL).exists()
    assert not list(store_dir.glob("bulk-*.sst"))
    return out


def graph_of(quad: str) -> str:
    """The graph of a quad as ``every_quad`` writes it."""
    return quad.rsplit(" ", 1)[1]


class Zygote:
    """The helper process that forks one loading child per kill (see ZYGOTE)."""

    def __init__(self, files: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, json.dumps(files)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, store_dir: Path, steps: Path, action: str = "load", **kill: object) -> int:
        """Run a load (or only an open) in a child; return its return code (-9: killed)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        cmd = {"store": str(store_dir), "steps": str(steps), "action": action, **kill}
        self.process.stdin.write(json.dumps(cmd) + "\n")
        self.process.stdin.flush()
        return int(json.loads(self.process.stdout.readline())["rc"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


@dataclass
class KillBench:
    """A store before a load, the same store after the load, and a zygote to kill loads."""

    before_dir: Path
    before: Quads
    after: Quads
    steps: list[str]
    zygote: Zygote
    work: Path
    runs: int = 0

    def copy(self) -> Path:
        self.runs += 1
        target = self.work / f"run-{self.runs}"
        shutil.copytree(self.before_dir, target / "store")
        return target

    def outcome(self, quads: Quads) -> str:
        return "before" if quads == self.before else "after" if quads == self.after else "a mix"


REPLACED = 8  # of the 16 sessions loaded, 8 replace an older version and 8 are new


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KillBench]:
    work = tmp_path_factory.mktemp("kill-points")
    generate_corpus(work / "new", sessions=16, seed=5, turns=12)
    new = sorted((work / "new").glob("*.yaml"))
    (work / "old").mkdir()
    old = []
    for path in new[:REPLACED]:  # an earlier version of the same session: other turn texts
        text = path.read_text(encoding="utf-8")
        assert 'text: "' in text
        old.append(work / "old" / path.name)
        old[-1].write_text(text.replace('text: "', 'text: "Earlier draft. '), encoding="utf-8")
    before_dir = work / "before"
    store = OxigraphStore(before_dir)
    load([*old, ALREADY_THERE], store, jobs=1)  # one session the load leaves alone
    store.close()
    zygote = Zygote([str(p) for p in new])
    try:
        done = work / "complete"
        shutil.copytree(before_dir, done / "store")
        assert zygote.run(done / "store", done / "steps") == 0
        steps = (done / "steps").read_text(encoding="utf-8").split("\n")[:-1]
        yield KillBench(
            before_dir, every_quad(before_dir), every_quad(done / "store"), steps, zygote, work
        )
    finally:
        zygote.close()


def test_the_load_replaces_some_sessions_and_adds_others(bench: KillBench) -> None:
    """Without a kill: the steps are as designed and the kill tests can tell before from after."""
    new_pieces = len(bench.steps) - 4
    assert bench.steps == [
        *["journal", "bulk write"] * (new_pieces // 2),
        "ready",
        "committed",
        "journal removed",
        "finished",
    ]
    # each new session adds two graphs (the session's and its inferred graph), each written as
    # a piece of its own: "journal" then "bulk write"
    assert new_pieces == 2 * 2 * (16 - REPLACED)
    graphs = {graph_of(q) for q in bench.after}
    sessions = {g for g in graphs if "/session/" in g and not g.endswith("/inferred>")}
    assert {g for g in graphs if g.endswith("/inferred>")} == {
        g.removesuffix(">") + "/inferred>" for g in sessions
    }
    assert len(sessions) == 16 + 1
    replaced = [g for g in sessions if any(graph_of(q) == g for q in bench.before)]
    replaced.remove(f"<{vocab.session_iri('valid-one-turn')}>")
    assert len(replaced) == REPLACED
    for graph in replaced:  # each replaced session changed
        old = {q for q in bench.before if graph_of(q) == graph}
        new = {q for q in bench.after if graph_of(q) == graph}
        assert old and new and old != new
    assert bench.after - bench.before and bench.before - bench.after


def test_a_kill_after_any_step_leaves_the_store_before_or_after_never_a_mix(
    bench: KillBench,
) -> None:
    committed = bench.steps.index("committed")
    outcomes = []
    for n in range(1, len(bench.steps) + 1):
        run = bench.copy()
        assert bench.zygote.run(run / "store", run / "steps", kill_after=n) == -9
        assert (run / "steps").read_text("utf-8").split("\n")[:-1] == bench.steps[:n]
        expected = "after" if n - 1 >= committed else "before"
        outcomes.append((n, bench.steps[n - 1], bench.outcome(every_quad(run / "store"))))
        assert outcomes[-1][2] == expected, outcomes
    assert len(outcomes) >= 20


@pytest.mark.parametrize(
    ("step", "delays"),
    [("ready", (0.0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.05)), ("journal", (0.0, 0.002))],
)
def test_a_kill_in_the_middle_of_a_write_leaves_before_or_after(
    bench: KillBench, step: str, delays: tuple[float, ...]
) -> None:
    """Kills a moment after a step: inside the commit transaction, or inside a bulk write."""
    for delay in delays:
        run = bench.copy()
        assert bench.zygote.run(run / "store", run / "steps", delay_after=[step, delay]) == -9
        reached = (run / "steps").read_text("utf-8").split("\n")[:-1]
        found = bench.outcome(every_quad(run / "store"))
        if "committed" in reached:
            assert found == "after", (delay, reached)
        elif step == "journal":
            assert found == "before", (delay, reached)
        else:
            assert found in ("before", "after"), (delay, reached)


@pytest.mark.parametrize(
    ("kill_after", "expected"), [("bulk write", "before"), ("committed", "after")]
)
def test_a_recovery_killed_half_way_is_finished_by_the_next_open(
    bench: KillBench, kill_after: str, expected: str
) -> None:
    run = bench.copy()
    n = bench.steps.index(kill_after) + 1
    assert bench.zygote.run(run / "store", run / "steps", kill_after=n) == -9
    assert (run / "store" / oxigraph_bulk.JOURNAL).exists()
    # The next process to open the store is killed in the middle of its recovery.
    assert bench.zygote.run(run / "store", run / "recovery", action="open", kill_after=1) == -9
    (step,) = (run / "recovery").read_text("utf-8").split("\n")[:-1]
    assert step.startswith("recovery: ")
    assert bench.outcome(every_quad(run / "store")) == expected


# ------------------------------------------------------------------ a full disk

LOAD_CLI = "import sys; from mbtkg.cli import main; sys.argv[0] = 'mbtkg'; main()"


def _cli_load(store_dir: Path, files: list[Path], **popen: Any) -> subprocess.CompletedProcess[str]:
    args = ["load", *map(str, files), "--store", f"oxigraph:{store_dir}", "--jobs", "1"]
    return subprocess.run(
        [sys.executable, "-c", LOAD_CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        **popen,
    )


def _check_refused(done: subprocess.CompletedProcess[str], store_dir: Path) -> str:
    """A full disk: exit code 2, one message naming the store and the cause, no traceback."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    assert str(store_dir) in done.stderr
    assert "No space left on device" in done.stderr or "File too large" in done.stderr
    return done.stderr


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB file system of its own (a tmpfs; mounting one needs root, as on CI)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        if os.geteuid() == 0:
            pytest.fail(f"root could not mount a tmpfs: {made.stderr}")
        pytest.skip("mounting a small file system needs root (CI runs as root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_gives_a_message_exit_2_and_leaves_the_store_unchanged(
    bench: KillBench, small_disk: Path
) -> None:
    files = sorted((bench.work / "new").glob("*.yaml"))
    messages = []
    for free_kib in (0, 256, 512, 1024, 4096):  # full at the open, in a bulk write, at commit
        store_dir = small_disk / "store"
        shutil.rmtree(store_dir, ignore_errors=True)
        shutil.copytree(bench.before_dir, store_dir)
        filler = small_disk / "filler"
        filler.unlink(missing_ok=True)
        room = shutil.disk_usage(small_disk).free // 1024
        with filler.open("wb") as f:
            f.truncate(0)
            for _ in range(max(0, room - free_kib)):
                f.write(b"\0" * 1024)
        messages.append(_check_refused(_cli_load(store_dir, files), store_dir))
        filler.unlink()
        assert every_quad(store_dir) == bench.before, messages[-1]
    assert any("ran out of disk space" in m for m in messages), messages
    assert any("cannot open the store" in m and "the disk is full" in m for m in messages)


def _file_size_limit(kib: int) -> Callable[[], None]:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, kib * 1024))

    return limit


@pytest.mark.parametrize("kib", [100, 400])
def test_a_file_size_limit_gives_a_message_exit_2_and_leaves_the_store_unchanged(
    bench: KillBench, tmp_path: Path, kib: int
) -> None:
    """The same without root: no file of the store may grow past ``kib`` KiB."""
    store_dir = tmp_path / "store"
    shutil.copytree(bench.before_dir, store_dir)
    files = sorted((bench.work / "new").glob("*.yaml"))
    message = _check_refused(
        _cli_load(store_dir, files, preexec_fn=_file_size_limit(kib)), store_dir
    )
    assert "ran out of disk space" in message
    assert every_quad(store_dir) == bench.before


def test_opening_a_store_removes_temporary_files_of_a_failed_bulk_write(
    bench: KillBench, tmp_path: Path
) -> None:
    """Oxigraph leaves ``bulk-*.sst`` behind when a bulk write fails (seen on a full disk);
    they are not part of the store and hold space an undo may need."""
    store_dir = tmp_path / "store"
    shutil.copytree(bench.before_dir, store_dir)
    stray = store_dir / "bulk-123456789.sst"
    stray.write_bytes(b"\0" * 4096)
    assert every_quad(store_dir) == bench.before  # also checks that no bulk-*.sst is left
    assert not stray.exists()


def test_a_journal_line_cut_short_or_garbled_does_not_stop_the_recovery(
    bench: KillBench, tmp_path: Path
) -> None:
    store_dir = tmp_path / "store"
    shutil.copytree(bench.before_dir, store_dir)
    added = "https://w3id.org/mbtkg/data/session/never-finished"
    store = OxigraphStore(store_dir)
    store.raw.add(
        ox.Quad(
            ox.NamedNode(f"{added}/x"),
            ox.NamedNode(f"{added}/p"),
            ox.Literal("1"),
            ox.NamedNode(added),
        )
    )
    store.close()
    (store_dir / oxigraph_bulk.JOURNAL).write_text(
        f"# mbtkg load journal 2\ntoken abc\n{added}\nhttps://w3id.org/mbtkg/da> {{\nhttps://w3",
        encoding="utf-8",
    )
    reopened = OxigraphStore(store_dir)
    try:
        assert reopened.recovered == (added, "https://w3")
    finally:
        reopened.close()
    assert every_quad(store_dir) == bench.before


def test_a_new_load_first_settles_a_journal_left_in_the_same_process(
    bench: KillBench, tmp_path: Path
) -> None:
    """A load whose tidying up failed (a full disk after its commit) leaves its journal and
    mark; a later load in the same process must not append to that journal, or a kill of the
    later load would be taken for committed."""
    store_dir = tmp_path / "store"
    shutil.copytree(bench.before_dir, store_dir)
    store = OxigraphStore(store_dir)
    try:
        store.raw.add(oxigraph_bulk.commit_mark("earlier"))
        journal = store_dir / oxigraph_bulk.JOURNAL
        journal.write_text("# mbtkg load journal 2\ntoken earlier\n", encoding="utf-8")
        writer = store.bulk_load()
        assert not journal.exists()
        assert oxigraph_bulk.commit_mark("earlier") not in store.raw
        session = "https://w3id.org/mbtkg/data/session/later"
        writer._flush_bytes = 1
        writer.add(session, f'<{session}/t> <{session}/p> "1" <{session}> .\n'.encode())
        assert "token earlier" not in journal.read_text(encoding="utf-8")
        writer.abort()
        assert session not in store.graph_names()
    finally:
        store.close()
    assert every_quad(store_dir) == bench.before
