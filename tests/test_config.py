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


def test_unknown_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"watches\.0\.feedz"):
        parse_config('[[watches]]\nname = "w"\nfeedz = []\n')
    with pytest.raises(ConfigError, match="fetch.max_pages"):
        parse_config('[[watches]]\nname = "w"\n[fetch]\nmax_pages = 3\n')


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
