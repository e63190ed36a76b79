"""Saved workloads: a JSON document (+ an `.npz` beside it for weights and masks).

```
{"format_version": 1, "name": ..., "sparsity": ..., "arrays": "wl.npz" | null,
 "layers": [{"type": "conv2d", "params": {...}, "density": 0.5, "pattern": "2:4",
             "activation_density": 1.0, "bidirectional": false, "unpruned": null,
             "arrays": true, "weight_bits": null, "input_bits": null,
             "output_density": 1.0}, ...],
 "edges": [["conv1", "layer1.0.conv1"], ...]}
```

`workload_to_doc` / `workload_from_doc` are pure (dict and arrays in and
out), and so is `encode_workload` (the two files' bytes, in memory): the face
(`sparsim.api.save_workload`) writes them as one set, both or neither. The
JSON pins its `.npz` by content hash (`arrays_sha256`), so `read_workload`
refuses a pair that does not belong together instead of loading it. Arrays
are read with `workloads.inputs.read_npz` (no pickles, zip bombs refused),
only from the JSON's own folder. Every field is validated on load: an
unknown version, key, layer type or value raises WorkloadError naming the
file and the field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from workloads.errors import WorkloadError, parse_decimal, printable
from workloads.inputs import confined, read_npz, read_text
from workloads.layers import LAYER_TYPES, AttentionKind, Layer, Pass, PassLayer, layer_type_name
from workloads.sparsity import NM
from workloads.sparsity_spec import MAX_NM_M
from workloads.workload import LayerWorkload, Workload

FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
_TOP_KEYS = {"format_version", "name", "sparsity", "arrays", "arrays_sha256", "layers", "edges"}
_LAYER_KEYS = {
    "type",
    "params",
    "density",
    "pattern",
    "activation_density",
    "bidirectional",
    "unpruned",
    "arrays",
    "weight_bits",
    "input_bits",
    "output_density",
}
_TUPLE_FIELDS = {"stride", "padding", "dilation"}
_FORWARD_TYPES = [name for name, cls in LAYER_TYPES.items() if cls is not PassLayer]


def layer_to_doc(layer: Layer) -> dict[str, Any]:
    if isinstance(layer, PassLayer):
        return {
            "type": "pass",
            "params": {"forward": layer_to_doc(layer.forward), "pass": str(layer.pass_)},
        }
    params = {}
    for field in dataclasses.fields(layer):
        value = getattr(layer, field.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, AttentionKind):
            value = value.value
        params[field.name] = value
    return {"type": layer_type_name(layer), "params": params}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _expected_type(key: str) -> str:
    if key in ("name", "kind"):
        return "a string"
    if key == "has_weights":
        return "true or false"
    if key == "padding":
        return "an integer or a list of 2 or 4 integers"
    if key in _TUPLE_FIELDS:
        return "an integer or a list of 2 integers"
    return "an integer"


def _has_type(value: Any, key: str) -> bool:
    if key in ("name", "kind"):
        return isinstance(value, str)
    if key == "has_weights":
        return isinstance(value, bool)
    if key in _TUPLE_FIELDS and isinstance(value, tuple):
        lengths = (2, 4) if key == "padding" else (2,)
        return len(value) in lengths and all(_is_int(v) for v in value)
    return _is_int(value)


def layer_from_doc(doc: Any, source: str, where: str) -> Layer:
    if not isinstance(doc, Mapping) or set(doc) != {"type", "params"}:
        raise WorkloadError(source, where, doc, "an object with keys 'type' and 'params'")
    kind, params = doc["type"], doc["params"]
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise WorkloadError(source, f"{where}.type", kind, ", ".join(LAYER_TYPES))
    if not isinstance(params, Mapping):
        raise WorkloadError(source, f"{where}.params", params, "an object")
    cls = LAYER_TYPES[kind]
    if cls is PassLayer:
        if set(params) != {"forward", "pass"}:
            raise WorkloadError(source, f"{where}.params", sorted(params), "forward, pass")
        try:
            pass_ = Pass(params["pass"])
        except ValueError:
            raise WorkloadError(
                source, f"{where}.params.pass", params["pass"], ", ".join(p.value for p in Pass)
            ) from None
        forward = params["forward"]
        if isinstance(forward, Mapping) and forward.get("type") == "pass":
            raise WorkloadError(
                source, f"{where}.params.forward.type", "pass", "a forward layer type (a pass "
                "wraps a forward layer, not another pass): " + ", ".join(_FORWARD_TYPES),
            )  # fmt: skip
        return PassLayer(layer_from_doc(forward, source, f"{where}.params.forward"), pass_)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(params) - set(fields)
    if unknown:
        raise WorkloadError(
            source,
            f"{where}.params.{sorted(unknown)[0]}",
            params[sorted(unknown)[0]],
            ", ".join(fields),
        )
    kwargs = {}
    for key, value in params.items():
        if key in _TUPLE_FIELDS and isinstance(value, list):
            value = tuple(value)
        expected = _expected_type(key)
        if not _has_type(value, key):
            raise WorkloadError(source, f"{where}.params.{key}", value, expected)
        kwargs[key] = printable(value) if key == "name" else value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, IndexError) as err:
        raise WorkloadError(source, f"{where}.params", dict(params), str(err)) from err


def workload_to_doc(wl: Workload, arrays_name: str | None) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON document and the arrays (`layer{i}.weights` / `.mask`) of a workload."""
    arrays: dict[str, np.ndarray] = {}
    layers = []
    for i, lw in enumerate(wl.layers):
        has_arrays = lw.weights is not None or lw.mask is not None
        if has_arrays and lw.weights is not None:
            arrays[f"layer{i}.weights"] = lw.weights
        if has_arrays and lw.mask is not None:
            arrays[f"layer{i}.mask"] = lw.mask
        layers.append(
            {
                **layer_to_doc(lw.layer),
                "density": lw.density,
                "pattern": str(lw.pattern) if lw.pattern else None,
                "activation_density": lw.activation_density,
                "bidirectional": lw.bidirectional,
                "unpruned": layer_to_doc(lw.unpruned) if lw.unpruned is not None else None,
                "arrays": has_arrays,
                "weight_bits": lw.weight_bits,
                "input_bits": lw.input_bits,
                "output_density": lw.output_density,
            }
        )
    doc = {
        "format_version": FORMAT_VERSION,
        "name": wl.name,
        "sparsity": wl.sparsity,
        "arrays": arrays_name if arrays else None,
        "layers": layers,
        "edges": [list(e) for e in wl.graph.edges] if wl.graph is not None else None,
    }
    return doc, arrays


