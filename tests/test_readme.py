"""The README's Layout section lists every module of the package, and nothing else."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layout_lists_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    listed = set(re.findall(r"^\s{2}(\w+\.py)\b", layout, flags=re.MULTILINE))
    modules = {path.name for path in (ROOT / "skimgaug").glob("*.py")}
    assert listed == modules, {
        "not in the README": sorted(modules - listed),
        "no such module": sorted(listed - modules),
    }
