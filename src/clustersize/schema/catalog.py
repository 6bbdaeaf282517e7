"""Catalogs: sourced reference data shipped in catalogs/*.yaml.

In a catalog every number is a *sourced value*: ``{value, source, as_of, confidence,
price_type?, note?}``, where ``source`` names keys of catalogs/sources.yaml. A value no
source gives is written ``{value: null, note: why}`` and must come from the problem.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from .errors import input_error_from_validation
from .rules import ExportRuleset
from .yamlsafe import load_file

SECTIONS = ("accelerators", "sites", "energy_contracts", "cloud_offers", "custom_programs")
PROVENANCE_KEYS = {"value", "source", "as_of", "confidence", "price_type", "note"}


def default_catalog_dir() -> Path:
    """The catalogs bundled with the package, or the repository's catalogs/ in a checkout."""
    bundled = resources.files("clustersize") / "catalogs"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[3] / "catalogs"


@dataclass(frozen=True)
class Catalog:
    """All catalog entries, flattened to plain values, with their provenance by path."""

    entries: dict[str, dict[str, dict[str, Any]]]
    provenance: dict[str, dict[str, Any]]
    defaults: dict[str, dict[str, Any]]
    rulesets: dict[str, ExportRuleset]
    sources: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    """Continent of each country [ISO 3166 alpha-2] (catalogs/regions.yaml)."""


def is_sourced(node: Any) -> bool:
    """True for a mapping written in the sourced-value form."""
    return isinstance(node, dict) and "value" in node and set(node) <= PROVENANCE_KEYS


def flatten(node: Any, path: str, provenance: dict[str, dict[str, Any]], *, file: str,
            sources: dict[str, str] | None, default_source: dict[str, Any] | None = None) -> Any:
    """Replace sourced values by their value, recording provenance under `path`.

    With `sources` given (catalog mode) a bare number is an error and every cited source
    key must exist; with `default_source` (problem mode) bare values are recorded with it.
    """
    if is_sourced(node):
        meta = {k: v for k, v in node.items() if k != "value"}
        if sources is not None and node["value"] is not None:
            _check_sourced(meta, path, file, sources)
        provenance[path] = meta
        return node["value"]
    if isinstance(node, list):
        return [flatten(v, f"{path}.{i}", provenance, file=file, sources=sources, default_source=default_source)
                for i, v in enumerate(node)]
    if isinstance(node, dict):
        flat = {k: flatten(v, f"{path}.{k}" if path else str(k), provenance, file=file,
                           sources=sources, default_source=default_source)
                for k, v in node.items()}
        # A price's type is written beside its source; the schema also needs it as a field.
        for value in node.values():
            if is_sourced(value) and "price_type" in value and "price_type" not in flat:
                flat["price_type"] = value["price_type"]
        return flat
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        if sources is not None:
            raise InputError("a catalog number must carry its source", file=file, path=path,
                             fix="write {value: ..., source: KEY, as_of: YYYY-MM-DD, confidence: H|M|L}")
        if default_source is not None:
            provenance[path] = dict(default_source)
    return node


def _check_sourced(meta: dict[str, Any], path: str, file: str, sources: dict[str, str]) -> None:
    cited = meta.get("source")
    keys = cited if isinstance(cited, list) else [cited]
    if not cited or any(k not in sources for k in keys):
        missing = [k for k in keys if k not in sources]
        raise InputError(f"unknown or missing source {missing or cited!r}", file=file, path=path,
                         fix="cite a key defined in catalogs/sources.yaml")
    if not isinstance(meta.get("as_of"), dt.date):
        raise InputError("a sourced value needs an as_of date", file=file, path=path,
                         fix="add as_of: YYYY-MM-DD")
    if meta.get("confidence") not in ("H", "M", "L"):
        raise InputError("a sourced value needs a confidence grade", file=file, path=path,
                         fix="add confidence: H, M or L")


def _read(directory: Path, name: str) -> tuple[Any, str]:
    path = directory / name
    return load_file(path), str(path)


def load_catalog(directory: str | None = None) -> Catalog:
    """Read and check every catalog file in `directory` (default: the bundled catalogs), once per
    process: `load_catalog()` and `load_catalog(None)` share one reading."""
    return _load_catalog(str(directory) if directory else None)


def clear_catalog_cache() -> None:
    """Forget the catalogs read so far (after a catalog file changed on disk)."""
    _load_catalog.cache_clear()


@lru_cache(maxsize=8)
def _load_catalog(directory: str | None) -> Catalog:
    root = Path(directory) if directory else default_catalog_dir()
    raw_sources, _ = _read(root, "sources.yaml")
    sources = {str(k): str(v) for k, v in (raw_sources or {}).get("sources", {}).items()}
    entries: dict[str, dict[str, dict[str, Any]]] = {}
    provenance: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        raw, file = _read(root, f"{section}.yaml")
        section_entries = (raw or {}).get(section)
        if not isinstance(section_entries, dict):
            raise InputError(f"expected a mapping under {section!r}", file=file, path=section)
        entries[section] = {str(eid): flatten(body, f"{section}.{eid}", provenance, file=file, sources=sources)
                            for eid, body in section_entries.items()}
    raw_defaults, file = _read(root, "defaults.yaml")
    defaults = flatten(raw_defaults.get("defaults", {}), "defaults", provenance, file=file, sources=sources)
    raw_rules, file = _read(root, "export_rules.yaml")
    rulesets = {}
    for rid, body in (raw_rules or {}).get("rulesets", {}).items():
        for key in body.get("sources", []):
            if key not in sources:
                raise InputError(f"unknown source {key!r}", file=file, path=f"rulesets.{rid}.sources",
                                 fix="cite a key defined in catalogs/sources.yaml")
        try:
            rulesets[str(rid)] = ExportRuleset.model_validate({**body, "id": str(rid)})
        except ValidationError as exc:
            raise input_error_from_validation(exc, file=file, prefix=f"rulesets.{rid}") from None
    return Catalog(entries, provenance, defaults, rulesets, sources, _read_regions(root))


def _read_regions(root: Path) -> dict[str, str]:
    """{country: continent} from regions.yaml; every code must be an ISO 3166 alpha-2 code."""
    import pycountry

    raw, file = _read(root, "regions.yaml")
    countries = (raw or {}).get("countries")
    if not isinstance(countries, dict):
        raise InputError("expected a mapping of country: continent under 'countries'", file=file, path="countries",
                         fix="write countries: {US: north-america, ...}")
    for code, continent in countries.items():
        if not isinstance(code, str) or pycountry.countries.get(alpha_2=code) is None:
            raise InputError(f"{code!r} is not an ISO 3166 alpha-2 country code", file=file, path=f"countries.{code}",
                             fix="use the two-letter code, e.g. NO for Norway")
        if not isinstance(continent, str) or not continent:
            raise InputError("expected a continent name", file=file, path=f"countries.{code}",
                             fix="e.g. north-america, europe, asia")
    return {str(code): str(continent) for code, continent in countries.items()}
