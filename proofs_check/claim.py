"""The static description of a claim: what it says and where it comes from."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    id: str  # "C6"
    title: str  # "Spurious partial minima are everywhere"
    paper_ref: str  # "Thm 3.6"
    statement: str  # the claim in words, with its hypotheses
