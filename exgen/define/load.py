"""Load a sheet definition: read, validate, convert values, compile each network."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import RootModel, ValidationError

from exgen.asks import registry
from exgen.define import schema
from exgen.define.folder import sheets_here
from exgen.define.layers import compile_layers
from exgen.define.validation_messages import from_pydantic
from exgen.define.values import MAX_ELEMENTS, to_array  # noqa: F401
from exgen.define.values import kind as _kind
from exgen.define.work import check_exercise_work, check_work
from exgen.define.yaml_reader import read_yaml
from exgen.engine.equations import TOO_DEEP, EquationError, parse_equation
from exgen.engine.graph import Graph, GraphError, compile_graph, describe
from exgen.engine.rounding import Figures, Rounding
from exgen.engine.snippet import draw_values
from exgen.errors import DefinitionError
from exgen.notebooks.tasks import problems as notebook_problems
from exgen.typeset.markdown import check_math

SNIPPET_SEED = "random.seed"  # a draw rule's name for an exercise's snippet seed


@dataclass
class ExerciseDef:
    spec: schema.Exercise
    index: int
    rounding: Rounding
    graph: Graph
    given: dict[str, np.ndarray]  # exact (Fraction) arrays as written, or drawn floats
    asks: list[tuple[str, object]]  # (name, options)
    exact_values: bool = True  # False when values were drawn as floats
    design: object = None  # a network an ask designed (asks.base.DesignedNetwork)

    @property
    def backward(self) -> bool:
        """Solved backward too: every network but one an ask designed (it has no loss to
        learn from; the design is the answer)."""
        return self.design is None

    @property
    def exact(self) -> bool:
        return self.graph.exact and self.exact_values

    @property
    def path(self) -> str:
        return f"exercises[{self.index}]"


@dataclass
class SheetDef:
    name: str
    source: str  # the file as the user named it
    spec: schema.Sheet
    rounding: Rounding
    exercises: list[ExerciseDef]
    lines: dict = field(default_factory=dict, repr=False)
    template_dir: str | None = None
    folder: str | None = None  # the definition file's folder: its images, its templates
    variant_rules: dict = field(default_factory=dict, repr=False)

    def error(self, cls, message: str, path: str):
        """An error of class ``cls`` located in this sheet's file."""
        return cls(message, self.source, path, _line_for(self.lines, _parse_path(path)))


