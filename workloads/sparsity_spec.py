"""Sparsity specs: what to prune to (`--sparsity`), parsed and validated."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from workloads.errors import WorkloadError, parse_decimal
from workloads.sparsity import NM

MAX_NM_M = 1024  # N:M group length: hardware uses 4..16; longer is a typo, not a pattern

SPARSITY_FORMS = (
    "dense, nm:N:M (1 <= N <= M), bdwp:N:M (N:M along K and along N), magnitude:S, "
    "global:S, random:S, channel:S, block:B:S, group:G:S, blockdiag:NB (NB diagonal blocks), "
    "each optionally followed by "
    "+act:S (activation sparsity); S = fraction removed, 0 <= S < 1"
)


class Method(str, enum.Enum):
    """How weights are pruned (DESIGN.md's `--sparsity` specs, plus global, bdwp, group)."""

    DENSE = "dense"
    NM = "nm"  # N:M along the reduction dimension K
    BDWP = "bdwp"  # bidirectional (transposable) N:M: along K and along N
    MAGNITUDE = "magnitude"  # unstructured, per layer
    GLOBAL = "global"  # unstructured, one threshold across layers
    RANDOM = "random"  # unstructured, seeded
    CHANNEL = "channel"  # output channels by L1 norm: a smaller dense layer
    BLOCK = "block"  # B x B blocks of the (K, N) view
    GROUP = "group"  # groups of G consecutive weights along K
    BLOCKDIAG = "blockdiag"  # NB diagonal blocks of the (K, N) view (Monarch-style)

    def __str__(self) -> str:
        return self.value


NM_METHODS = (Method.NM, Method.BDWP)
FRACTION_METHODS = (
    Method.MAGNITUDE,
    Method.GLOBAL,
    Method.RANDOM,
    Method.CHANNEL,
    Method.BLOCK,
    Method.GROUP,
)


@dataclass(frozen=True, slots=True)
class SparsitySpec:
    """What to prune to.

    `pattern` for nm / bdwp; `sparsity` (fraction removed) for the others;
    `block` is the block side (block), group length (group) or the number of
    diagonal blocks (blockdiag);
    `activation_sparsity` (fraction of zero activations) when `+act:S` is given.
    """

    kind: Method = Method.DENSE
    pattern: NM | None = None
    sparsity: float = 0.0
    block: int = 1
    activation_sparsity: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Method(self.kind))
        if self.kind in NM_METHODS and self.pattern is None:
            raise ValueError(f"{self.kind} needs an N:M pattern")

    @property
    def weight_density(self) -> float:
        """Nonzero fraction of each pruned weight tensor (1.0 for channel pruning,
        which keeps a smaller dense layer)."""
        if self.kind in NM_METHODS:
            return self.pattern.density  # type: ignore[union-attr]
        if self.kind in (Method.DENSE, Method.CHANNEL):
            return 1.0
        if self.kind is Method.BLOCKDIAG:
            return 1.0 / self.block
        return 1.0 - self.sparsity

    def __str__(self) -> str:
        if self.kind is Method.DENSE:
            text = "dense"
        elif self.kind in NM_METHODS:
            text = f"{self.kind}:{self.pattern}"
        elif self.kind in (Method.BLOCK, Method.GROUP):
            text = f"{self.kind}:{self.block}:{self.sparsity:g}"
        elif self.kind is Method.BLOCKDIAG:
            text = f"{self.kind}:{self.block}"
        else:
            text = f"{self.kind}:{self.sparsity:g}"
        if self.activation_sparsity is not None:
            text += f"+act:{self.activation_sparsity:g}"
        return text


def _fraction(text: str, whole: str, source: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 <= value < 1.0:
        raise WorkloadError(
            source, "S", whole, "a fraction removed with 0 <= S < 1 (e.g. magnitude:0.5)"
        )
    return value


# a well-formed spec of each method with integer fields, for error messages
_INT_EXAMPLES = {"nm": "nm:2:4", "bdwp": "bdwp:2:4", "block": "block:4:0.5", "group": "group:4:0.5"}


def _positive_int(text: str, field: str, whole: str, source: str) -> int:
    value = parse_decimal(text, max_digits=9) if text.isascii() and text.isdigit() else None
    if value is None or value < 1:
        example = _INT_EXAMPLES.get(whole.split(":", 1)[0], "blockdiag:4")
        raise WorkloadError(source, field, whole, f"a positive integer (e.g. {example})")
    return value


def _parse_weight_spec(parts: list[str], whole: str, source: str) -> SparsitySpec:
    head = parts[0]
    if parts == ["dense"]:
        return SparsitySpec()
    if head in ("nm", "bdwp") and len(parts) == 3:
        n, m = (_positive_int(p, "N:M", whole, source) for p in parts[1:])
        if not 1 <= n <= m <= MAX_NM_M:
            raise WorkloadError(source, "N:M", whole, f"1 <= N <= M <= {MAX_NM_M} (e.g. nm:2:4)")
        return SparsitySpec(Method(head), pattern=NM(n, m))
    if head in ("magnitude", "global", "random", "channel") and len(parts) == 2:
        return SparsitySpec(Method(head), sparsity=_fraction(parts[1], whole, source))
    if head in ("block", "group") and len(parts) == 3:
        size = _positive_int(parts[1], "B" if head == "block" else "G", whole, source)
        return SparsitySpec(Method(head), sparsity=_fraction(parts[2], whole, source), block=size)
    if head == "blockdiag" and len(parts) == 2:
        blocks = _positive_int(parts[1], "NB", whole, source)
        return SparsitySpec(Method.BLOCKDIAG, block=blocks)
    raise WorkloadError(source, "sparsity", whole, SPARSITY_FORMS)


def parse_sparsity(text: str, source: str = "--sparsity") -> SparsitySpec:
    """Parse a `--sparsity` spec (SPARSITY_FORMS), e.g. `nm:2:4`, `block:4:0.5+act:0.4`."""
    whole = text.strip().lower()
    weight_part, _, act_part = whole.partition("+")
    spec = _parse_weight_spec(weight_part.split(":"), whole, source)
    if not act_part:
        return spec
    parts = act_part.split(":")
    if len(parts) != 2 or parts[0] != "act":
        raise WorkloadError(source, "sparsity", whole, SPARSITY_FORMS)
    return SparsitySpec(
        spec.kind,
        spec.pattern,
        spec.sparsity,
        spec.block,
        activation_sparsity=_fraction(parts[1], whole, source),
    )
