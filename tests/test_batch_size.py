"""Pages per batch come from one place, `[run] batch_size`, in every entry point (`newswatch run`, `newswatch
ingest`, the pipeline the Prefect flow calls, its deployment), and an explicit --batch-size still wins. The
default is what bench/throughput.py measured (newswatch/config.py says why); these tests check that every
entry point honours the setting, whatever its value."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from flows import pipeline
from newswatch.cli import main
from newswatch.config import RunSettings, load_config
from tests.support.httpserver import ScriptedServer
from tests.test_runner_equivalence import config_in, serve_watches

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of articles each writer window (load_batch) stored, in order."""
    sizes: list[int] = []
    upsert = pipeline.load.upsert_articles

    def recording(con, articles, *args, **kwargs):
        sizes.append(len(articles))
        return upsert(con, articles, *args, **kwargs)

    monkeypatch.setattr(pipeline.load, "upsert_articles", recording)
    return sizes


def test_a_run_cuts_its_batches_at_the_configs_batch_size(tmp_path: Path, batches: list[int]) -> None:
    with ScriptedServer() as srv:
        config = load_config(str(config_in(tmp_path / "cfg", serve_watches(srv), run="workers = 1\nbatch_size = 2")))
        report = pipeline.run_monitor(config, str(tmp_path / "w.duckdb"), digest=False, stages=pipeline.DIRECT)
    assert report.status == "succeeded", report
    assert len(batches) >= 2 and max(batches) == 2, batches


@pytest.mark.parametrize("given, most", [(None, 2), ("1", 1)])
def test_the_cli_takes_the_configs_batch_size_unless_told(tmp_path: Path, batches: list[int], given: str | None,
                                                         most: int) -> None:
    with ScriptedServer() as srv:
        cfg = config_in(tmp_path / "cfg", serve_watches(srv), run="workers = 1\nbatch_size = 2")
        args = ["run", "--config", str(cfg), "--db", str(tmp_path / "w.duckdb"), "--no-digest"]
        result = CliRunner().invoke(main, args + (["--batch-size", given] if given else []))
    assert result.exit_code == 0, result.output
    assert len(batches) >= 2 and max(batches) == most, batches


def test_ingest_takes_the_configs_batch_size(tmp_path: Path, batches: list[int]) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(5):
        (folder / f"t{i}.txt").write_text(
            f"Council report number {i} on the river\n\n" + " ".join(f"Paragraph {i} sentence {k} about the "
                                                                       "river flooding the town." for k in range(12)),
            encoding="utf-8")
    cfg = tmp_path / "nw.toml"
    cfg.write_text('[run]\nbatch_size = 2\n\n[[watches]]\nname = "river"\nquery = ""\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", "--config", str(cfg), "--db", str(tmp_path / "w.duckdb"), str(folder)])
    assert result.exit_code == 0, result.output
    assert batches == [2, 2, 1], batches


def test_the_flow_and_its_deployment_leave_the_batch_size_to_the_config() -> None:
    from flows.monitor import monitor

    assert inspect.signature(monitor.fn).parameters["batch_size"].default is None
    deployment = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"][0]
    assert deployment["parameters"]["batch_size"] is None
    for fn in (pipeline.run_monitor, pipeline.ingest_sources, pipeline.run_batches, pipeline.reprocess_stale):
        assert inspect.signature(fn).parameters["batch_size"].default is None, fn


def test_a_batch_size_under_one_is_refused_in_the_config() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        RunSettings(batch_size=0)
    assert RunSettings(batch_size=1).batch_size == 1


@pytest.mark.parametrize("bad", [0, -1])
def test_a_run_given_a_batch_size_under_one_is_refused_before_it_writes(tmp_path: Path, bad: int) -> None:
    # a negative size made fetched_batches yield empty batches for ever (each with its own load transaction)
    config = load_config(str(config_in(tmp_path / "cfg", [("w", "flood", ["http://127.0.0.1:9/feed.xml"])])))
    db = tmp_path / "w.duckdb"
    with pytest.raises(ValueError, match="batch_size must be a whole number of at least 1"):
        pipeline.run_monitor(config, str(db), digest=False, batch_size=bad, stages=pipeline.DIRECT)
    with pytest.raises(ValueError, match="batch_size must be a whole number of at least 1"):
        pipeline.ingest_sources(config, str(db), config.watches[0], [str(tmp_path)], batch_size=bad)
    assert not db.exists()
