"""Query cost: a static, Shopify-like estimate of the work an operation asks for, made before it runs.

The rules (one place, so the number in `extensions.cost` can be worked out by hand):

- a field returning an object costs 1; scalars and enums cost 0; connection wrappers (`*Edge`,
  `PageInfo`) cost 0, the connection object itself 1;
- a field returning a list multiplies its cost (its own 1 plus its subtree) by the list's size:
  inside a connection, the page size (`first`/`last`, the smaller if both; the default page size
  when neither is given, which is what strawberry returns then); any other list by its typical
  size, which the module owning the field declares (`types.LIST_SIZES`; see list_sizes)
  (DEFAULT_LIST_SIZE when not listed);
- a mutation's root field costs MUTATION_COST more (it writes, and usually starts work);
- every operation costs at least MINIMUM_COST (the request itself is work: `{ __typename }` is
  not free);
- introspection is cheap but not free: `__schema` costs INTROSPECTION_SCHEMA_COST whatever is
  selected under it, `__type` INTROSPECTION_TYPE_COST, `__typename` 0;
- fields are collected as execution collects them (merged by response key, each fragment spread
  followed once per selection set), so a duplicated field or fragment is counted once; under an
  interface or union the most expensive possible type counts.

`@skip`/`@include` are ignored (the estimate is an upper bound). Only the operation that will run
(`operationName`) is costed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
)

from schema.build import contributions
from schema.errors import BadUserInput

DEFAULT_LIST_SIZE = 10


@cache
def list_sizes() -> dict[str, int]:
    """Each module's typical list lengths ("Type.field": size) where they differ from
    DEFAULT_LIST_SIZE: its `types.LIST_SIZES`, collected like its fields."""
    return {coordinate: size for sizes in contributions("LIST_SIZES") for coordinate, size in sizes.items()}


# Fields whose own cost (before any list multiplier) is not the default ("Type.field": cost).
FIELD_COSTS: dict[str, int] = {}
FREE_TYPES = frozenset({"PageInfo"})  # plus every "*Edge": wrappers that cost no work of their own
MUTATION_COST = 10
MINIMUM_COST = 1
INTROSPECTION_SCHEMA_COST = 100
INTROSPECTION_TYPE_COST = 10
PAGE_ARGUMENTS = ("first", "last")
ENTITIES = "_entities"  # Apollo Federation's entry point for a gateway


class PageSizeError(BadUserInput):
    """`first`/`last` outside 0..the maximum page size: refused before anything runs."""


@dataclass(frozen=True)
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    defaults: Mapping[str, ValueNode | None]
    max_page_size: int
    default_page_size: int
    page_variables: set[str]  # filled while walking: the variables the cost depends on


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    max_page_size: int,
    default_page_size: int,
) -> tuple[int, frozenset[str]]:
    """The cost of the operation `operation_name` of a validated document, and the names of the
    variables it depends on. Raises PageSizeError for a page size out of range."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0, frozenset()
    walk = _Walk(
        schema=schema,
        fragments={d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)},
        variables=variables or {},
        defaults={v.variable.name.value: v.default_value for v in operation.variable_definitions or ()},
        max_page_size=max_page_size,
        default_page_size=default_page_size,
        page_variables=set(),
    )
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0, frozenset()
    extra = MUTATION_COST if operation.operation is OperationType.MUTATION else 0
    fields = _collect(walk, root, [operation.selection_set])
    cost = sum(extra + _field_cost(walk, root, nodes, page=None) for nodes in fields.values())
    return max(MINIMUM_COST, cost), frozenset(walk.page_variables)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


