"""Load a problem: read YAML safely, apply --set overrides, merge catalog entries, validate.

Data flows one way: raw YAML -> overrides -> catalog merge (and the export ruleset's
content) -> pydantic validation. The result is an immutable `Problem`; its derived figures
(clustersize.schema.derived) are computed from it on demand, never stored.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from .catalog import Catalog, flatten, load_catalog
from .derived import purchasable_chips, server_network_usd
from .errors import did_you_mean, input_error_from_validation
from .problem import Chip, Problem
from .shapes import check_shapes
from .yamlsafe import load_file, loads

CATALOG_SECTION = {
    "accelerators": "accelerators", "sites": "sites", "contracts": "energy_contracts",
    "cloud": "cloud_offers", "custom_programs": "custom_programs",
}
DEFAULTED_SECTIONS = ("costs", "goodput", "accelerator_mfu")
"""Top-level sections whose absent fields take catalogs/defaults.yaml; each run takes defaults.run."""
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

    The result is immutable; edit it with ``problem.with_({...})``.
    """
    if isinstance(source, Mapping):
        raw, file = copy.deepcopy(dict(source)), "<dict>"
    else:
        raw, file = load_file(source), str(source)
    if not isinstance(raw, dict):
        raise InputError("the top level must be a mapping of sections", file=file,
                         fix="start from problems/gpt5.yaml")
    if "origin" in raw:
        raise InputError("origin is recorded by load_problem, not written in a problem", file=file, path="origin",
                         fix="remove it; to restore a dumped Problem use Problem.model_validate(dump)")
    if overrides:
        apply_overrides(raw, overrides, file=file)
    check_shapes(raw, file)
    catalog = load_catalog(str(catalog_dir) if catalog_dir else None)
    merged, provenance = merge_with_catalog(raw, catalog, file=file)
    for path in overrides or {}:
        # an override (--set, or a CLI flag such as --exclude-site) is the value's source, not the file
        provenance = {k: v for k, v in provenance.items() if k != path and not k.startswith(f"{path}.")}
        provenance[str(path)] = {"source": f"override of {file} ({path})"}
    _embed_ruleset(merged, catalog, file)
    merged["origin"] = {"file": file, "catalog_dir": str(catalog_dir) if catalog_dir else None,
                        "provenance": provenance}
    try:
        problem = Problem.model_validate(merged)
    except ValidationError as exc:
        raise input_error_from_validation(exc, file=file) from None
    check_regions(problem, catalog, file)
    return problem


def check_regions(problem: Problem, catalog: Catalog, file: str) -> None:
    """InputError naming the field for a site or cloud offer whose country has no continent in the catalog."""
    located = [(f"sites.{sid}", site.country) for sid, site in problem.sites.items()]
    located += [(f"cloud.{oid}", offer.country) for oid, offer in problem.cloud.items()]
    for path, country in located:
        if country not in catalog.regions:
            raise InputError(f"no continent is known for country {country!r}", file=file, path=f"{path}.country",
                             fix="add it to catalogs/regions.yaml (country: continent), or use a listed country")


def edit_problem(problem: Problem, edits: Mapping[str, Any]) -> Problem:
    """`problem` with `edits` ({dotted path: value}, as --set) applied, validated again.

    Derived figures are never stored, so they follow the edits. The export rules are taken
    again from the problem's catalogs when the ruleset id changes. Each edited path is
    recorded in the provenance as an edit in code.
    """
    file = f"{problem.source} (edited)"
    paths = [str(path) for path in edits]
    for path in paths:
        if path == "origin" or path.startswith("origin."):
            raise InputError("origin is not an input", file=file, path=path,
                             fix="edit scenario fields; load_problem records the origin")
    doc = problem.model_dump(exclude={"origin"})
    apply_overrides(doc, copy.deepcopy(dict(edits)), file=file)  # a copy: an edited section must not alias the caller's
    export = doc.get("export")
    rules_edited = any(path == "export.rules" or path.startswith("export.rules.") for path in paths)
    if isinstance(export, dict) and not rules_edited:
        # A changed ruleset id takes its rules from the catalogs the problem was loaded with.
        rules = export.get("rules")
        if not isinstance(rules, dict) or rules.get("id") != export.get("ruleset", "none"):
            export.pop("rules", None)
            _embed_ruleset(doc, load_catalog(problem.origin.catalog_dir), file)
    provenance = {path: dict(note) for path, note in problem.origin.provenance.items()
                  if not any(path == p or path.startswith(f"{p}.") for p in paths)}
    _legacy_efficiency_replaces_default_spans(doc, paths, provenance)
    provenance.update({path: {"source": "edited in code (Problem.with_)"} for path in paths})
    doc["origin"] = {**problem.origin.model_dump(), "provenance": provenance}
    try:
        edited = Problem.model_validate(doc)
    except ValidationError as exc:
        raise input_error_from_validation(exc, file=file) from None
    check_regions(edited, load_catalog(problem.origin.catalog_dir), file)
    return edited


