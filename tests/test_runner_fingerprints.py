"""The batch loop hands the load stage the fingerprints its extract stage made with the text (what a Dask
worker's extract-chunk returns), as the streaming pool path does, and the warehouse is the one a run that
computes every fingerprint in the load stage makes."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from flows import pipeline
from newswatch.config import load_config
from tests.support.httpserver import ScriptedServer
from tests.test_runner_equivalence import config_in, differences, serve_watches, snapshot


def test_the_batch_loop_passes_the_extract_stages_fingerprints_to_the_load_stage(tmp_path: Path) -> None:
    given: list[tuple[set, set]] = []   # per load call: (kept articles' keys, fingerprint keys given)

    def load(*args, **kwargs):
        fps = kwargs.get("fingerprints") or {}
        given.append(({(a.article_id, a.content_hash) for a in args[2]}, set(fps)))
        return pipeline.load_batch(*args, **kwargs)

    with ScriptedServer() as srv:
        watches = serve_watches(srv)
        snaps = []
        for name, stages in (("plain", pipeline.DIRECT),
                             ("given", replace(pipeline.DIRECT, load=load,
                                               extract=functools.partial(pipeline.extract_batch, fingerprints=True)))):
            config = load_config(str(config_in(tmp_path / name, watches, run="workers = 1")))
            db = str(tmp_path / f"{name}.duckdb")
            report = pipeline.run_monitor(config, db, digest=False, batch_size=3, stages=stages)
            assert report.status == "succeeded", report
            snaps.append(snapshot(db))
    kept = [k for k, _ in given if k]
    assert len(kept) >= 2   # several batches stored
    assert all(k <= fps for k, fps in given), given   # every stored article came with its fingerprint
    assert not differences(*snaps), "\n".join(differences(*snaps))
