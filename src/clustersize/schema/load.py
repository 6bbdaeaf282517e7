"""Load a problem: read YAML safely, apply --set overrides, merge catalog entries, validate.

Data flows one way: raw YAML -> overrides -> catalog merge -> pydantic validation ->
derived fields (server/network share, export ruleset). The result is a `Problem`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from ..errors import InputError
from .yamlsafe import load_file, loads
from .catalog import Catalog, flatten, load_catalog
from .errors import did_you_mean, input_error_from_validation
from .problem import Chip, Problem
from .shapes import check_shapes

CATALOG_SECTION = {
    "accelerators": "accelerators", "sites": "sites", "contracts": "energy_contracts",
    "cloud": "cloud_offers", "custom_programs": "custom_programs",
}
DEFAULTED_SECTIONS = ("run", "costs")
MAX_OVERRIDE_SEGMENTS = 8


def load_problem(source: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                 *, catalog_dir: str | Path | None = None) -> Problem:
    """Load and validate a problem from a YAML path or a dict.

    Parameters
    ----------
    source : path to a problem YAML file, or the same content as a dict.
    overrides : ``{"accelerators.h100-sxm.price_usd": 20000, ...}``; string values are
        read as YAML scalars, so ``"1e26"`` is a number.
    catalog_dir : catalogs to merge from (default: the bundled catalogs/).
    """
    if isinstance(source, Mapping):
        raw, file = copy.deepcopy(dict(source)), "<dict>"
    else:
        raw, file = load_file(source), str(source)
    if not isinstance(raw, dict):
        raise InputError("the top level must be a mapping of sections", file=file,
                         fix="start from problems/gpt5.yaml")
    if overrides:
        apply_overrides(raw, overrides, file=file)
    check_shapes(raw, file)
    catalog = load_catalog(str(catalog_dir) if catalog_dir else None)
    merged, provenance = merge_with_catalog(raw, catalog, file=file)
    try:
        problem = Problem.model_validate(merged)
    except ValidationError as exc:
        raise input_error_from_validation(exc, file=file) from None
    _attach_ruleset(problem, catalog, file)
    _derive_server_network_share(problem, provenance)
    problem._provenance = provenance
    problem._source = file
    return problem


def input_hash(problem: Problem) -> str:
    """SHA-256 of the validated problem's canonical JSON, solver settings excluded: equal
    problems hash equal however they were solved."""
    text = json.dumps(problem.model_dump(mode="json", by_alias=True, exclude={"solver"}), sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def apply_overrides(raw: dict, overrides: Mapping[str, Any], *, file: str) -> None:
    """Set each dotted path in `raw`. Entities must already exist; fields are checked later."""
    for path, value in overrides.items():
        parts = str(path).split(".")
        if len(parts) > MAX_OVERRIDE_SEGMENTS:  # the deepest real field has 5 segments
            raise InputError(f"the path has {len(parts):,} segments (at most {MAX_OVERRIDE_SEGMENTS})", file=file,
                             path=f"--set {str(path)[:60]}...", fix="e.g. accelerators.h100-sxm.price_usd")
        if not all(parts):
            raise InputError("empty segment in override path", file=file, path=f"--set {path}",
                             fix="write section.entry.field, e.g. accelerators.h100-sxm.price_usd")
        if isinstance(value, str):
            value = loads(value, source=f"--set {path}")
        node = raw
        for depth, key in enumerate(parts[:-1]):
            child = node.get(key) if isinstance(node, dict) else None
            if child is None:
                if depth == 1 and parts[0] in CATALOG_SECTION:
                    known = list((raw.get(parts[0]) or {}).keys())
                    raise InputError(f"{parts[0]} has no entry {key!r} in this problem{did_you_mean(key, known)}",
                                     file=file, path=f"--set {path}", fix="override an entry the problem lists")
                child = {}
                node[key] = child
            if not isinstance(child, dict):
                raise InputError(f"{'.'.join(parts[:depth + 1])} is a value, not a section", file=file,
                                 path=f"--set {path}", fix="shorten the path to that value")
            node = child
        node[parts[-1]] = value


def _rename(provenance: dict, old_prefix: str, new_prefix: str) -> dict:
    return {new_prefix + k[len(old_prefix):]: dict(v) for k, v in provenance.items()
            if k == old_prefix or k.startswith(old_prefix + ".")}


def merge_with_catalog(raw: dict, catalog: Catalog, *, file: str) -> tuple[dict, dict]:
    """Fill each entity from its catalog entry (by `from:` or its own id) and defaults."""
    provenance: dict[str, dict] = {}
    problem_source = {"source": f"problem file {file}"}
    merged = flatten(raw, "", provenance, file=file, sources=None, default_source=problem_source)
    for section, cat_section in CATALOG_SECTION.items():
        entries = merged.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise InputError("expected a mapping of id: fields", file=file, path=section)
        for eid, body in list(entries.items()):
            body = {} if body is None else body
            if not isinstance(body, dict):
                raise InputError("expected a mapping of fields", file=file, path=f"{section}.{eid}")
            base_id = body.get("from", eid)
            known = catalog.entries[cat_section]
            if base_id in known:
                base = copy.deepcopy(known[base_id])
                for k, v in _rename(catalog.provenance, f"{cat_section}.{base_id}", f"{section}.{eid}").items():
                    provenance.setdefault(k, v)
            elif "from" in body or not ({"name", "provider"} & set(body)):
                raise InputError(f"unknown catalog id {base_id!r}{did_you_mean(base_id, known)}", file=file,
                                 path=f"{section}.{eid}" + (".from" if "from" in body else ""),
                                 fix=f"use an id from catalogs/{cat_section}.yaml, or define every field (with name or provider)")
            else:
                base = {}
            entries[eid] = _deep_merge(base, body)
    _fill_cloud_chips(merged, catalog, provenance)
    _fill_grid_contracts(merged, provenance, file)
    for section in DEFAULTED_SECTIONS:
        target = merged.setdefault(section, {})
        if not isinstance(target, dict):
            raise InputError("expected a mapping", file=file, path=section)
        for key, value in catalog.defaults.get(section, {}).items():
            if key not in target:
                target[key] = value
                provenance[f"{section}.{key}"] = dict(catalog.provenance[f"defaults.{section}.{key}"])
    return merged, provenance


def _deep_merge(base: dict, overlay: dict) -> dict:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def _fill_cloud_chips(merged: dict, catalog: Catalog, provenance: dict) -> None:
    chips = merged.setdefault("cloud_chips", {})
    chip_fields = {info.alias or name for name, info in Chip.model_fields.items()}
    for offer in (merged.get("cloud") or {}).values():
        acc = offer.get("accelerator") if isinstance(offer, dict) else None
        if acc in catalog.entries["accelerators"] and acc not in chips:
            entry = catalog.entries["accelerators"][acc]
            chips[acc] = {k: v for k, v in entry.items() if k in chip_fields}
            provenance.update(_rename(catalog.provenance, f"accelerators.{acc}", f"cloud_chips.{acc}"))


def _fill_grid_contracts(merged: dict, provenance: dict, file: str) -> None:
    """Grid contracts default to their site's tariff and carbon intensity."""
    sites = merged.get("sites") or {}
    for cid, contract in (merged.get("contracts") or {}).items():
        if not isinstance(contract, dict):
            continue
        if contract.get("site") not in sites:
            raise InputError(f"unknown site {contract.get('site')!r}{did_you_mean(contract.get('site'), sites)}",
                             file=file, path=f"contracts.{cid}.site",
                             fix="name a site listed under sites")
        site = sites[contract["site"]]
        if contract.get("kind") != "grid" or not isinstance(site, dict):
            continue
        for field, site_field in (("price_usd_per_mwh", "grid_price_usd_per_mwh"),
                                  ("carbon_g_per_kwh", "grid_carbon_g_per_kwh")):
            if field not in contract and site.get(site_field) is not None:
                contract[field] = site[site_field]
                source = provenance.get(f"sites.{contract['site']}.{site_field}")
                if source:
                    provenance[f"contracts.{cid}.{field}"] = dict(source)


