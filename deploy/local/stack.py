#!/usr/bin/env python3
"""The local platform's command line (standard library only): see `make help`, or run with --help."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portalstack.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
