"""The contributors page lists every module, and the library never imports the CLI."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skimgaug"


def _listed_paths():
    page = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    tree = page.split("## Layout", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    listed, folders = set(), []
    for line in [line for line in tree.splitlines() if line.strip()][1:]:  # below skimgaug/
        match = re.match(r"^( *)(\S+)", line)
        if not match:
            continue
        depth = len(match.group(1)) // 2
        name = match.group(2)
        folders = folders[: depth - 1]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
            listed.add("/".join(folders))
        else:
            listed.add("/".join([*folders, name]))
    return listed


def _actual_paths():
    found = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if path.name != "__init__.py":
            found.add(relative.as_posix())
        for parent in relative.parents:
            if parent != Path("."):
                found.add(parent.as_posix())
    return found


def test_the_layout_page_lists_every_module_and_folder():
    listed, actual = _listed_paths(), _actual_paths()
    assert listed == actual, {
        "not on the page": sorted(actual - listed),
        "no such module": sorted(listed - actual),
    }


def _imports(path, module):
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def test_the_library_never_imports_the_command_line():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module.startswith("skimgaug.cli"):
            continue
        for name in _imports(path, module):
            if name == "skimgaug.cli" or name.startswith("skimgaug.cli.") or name == "argparse":
                offenders.append(f"{module} imports {name}")
    assert not offenders


def test_saving_sets_no_private_attribute_of_an_estimator():
    # The fitted state goes through _get_fitted_state / _set_fitted_state.
    offenders = []
    for path in (PACKAGE / "_persistence").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr.startswith("_"):
                    offenders.append(f"{path.name}:{node.lineno} sets .{target.attr}")
    assert not offenders
