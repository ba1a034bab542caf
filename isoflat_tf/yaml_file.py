"""Strict YAML reading for config files: duplicate keys and syntax errors name file, line and column.

PyYAML (and Snakemake's loader) keep the last of two equal keys silently, so
``{epochs: 1, epochs: 40}`` would train 40 epochs. Here it is an error.

    python -m isoflat_tf.yaml_file CONFIG.yaml ...   # check files, exit 1 naming each problem

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import yaml


class YamlFileError(ValueError):
    """A YAML file cannot be read, is not valid YAML, or repeats a key."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated within one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    loader.flatten_mapping(node)
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: let PyYAML report it
            continue
        if first is not None:
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            raise YamlFileError(
                f"{key_node.start_mark.name}:{line}:{column}: duplicate key {key!r} "
                f"(first given on line {first.start_mark.line + 1}); remove one of them"
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str | os.PathLike) -> Any:
    """Parse a YAML file strictly.

    Raises:
      YamlFileError: ``file:line:column: ...`` for a syntax error or a duplicate key.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise YamlFileError(f"{path}: cannot be read: {err.strerror}") from err
    loader = _StrictLoader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(p for p in (err.context, err.problem) if p)
        raise YamlFileError(f"{where}: invalid YAML: {problem}") from err
    except yaml.YAMLError as err:
        raise YamlFileError(f"{path}: invalid YAML: {err}") from err
    finally:
        loader.dispose()


def exit_if_invalid_yaml(path: str | os.PathLike) -> None:
    """Exit with ``isoflat: file:line:column: ...`` when ``path`` is not strictly valid YAML."""
    try:
        load_yaml(path)
    except YamlFileError as err:
        sys.exit(f"isoflat: {err}")


def main(paths: list[str]) -> int:
    """Check each YAML file; print the problems; 0 when all are valid."""
    status = 0
    for path in paths:
        try:
            load_yaml(path)
        except YamlFileError as err:
            print(err, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
