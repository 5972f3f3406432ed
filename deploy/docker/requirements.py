"""Print the third-party requirements of the project's packages, one per line.

    python deploy/docker/requirements.py common/pyproject.toml gateway/pyproject.toml ...

The image build installs these (locked by ``constraints.txt``) in a layer of their own, before
any of the project's source is copied: a code change then rebuilds only the small layer holding
the project's wheels, and the dependency layer is identical, hence shared, in every image.
The project's own packages (``portal-*``) are left out; they are installed from wheels later.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

LOCAL_PREFIX = "portal-"


def requirement_name(requirement: str) -> str:
    """The distribution name of a PEP 508 requirement, normalised (``Flask>=3`` -> ``flask``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def third_party(pyprojects: list[Path]) -> list[str]:
    """Every dependency of the given pyproject.toml files that is not one of the project's own."""
    seen: dict[str, str] = {}
    for path in pyprojects:
        project = tomllib.loads(path.read_text())["project"]
        for requirement in project.get("dependencies", []):
            name = requirement_name(requirement)
            if not name.startswith(LOCAL_PREFIX):
                seen.setdefault(name, requirement.strip())
    return [seen[name] for name in sorted(seen)]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    for line in third_party([Path(arg) for arg in argv]):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
