"""What the registered strategies are: shape, description, default universe and costs, and
every parameter with its type, default, constraints and description (``quantdesk strategies``)."""

from __future__ import annotations

import dataclasses
import inspect
import re
from dataclasses import dataclass
from typing import Any

from quantdesk.strategies.base import AllocationStrategy
from quantdesk.strategies.registry import StrategyRegistry
from quantdesk.strategies.requirements import DataRequirements


@dataclass(frozen=True)
class ParameterInfo:
    name: str
    type: str
    default: Any
    required: bool
    description: str
    constraints: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "required": self.required,
            "description": self.description,
            "constraints": self.constraints,
        }


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    kind: str  # allocation | signal
    summary: str
    description: str
    default_universe: str
    default_costs: dict[str, Any] | None
    parameters: tuple[ParameterInfo, ...]
    # the data it reads with its default parameters (fields, benchmark, earnings, warm-up…)
    requirements: DataRequirements | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "summary": self.summary,
            "description": self.description,
            "default_universe": self.default_universe,
            "default_costs": self.default_costs,
            "parameters": [p.to_dict() for p in self.parameters],
            "requirements": None if self.requirements is None else self.requirements.to_dict(),
        }


def strategy_info(registry: StrategyRegistry, name: str) -> StrategyInfo:
    """The description of strategy ``name`` (unknown names raise with a "did you mean")."""
    cls = registry.get(name)
    doc = inspect.getdoc(inspect.getmodule(cls)) or inspect.getdoc(cls) or ""
    schema = cls.Params.model_json_schema()
    properties = schema.get("properties", {})
    parameters = []
    for field_name, field in cls.Params.model_fields.items():
        spec = properties.get(field_name, {})
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        parameters.append(
            ParameterInfo(
                name=field_name,
                type=_type_name(field.annotation),
                default=_plain(default),
                required=field.is_required(),
                description=field.description or spec.get("description", ""),
                constraints=_constraints(spec),
            )
        )
    costs = cls.default_costs
    return StrategyInfo(
        name=cls.name,
        kind="allocation" if issubclass(cls, AllocationStrategy) else "signal",
        summary=plain_text(doc.split("\n\n")[0].replace("\n", " ").strip()),
        description=doc,
        default_universe=str(cls.default_universe),
        default_costs=None if costs is None else _plain(dataclasses.asdict(costs)),
        parameters=tuple(parameters),
        requirements=_default_requirements(cls),
    )


# :role:`text` (``~a.b.C`` shows ``C``; ``title <target>`` shows the title), ``literal``, and
# `interpreted` or `link <url>`_ text
_ROLE = re.compile(r":[\w.+-]+(?::[\w.+-]+)?:`([^`]*)`")
_LITERAL = re.compile(r"``(.+?)``")
_INTERPRETED = re.compile(r"`([^`]+)`_{0,2}")


def plain_text(text: str) -> str:
    """``text`` with its inline reStructuredText markup (literals, roles, interpreted text and
    links) replaced by the words a reader sees: what the CLI and the API print, since only the
    docs render the markup."""

    def role(match: re.Match[str]) -> str:
        return _shown(match.group(1))

    text = _ROLE.sub(role, text)
    text = _LITERAL.sub(r"\1", text)
    return _INTERPRETED.sub(lambda match: _shown(match.group(1)), text)


def _shown(target: str) -> str:
    title, bracket, _ = target.partition(" <")
    if bracket:
        return title.strip()
    if target.startswith("~"):
        return target.rsplit(".", 1)[-1]
    return target


def _default_requirements(cls: Any) -> DataRequirements | None:
    """What ``cls`` reads with its default parameters (None when they have required ones)."""
    try:
        params = cls.Params()
    except ValueError:  # required parameters: no default configuration to describe
        return None
    needs = cls.data_requirements(params)
    return needs if isinstance(needs, DataRequirements) else None


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _constraints(spec: dict[str, Any]) -> str:
    labels = {
        "minimum": ">=",
        "exclusiveMinimum": ">",
        "maximum": "<=",
        "exclusiveMaximum": "<",
    }
    parts = [f"{sign} {spec[key]}" for key, sign in labels.items() if key in spec]
    if "enum" in spec:
        parts.append("one of " + ", ".join(str(v) for v in spec["enum"]))
    return ", ".join(parts)


def _plain(value: Any) -> Any:
    """JSON-ready: enums by value, tuples as lists, nested dicts kept."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value
