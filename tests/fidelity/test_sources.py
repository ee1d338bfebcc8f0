"""Citations resolve inside the repository: every fact row the configs cite exists in
``docs/sources/PLATFORM_FACTS.md`` (``#N``, "row N", ``ON`` for the observed list) or
``docs/sources/USER_FACTS.md`` (``UN``), and the code and configs name no file outside the
repository (``docs/sources/README.md`` lists the source documents by title and address)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "docs" / "sources"
CONFIGS = sorted((ROOT / "configs").rglob("*.yaml"))

# A platform row: "#38", "#23-#37", "#27-29" (ends of a range), never a colour ("#c4c4c4",
# "#000000", '"#123"'): the "#" follows a space, "(", ",", ";" or "/" (or starts the text)
# and the number is 1-3 digits not followed by a letter, digit or "_".
PLATFORM = re.compile(r"(?<![\w&#'\"])#(\d{1,3})(?:\s*[-–]\s*#?(\d{1,3}))?(?!\w)")
# A user row: "U12", "U3–U5", "U9-U10".
USER = re.compile(r"\bU(\d{1,3})(?:\s*[-–]\s*U?(\d{1,3}))?\b")
# Platform rows in words: "row 48", "rows 27, 33", "rows 1, 5 and 6", "rows 23-36".
_NUM = r"\d{1,3}(?:\s*[-–]\s*\d{1,3})?"
ROWS = re.compile(rf"\brows?\s+({_NUM}(?:\s*(?:,|and|&)\s*{_NUM})*)")
# An item of the observed list at the end of PLATFORM_FACTS.md, in order: "O1" .. "O9".
OBSERVED = re.compile(r"\bO(\d{1,2})\b")

# Paths outside the repository: the shared folder beside it and its seed documents' file names.
OUTSIDE = re.compile(r"shared/seeds|\.\./shared|/work/shared|\b\d{3}_[0-9a-f]{16}\.txt\b")


def _table_ids(path: Path) -> list[str]:
    """The row ids in the first column of a markdown table (header and rule rows left out)."""
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*([^|]+?)\s*\|", line)
        if m and m.group(1) != "#" and not set(m.group(1)) <= set("-: "):
            ids.append(m.group(1))
    return ids


def platform_rows() -> set[int]:
    ids = _table_ids(SOURCES / "PLATFORM_FACTS.md")
    assert all(i.isdigit() for i in ids), ids
    return {int(i) for i in ids}


def user_rows() -> set[int]:
    ids = _table_ids(SOURCES / "USER_FACTS.md")
    assert all(re.fullmatch(r"U\d+", i) for i in ids), ids
    return {int(i[1:]) for i in ids}


def observed_items() -> int:
    text = (SOURCES / "PLATFORM_FACTS.md").read_text(encoding="utf-8")
    section = text.split("## Observed behaviour", 1)[1]
    return sum(1 for line in section.splitlines() if line.startswith("- "))


def _ends(a: str, b: str | None) -> list[int]:
    """A single row, or the two ends of a range (tables have gaps, so only the ends must exist)."""
    return [int(a)] if b is None else [int(a), int(b)]


def citations(text: str) -> dict[str, list[int]]:
    """The rows ``text`` cites, by table: ``platform``, ``user``, ``observed``."""
    out: dict[str, list[int]] = {"platform": [], "user": [], "observed": []}
    for m in PLATFORM.finditer(text):
        out["platform"] += _ends(*m.groups())
    for m in ROWS.finditer(text):
        for part in re.split(r"\s*(?:,|and|&)\s*", m.group(1)):
            one = re.fullmatch(r"(\d{1,3})(?:\s*[-–]\s*(\d{1,3}))?", part)
            assert one, part
            out["platform"] += _ends(*one.groups())
    for m in USER.finditer(text):
        out["user"] += _ends(*m.groups())
    out["observed"] += [int(n) for n in OBSERVED.findall(text)]
    return out


def test_tables_are_in_the_repository():
    assert (SOURCES / "README.md").is_file()
    assert {1, 15, 38, 50} <= platform_rows() and not {16, 18, 20, 21, 30} & platform_rows()
    assert user_rows() == set(range(1, 23))
    assert observed_items() == 9


@pytest.mark.parametrize(
    "text, expected",
    [
        ("budget_s: 30   # #38: up to ~30 s", {"platform": [38]}),
        ("# Doze, buckets (#23-#37); #5/#6 counts", {"platform": [23, 37, 5, 6]}),
        ("x: 1  # rows 27, 33 and 1-5; row 48", {"platform": [27, 33, 1, 5, 48]}),
        ("# U3, U5 and U9-U10; U3–U5; observed (O7)", {"user": [3, 5, 9, 10, 3, 5], "observed": [7]}),
        ('colour: "#c4c4c4"  # hex codes are no citations: #fff, "#123", #000000, #1e3', {}),
        ("# U## = row of USER_FACTS.md; #NN; issue#12; row of", {}),
    ],
)
def test_citation_patterns(text, expected):
    got = {k: v for k, v in citations(text).items() if v}
    assert got == expected


def test_every_row_cited_in_configs_exists():
    rows, users, observed = platform_rows(), user_rows(), observed_items()
    bad, seen = [], {"platform": 0, "user": 0, "observed": 0}
    for path in CONFIGS:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            cited = citations(line)
            for kind, ok in (
                ("platform", rows.__contains__),
                ("user", users.__contains__),
                ("observed", lambda n: 1 <= n <= observed),
            ):
                seen[kind] += len(cited[kind])
                bad += [f"{path.relative_to(ROOT)}:{lineno}: {kind} row {n}" for n in cited[kind] if not ok(n)]
    assert not bad, "citations with no row in docs/sources:\n" + "\n".join(bad)
    # the scan found the configs' citations (not a pass over nothing)
    assert seen["platform"] > 50 and seen["user"] > 20 and seen["observed"] >= 1, seen


def _files(*roots: str) -> list[Path]:
    out = []
    for r in roots:
        out += [p for p in sorted((ROOT / r).rglob("*")) if p.suffix in (".py", ".yaml", ".yml", ".md") and p.is_file()]
    return out


def test_no_file_outside_the_repository_is_cited():
    bad = []
    for path in _files("bgenv", "agents", "configs"):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                bad.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not bad, "references to files outside the repository:\n" + "\n".join(bad)


def test_fact_tables_are_named_by_their_repository_path():
    """Configs and the hand-written policies name the tables as ``docs/sources/...``."""
    bad = []
    for path in [*CONFIGS, ROOT / "agents" / "policies.py"]:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in re.finditer(r"(PLATFORM|USER)_FACTS", line):
                if not (line[: m.start()].endswith("docs/sources/") and line[m.end() :].startswith(".md")):
                    bad.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not bad, "fact tables named without docs/sources/:\n" + "\n".join(bad)
