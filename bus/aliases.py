"""Alias routing: which version one invocation of a version or alias runs."""

from __future__ import annotations

import random

from bus.records import LATEST, Alias, FunctionVersion
from bus.stores import Stores


def is_version(qualifier: str) -> bool:
    """$LATEST or a published version number; any other qualifier names an alias."""
    return qualifier == LATEST or qualifier.isdigit()


def pick_version(alias: Alias) -> str:
    """The version for one invocation: an additional version with the chance its weight
    gives, else the alias's own version."""
    draw = random.random()
    for version, weight in alias.additional_weights.items():
        if draw < weight:
            return version
        draw -= weight
    return alias.function_version


async def version_to_invoke(
    stores: Stores, name: str, qualifier: str | None
) -> FunctionVersion | None:
    """The version one invocation of `name:qualifier` runs (an alias routes by weight);
    None when the function, version or alias is gone. For workers invoking on their own."""
    version = qualifier or LATEST
    if not is_version(version):
        alias = await stores.aliases.get(name, version)
        if alias is None:
            return None
        version = pick_version(alias)
    return await stores.functions.get(name, version)
