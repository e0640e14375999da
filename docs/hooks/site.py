"""MkDocs hooks that build the generated pages of the spectrakit site.

Three kinds of page are generated at build time, so they can never drift from the code:

* ``index.md`` from the README (one front page, one source of truth);
* ``reference/<package>.md``: the API reference of every public package, rendered by
  mkdocstrings from the numpydoc docstrings;
* ``examples/<script>.md``: every script in ``examples/`` with its docstring, the command that
  runs it and the figures it wrote (from ``example-output/<script>/``, which ``make docs``
  fills by running each example with ``--quick``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "spectrakit"
EXAMPLES = ROOT / "examples"
EXAMPLE_OUTPUT = ROOT / "example-output"


def _public_packages() -> list[str]:
    """Names of the public subpackages, deprecated aliases left out.

    Returns
    -------
    list of str
        Dotted module names, sorted, ``spectrakit`` first.
    """
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    from spectrakit._deprecated import MOVED  # old paths, kept as aliases for one release

    names = ["spectrakit"]
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        name = f"spectrakit.{init.parent.name}"
        if not init.parent.name.startswith("_") and name not in MOVED:
            names.append(name)
    return names


def _home(obj: object, attr: str) -> str:
    """Module that defines a lazily exported object (classes and functions know it)."""
    home = getattr(obj, "__module__", None)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return str(home)
    owners = [
        mod
        for mod, m in sorted(sys.modules.items())
        if mod.startswith("spectrakit.") and getattr(m, attr, None) is obj
    ]
    return max(owners, key=len)


def _reference_page(name: str) -> str:
    """Markdown that renders a package's docstring and every public name it exports.

    Packages export heavy names lazily (a module ``__getattr__`` over a ``_LAZY`` map), which a
    static reader cannot follow; each exported object is therefore rendered from the module that
    defines it.

    Parameters
    ----------
    name : str
        Dotted package name.

    Returns
    -------
    str
        The page.
    """
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    module = importlib.import_module(name)
    lines = [f"# `{name}`", "", f"::: {name}", "    options:", "      members: false", ""]
    top = importlib.import_module("spectrakit")
    shown = {id(getattr(top, a)) for a in top.__all__ if a != "__version__"}
    also = []
    for attr in getattr(module, "__all__", []):
        if attr.startswith("_") or attr in ("__version__",):
            continue
        obj = getattr(module, attr)
        if name != "spectrakit" and id(obj) in shown:
            also.append(attr)  # rendered once, on the top-level page
            continue
        own = obj.__qualname__ if inspect.isclass(obj) or inspect.isfunction(obj) else attr
        lines += [f"::: {_home(obj, attr)}.{own}", "    options:", "      heading_level: 2", ""]
    if also:
        names = ", ".join(f"`{a}`" for a in also)
        lines += [
            f"Also exported here, documented on the [spectrakit](spectrakit.md) page: {names}"
        ]
    return "\n".join(lines)


def _examples() -> list[Path]:
    """Example scripts in the order the examples README lists them."""
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def _title(script: Path) -> str:
    """First docstring line of a script, without its trailing full stop."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or script.stem
    return doc.strip().splitlines()[0].rstrip(".")


def _example_page(script: Path) -> tuple[str, list[Path]]:
    """Markdown for one example and the figures it embeds.

    Parameters
    ----------
    script : Path
        The example script.

    Returns
    -------
    markdown : str
        The page.
    figures : list of Path
        PNG files written by the example's last ``--quick`` run, possibly empty.
    """
    source = script.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(source)) or ""
    out = EXAMPLE_OUTPUT / script.stem
    figures = sorted(out.rglob("*.png")) if out.is_dir() else []
    run = f"python examples/{script.name} --quick"
    lines = [f"# {_title(script)}", "", doc, "", "```bash", run, "```", ""]
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{f.stem}]({script.stem}/{f.relative_to(out).as_posix()})" for f in figures]
    else:
        lines += ["!!! note", "    `make docs` runs this script and shows its figures here."]
    lines += ["", "## Source", "", "```python", source.rstrip(), "```", ""]
    return "\n".join(lines), figures


def _index_page() -> str:
    """The README with links into docs/ made relative to the site."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    text = re.sub(r"\]\(docs/([^)]+)\)", r"](\1)", text)
    return re.sub(r"\]\(examples/([^)#]+)\.py\)", r"](examples/\1.md)", text)


def on_config(config: Any) -> Any:
    """Add the generated reference and example pages to the navigation."""
    reference = [{name: f"reference/{name}.md"} for name in _public_packages()]
    examples = [{_title(p): f"examples/{p.stem}.md"} for p in _examples()]
    config["nav"] = [*config["nav"], {"Examples": examples}, {"API reference": reference}]
    return config


def on_files(files: Files, config: Any) -> Files:
    """Generate the index, reference and example pages (and copy example figures)."""
    files.append(File.generated(config, "index.md", content=_index_page()))
    for name in _public_packages():
        page = _reference_page(name)
        files.append(File.generated(config, f"reference/{name}.md", content=page))
    for script in _examples():
        page, figures = _example_page(script)
        files.append(File.generated(config, f"examples/{script.stem}.md", content=page))
        out = EXAMPLE_OUTPUT / script.stem
        for fig in figures:
            uri = f"examples/{script.stem}/{fig.relative_to(out).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(fig)))
    return files
