"""``python -m bgenv.calibration [OUT]``: measure and write the calibration document
(default ``docs/calibration.md`` of the current directory; ``-`` prints it)."""

import sys

from bgenv.calibration.report import run

if __name__ == "__main__":
    arg = sys.argv[1] if len(sys.argv) > 1 else "docs/calibration.md"
    raise SystemExit(run(None if arg == "-" else arg))