def _collect(
    walk: _Walk, runtime_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
) -> dict[str, list[FieldNode]]:
    """Fields by response key, as graphql-core's collect_fields groups them for one object type."""
    fields: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()

    def visit(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if _applies(walk, selection.type_condition, runtime_type):
                    visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = walk.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if _applies(walk, fragment.type_condition, runtime_type):
                    visit(fragment.selection_set)

    for selection_set in selection_sets:
        visit(selection_set)
    return fields


def _applies(walk: _Walk, condition: NamedTypeNode | None, runtime_type: GraphQLObjectType) -> bool:
    if condition is None:
        return True
    conditional = walk.schema.get_type(condition.name.value)
    if conditional is runtime_type:
        return True
    return bool(
        conditional and is_abstract_type(conditional) and walk.schema.is_sub_type(conditional, runtime_type)
    )  # type: ignore[arg-type]


def _field_cost(walk: _Walk, parent: GraphQLObjectType, nodes: list[FieldNode], page: int | None) -> int:
    name = nodes[0].name.value
    if name.startswith("__"):
        return {"__schema": INTROSPECTION_SCHEMA_COST, "__type": INTROSPECTION_TYPE_COST}.get(name, 0)
    definition = parent.fields.get(name)
    if definition is None:  # validation has refused this document already
        return 0
    coordinate = f"{parent.name}.{name}"
    named: GraphQLNamedType = get_named_type(definition.type)
    if is_leaf_type(named):
        return FIELD_COSTS.get(coordinate, 0)

    own = FIELD_COSTS.get(coordinate, 0 if named.name in FREE_TYPES or named.name.endswith("Edge") else 1)
    child_page = (
        _page_size(walk, coordinate, nodes[0]) if _is_connection(named.name, definition.args) else None
    )
    selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
    if is_abstract_type(named):
        possible = walk.schema.get_possible_types(named)  # type: ignore[arg-type]
        below = max((_selection_cost(walk, t, selection_sets, child_page) for t in possible), default=0)
    else:
        below = _selection_cost(walk, named, selection_sets, child_page)  # type: ignore[arg-type]

    if is_list_type(get_nullable_type(definition.type)):  # type: ignore[arg-type]
        if name == ENTITIES:
            size = _entity_count(walk, nodes[0])
        else:
            size = page if page is not None else list_sizes().get(coordinate, DEFAULT_LIST_SIZE)
        return size * (own + below)
    return own + below


def _selection_cost(
    walk: _Walk, runtime_type: GraphQLObjectType, selection_sets: list[SelectionSetNode], page: int | None
) -> int:
    fields = _collect(walk, runtime_type, selection_sets)
    return sum(_field_cost(walk, runtime_type, nodes, page) for nodes in fields.values())


def _is_connection(type_name: str, args: Mapping[str, Any]) -> bool:
    return type_name.endswith("Connection") and any(a in args for a in PAGE_ARGUMENTS)


def _page_size(walk: _Walk, coordinate: str, node: FieldNode) -> int:
    sizes = []
    for argument in node.arguments or ():
        if argument.name.value not in PAGE_ARGUMENTS:
            continue
        value = _int_value(walk, argument.value)
        if value is None:
            continue
        if not 0 <= value <= walk.max_page_size:
            raise PageSizeError(
                f"`{argument.name.value}` on `{coordinate}` must be between 0 and {walk.max_page_size}; "
                f"got {value}",
                field=argument.name.value,
            )
        sizes.append(value)
    return min(sizes) if sizes else walk.default_page_size


def _entity_count(walk: _Walk, node: FieldNode) -> int:
    """How many representations `_entities` was given (a gateway sends them as a variable)."""
    for argument in node.arguments or ():
        if argument.name.value != "representations":
            continue
        if isinstance(argument.value, ListValueNode):
            return len(argument.value.values)
        if isinstance(argument.value, VariableNode):
            walk.page_variables.add(argument.value.name.value)
            found = walk.variables.get(argument.value.name.value)
            if isinstance(found, list):
                return len(found)
    return DEFAULT_LIST_SIZE


def _int_value(walk: _Walk, value: ValueNode) -> int | None:
    """An Int argument's value; None when absent or not an int (execution then reports the type)."""
    if isinstance(value, VariableNode):
        name = value.name.value
        walk.page_variables.add(name)
        if name in walk.variables:
            found = walk.variables[name]
            return found if isinstance(found, int) and not isinstance(found, bool) else None
        default = walk.defaults.get(name)
        return int(default.value) if isinstance(default, IntValueNode) else None
    if isinstance(value, IntValueNode):
        return int(value.value)
    return None


class LRU:
    """A small thread-safe LRU map (costs are read from the event loop and from worker threads)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# (query, operation, limits) -> the variables the cost depends on; then, with their values -> the cost.
_DEPENDS_ON = LRU(512)
_COSTS = LRU(1024)


def _size_or_value(value: Any) -> Any:
    return ("list", len(value)) if isinstance(value, list) else value


def _cache_key(
    shape: tuple[Any, ...], names: tuple[str, ...], variables: Mapping[str, Any]
) -> Hashable | None:
    # A list (`_entities`' representations) counts by its length, which is all the cost reads of it.
    key = (shape, tuple(_size_or_value(variables.get(name)) for name in names))
    try:
        hash(key)
    except TypeError:  # an unhashable value where an Int belongs (execution will refuse it): no caching
        return None
    return key


def cached_operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    max_page_size: int,
    default_page_size: int,
) -> int:
    """operation_cost, remembered per (document text, operation, values of the page-size variables).

    A PageSizeError is not remembered: the walk stops at the first one, and the client fixes it.
    """
    variables = variables or {}
    shape = (schema, query, operation_name, max_page_size, default_page_size)
    names = _DEPENDS_ON.get(shape)
    if names is not None and (key := _cache_key(shape, names, variables)) is not None:
        found = _COSTS.get(key)
        if found is not None:
            return found
    cost, depends_on = operation_cost(
        schema,
        document,
        operation_name,
        variables,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
    )
    names = tuple(sorted(depends_on))
    _DEPENDS_ON.put(shape, names)
    if (key := _cache_key(shape, names, variables)) is not None:
        _COSTS.put(key, cost)
    return cost