def _pattern(text: Any, source: str, where: str) -> NM | None:
    if text is None:
        return None
    parts = text.split(":") if isinstance(text, str) else []
    values = [
        parse_decimal(p, max_digits=4) if p.isascii() and p.isdigit() else None for p in parts
    ]
    if len(values) == 2 and None not in values and 1 <= values[0] <= values[1] <= MAX_NM_M:
        return NM(values[0], values[1])
    raise WorkloadError(source, where, text, f"null or N:M with 1 <= N <= M <= {MAX_NM_M}")


def _array(
    arrays: Mapping[str, np.ndarray], key: str, source: str, where: str
) -> np.ndarray | None:
    arr = arrays.get(key)
    if arr is None:
        return None
    ok = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if key.endswith(".mask"):
        ok = arr.dtype == np.bool_
    if not ok:
        allowed = "bool" if key.endswith(".mask") else "an integer or real (float) dtype"
        raise WorkloadError(
            source, f"{where} {key.rsplit('.', 1)[-1]} dtype", str(arr.dtype), allowed
        )
    return arr


def _fraction(value: Any, source: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise WorkloadError(source, where, value, "a number in [0, 1]")
    return float(value)


def _bits(value: Any, source: str, where: str) -> int | None:
    if value is None or (_is_int(value) and value in (4, 8, 16)):
        return value
    raise WorkloadError(source, where, value, "null (the arch's width), 4, 8 or 16")


def _label(doc: Mapping, key: str, default: str, source: str) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str) or len(value) > 1000:
        raise WorkloadError(source, key, value, "a string (up to 1,000 characters)")
    return printable(value)