def resolve(name_or_path: str, cwd: Path) -> tuple[str, Path, str]:
    """(sheet name, file path, file as shown in messages) for NAME or a .yaml path."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = cwd / name_or_path
        return Path(name_or_path).stem, path, name_or_path
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name_or_path):
        raise DefinitionError(
            f"'{name_or_path}' is not a sheet name (letters, digits, '_', '-', "
            f"'.') nor a path to a .yaml file"
        )
    shown = f"exercises/{name_or_path}.yaml"
    return name_or_path, cwd / shown, shown


def load_sheet(name_or_path: str, cwd: Path | None = None) -> SheetDef:
    cwd = Path.cwd() if cwd is None else cwd
    name, path, shown = resolve(name_or_path, cwd)
    if shown.startswith("exercises/") and not path.exists():  # a sheet's name, not a path
        raise DefinitionError(f"no such definition file ({sheets_here(cwd)})", shown)
    data, lines = read_yaml(path, shown)
    try:
        sheet = _load(name, shown, data, lines)
        sheet.lines = lines
        sheet.folder = str(path.parent.resolve())
        if sheet.spec.templates is not None:
            sheet.template_dir = _template_folder(Path(sheet.folder), sheet.spec.templates)
        return sheet
    except DefinitionError as exc:
        key = _parse_path(exc.path)
        raise exc.located(shown, _line_for(lines, key)) from None


MAX_TEMPLATES_PATH = 1024


def _template_folder(home: Path, written: str) -> str:
    """The sheet's templates folder: an existing folder inside the definition's own folder
    (a definition cannot point exgen at templates elsewhere on the machine)."""
    named = repr(written) if len(written) <= 80 else repr(written[:60]) + "…"
    if len(written) > MAX_TEMPLATES_PATH:
        raise DefinitionError(
            f"template folder path is {len(written):,} characters long "
            f"(at most {MAX_TEMPLATES_PATH})",
            path="templates",
        )
    try:
        folder = (home / written).resolve()
        exists = folder.is_dir()
    except (OSError, ValueError, RuntimeError) as exc:
        raise DefinitionError(
            f"template folder {named} cannot be used ({getattr(exc, 'strerror', None) or exc})",
            path="templates",
        ) from None
    if not folder.is_relative_to(home):
        raise DefinitionError(
            f"template folder {named} is outside the definition's folder "
            f"{home}: a sheet's templates must be in that folder or below it",
            path="templates",
        )
    if not exists:
        raise DefinitionError(
            f"template folder {named} does not exist (relative to the definition file)",
            path="templates",
        )
    return str(folder)


def _load(name: str, shown: str, data, lines) -> SheetDef:
    if not isinstance(data, dict):
        raise DefinitionError(
            f"expected a mapping of keys (title, exercises, …) at the top, found {_kind(data)}"
        )
    try:
        spec = schema.Sheet.model_validate(data)
    except ValidationError as exc:
        raise from_pydantic(exc) from None
    rounding = _rounding(spec.rounding)
    exercises, seen = [], {}
    for index, ex in enumerate(spec.exercises):
        if ex.id in seen:
            raise DefinitionError(
                f"duplicate exercise id '{ex.id}' (also exercises[{seen[ex.id]}])",
                path=f"exercises[{index}].id",
            )
        seen[ex.id] = index
        try:
            exercises.append(_exercise(spec, ex, index, rounding))
        except DefinitionError as exc:
            raise DefinitionError(
                exc.message,
                path=f"exercises[{index}]." + exc.path if exc.path else f"exercises[{index}]",
            ) from None
    _check_prompts(spec)
    sheet = SheetDef(name, shown, spec, rounding, exercises)
    if spec.variants is not None:
        from exgen.define.draw_rules import compile_rules

        values = {}
        for ex in exercises:
            for n in ex.spec.values:
                values.setdefault(n, ex.given[n])
                values[f"{ex.spec.id}.{n}"] = ex.given[n]
            if ex.spec.random is not None:  # each student's own snippet seed
                values[f"{ex.spec.id}.{SNIPPET_SEED}"] = np.array(ex.spec.random.seed)
        sheet.variant_rules = compile_rules(spec.variants, values)
        _check_seed_rules(sheet.variant_rules)
    check_work(exercises, sheet.variant_rules, spec.variants.tries if spec.variants else None)
    return sheet


def _check_seed_rules(rules: dict) -> None:
    for key, rule in rules.items():
        if key.endswith(f".{SNIPPET_SEED}"):
            lo, hi = rule.integers or (-1, -1)
            if not 0 <= lo <= hi < 2**32:
                raise DefinitionError(
                    "a snippet's seed is drawn with integers: [low, high], within 0 … 4294967295",
                    path=f"variants.draw.{key}",
                )


def _check_prompts(spec: schema.Sheet) -> None:
    """Prompt math exgen cannot typeset is refused here, located, not printed garbled."""
    texts = [("intro", spec.intro)]
    texts += [(f"exercises[{i}].prompt", ex.prompt) for i, ex in enumerate(spec.exercises)]
    for path, text in texts:
        try:
            check_math(text)
        except DefinitionError as exc:
            raise DefinitionError(exc.message, path=path) from None


def _exercise(sheet: schema.Sheet, ex: schema.Exercise, index: int, rounding: Rounding):
    asks = _parse_asks(ex.ask)
    names = [a for a, _ in asks]
    given = {n: to_array(v, f"values.{n}") for n, v in ex.values.items()}
    exact = ex.random is None
    if ex.random is not None:
        drawn = draw_values(ex.random)
        for k, d in enumerate(ex.random.draws):
            if d.name in given or list(drawn).count(d.name) > 1:
                raise DefinitionError(
                    f"'{d.name}' is drawn here and also given under values",
                    path=f"random.draws[{k}].name",
                )
        given.update(drawn)
    net = ex.network
    designed = registry.designer(names)
    if designed is not None:
        if net is not None or given or len(names) > 1:
            raise DefinitionError(
                f"a {designed} exercise has the {designed} ask alone, and no "
                f"network or values: exgen designs that network",
                path="ask",
            )
        k = names.index(designed)
        design = registry.ASKS[designed].design(asks[k][1], f"ask[{k}].{designed}")
        texts, loss, params, layout = design.equations, design.loss, [], "column"
        given, where = design.values, "ask"
    elif net is None:
        raise DefinitionError("missing required key 'network'", path="")
    elif isinstance(net, schema.LayersNetwork):
        texts, loss, params = compile_layers(net, given, sheet.notation)
        where, layout = "network.layers", net.layout
    else:
        texts, loss, params = net.equations, net.loss, net.params
        where, layout = "network.equations", net.layout
    if not given:
        raise DefinitionError("missing required key 'values' (or 'random')", path="")
    equations = []
    for k, text in enumerate(texts):
        try:
            equations.append(parse_equation(text))
        except EquationError as exc:
            raise DefinitionError(
                str(exc), path=f"{where}[{k}]" if where.endswith("equations") else where
            ) from None
        except RecursionError:
            raise DefinitionError(TOO_DEEP, path=f"{where}[{k}]") from None
    state = registry.state_values(asks, params) if designed is None else {}
    for k, eq in enumerate(equations):
        used = next((n for n in [eq.target, *eq.expr.names()] if n in state), None)
        if used is not None:
            raise DefinitionError(
                f"'{used}' is {state[used][2]} (the update's optimizer state) and no "
                f"equation may use it: rename the value",
                path=f"{where}[{k}]" if where.endswith("equations") else where,
            )
    try:
        network_given = {n: v for n, v in given.items() if n not in state}
        graph = compile_graph(equations, network_given, loss, params, layout)
        if designed is None:  # a designed network is bounded by its ask's own options
            check_exercise_work(graph, exact and graph.exact, index)
    except GraphError as exc:
        if exc.blame:
            path = (
                f"values.{exc.blame}"
                if exc.blame in ex.values
                else f"random.draws[{[d.name for d in ex.random.draws].index(exc.blame)}]"
                if ex.random is not None and exc.blame in given
                else where
            )
        elif where.endswith("equations"):
            path = f"{where}[{exc.equation}]"
        else:
            path = where
        raise DefinitionError(str(exc), path=path) from None
    if designed is None:
        _check_roles(graph, given, params, loss, isinstance(net, schema.LayersNetwork))
        registry.check_state(asks, state, given)
        design = None
    for k, (name, options) in enumerate(asks):
        registry.check(graph, k, name, options)
    if ex.notebook is not None:
        _check_notebook(ex, graph)
    if ex.collect is not None:
        _check_collect(ex.collect, graph, design is None)
    own = _rounding(ex.rounding) if ex.rounding is not None else rounding
    if ex.notebook is not None and own.figures:
        raise DefinitionError(
            "a notebook checks its answers to the key's decimals: give its exercise "
            "rounding: {digits: …}, not figures",
            path="notebook",
        )
    if ex.scale is not None:
        _check_scale(ex, graph, design is None, own.digits)
    return ExerciseDef(ex, index, own, graph, given, asks, exact, design)


def _check_scale(ex: schema.Exercise, graph: Graph, backward: bool, digits: int) -> None:
    """Each scaled entry is collected, and keeps a last digit of its own."""
    scale = ex.scale or {}
    _check_collect(list(scale), graph, backward, [f"scale.{item}" for item in scale])
    items = ex.collect if ex.collect is not None else [graph.loss, "grads"]
    for item, power in scale.items():
        name = item.removeprefix("grad.")
        if item not in items and not (
            item.startswith("grad.") and "grads" in items and name in graph.params
        ):
            raise DefinitionError(
                f"'{item}' is not collected (expected one of: {', '.join(items)}, "
                "or grad.NAME of a parameter when grads is)",
                path=f"scale.{item}",
            )
        if isinstance(digits, Figures):
            raise DefinitionError(
                "scale needs the key's rounding in decimals (rounding: {digits: …}), "
                "not in significant figures",
                path=f"scale.{item}",
            )
        if power > digits:
            raise DefinitionError(
                f"× 10^{power} of a value shown to {digits} decimals would claim "
                f"digits it does not have (expected at most {digits})",
                path=f"scale.{item}",
            )


def _check_collect(
    collect: list[str], graph: Graph, backward: bool, paths: list[str] | None = None
) -> None:
    """Each collected entry names a computed node (its value), ``grads`` or ``grad.NAME``
    (``paths``: each entry's key path, by default collect[k])."""
    for k, item in enumerate(collect):
        path = paths[k] if paths else f"collect[{k}]"
        if item in collect[:k]:
            raise DefinitionError(f"'{item}' is collected twice", path=path)
        grad = item == "grads" or item.startswith("grad.")
        if grad and not backward:
            raise DefinitionError(
                f"'{item}': this network is not solved backward (no gradients)", path=path
            )
        if item == "grads":
            if not graph.params:
                raise DefinitionError("'grads': the network has no parameters", path=path)
            continue
        name = item.removeprefix("grad.")
        node = graph.nodes.get(name)
        computed = sorted(  # the equations' own names, not their intermediate terms
            n for n, v in graph.nodes.items() if v.kind == "op" and re.fullmatch(r"\w+", n)
        )
        if node is None or node.kind == "const" or (not grad and node.kind != "op"):
            what = "a node of the network" if grad else "a computed value of the network"
            raise DefinitionError(
                f"'{name}' is not {what} (expected one of: {', '.join(computed)}, "
                "grads or grad.NAME)",
                path=path,
            )


def _check_notebook(ex: schema.Exercise, graph: Graph) -> None:
    """What the notebook's tasks need of the network and its data."""
    for k, message in notebook_problems(graph, ex.notebook.tasks):
        raise DefinitionError(message, path="notebook" if k is None else f"notebook.tasks[{k}]")
    if ex.random is not None and ex.notebook.data == "utils":
        raise DefinitionError(
            "the seeded snippet (random:) gives the notebook its data itself: "
            "drop notebook.data: utils",
            path="notebook.data",
        )


def _parse_asks(items) -> list[tuple[str, object]]:
    """(name, options) for each ask, the options read by the ask's own model."""
    asks = []
    for k, item in enumerate(items):
        name, options = (item, None) if isinstance(item, str) else next(iter(item.items()))
        model = registry.ASKS[name].options
        if model is not None:
            root = issubclass(model, RootModel)  # options that are a plain value, e.g. a list
            try:
                options = model.model_validate({} if options is None and not root else options)
            except ValidationError as exc:
                inner = from_pydantic(exc, model)
                inner_path = (
                    inner.path if inner.path.startswith("[") or not inner.path else "." + inner.path
                )
                raise DefinitionError(inner.message, path=f"ask[{k}].{name}{inner_path}") from None
            options = options.root if root else options
        elif options is not None:
            raise DefinitionError(f"'{name}' takes no options", path=f"ask[{k}].{name}")
        asks.append((name, options))
    if len({a for a, _ in asks}) != len(asks):
        raise DefinitionError("an ask is listed twice", path="ask")
    return asks


def _check_roles(graph: Graph, given, params, loss: str, layers: bool) -> None:
    if loss not in graph.nodes or graph.nodes[loss].kind != "op":
        raise DefinitionError(f"'{loss}' is not assigned by any equation", path="network.loss")
    node = graph.nodes[loss]
    if node.shape != (1, 1):
        raise DefinitionError(
            f"the loss '{loss}' must be a scalar, found {describe(node)}; "
            f"wrap it in sum(...) or mean(...)",
            path="network.loss",
        )
    for k, p in enumerate(params):
        if p not in given:
            raise DefinitionError(
                f"'{p}' is not a given value (parameters are values the network learns)",
                path=f"network.params[{k}]",
            )
        if p != loss and p not in graph.ancestors(loss):
            raise DefinitionError(
                f"the loss '{loss}' does not depend on '{p}'", path=f"network.params[{k}]"
            )


def _rounding(spec: schema.RoundingSpec) -> Rounding:
    if spec.figures is not None:
        return Rounding(Figures(spec.figures), spec.carry)
    return Rounding(2 if spec.digits is None else spec.digits, spec.carry)


def _parse_path(path: str) -> tuple:
    parts: list = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _line_for(lines: dict, key: tuple) -> int | None:
    while key not in lines and key:
        key = key[:-1]
    return lines.get(key)
