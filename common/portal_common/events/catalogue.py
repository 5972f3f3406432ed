"""The event catalogue (contracts/asyncapi.yaml) loaded as validators.

``validate(envelope)`` is called by every publisher before anything leaves the process and by
every consumer before a handler runs, so an event the catalogue does not describe, or one that
breaks its schema, fails loudly at the producer instead of surprising a subscriber.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

LIVE = "live"


class UnknownEvent(ValueError):
    """The (source, type) pair is not in the catalogue."""


class InvalidEvent(ValueError):
    """The envelope or its data breaks the catalogue's schema."""


@dataclass(frozen=True)
class EventSpec:
    source: str
    type: str
    status: str
    description: str
    validator: Draft202012Validator

    @property
    def exchange(self) -> str:
        return exchange_for(self.source)


def exchange_for(source: str) -> str:
    """Nameko's naming: events of ``news`` go to the topic exchange ``news.events``."""
    return f"{source}.events"


@lru_cache(maxsize=1)
def load_document() -> dict[str, Any]:
    text = resources.files("portal_common.contracts").joinpath("asyncapi.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _resolve(node: Any, components: dict[str, Any]) -> Any:
    """Inline local ``$ref``s so each payload schema is self-contained."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            kind, name = ref.split("/")[2:4]
            return _resolve(components[kind][name], components)
        return {k: _resolve(v, components) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, components) for v in node]
    return node


@lru_cache(maxsize=1)
def specs() -> dict[tuple[str, str], EventSpec]:
    doc = load_document()
    components = doc["components"]
    envelope = _resolve(components["schemas"]["envelope"], components)
    out: dict[tuple[str, str], EventSpec] = {}
    for name, channel in doc["channels"].items():
        source, type_ = channel["x-source"], channel["x-type"]
        if name != f"{exchange_for(source)}/{type_}":
            raise RuntimeError(f"catalogue channel {name} does not match its x-source/x-type")
        payload = _resolve(channel["subscribe"]["message"], components)["payload"]
        schema = dict(envelope)
        schema["properties"] = dict(envelope["properties"])
        schema["properties"]["type"] = {"const": type_}
        schema["properties"]["source"] = {"const": source}
        schema["properties"]["data"] = payload
        Draft202012Validator.check_schema(schema)
        out[(source, type_)] = EventSpec(
            source=source, type=type_, status=channel.get("x-status", LIVE),
            description=channel.get("description", ""),
            validator=Draft202012Validator(schema, format_checker=FormatChecker()),
        )
    return out


def spec_for(source: str, type_: str) -> EventSpec:
    try:
        return specs()[(source, type_)]
    except KeyError:
        raise UnknownEvent(f"event {source}.{type_} is not in the catalogue") from None


def validate(envelope: dict[str, Any]) -> EventSpec:
    """Check an envelope against the catalogue; return its spec or raise."""
    if not isinstance(envelope, dict):
        raise InvalidEvent("an event body must be a JSON object")
    spec = spec_for(str(envelope.get("source")), str(envelope.get("type")))
    errors = sorted(spec.validator.iter_errors(envelope), key=lambda e: list(e.path))
    if errors:
        first: ValidationError = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(envelope)"
        raise InvalidEvent(f"{spec.source}.{spec.type} breaks its schema at {where}: {first.message}")
    return spec


def sources() -> list[str]:
    return sorted({source for source, _ in specs()})