def _attach_ruleset(problem: Problem, catalog: Catalog, file: str) -> None:
    rid = problem.export.ruleset
    if rid not in catalog.rulesets:
        raise InputError(f"unknown export ruleset {rid!r}{did_you_mean(rid, catalog.rulesets)}", file=file,
                         path="export.ruleset", fix=f"use one of {', '.join(sorted(catalog.rulesets))}")
    problem.export._rules = catalog.rulesets[rid]


def _derive_server_network_share(problem: Problem, provenance: dict) -> None:
    """Server and network share per accelerator [USD], where the problem and catalog give none.

    Epoch AI's cost model: server price = server_overhead x accelerator price, and the
    cluster network is interconnect_share of all hardware. A chip-only price p gives an
    all-in p x overhead / (1 - share); a system-derived price already includes the server,
    giving p / (1 - share). The share is the all-in cost minus p.
    """
    costs = problem.costs
    chips = [(f"accelerators.{aid}", acc) for aid, acc in problem.accelerators.items()]
    chips += [(f"custom_programs.{pid}.chip", prog.chip) for pid, prog in problem.custom_programs.items()]
    for path, chip in chips:
        if chip.server_network_usd is not None or chip.price_usd is None:
            continue
        server = 1.0 if chip.price_type == "system-derived" else costs.server_overhead
        chip.server_network_usd = chip.price_usd * (server / (1.0 - costs.interconnect_share) - 1.0)
        provenance[f"{path}.server_network_usd"] = {
            "source": "derived: price x (server_overhead / (1 - interconnect_share) - 1), "
                      "server_overhead = 1 for system-derived prices",
        }
