"""Writing rendered digests to disk (.eml and .html), atomically: never a half-written file under the final name."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def digest_basename(watch: str, created_at: datetime, digest_id: str) -> str:
    """<watch>-<YYYY-MM-DD>-<digest_id>, the stem of both files."""
    return f"{watch}-{created_at.astimezone(UTC):%Y-%m-%d}-{digest_id}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder, fsync, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def chart_filename(watch: str, created_at: datetime, digest_id: str) -> str:
    """<watch>-<date>-<digest_id>.png: the attention chart next to the .html file that shows it."""
    return digest_basename(watch, created_at, digest_id) + ".png"


def write_digest_files(
    out_dir: str | os.PathLike[str], watch: str, created_at: datetime, digest_id: str, eml: bytes, html: str,
    chart: bytes | None = None,
) -> tuple[str, str]:
    """Write <out_dir>/<watch>-<date>-<digest_id>.eml and .html (and the .png chart the .html names, first, so
    the page never points at a missing image); returns the .eml and .html paths."""
    base = Path(out_dir) / digest_basename(watch, created_at, digest_id)
    eml_path = base.with_name(base.name + ".eml")
    html_path = base.with_name(base.name + ".html")
    if chart is not None:
        write_atomic(Path(out_dir) / chart_filename(watch, created_at, digest_id), chart)
    write_atomic(eml_path, eml)
    write_atomic(html_path, html.encode("utf-8"))
    return str(eml_path), str(html_path)
