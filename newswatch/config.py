"""The one user configuration file (TOML), validated with pydantic. Unknown keys are errors.

Secrets (the SMTP password) come from the environment or a Prefect Secret block, never this file.
`newswatch config check` prints the resolved configuration with secrets masked. The bundled demo config lives beside this module.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newswatch.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchSettings(_Strict):
    """How newswatch talks to the web. See docs/fetching.md."""

    user_agent: str = Field(
        "newswatch/0.1 (+https://github.com/newswatch/newswatch; news monitoring)",
        description="User-Agent sent with every request and matched against robots.txt groups.",
    )
    connect_timeout_s: float = Field(5.0, gt=0, description="Seconds to establish a TCP/TLS connection.")
    read_timeout_s: float = Field(10.0, gt=0, description="Seconds to wait for any single read.")
    total_deadline_s: float = Field(
        30.0, gt=0, description="Hard limit on one response, all reads included (stops slow trickles)."
    )
    max_feed_bytes: int = Field(5_000_000, gt=0, description="Cap on decompressed feed bytes.")
    max_page_bytes: int = Field(5_000_000, gt=0, description="Cap on decompressed page bytes.")
    max_redirects: int = Field(5, ge=0, description="Redirect hops followed before giving up.")
    retries: int = Field(2, ge=0, description="Retries for 408/429/5xx and connection errors (not other 4xx).")
    backoff_base_s: float = Field(0.5, ge=0, description="First retry delay; doubles each try, Retry-After wins.")
    max_retry_after_s: float = Field(60.0, ge=0, description="Longest Retry-After honoured within a run.")
    per_host_concurrency: int = Field(2, ge=1, description="Connections at once to one host.")
    per_host_delay_s: float = Field(1.0, ge=0, description="Minimum delay between requests to one host.")
    total_concurrency: int = Field(8, ge=1, description="Requests in flight across all hosts.")
    obey_robots: bool = Field(True, description="Obey robots.txt (RFC 9309), including Crawl-delay.")
    allow_private_networks: bool = Field(
        False,
        description=(
            "Allow loopback and private addresses. Off by default (SSRF guard). The demo and tests turn it on; "
            "NEWSWATCH_ALLOW_PRIVATE_NETWORKS=1 also turns it on."
        ),
    )
    disable_feed_after_failures: int = Field(
        10, ge=1, description="Consecutive failed polls after which a feed is disabled (reason recorded)."
    )


class DedupSettings(_Strict):
    """Syndication and story thresholds. docs/dedup.md explains each value and its evidence."""

    min_shared_ratio: float = Field(
        0.3, ge=0, le=1, description="Share of the shorter article's paragraphs that must align for a copy."
    )
    paragraph_distance: int = Field(
        6, ge=0, le=64, description="Max Hamming distance for two paragraph simhashes to be a candidate match."
    )
    story_window_days: int = Field(
        21, ge=1, description="An article joins a story only if published within this many days of it."
    )


class SmtpSettings(_Strict):
    host: str = Field(..., description="SMTP server host.")
    port: int = Field(587, description="SMTP port.")
    starttls: bool = Field(True, description="Use STARTTLS.")
    ssl: bool = Field(False, description="Use implicit TLS (port 465).")
    username: str | None = Field(None, description="Login user; the password comes from NEWSWATCH_SMTP_PASSWORD, "
                                 "or else from the Prefect Secret block named by password_block.")
    password_block: str | None = Field(None, description="Prefect Secret block holding the SMTP password "
                                       "(NEWSWATCH_SMTP_PASSWORD wins when both are set).")
    sender: str = Field(..., description="From address.")
    timeout_s: float = Field(20.0, gt=0, description="Socket timeout for the SMTP session.")
    retries: int = Field(3, ge=0, description="Retries for transient SMTP failures (4xx, connection errors).")

    @property
    def password(self) -> str | None:
        return os.environ.get("NEWSWATCH_SMTP_PASSWORD")


FREQUENCIES = ("as_it_happens", "daily", "weekly")
ITEM_KINDS = ("new_stories", "updates", "figure_changes", "conflicts", "quotes", "spikes")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"


class DigestRules(_Strict):
    """When a watch's digest goes out and what it carries. docs/alerts.md has an example of every rule."""

    frequency: str = Field(
        "as_it_happens",
        description="as_it_happens (every run with something new), daily (once a day at send_at) or weekly "
        "(once a week on weekday at send_at).",
    )
    send_at: str = Field("08:00", description="Local time (HH:MM, in timezone) of the "
                         "daily or weekly digest; a run at or after it sends the digest once.")
    weekday: str = Field("monday", description="Day of the weekly digest (monday ... sunday).")
    timezone: str = Field("UTC", description='IANA time zone of send_at and quiet_hours, e.g. "Europe/London".')
    quiet_hours: str | None = Field(
        None,
        description='No digest in this local time range, e.g. "22:00-07:00" (may wrap midnight); what is new '
        "waits for the first run after it.",
    )
    include: list[str] = Field(
        default_factory=lambda: list(ITEM_KINDS),
        description="Item kinds to include: new_stories, updates (new articles on stories already sent), "
        "figure_changes, conflicts (sources disagree), quotes (by the watch's people), spikes (attention "
        "spikes from the trends views). A story whose kind is left out is still shown when it carries an "
        "included fact line.",
    )
    people: list[str] = Field(
        default_factory=list,
        description="Watched people (canonical entity names) whose new quotes are shown with the quotes kind.",
    )
    chart: bool = Field(True, description="An attention chart in the HTML digest (inline PNG): stories per week "
                        "over the last chart_weeks weeks, spike weeks in red; only once the watch has coverage "
                        "in at least two of those weeks.")
    chart_weeks: int = Field(12, ge=2, le=104, description="Weeks shown by the attention chart (2 to 104).")

    @field_validator("frequency")
    @classmethod
    def _known_frequency(cls, v: str) -> str:
        if v not in FREQUENCIES:
            raise ValueError(f"unknown frequency {v!r}; use one of {', '.join(FREQUENCIES)}")
        return v

    @field_validator("send_at")
    @classmethod
    def _clock_time(cls, v: str) -> str:
        if not re.fullmatch(_HHMM, v):
            raise ValueError(f"send_at {v!r} is not a time like 08:00 (24-hour HH:MM)")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _time_range(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(f"{_HHMM}-{_HHMM}", v):
            raise ValueError(f'quiet_hours {v!r} is not a range like "22:00-07:00" (24-hour HH:MM-HH:MM)')
        if v is not None and v[:5] == v[6:]:
            raise ValueError(f"quiet_hours {v!r} is empty: start and end are the same time")
        return v

    @field_validator("weekday")
    @classmethod
    def _known_weekday(cls, v: str) -> str:
        if v.lower() not in WEEKDAYS:
            raise ValueError(f"unknown weekday {v!r}; use one of {', '.join(WEEKDAYS)}")
        return v.lower()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone {v!r}; use an IANA name such as "Europe/London" or "UTC"') from None
        return v

    @field_validator("include")
    @classmethod
    def _known_kinds(cls, v: list[str]) -> list[str]:
        bad = [k for k in v if k not in ITEM_KINDS]
        if bad:
            raise ValueError(f"unknown item kind {bad[0]!r}; use any of {', '.join(ITEM_KINDS)}")
        return v


def load_apprise() -> Any:
    """The apprise module with its plugins loaded. Loading them imports the stdlib's deprecated imghdr (apprise's
    PGP helper, Python 3.11): that one known DeprecationWarning is silenced here, where it is raised, and
    nowhere else (tests run with filterwarnings = error)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*imghdr.* is deprecated", category=DeprecationWarning)
        import apprise
        from apprise.plugins import N_MGR

        N_MGR.load_modules()
    return apprise


def _check_channel(url: str) -> str:
    """A notification URL apprise understands (json://, slack://, msteams://, matrix://...), or an error."""
    value = os.environ.get(url[4:], "") if url.startswith("env:") else url
    if url.startswith("env:") and not value:
        # the URL holds a token: it may come from the environment; an unset variable is checked at send time
        return url
    apprise = load_apprise()
    if apprise.Apprise.instantiate(value, suppress_exceptions=True) is None:
        scheme = value.split("://", 1)[0] if "://" in value else value[:20]
        raise ValueError(
            f"channel {scheme}://... is not a notification URL apprise understands "
            "(see https://github.com/caronc/apprise/wiki; e.g. json://host/path, slack://..., msteams://...)"
        )
    return url


class WatchConfig(_Strict):
    """One watch: a query over feeds. Several watches may list the same feed: it is polled once per run and each
    page fetched and extracted once; every watch listing the feed applies its own query and languages, and an
    article belongs to every watch that matched it (the watch_articles view), with its own digest, trends and
    off-topic skips. A watch added later, or whose query, languages or feeds change, is matched against the
    articles already stored that it can see (from its feeds, without a refetch) at the start of the next run,
    or by `newswatch reprocess`; pages no watch matched were never stored, so it cannot see those."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="Short name, used in --watch and tables.")
    description: str = Field("", description="What this watch follows, shown in the digest.")
    query: str = Field(
        "",
        description=(
            'Saved-search query matched against title and text: "quoted phrases", AND, OR, NOT, '
            "parentheses, prefix*. Empty keeps everything."
        ),
    )
    feeds: list[str] = Field(
        default_factory=list,
        description="RSS/Atom/JSON Feed URLs (http/https). A feed may be listed by several watches (polled once).",
    )
    recipients: list[str] = Field(default_factory=list, description="Digest recipients.")
    aliases: dict[str, str] = Field(
        default_factory=dict, description="User aliases: surface form -> canonical entity name."
    )
    max_items: int = Field(20, ge=1, description="At most this many stories in one digest.")
    languages: list[str] = Field(
        default_factory=list,
        description='Keep only articles in these languages (ISO 639-1 codes read from the text, e.g. ["en", "fr"]); '
        "empty keeps every language.",
    )

    digest: DigestRules = Field(default_factory=DigestRules, description="Digest rules (see [watches.digest]).")
    channels: list[str] = Field(
        default_factory=list,
        description="Other notification channels (apprise URLs: json://, form://, slack://, msteams://, "
        'matrix://...). "env:NAME" reads the URL from the environment variable NAME (webhook URLs carry tokens).',
    )

    @field_validator("channels")
    @classmethod
    def _channels_are_apprise_urls(cls, channels: list[str]) -> list[str]:
        return [_check_channel(c) for c in channels]

    @field_validator("recipients")
    @classmethod
    def _plain_addresses(cls, recipients: list[str]) -> list[str]:
        for r in recipients:
            # a plain local@domain address: no display names, no header-breaking characters
            if not re.fullmatch(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", r):
                raise ValueError(f"recipient {r!r} is not a plain address like name@example.org")
        return recipients

    @field_validator("feeds")
    @classmethod
    def _feeds_are_web_urls(cls, feeds: list[str]) -> list[str]:
        for f in feeds:
            scheme = f.split(":", 1)[0].lower() if ":" in f else ""
            if scheme not in ("http", "https"):
                raise ValueError(
                    f"feed {f!r} is not an http(s) URL; local files are ingested with `newswatch ingest`"
                )
        return feeds


# tcp://host:port or tls://host:port, host a name, an IPv4 address or a bracketed IPv6 address.
DASK_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}")

# More worker processes than this rarely pay on one machine: each holds its own spaCy model (~250 MB).
MAX_DEFAULT_WORKERS = 4


# [run] workers unset: a run with at least this many pages to fetch uses the pool, a smaller one stays in one
# process. Measured on 2 cores (docs/benchmarks.md, "the pool by default"): the pool already won at 50 pages
# (13.7 s against 17.5 s) and at 100 and 200 (13.6 / 16.7 s, 15.9 / 20.9 s); 100 keeps the small scheduled runs
# (a few new pages each, the common case) on the in-process loop, which has had the most test time.
AUTO_POOL_MIN_PAGES = 100


def default_workers(pages: int | None = None) -> int:
    """[run] workers when it is not set: the cores (suggested_workers) for a run with at least AUTO_POOL_MIN_PAGES
    pages to fetch, 1 (everything in the main process) for a smaller one or when the count is not known. (The
    pool was opt-in until the tenth session; 2 workers run 2,000 pages at about 4x the plain script's words/s,
    the in-process loop about 1.7x, docs/benchmarks.md.)"""
    if pages is not None and pages >= AUTO_POOL_MIN_PAGES:
        return suggested_workers()
    return 1


def suggested_workers() -> int:
    """What `[run] workers` could be set to here: the cores, at most MAX_DEFAULT_WORKERS."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


class RunSettings(_Strict):
    """How a run uses the machine. See docs/architecture.md (the runner and its queues)."""

    workers: int | None = Field(
        None,
        ge=1,
        description="Processes that extract pages and their facts (spaCy loaded once in each) while the main "
        "process fetches and stores; 1 runs everything in the main process, batch after batch. Unset: the cores "
        "(at most 4) for a run with at least 100 pages to fetch (AUTO_POOL_MIN_PAGES), 1 for a smaller one, "
        "whose pages do not pay for the pool's start (on 2 cores, 2 workers ran 2,000 pages at about 4x the "
        "plain script's words/s, docs/benchmarks.md); more than the cores rarely helps.",
    )
    # A batch pays fixed costs whatever its size: about 35 dedup statements of 2-10 ms, the checkpoint when its
    # writer connection closes (10-30 ms per table written), the trend refresh. 2,000 pages with 30% copies,
    # 2 workers, alternated `newswatch run`s on one loopback site (bench/throughput.py's): batches of 100 took
    # 82.1 and 71.4 s (load stage 48.7 and 44.2 s), of 250 72.7 and 66.3 s (31.4 and 29.1 s); of 400 63.3 and
    # 67.0 s against 250's 64.8 and 60.3 in the same alternation: 250, no slower and less lost when a run is killed.
    batch_size: int = Field(
        250,
        ge=1,
        description="Pages per batch, each fetched, extracted and stored whole in one writer window and "
        "transaction (an interrupted run keeps the batches stored; readers see each one when it commits); the "
        "default for `newswatch run` and `ingest` (--batch-size), the Prefect flow and reprocessing. Each batch "
        "has fixed costs: with 2,000 pages, batches of 250 ran the load stage in about 30 s against 44-49 s "
        "with 100 (docs/benchmarks.md). Page bodies stay bounded by batch_bytes whatever the size.",
    )
    batch_bytes: int = Field(
        64 * 2**20,
        ge=2**20,
        description="Page-body bytes a batch holds before it is cut (besides batch_size pages): a batch is fetched "
        "a few pages at a time and ends once its bodies reach this, so a run holds about three batches of bodies "
        "at most (one fetching, one waiting, one extracting), whatever the page sizes. With the default, 64 MiB, "
        "200 pages of 4.7 MB peaked at 846 MB (workers = 1) and 750 MB (workers = 2) with batches of 250 (853 "
        "and 689 MB with 100) instead of 1.5 and 1.3 GB before it (bench/memory_bench.py); at least 1 MiB.",
    )

    runner: Literal["local", "dask"] = Field(
        "local",
        description='"local": every stage in this machine\'s processes (see workers). "dask": the Prefect monitor '
        "flow sends page extraction and facts, in chunks, as Prefect tasks to Dask workers (DaskTaskRunner), and "
        "`newswatch run` sends the same chunks through a Dask client; fetching, matching and every warehouse write "
        "stay in the run's process (docs/operations.md, Dask).",
    )
    dask_address: str = Field(
        "",
        description='Scheduler of a running Dask cluster, "tcp://host:8786" (or tls://); empty: the run starts '
        "a LocalCluster of dask_workers processes on this machine and closes it at the end.",
    )
    dask_workers: int = Field(
        2, ge=1, description="Worker processes (one thread each) of the LocalCluster a dask run starts when "
        "dask_address is empty.",
    )

    @field_validator("dask_address")
    @classmethod
    def _scheduler_address(cls, v: str) -> str:
        if v and not DASK_ADDRESS.fullmatch(v):
            raise ValueError(f'{v!r} is not a Dask scheduler address; write "tcp://host:8786" (or tls://), '
                             "or leave it empty for a LocalCluster started by the run")
        return v

    @model_validator(mode="after")
    def _address_needs_dask(self) -> RunSettings:
        if self.dask_address and self.runner != "dask":
            raise ValueError(f'dask_address is set but runner is {self.runner!r}; set runner = "dask" or remove '
                             "dask_address")
        return self

    def effective_workers(self, pages: int | None = None) -> int:
        """The worker processes of a run with `pages` pages to fetch (default_workers when workers is unset)."""
        return self.workers if self.workers is not None else default_workers(pages)


class DemoSettings(_Strict):
    """Only for the bundled demo: serve the seed fixtures on an embedded loopback server."""

    serve_seeds: bool = Field(False, description="Start the embedded loopback server with the seed feed.")


class WarehouseSettings(_Strict):
    """Where the warehouse lives (docs/operations.md). Without this section: $NEWSWATCH_WAREHOUSE_BACKEND, else the
    DuckDB file."""

    backend: Literal["duckdb", "ducklake"] = Field(
        "duckdb", description='"duckdb": one DuckDB file (--db). "ducklake": a DuckLake catalog plus Parquet data.'
    )
    catalog: str | None = Field(
        None,
        description='DuckLake catalog: "postgresql://user@host:port/db" (several writers at once; the password '
        'from $PGPASSWORD or ~/.pgpass, never here) or a DuckDB catalog file (one writer). Default: the --db file.',
    )
    data_path: str | None = Field(
        None, description="Folder for DuckLake's Parquet files; needed with PostgreSQL. Default: "
        "<catalog file>.files beside a local catalog."
    )


class Config(_Strict):
    watches: list[WatchConfig] = Field(..., min_length=1, description="What to watch.")
    warehouse: WarehouseSettings | None = Field(
        None, description="Warehouse backend; without it $NEWSWATCH_WAREHOUSE_BACKEND, else the DuckDB file."
    )
    fetch: FetchSettings = Field(default_factory=FetchSettings, description="Fetch policy.")
    dedup: DedupSettings = Field(default_factory=DedupSettings, description="Dedup thresholds.")
    run: RunSettings = Field(default_factory=RunSettings, description="Worker processes of a run, local or on Dask.")
    smtp: SmtpSettings | None = Field(None, description="Mail server; without it digests are written to files.")
    digest_dir: str = Field("out/digests", description="Where digests are written (.eml and .html).")
    unsubscribe_url: str | None = Field(
        None, description="https URL for List-Unsubscribe and the digest's Unsubscribe link; {watch} is replaced."
    )
    view_url: str | None = Field(
        None,
        description='"View in browser" link, where digest_dir is published, e.g. '
        '"https://news.example.org/digests/{file}"; {file} = the .html file name, {watch}, {digest_id}.',
    )
    edit_url: str | None = Field(
        None, description='"Edit this alert" link, e.g. "https://news.example.org/watches/{watch}"; {watch} is replaced.'
    )
    demo: DemoSettings = Field(default_factory=DemoSettings, description="Demo-only settings.")

    def watch(self, name: str) -> WatchConfig:
        for w in self.watches:
            if w.name == name:
                return w
        from newswatch.errors import UnknownWatchError

        raise UnknownWatchError(
            f"no watch named {name!r}; the config has: {', '.join(w.name for w in self.watches)}"
        )

    def effective_fetch(self) -> FetchSettings:
        if os.environ.get("NEWSWATCH_ALLOW_PRIVATE_NETWORKS") == "1" and not self.fetch.allow_private_networks:
            return self.fetch.model_copy(update={"allow_private_networks": True})
        return self.fetch


DEMO_CONFIG_NAME = "demo.toml"


def demo_config_text() -> str:
    return resources.files("newswatch").joinpath(DEMO_CONFIG_NAME).read_text(encoding="utf-8")


def parse_config(text: str, origin: str = "<config>") -> Config:
    """Parse and validate a config file's text. Every problem is reported at once, one line each, in one
    ConfigError; booleans and numbers are strict (`allow_private_networks = "yes"` is an error, not true)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{origin}: not valid TOML: {e}") from None
    try:
        # strict: TOML has real booleans and numbers, so a quoted "yes" or "3" is a mistake worth naming.
        return Config.model_validate(data, strict=True)
    except ValidationError as e:
        problems = [_problem(err, data) for err in e.errors()]
    if len(problems) == 1:
        raise ConfigError(f"{origin}: {problems[0]}") from None
    raise ConfigError(f"{origin}: {len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems)) from None


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The config model that holds the last key of an error location (None inside a plain dict)."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        sub = [a for a in (ann, *getattr(ann, "__args__", ())) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not sub:
            return None
        model = sub[0]
    return model


def _where(loc: tuple, data: object) -> tuple[str, tuple]:
    """('watch 'name'' or 'fetch' ..., the rest of the location): watches are named, not numbered."""
    if len(loc) >= 2 and loc[0] == "watches" and isinstance(loc[1], int):
        watches = data.get("watches") if isinstance(data, dict) else None
        entry = watches[loc[1]] if isinstance(watches, list) and loc[1] < len(watches) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"watch {name!r}" if isinstance(name, str) and name else f"watch #{loc[1] + 1} (no name)"
        return label, loc[2:]
    return "", loc


def _problem(err: dict, data: object) -> str:
    """One line for one validation error: where (watch by name), which key, what is wrong, what to do."""
    loc = tuple(err["loc"])
    where, rest = _where(loc, data)
    key = ".".join(str(p) for p in rest)
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        bad = str(loc[-1])
        near = difflib.get_close_matches(bad, list(model.model_fields), n=1, cutoff=0.6) if model else []
        what = f"unknown key {bad!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
        if len(rest) > 1:
            what = ".".join(str(p) for p in rest[:-1]) + ": " + what
    elif kind == "missing":
        what = f"missing required key {str(loc[-1])!r}"
        if len(rest) > 1:
            what = ".".join(str(p) for p in rest[:-1]) + ": " + what
    elif kind == "bool_type":
        what = f"{key}: {err.get('input')!r} is not a boolean; write true or false (without quotes)"
    else:
        msg = str(err["msg"]).removeprefix("Value error, ")
        shown = "" if kind == "value_error" or "input" not in err else f" (got {err['input']!r})"
        what = f"{key}: {msg}{shown}" if key else f"{msg}{shown}"
    return f"{where}: {what}" if where else what


def load_config(path: str | Path | None) -> Config:
    """Load the user's config: path, else $NEWSWATCH_CONFIG, else the bundled demo config. The CLI and the
    Prefect flows both come through here, so they read the same file."""
    if path is None:
        path = os.environ.get("NEWSWATCH_CONFIG") or None
    if path is None:
        return parse_config(demo_config_text(), origin="bundled demo config")
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {p} cannot be read: {e}") from None
    return parse_config(text, origin=str(p))


def masked(config: Config) -> dict:
    """The resolved configuration as a dict with secrets masked (for `newswatch config check`)."""
    data = config.model_dump(mode="json")
    if config.smtp is not None:
        data["smtp"]["password"] = "***" if config.smtp.password else None
    data["fetch"]["allow_private_networks"] = config.effective_fetch().allow_private_networks
    for w in data["watches"]:
        # webhook and chat URLs carry their token in the URL: show the scheme and host only
        w["channels"] = [mask_channel(c) for c in w.get("channels", [])]
    return data


def mask_channel(url: str) -> str:
    """json://host:port/*** for plain webhooks (the host says where it goes), scheme://*** for the rest."""
    if url.startswith("env:"):
        return url
    scheme, _, rest = url.partition("://")
    if scheme.lower() in ("json", "jsons", "form", "forms", "xml", "xmls"):
        host = rest.split("/", 1)[0].rpartition("@")[2]
        return f"{scheme}://{host}/***"
    return f"{scheme}://***"


def render_docs() -> str:
    """docs/config.md, generated from the models above (`python -m newswatch.config > docs/config.md`)."""
    from pydantic import BaseModel

    sections = [
        ("Top level", Config, ""),
        ("[[watches]]", WatchConfig, "watches."),
        ("[watches.digest]", DigestRules, "watches.digest."),
        ("[fetch]", FetchSettings, "fetch."),
        ("[dedup]", DedupSettings, "dedup."),
        ("[run]", RunSettings, "run."),
        ("[smtp]", SmtpSettings, "smtp."),
        ("[demo]", DemoSettings, "demo."),
    ]
    out = [
        "# Configuration",
        "",
        "One TOML file (`--config FILE` or `$NEWSWATCH_CONFIG`; the bundled demo is `newswatch/demo.toml`).",
        "Unknown keys are errors (with the closest known key suggested). Values are strict: a boolean is `true` or",
        "`false`, never `\"yes\"` or `1`, and a number is not quoted. Every problem is listed at once, one line each,",
        "naming the watch by its `name`; the command then exits with code 2.",
        "Secrets never live in this file: the SMTP password is `NEWSWATCH_SMTP_PASSWORD`, or else the Prefect",
        "Secret block named by `smtp.password_block`.",
        "`NEWSWATCH_ALLOW_PRIVATE_NETWORKS=1` turns on `fetch.allow_private_networks`.",
        "`newswatch config check` prints the resolved config with secrets masked.",
        "",
        "This file is generated from `newswatch/config.py` (`python -m newswatch.config > docs/config.md`);",
        "a test fails when they disagree.",
    ]
    for title, model, _prefix in sections:
        out += ["", f"## {title}", ""]
        if model.__doc__ and model is not Config:
            out += [" ".join(model.__doc__.split()), ""]
        out += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            ann = field.annotation
            typ = getattr(ann, "__name__", None) or re.sub(r"(?:\w+\.)+(\w+)", r"\1", str(ann))
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                default = "(section)"
            elif field.is_required():
                default = "required"
            elif field.default_factory is not None:
                default = repr(field.default_factory())  # sections (BaseModel fields) are named above
            else:
                default = repr(field.default)
            desc = (field.description or "").replace("|", "\\|")
            out.append(f"| `{name}` | {typ.replace('|', 'or')} | `{default}` | {desc} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_docs())
