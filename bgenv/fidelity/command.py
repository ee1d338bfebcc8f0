"""Transitional: the options of ``bgenv fidelity`` for ``bgenv/cli.py`` as it stands.

The command line reads ``fidelity.add_arguments`` and ``fidelity.main(args=...)``; when
it moves out of the library it defines these two options itself, passes
``docs/fidelity.md`` and calls :func:`bgenv.fidelity.report.run`, and this module goes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgenv.fidelity.report import run

if TYPE_CHECKING:
    import argparse

DOC = "docs/fidelity.md"  # where ``bgenv fidelity`` writes the table, from the source tree's root


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``bgenv fidelity``."""
    p.add_argument("--out", default=None, help=f"where to write the table (default: {DOC})")
    p.add_argument(
        "--rows",
        default=None,
        help="comma-separated rows to run (e.g. 1,6,O5); prints the table and writes it only with --out",
    )


def main(*, args: argparse.Namespace) -> int:
    """``bgenv fidelity``: run the experiments and write the table (see :func:`add_arguments`)."""
    rows = args.rows.split(",") if args.rows else None
    out = args.out if args.out is not None else (None if rows else DOC)
    return run(out, rows)