def _legacy_efficiency_replaces_default_spans(doc: dict[str, Any], paths: list[str],
                                              provenance: dict[str, dict[str, Any]]) -> None:
    """An edit that sets run.multi_site_efficiency drops span efficiencies that came from the catalog
    defaults, as a fresh load with the same override would never have filled them."""
    run = doc.get("run")
    if "run.multi_site_efficiency" not in paths or not isinstance(run, dict) or not run.get("span_efficiency"):
        return
    if any(p == "run.span_efficiency" or p.startswith("run.span_efficiency.") for p in paths):
        return
    notes = [note for path, note in provenance.items() if path.startswith("run.span_efficiency.")]
    if notes and all(not str(note.get("source", "")).startswith(("problem file", "edited in code")) for note in notes):
        run["span_efficiency"] = None
        for path in [path for path in provenance if path.startswith("run.span_efficiency.")]:
            del provenance[path]


def input_hash(problem: Problem) -> str:
    """SHA-256 of the validated problem's canonical JSON, solver settings excluded: equal
    problems hash equal however they were solved.

    Derived server and network shares are hashed at their values, the ruleset by its id, and
    the origin (file, provenance) not at all: the hash is of the numbers the model uses.
    """
    doc = problem.model_dump(mode="json", exclude={"solver": True, "origin": True, "export": {"rules"}})
    if problem.costs.amortisation == "straight-line":
        # Fields that only the epoch amortisation reads: leaving them out at the default keeps
        # the hashes of problems written before they existed.
        for key in ("amortisation", "price_performance_ooms_per_year"):
            doc["costs"].pop(key, None)
    for path, figure in _derived_shares(problem).items():
        node = doc
        for key in path.split("."):
            node = node[key]
        node["server_network_usd"] = figure
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _derived_shares(problem: Problem) -> dict[str, float]:
    """{path of a chip: its derived server and network share [USD]} where the share is derived."""
    shares = {path: server_network_usd(chip, problem.costs) for path, chip in purchasable_chips(problem).values()
              if chip.server_network_usd is None}
    return {path: share for path, share in shares.items() if share is not None}


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, Any], *, file: str) -> None:
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
                if depth == 1 and (parts[0] in CATALOG_SECTION or parts[0] == "runs"):
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


def _rename(provenance: dict[str, dict[str, Any]], old_prefix: str,
            new_prefix: str) -> dict[str, dict[str, Any]]:
    return {new_prefix + k[len(old_prefix):]: dict(v) for k, v in provenance.items()
            if k == old_prefix or k.startswith(old_prefix + ".")}