def workload_from_doc(
    doc: Any, arrays: Mapping[str, np.ndarray] | None, source: str = "<workload>"
) -> Workload:
    """Validate a saved-workload document and build the workload."""
    if not isinstance(doc, Mapping):
        raise WorkloadError(source, "document", type(doc).__name__, "a JSON object")
    version = doc.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        raise WorkloadError(
            source, "format_version", version, ", ".join(map(str, SUPPORTED_VERSIONS))
        )
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise WorkloadError(
            source, sorted(unknown)[0], doc[sorted(unknown)[0]], ", ".join(sorted(_TOP_KEYS))
        )
    if not isinstance(doc.get("layers"), list) or not doc["layers"]:
        raise WorkloadError(source, "layers", doc.get("layers"), "a non-empty list of layers")
    layers = []
    for i, entry in enumerate(doc["layers"]):
        where = f"layers[{i}]"
        if not isinstance(entry, Mapping):
            raise WorkloadError(source, where, entry, "an object")
        extra = set(entry) - _LAYER_KEYS
        if extra:
            key = sorted(extra)[0]
            raise WorkloadError(
                source, f"{where}.{key}", entry[key], ", ".join(sorted(_LAYER_KEYS))
            )
        layer = layer_from_doc(
            {"type": entry.get("type"), "params": entry.get("params")}, source, where
        )
        unpruned = entry.get("unpruned")
        weights = mask = None
        if entry.get("arrays"):
            if arrays is None:
                raise WorkloadError(
                    source, "arrays", doc.get("arrays"), "an .npz file beside the JSON"
                )
            weights = _array(arrays, f"layer{i}.weights", source, where)
            mask = _array(arrays, f"layer{i}.mask", source, where)
        try:
            layers.append(
                LayerWorkload(
                    layer,
                    weights=weights,
                    mask=mask,
                    density=_fraction(entry.get("density", 1.0), source, f"{where}.density"),
                    pattern=_pattern(entry.get("pattern"), source, f"{where}.pattern"),
                    activation_density=_fraction(
                        entry.get("activation_density", 1.0), source, f"{where}.activation_density"
                    ),
                    bidirectional=bool(entry.get("bidirectional", False)),
                    weight_bits=_bits(entry.get("weight_bits"), source, f"{where}.weight_bits"),
                    input_bits=_bits(entry.get("input_bits"), source, f"{where}.input_bits"),
                    output_density=_fraction(
                        entry.get("output_density", 1.0), source, f"{where}.output_density"
                    ),
                    unpruned=None
                    if unpruned is None
                    else layer_from_doc(unpruned, source, f"{where}.unpruned"),
                )
            )
        except ValueError as err:
            if isinstance(err, WorkloadError):
                raise
            raise WorkloadError(source, f"{where} arrays", layer.name, str(err)) from err
    graph = None
    if doc.get("edges") is not None:
        names = [lw.name for lw in layers]
        import networkx as nx  # on use: start-up time

        graph = nx.DiGraph()
        graph.add_nodes_from(names)
        if not isinstance(doc["edges"], list):
            raise WorkloadError(source, "edges", doc["edges"], "null or a list of [from, to]")
        for e in doc["edges"]:
            ok = isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)
            e = [printable(x) for x in e] if ok else e
            if not (ok and all(x in graph for x in e)):
                raise WorkloadError(source, "edges", e, "pairs of layer names")
            graph.add_edge(*e)
    try:
        return Workload(
            _label(doc, "name", Path(source).stem, source),
            tuple(layers),
            _label(doc, "sparsity", "dense", source),
            graph,
        )
    except ValueError as err:
        raise WorkloadError(source, "layers", len(layers), str(err)) from err


def encode_workload(wl: Workload, name: str) -> dict[str, bytes]:
    """The files of `wl` saved as `name` (a .json file name), in memory:
    {name: JSON} and, when it has weights or masks, {name with .npz: arrays},
    the JSON pinning the arrays by their SHA-256."""
    npz_name = str(Path(name).with_suffix(".npz"))
    doc, arrays = workload_to_doc(wl, npz_name)
    files = {}
    if arrays:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        files[npz_name] = buf.getvalue()
        doc["arrays_sha256"] = hashlib.sha256(files[npz_name]).hexdigest()
    return {name: json.dumps(doc, indent=1).encode(), **files}


def parse_json(text: str, source: str) -> Any:
    """JSON text to Python values; syntax, nesting past Python's recursion limit and
    numbers past its 4,300-digit limit are WorkloadErrors."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise WorkloadError(
            source, f"syntax (line {err.lineno}, column {err.colno})", err.msg, "JSON"
        ) from None
    except (ValueError, RecursionError) as err:
        reason = "nested too deep" if isinstance(err, RecursionError) else str(err)
        raise WorkloadError(source, "document", reason, "a saved-workload JSON document") from None


def read_workload(path: str | Path) -> Workload:
    """A saved workload; its `arrays` .npz must sit in the JSON's own folder."""
    p = Path(path)
    doc = parse_json(read_text(p, "saved-workload JSON"), str(p))
    arrays = None
    if isinstance(doc, dict) and doc.get("arrays") is not None:
        npz = confined(p.parent, doc["arrays"], str(p), "arrays")
        arrays = read_npz(npz, "saved-workload arrays (.npz)", source=str(p), field="arrays")
        pinned = doc.get("arrays_sha256")
        if pinned is not None and hashlib.sha256(npz.read_bytes()).hexdigest() != pinned:
            raise WorkloadError(
                str(p), "arrays_sha256", printable(pinned),
                f"the SHA-256 of {printable(doc['arrays'])} (the .npz was replaced without this"
                " JSON)",
            )  # fmt: skip
    return workload_from_doc(doc, arrays, source=str(p))
