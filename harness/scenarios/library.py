"""Where the bundled scenario files live, in a checkout and in any install.

The files sit in the top-level ``scenarios`` package (DESIGN.md §2 fixes the folder), declared as package
data, so ``pip install .`` carries them and ``importlib.resources`` finds them wherever the package went;
a path computed from this file's location would only work from a checkout or an editable install.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLED_PACKAGE = "scenarios"


def bundled_scenarios_dir() -> Path:
    """The folder of the bundled scenario files (YAML, possibly in sub-folders)."""
    root = resources.files(BUNDLED_PACKAGE)
    # Installs unpack packages as files; only a zipped install would give another Traversable.
    if not isinstance(root, Path):
        raise RuntimeError(f"the bundled scenarios are not on the file system ({root}); reinstall the harness unzipped")
    return root
