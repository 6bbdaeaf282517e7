"""Export-control arithmetic: TPP, performance density, classification, and the policy
that applies to an accelerator in a country for a buyer headquartered somewhere.

Pure functions of the specs and the ruleset; the formulation and the verifier both
read their answers, neither re-implements them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .problem import Chip
from .rules import ALL_COUNTRIES, Condition, Duty, ExportRuleset, Policy


def total_processing_performance(chip: Chip) -> float:
    """TPP = max over precisions of dense TOPS x bit length (15 CFR 774, 3A090 note).

    Returns the catalog value when one is given, else the largest of
    BF16 x 16, FP8 x 8, INT8 x 8 and FP4 x 4 [TPP].
    """
    if chip.tpp is not None:
        return chip.tpp
    candidates = [chip.bf16_tflops * 16]
    candidates += [v * 8 for v in (chip.fp8_tflops, chip.int8_tops) if v is not None]
    if chip.fp4_tflops is not None:
        candidates.append(chip.fp4_tflops * 4)
    return max(candidates)


def performance_density(chip: Chip) -> float | None:
    """PD = TPP / applicable die area [TPP/mm^2], or None when the area is unpublished."""
    if chip.die_area_mm2 is None:
        return None
    return total_processing_performance(chip) / chip.die_area_mm2


def _holds(condition: Condition, chip: Chip) -> bool | None:
    """True/False, or None when the condition needs a density the chip lacks."""
    tpp = total_processing_performance(chip)
    if condition.tpp_min is not None and tpp < condition.tpp_min:
        return False
    if condition.tpp_below is not None and tpp >= condition.tpp_below:
        return False
    if condition.mem_bw_below_tbps is not None and (
            chip.mem_bw_tbps is None or chip.mem_bw_tbps >= condition.mem_bw_below_tbps):
        return False
    if condition.mem_bw_min_tbps is not None and (
            chip.mem_bw_tbps is None or chip.mem_bw_tbps < condition.mem_bw_min_tbps):
        return False
    if condition.vendor_in is not None and chip.vendor not in condition.vendor_in:
        return False
    if condition.needs_pd:
        density = performance_density(chip)
        if density is None:
            return None
        if condition.pd_min is not None and density < condition.pd_min:
            return False
        if condition.pd_below is not None and density >= condition.pd_below:
            return False
    return True


def classify(chip: Chip, ruleset: ExportRuleset) -> str | None:
    """The chip's export class under the ruleset (first class whose conditions hold), or None.

    A branch that needs an unpublished density is skipped; classes are listed from the
    most to the least controlled, so a chip is never put in a laxer class by a gap in data.
    """
    for rule in ruleset.classification:
        if any(_holds(cond, chip) for cond in rule.any_of):
            return rule.eccn
    return None


@dataclass(frozen=True)
class Decision:
    """What a ruleset says of one accelerator in one country."""

    action: str  # allowed, licence, cap, prohibited
    eccn: str | None
    policy: str | None
    cap_tpp: float | None
    reason: str


def _group_members(ruleset: ExportRuleset, group: str) -> tuple[str, ...] | None:
    return None if group == ALL_COUNTRIES else ruleset.country_groups[group]


def _matches(policy: Policy | Duty, ruleset: ExportRuleset, eccn: str | None, chip: Chip,
             country: str, headquarters: str) -> str | None:
    if "*" not in policy.classes and eccn not in policy.classes:
        return None
    if policy.when is not None and not _holds(policy.when, chip):
        return None
    for group in policy.groups:
        members = _group_members(ruleset, group)
        if members is None or country in members:
            return f"site country {country} is in {group}"
        if policy.applies_to_headquarters and headquarters in members:
            return f"buyer headquarters {headquarters} is in {group}"
    return None


def decide(chip: Chip, country: str, headquarters: str, ruleset: ExportRuleset) -> Decision:
    """Apply the first matching policy; a chip no policy covers is allowed."""
    eccn = classify(chip, ruleset)
    for policy in ruleset.policies:
        why = _matches(policy, ruleset, eccn, chip, country, headquarters)
        if why is not None:
            label = eccn or "not classified"
            return Decision(policy.action, eccn, policy.id, policy.cap_tpp,
                            f"{policy.id}: {chip.name} ({label}) {policy.action}, {why}")
    return Decision("allowed", eccn, None, None, "no policy applies")


def duty_of(chip: Chip, country: str, headquarters: str, ruleset: ExportRuleset) -> tuple[float, str | None]:
    """The duty on the chip bought for a site in `country`: (share of its price, the duty's id), or
    (0, None) when none applies."""
    eccn = classify(chip, ruleset)
    for duty in ruleset.duties:
        if _matches(duty, ruleset, eccn, chip, country, headquarters) is not None:
            return duty.fraction, duty.id
    return 0.0, None
