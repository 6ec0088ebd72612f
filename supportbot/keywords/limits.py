"""Size limits on a keyword configuration, checked before and after YAML composes it.

A configuration is small; these bounds keep a hostile or mistaken one from costing
memory or time in every process that loads it (the admin page, the CLI, each worker).
"""

from __future__ import annotations

import yaml

MAX_BYTES = 256 * 1024
MAX_KEYWORDS = 5000
# nodes after expanding anchors and aliases: far above any real file, far below a bomb
MAX_EXPANDED_NODES = 100_000


def size_problem(text: str, source: str) -> str | None:
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        return f"{source}:1: the configuration is {size:,} bytes; the limit is {MAX_BYTES:,} (256 KiB)"
    return None


def expansion_problem(root: yaml.Node, source: str) -> str | None:
    """Count nodes as a loader would see them, without expanding: aliases reuse nodes."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # an explicit stack: a deep document must not hit Python's recursion limit
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > MAX_EXPANDED_NODES:
                line = node.start_mark.line + 1
                return f"{source}:{line}: anchors and aliases expand to over {MAX_EXPANDED_NODES:,} nodes"
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            return f"{source}:{node.start_mark.line + 1}: an alias refers to itself (a recursive anchor)"
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def count_problem(count: int, source: str) -> str | None:
    if count > MAX_KEYWORDS:
        return f"{source}:1: {count:,} keywords; the limit is {MAX_KEYWORDS:,}"
    return None
