"""Tests for the benchmark corpus generator (bench/gen_corpus.py)."""
from __future__ import annotations

import importlib.util
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load():
    name = "bench_gen_corpus_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "gen_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


gc = _load()
N = 200


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.md")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("corpus")
    assert gc.generate(out, N, seed=1) == N
    return out, _snapshot(out)


def _front_matter(text: str) -> str:
    m = re.match(r"\n?---\n(.*?)\n---\n", text, re.S)
    assert m, text[:200]
    return m.group(1)


def test_count_and_layout(corpus):
    _, files = corpus
    assert len(files) == N
    depths = {len(rel.split("/")) for rel in files}
    assert 4 in depths  # <category>/<feed>/<sub>/<title>.md
    assert 2 in depths  # <feed> - <sub>/N.md
    assert any(re.fullmatch(r"[^/]+ - [^/]+/\d+\.md", rel) for rel in files)
    assert len({rel.split("/")[0] for rel in files if rel.count("/") == 3}) >= 5  # several top categories


def test_utf8_and_shape(corpus):
    _, files = corpus
    dates, yaml_ok, lead = set(), 0, 0
    for rel, data in files.items():
        text = data.decode("utf-8")  # strict: raises on invalid UTF-8
        assert "\r" not in text and "\0" not in text
        lead += text.startswith("\n---\n")
        fm = _front_matter(text)
        assert "\ncomments: false" in fm and "\nauthor: " in fm
        d = re.search(r"^date: (.*)$", fm, re.M).group(1)
        if d == "Invalid Date":
            dates.add("invalid")
        elif re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", d):
            dates.add("rfc822")
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", d):
            dates.add("naive")
        else:
            pytest.fail(f"unexpected date {d!r} in {rel}")
        try:
            yaml.safe_load(fm)
            yaml_ok += 1
        except yaml.YAMLError:
            pass
    assert dates == {"rfc822", "naive", "invalid"}
    assert 0.8 * N < lead < N  # most, not all, files start with a blank line
    assert 0.85 * N <= yaml_ok < N  # a few % of front matter is not valid YAML
    joined = b"".join(files.values()).decode("utf-8")
    for needle in ("picsum.photos/400/300?random=", "<!-- 文末二维码 start -->", "海量资讯、精准解读，尽在新浪财经APP",
                   'class="article-editor">责任编辑：', "&#123;", "<img ", "<style>"):
        assert needle in joined, needle


def test_deterministic(tmp_path, corpus):
    _, files = corpus
    gc.generate(tmp_path / "again", N, seed=1)
    assert _snapshot(tmp_path / "again") == files
    gc.generate(tmp_path / "other", 20, seed=2)
    other = _snapshot(tmp_path / "other")
    assert len(other) == 20 and other != {k: v for k, v in files.items() if k in other}
    # article i does not depend on the corpus size: a small corpus is a prefix
    small = {gc.article(i)[0]: gc.article(i)[1].encode("utf-8") for i in range(10)}
    assert all(files[rel] == data for rel, data in small.items())


def test_new_article(tmp_path, corpus):
    _, files = corpus
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    rel, text = gc.new_article_text(N, when=when, well_formed=True)
    assert rel not in files
    fm = yaml.safe_load(_front_matter(text))
    assert fm["title"] and isinstance(fm["title"], str)
    assert fm["date"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    assert gc.new_article_text(N, when=when, well_formed=True) == (rel, text)
    path = gc.write_article(tmp_path, N, when=when, well_formed=True)
    assert path == tmp_path / rel and path.read_text("utf-8") == text


def test_cli(tmp_path, capsys):
    assert gc.main([str(tmp_path / "c"), "-n", "5", "--seed", "3"]) == 0
    assert "5 files" in capsys.readouterr().out
    assert len(list((tmp_path / "c").rglob("*.md"))) == 5