def merge_with_catalog(raw: dict[str, Any], catalog: Catalog, *,
                       file: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Fill each entity from its catalog entry (by `from:` or its own id) and defaults."""
    provenance: dict[str, dict[str, Any]] = {}
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
            if section == "accelerators" and _defines_accelerator(body):
                base = {}  # an inline definition replaces the catalog entry of the same id
            elif base_id in known:
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
            if section == "accelerators" and "price_usd" in body and "for_sale" not in body:
                # A buyer who states a price can buy: a cloud-only catalog entry becomes purchasable.
                entries[eid]["for_sale"] = True
                provenance[f"{section}.{eid}.for_sale"] = {"source": f"problem file {file} gives price_usd"}
    _fill_cloud_chips(merged, catalog, provenance)
    _fill_grid_contracts(merged, provenance, file)
    for section in DEFAULTED_SECTIONS:
        target = merged.setdefault(section, {})
        if not isinstance(target, dict):
            raise InputError("expected a mapping", file=file, path=section)
        _fill_defaults(target, catalog.defaults.get(section, {}), section, f"defaults.{section}", catalog, provenance)
    for path, run in _runs_in(merged, file):
        run_defaults = dict(catalog.defaults.get("run", {}))
        if "multi_site_efficiency" in run:
            run_defaults.pop("span_efficiency", None)  # the legacy figure sets all three levels
        _fill_defaults(run, run_defaults, path, "defaults.run", catalog, provenance)
    return merged, provenance


def _runs_in(merged: dict[str, Any], file: str) -> list[tuple[str, dict[str, Any]]]:
    """(field path, fields) of each run the document gives: `run`, and every entry of `runs`."""
    found: list[tuple[str, dict[str, Any]]] = []
    if "run" in merged:
        if not isinstance(merged["run"], dict):
            raise InputError("expected a mapping of run fields", file=file, path="run",
                             fix="write run: {deadline: ..., length_days: ...}")
        found.append(("run", merged["run"]))
    runs = merged.get("runs")
    if runs is not None:
        if not isinstance(runs, dict):
            raise InputError("expected a mapping of run name: fields", file=file, path="runs",
                             fix="write runs: {pretrain: {flop: 3e26, deadline: 2028-06-30, length_days: 120}}")
        for name, body in runs.items():
            if not isinstance(body, dict):
                raise InputError("expected a mapping of run fields", file=file, path=f"runs.{name}",
                                 fix="write field: value pairs under the run's name")
            found.append((f"runs.{name}", body))
    return found


def _fill_defaults(target: dict[str, Any], defaults: Mapping[str, Any], path: str, default_path: str,
                   catalog: Catalog, provenance: dict[str, dict[str, Any]]) -> None:
    """Give `target` each default it lacks (nested mappings key by key), with the default's provenance."""
    for key, value in defaults.items():
        if isinstance(target.get(key), dict) and isinstance(value, dict):
            _fill_defaults(target[key], value, f"{path}.{key}", f"{default_path}.{key}", catalog, provenance)
        elif key not in target:
            target[key] = copy.deepcopy(value)
            provenance.update(_rename(catalog.provenance, f"{default_path}.{key}", f"{path}.{key}"))


def _defines_accelerator(body: dict[str, Any]) -> bool:
    """True when a problem's accelerator entry is a whole definition of its own: no `from`, and
    every required spec field (name, vendor, bf16_tflops) given."""
    return "from" not in body and all(key in body for key in ("name", "vendor", "bf16_tflops"))


def _deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def _fill_cloud_chips(merged: dict[str, Any], catalog: Catalog, provenance: dict[str, dict[str, Any]]) -> None:
    chips = merged.setdefault("cloud_chips", {})
    chip_fields = {info.alias or name for name, info in Chip.model_fields.items()}
    for offer in (merged.get("cloud") or {}).values():
        acc = offer.get("accelerator") if isinstance(offer, dict) else None
        if acc in catalog.entries["accelerators"] and acc not in chips:
            entry = catalog.entries["accelerators"][acc]
            chips[acc] = {k: v for k, v in entry.items() if k in chip_fields}
            provenance.update(_rename(catalog.provenance, f"accelerators.{acc}", f"cloud_chips.{acc}"))


def _fill_grid_contracts(merged: dict[str, Any], provenance: dict[str, dict[str, Any]], file: str) -> None:
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


def _embed_ruleset(merged: dict[str, Any], catalog: Catalog, file: str) -> None:
    """Put the catalog's content of the named ruleset into export.rules, unless the problem gives rules."""
    export = merged.setdefault("export", {})
    if not isinstance(export, dict) or export.get("rules") is not None:
        return
    rid = export.get("ruleset", "none")
    if not isinstance(rid, str):
        return  # validation reports the type
    if rid not in catalog.rulesets:
        raise InputError(f"unknown export ruleset {rid!r}{did_you_mean(rid, catalog.rulesets)}", file=file,
                         path="export.ruleset", fix=f"use one of {', '.join(sorted(catalog.rulesets))}")
    export["rules"] = catalog.rulesets[rid]
