"""pytest for python/ (the lake reader, sql and verify scripts): the scripts and the job package import
the way they do when run."""

import sys
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYTHON_DIR))
sys.path.insert(0, str(PYTHON_DIR.parent / "glue"))
