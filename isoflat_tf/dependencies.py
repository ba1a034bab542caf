"""The package modules a stage runs, found by following its imports: the code inputs of its rule.

Snakemake does not see changes inside an installed package, so each rule
declares the package's modules its stage imports, transitively, as inputs:
editing one reruns exactly the jobs that run it. The imports are read with
``ast`` (also those inside functions), so the list never goes stale.

Plugin packages (``manifolds``, ``baselines``) import all their modules
dynamically; a job runs only some of them, so those are added by name:
``stage_modules("baseline", manifolds=["square"], baselines=["pca"])``.

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = "isoflat_tf"
ROOT = Path(__file__).resolve().parent.parent
PLUGIN_PACKAGES = ("manifolds", "baselines")


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The source file of a dotted module name of the package under ``root``, or None if it is not one."""
    base = Path(root).joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@functools.cache
def direct_imports(module: str, root: Path = ROOT) -> frozenset[str]:
    """The package modules ``module`` imports anywhere in its source, with their parent packages."""
    path = module_file(module, root)
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = ".".join(p for p in (package, node.module) if p)
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # submodules named in the import
    modules = set()
    for name in found:
        parts = name.split(".")
        if parts[0] != PACKAGE:
            continue
        modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # a module's packages run first
    return frozenset(m for m in modules if module_file(m, root) is not None)


def _is_plugin(module: str) -> bool:
    parts = module.split(".")
    return len(parts) == 3 and parts[1] in PLUGIN_PACKAGES and parts[2] != "base"


def stage_modules(stage: str, root: Path = ROOT, **plugins: list[str] | tuple[str, ...]) -> list[str]:
    """Files of the modules that the stage of rule ``stage`` imports, transitively, itself included.

    ``root`` holds the package (the workflow's directory); ``plugins`` names the
    modules of each plugin package the job uses (e.g. ``manifolds=["square"]``),
    other modules of those packages are left out.
    """
    root = Path(root)
    unknown = set(plugins) - set(PLUGIN_PACKAGES)
    if unknown:
        raise ValueError(f"unknown plugin package(s) {', '.join(sorted(unknown))}; known: {', '.join(PLUGIN_PACKAGES)}")
    chosen = {f"{PACKAGE}.{package}.{name}" for package, names in plugins.items() for name in names}
    todo = [f"{PACKAGE}.stages.{stage}", *sorted(chosen), f"{PACKAGE}.stages", PACKAGE]
    if module_file(todo[0], root) is None:
        raise ValueError(f"no stage module {todo[0]}")
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen or (_is_plugin(module) and module not in chosen):
            continue
        seen.add(module)
        todo.extend(direct_imports(module, root) - seen)
    return sorted(str(module_file(m, root)) for m in seen)
