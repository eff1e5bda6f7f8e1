"""The config file: strict validation, clear one-line errors, the bundled demo, private-network switch."""

from __future__ import annotations

import pytest

from newswatch.config import Config, load_config, masked, parse_config
from newswatch.errors import ConfigError, UnknownWatchError


def test_bundled_demo_config_is_valid() -> None:
    cfg = load_config(None)
    assert [w.name for w in cfg.watches] == ["rotherham"]
    assert cfg.demo.serve_seeds is True
    assert cfg.fetch.allow_private_networks is True
    assert cfg.smtp is None


def test_unknown_keys_are_errors_naming_the_watch_and_the_closest_key() -> None:
    with pytest.raises(ConfigError) as e:
        parse_config('[[watches]]\nname = "w"\nfeedz = []\n', "my.toml")
    assert str(e.value) == "my.toml: watch 'w': unknown key 'feedz' (did you mean 'feeds'?)"
    with pytest.raises(ConfigError, match=r"fetch: unknown key 'max_pages' \(did you mean 'max_page_bytes'\?\)"):
        parse_config('[[watches]]\nname = "w"\n[fetch]\nmax_pages = 3\n')
    with pytest.raises(ConfigError) as e:
        parse_config('[[watches]]\nname = "w"\nzzzz = 1\n')
    assert str(e.value).endswith("watch 'w': unknown key 'zzzz'")  # nothing close: no guess


def test_every_problem_is_listed_at_once_one_line_each() -> None:
    text = """
digest_dirr = "x"
[fetch]
allow_private_networks = "yes"
retries = -1
[[watches]]
name = "rotherham"
querry = "x"
[[watches]]
query = "y"
[smtp]
host = "mail.example.org"
"""
    with pytest.raises(ConfigError) as e:
        parse_config(text, "my.toml")
    lines = str(e.value).splitlines()
    assert lines[0] == "my.toml: 6 problems:"
    assert sorted(ln.strip() for ln in lines[1:]) == sorted([
        "watch 'rotherham': unknown key 'querry' (did you mean 'query'?)",
        "watch #2 (no name): missing required key 'name'",
        "fetch.retries: Input should be greater than or equal to 0 (got -1)",
        "fetch.allow_private_networks: 'yes' is not a boolean; write true or false (without quotes)",
        "smtp: missing required key 'sender'",
        "unknown key 'digest_dirr' (did you mean 'digest_dir'?)",
    ])


@pytest.mark.parametrize(
    "setting",
    ['allow_private_networks = "yes"', 'allow_private_networks = "true"', "allow_private_networks = 1",
     'obey_robots = "no"', 'obey_robots = 0'],
)
def test_booleans_are_strict(setting: str) -> None:
    with pytest.raises(ConfigError, match="is not a boolean"):
        parse_config(f'[[watches]]\nname = "w"\n[fetch]\n{setting}\n')


def test_numbers_are_strict_but_an_integer_is_a_float() -> None:
    with pytest.raises(ConfigError, match=r"watch 'w': max_items: .*\(got '3'\)"):
        parse_config('[[watches]]\nname = "w"\nmax_items = "3"\n')
    cfg = parse_config('[[watches]]\nname = "w"\n[fetch]\nper_host_delay_s = 2\nallow_private_networks = true\n')
    assert cfg.fetch.per_host_delay_s == 2.0 and cfg.fetch.allow_private_networks is True


def test_cli_prints_every_problem_and_exits_2(tmp_path) -> None:
    import subprocess
    import sys

    from tests.nwtest import REPO

    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[watches]]\nname = "w"\nquerry = "x"\n[fetch]\nobey_robots = "yes"\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "newswatch.cli", "config", "check", "--config", str(cfg)],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines[0] == f"newswatch: error: {cfg}: 2 problems:"
    assert lines[1:] == ["  watch 'w': unknown key 'querry' (did you mean 'query'?)",
                         "  fetch.obey_robots: 'yes' is not a boolean; write true or false (without quotes)"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "ftp://example.org/feed", "gopher://x/"])
def test_feed_urls_must_be_web_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        parse_config(f'[[watches]]\nname = "w"\nfeeds = ["{url}"]\n')


def test_private_networks_are_off_by_default_and_the_environment_can_allow_them(monkeypatch) -> None:
    cfg = parse_config('[[watches]]\nname = "w"\n')
    monkeypatch.delenv("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", raising=False)
    assert cfg.effective_fetch().allow_private_networks is False
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", "1")
    assert cfg.effective_fetch().allow_private_networks is True
    assert masked(cfg)["fetch"]["allow_private_networks"] is True


def test_unknown_watch() -> None:
    cfg = parse_config('[[watches]]\nname = "a"\n[[watches]]\nname = "b"\n')
    with pytest.raises(UnknownWatchError, match="no watch named 'c'; the config has: a, b"):
        cfg.watch("c")


def test_every_config_field_has_a_description() -> None:
    from pydantic import BaseModel

    missing = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            if not field.description:
                missing.append(prefix + name)
            ann = field.annotation
            for sub in getattr(ann, "__args__", (ann,)):
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    walk(sub, f"{prefix}{name}.")

    walk(Config, "")
    assert not missing, missing


def test_config_doc_is_generated_from_the_models() -> None:
    from newswatch.config import render_docs
    from tests.nwtest import REPO

    assert (REPO / "docs" / "config.md").read_text(encoding="utf-8") == render_docs(), (
        "docs/config.md is stale: python -m newswatch.config > docs/config.md"
    )


@pytest.mark.parametrize("bad", ["Desk <desk@example.org>", "desk@example.org\r\nBcc: x@evil.test", "nobody", "a@b@c"])
def test_recipients_must_be_plain_addresses(bad: str) -> None:
    import json

    with pytest.raises(ConfigError, match="not a plain address"):
        parse_config(f'[[watches]]\nname = "w"\nrecipients = [{json.dumps(bad)}]\n')


def test_smtp_password_block_is_a_config_key() -> None:
    """[smtp] password_block names the Prefect Secret block (alerts/send.py reads it); it used to be refused."""
    cfg = parse_config('[smtp]\nhost = "127.0.0.1"\nsender = "nw@example.org"\nusername = "u"\n'
                       'password_block = "smtp-pw"\n[[watches]]\nname = "w"\nquery = "rotherham"\n')
    assert cfg.smtp is not None and cfg.smtp.password_block == "smtp-pw"
