"""Safe YAML loading: one document, bounded size, no alias bombs."""

import yaml

from .errors import SpecError

MAX_NODES = 20_000  # a real polyaxonfile has a few hundred
MAX_ALIASES = 100


# libyaml composes ~30x faster than pure Python and caps nesting depth; same safe constructor.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(content, *, max_bytes):
    """Parse one YAML document from `content`, refusing oversized or exploding input."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SpecError.at("content", f"is not valid UTF-8 ({err.reason})") from None
    if not isinstance(content, str):
        raise SpecError.at("content", "must be a string of YAML")
    size = len(content.encode("utf-8"))
    if size > max_bytes:
        raise SpecError.at(
            "content", f"the document is {size} bytes, at most {max_bytes} bytes are allowed"
        )
    loader = _Loader(content)
    try:
        aliases = _count_nodes(loader)
        loader.dispose()
        loader = _Loader(content)
        node = loader.get_single_node()
        if node is None:
            raise SpecError.at("content", "the document is empty")
        if aliases:
            _check_expansion(node)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        raise SpecError.at("content", _describe(err)) from None
    except yaml.YAMLError as err:
        raise SpecError.at("content", f"invalid YAML: {err}") from None
    except RecursionError:
        raise SpecError.at("content", "the document is nested too deeply") from None
    finally:
        loader.dispose()


def _count_nodes(loader):
    """Read the event stream once, refusing too many nodes or aliases before building any."""
    nodes = aliases = 0
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise SpecError.at(
                    "content", f"the document uses more than {MAX_ALIASES} YAML aliases"
                )
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise SpecError.at("content", f"the document has more than {MAX_NODES} YAML nodes")
    return aliases


def _describe(err):
    if err.context == "expected a single document in the stream":
        return "expected a single YAML document, found more than one"
    mark = err.problem_mark or err.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"invalid YAML{where}: {err.problem or err.context}"


def _check_expansion(root):
    """Refuse documents whose aliases would expand to a huge (or infinite) tree."""
    sizes = {}
    # Iterative post-order walk: a node's expanded size is 1 + its children's sizes.
    stack = [(root, False)]
    in_progress = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            in_progress.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_NODES:
                raise SpecError.at(
                    "content", f"the document expands to more than {MAX_NODES} YAML nodes"
                )
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise SpecError.at("content", "the document contains a recursive YAML alias")
        in_progress.add(key)
        stack.append((node, True))
        for child in _children(node):
            stack.append((child, False))


def _children(node):
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
