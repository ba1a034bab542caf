"""Configs as plain builtin values: Snakemake params, and merging raw config dicts."""

from __future__ import annotations

import copy
import dataclasses
import typing


def to_params(obj) -> dict:
    """A config dataclass as a plain dict: Snakemake's params must be builtin types
    for a changed value to rerun the job (it ignores other objects)."""
    return dataclasses.asdict(obj)


def from_params(cls, params: dict):
    """Rebuild a config dataclass (nested ones included) from ``to_params`` output."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        value = params[field.name]
        if dataclasses.is_dataclass(hints[field.name]):
            value = from_params(hints[field.name], value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``, key by key into nested dicts; neither is changed."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def tuples(d: dict) -> dict:
    """Lists of a raw config section as tuples, as the frozen dataclasses hold them."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
