"""Reading a YAML config that may be hostile: UTF-8 only, bounded in size, depth and alias
expansion, keys that are text or numbers, no duplicate keys. Errors are ConfigErrors.

A config that parsed is kept as JSON beside it (`.<name>.parsed.json`, with the text it
was parsed from, compared whole: no hash library to import): a cron `run` of an
unchanged config then neither imports PyYAML nor parses (about 20 ms of a 304 run's
CPU). Only a document that JSON gives back exactly is kept; a folder that cannot be
written only means no cache."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedgen_dw.errors import ConfigError

if TYPE_CHECKING:
    import yaml

MAX_BYTES = 1024 * 1024  # a config of a thousand feeds is about 100 KB
MAX_DEPTH = 32  # a config nests four levels; deep nesting only exhausts the stack
MAX_NODES = 100_000  # values after aliases are expanded ("billion laughs" stops here)


def _line(node_or_mark: Any) -> int:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return int(getattr(mark, "line", -1)) + 1


def _loader(text: str) -> Any:
    """PyYAML's SafeLoader with a depth limit and with duplicate or unhashable keys
    refused (the class is made on first use: PyYAML is imported only to parse)."""
    import yaml

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    line = _line(self.peek_event())  # type: ignore[no-untyped-call]
                    raise ConfigError(f"line {line}: nested deeper than {MAX_DEPTH} levels")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    return Loader(text)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    import yaml

    # PyYAML keeps the last of two equal keys; a duplicate feed name must be an error
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigError(f"line {_line(key_node)}: a key must be a name, not a "
                              f"{'list' if isinstance(key_node, yaml.SequenceNode) else 'mapping'}")
        key = loader.construct_object(key_node)
        if key in seen:
            raise ConfigError(f"duplicate key {key!r} (line {_line(key_node)})")
        seen.add(key)
    return loader.construct_mapping(node)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values `node` stands for once every alias is expanded."""
    import yaml

    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = MAX_NODES + 1  # a node met again inside itself: a recursive alias
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    for child in children:
        size += _expanded_size(child, memo)
        if size > MAX_NODES:
            break
    memo[id(node)] = size
    return size


def parse_yaml(text: str) -> Any:
    """The document in `text`; ConfigError for anything a config file should not be."""
    import yaml

    try:
        loader = _loader(text)  # reads ahead: a control character fails here
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(f"not valid YAML (line {line}): control character #x{code:02x} "
                          "in the text") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise ConfigError(f"more than {MAX_NODES} values once its aliases are expanded "
                              "(a config needs no such thing)")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()


def read_text(path: Path) -> str:
    """The file's text, as UTF-8, or a ConfigError saying why not (and where it looked)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        folder = path.resolve().parent
        raise ConfigError(f"{path}: no such file in {folder} "
                          f"(name the config with --config PATH)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file "
                          f"(name the config with --config PATH)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES // 1024} KB; not a config file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
                          "save the file as UTF-8") from None


def _cache_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.parsed.json")


def load_yaml_file(path: Path, text: str) -> Any:
    """The document `text` read from `path` (parse_yaml's errors), from the JSON beside
    it when the text is the one it was made from."""
    cache = _cache_path(path)
    with contextlib.suppress(OSError, ValueError, RecursionError):  # broken: parse again
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(kept, dict) and kept.get("source") == text and "data" in kept:
            return kept["data"]
    data = parse_yaml(text)
    with contextlib.suppress(OSError, ValueError, TypeError, RecursionError):
        encoded = json.dumps({"source": text, "data": data}, ensure_ascii=False)
        back = json.loads(encoded)["data"]
        if back != data or _types(back) != _types(data):
            return data  # e.g. number keys or dates: JSON would change them
        temp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        temp.write_text(encoded, encoding="utf-8")
        os.replace(temp, cache)
    return data


def _types(value: Any) -> Any:
    """The shape of a document with its types (1 == 1.0 == True for `==` alone)."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value).__name__
