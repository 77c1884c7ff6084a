"""YAML reading that remembers where each key is, for error messages with lines.

PyYAML follows YAML 1.1, where `start: 13:30` is the integer 810 (base 60)
and `languages: [zh, no]` holds the boolean False. A hall config is full of
clock times and language codes, so the loader here resolves plain scalars as
YAML 1.2's core schema does: only true/false are booleans, and integers are
decimal, 0o octal or 0x hex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


class HallYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema resolution of plain scalars."""


HallYamlLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
        r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$",
        "0123456789",
    ),
):
    HallYamlLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    return int(text, 0) if text.lower().startswith(("0o", "0x")) else int(text, 10)


HallYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


@dataclass
class YamlDocument:
    """The data of a YAML file and the line of every key and list item in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of the nearest enclosing key that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; raises yaml.YAMLError on a syntax error."""
    loader = HallYamlLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(data=None)
        doc = YamlDocument(data=loader.construct_document(root))
        doc.lines[()] = root.start_mark.line + 1
        _index(loader, root, (), doc)
        return doc
    finally:
        loader.dispose()


def _index(loader: yaml.SafeLoader, node: yaml.Node, path: Path, doc: YamlDocument) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                key = str(key)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if child in doc.lines:
                doc.duplicates.append((child, line))
            doc.lines[child] = line
            _index(loader, value_node, child, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            doc.lines[child] = item.start_mark.line + 1
            _index(loader, item, child, doc)
