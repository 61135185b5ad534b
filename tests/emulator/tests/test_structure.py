"""The emulator's structure: no import circle, one product table, a public entry point for the lab."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.emulator import public, registry
from tests.emulator.errors import ApiError
from tests.emulator.server import Emulator

EMULATOR = Path(__file__).resolve().parents[1]


# ---- import graph ----------------------------------------------------------------------------------------------
def module_name(root: Path, path: Path) -> str:
    """Dotted name of ``path`` inside the package ``root`` ("" is the package itself)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(root: Path, importer: str, is_package: bool, level: int, target: str | None) -> str | None:
    """The module a relative import names, or None when it leaves ``root``."""
    base = importer.split(".") if importer else []
    if not is_package:
        base = base[:-1]
    if level - 1 > len(base):
        return None
    base = base[: len(base) - (level - 1)]
    return ".".join(base + (target.split(".") if target else []))


def exists(root: Path, name: str) -> bool:
    path = root.joinpath(*name.split(".")) if name else root
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def import_graph(root: Path, absolute_prefix: str) -> dict[str, set[str]]:
    """Module -> modules it imports inside ``root`` (relative imports, ``absolute_prefix.*`` imports,
    ``importlib.import_module(".x", __package__)``), wherever the import sits (late imports in functions too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        importer = module_name(root, path)
        is_package = path.name == "__init__.py"
        edges = graph.setdefault(importer, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[tuple[str | None, list[str]]] = []
            if isinstance(node, ast.ImportFrom) and node.level:
                targets.append(
                    (resolve(root, importer, is_package, node.level, node.module), [a.name for a in node.names])
                )
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(absolute_prefix):
                inner = node.module[len(absolute_prefix) :].lstrip(".")
                targets.append((inner, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == absolute_prefix or alias.name.startswith(absolute_prefix + "."):
                        targets.append((alias.name[len(absolute_prefix) :].lstrip("."), []))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).startswith(".")
            ):
                text = str(node.args[0].value)
                level = len(text) - len(text.lstrip("."))
                targets.append((resolve(root, importer, is_package, level, text.lstrip(".") or None), []))
            for target, names in targets:
                if target is None:
                    continue
                # ``from . import x`` / ``from .pkg import x``: x is a submodule when such a file exists.
                submodules = [".".join(filter(None, [target, n])) for n in names]
                submodules = [name for name in submodules if exists(root, name)]
                if submodules:
                    edges.update(submodules)
                    if len(submodules) < len(names):
                        edges.add(target)
                elif exists(root, target):
                    edges.add(target)
        edges.discard(importer)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return stack[stack.index(successor) :] + [successor]
            if successor not in state:
                found = visit(successor)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_emulator_has_no_import_circle():
    graph = import_graph(EMULATOR, "tests.emulator")
    # The graph is real: it sees the imports that matter (a silent parser would find no circle either).
    assert {"bindings", "rules", "store"} <= graph["world"]
    assert {"bindings", "world", "registry"} <= graph["actions.vpc_eip"]
    assert "actions" in graph["server"], "importlib.import_module('.actions') is an edge"
    cycle = find_cycle(graph)
    assert cycle is None, "import circle in tests/emulator: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    "files, circle",
    [
        pytest.param(
            {
                "world.py": "def load():\n    from .actions.eip import bind\n",
                "actions/__init__.py": "",
                "actions/eip.py": "from .. import world\n",
            },
            ["actions.eip", "world", "actions.eip"],
            id="late-import-in-a-function",
        ),
        pytest.param(
            {
                "a.py": "from .b import thing\n",
                "b.py": "import importlib\nimportlib.import_module('.a', __package__)\n",
            },
            ["a", "b", "a"],
            id="import-module",
        ),
        pytest.param(
            {"a.py": "from pkg.b import thing\n", "b.py": "from pkg import a\n"},
            ["a", "b", "a"],
            id="absolute",
        ),
        pytest.param(
            {"a.py": "from . import b\n", "b.py": "from .c import x\n", "c.py": "import os\n"}, None, id="none"
        ),
    ],
)
def test_the_circle_check_sees_every_kind_of_import(tmp_path, files, circle):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    assert find_cycle(import_graph(tmp_path, "pkg")) == circle


# ---- one product table -----------------------------------------------------------------------------------------
def test_every_action_belongs_to_a_product_of_the_table():
    assert {entry.product for entry in registry.ACTIONS.values()} == set(registry.PRODUCTS)
    versions = [product.version for product in registry.PRODUCTS.values()]
    assert len(versions) == len(set(versions))
    for product in registry.PRODUCTS.values():
        assert registry.product_of_version(product.version) is product
    assert registry.product_of_version("2099-01-01") is None and registry.product_of_version(None) is None


def test_an_action_of_an_unknown_product_is_refused():
    with pytest.raises(ValueError, match="Cdn.DescribeCdnService: product Cdn is not in registry.PRODUCTS"):
        registry.action("Cdn", "DescribeCdnService")


@pytest.mark.parametrize(
    "product, host",
    [
        ("Vpc", "vpc.aliyuncs.com"),
        ("Ecs", "ecs.aliyuncs.com"),
        ("Slb", "slb.aliyuncs.com"),
        ("Alb", "alb.aliyuncs.com"),
        ("Nlb", "nlb.aliyuncs.com"),
        ("Nope", "vpc.aliyuncs.com"),
    ],
)
def test_error_bodies_name_the_host_of_the_product(product, host):
    status, _headers, body = Emulator._error(ApiError("InvalidParameter", "X"), product, "req-1", {})
    assert status == 400 and json.loads(body)["HostId"] == host


# ---- the lab's entry point -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "eip, expected",
    [
        pytest.param({"IpAddress": "47.100.1.20"}, ("47.100.1.1", "255.255.255.0"), id="derived"),
        pytest.param({"IpAddress": "47.100.1.1"}, ("47.100.1.254", "255.255.255.0"), id="eip-on-dot-one"),
        pytest.param(
            {"IpAddress": "47.100.2.9", "GatewayInfo": {"IpGw": "47.100.0.1", "IpMask": "255.255.252.0"}},
            ("47.100.0.1", "255.255.252.0"),
            id="from-the-world",
        ),
    ],
)
def test_public_eip_gateway_is_the_describe_eip_gateway_info_rule(eip, expected):
    assert public.eip_gateway(eip) == expected


def test_the_lab_imports_only_the_public_entry_point():
    lab = EMULATOR.parents[1] / "extensions" / "molecule"
    reaching = []
    for path in sorted(lab.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            reaching += [f"{path.name}: {name}" for name in names if name and name.startswith("tests.emulator")]
    assert reaching and all(line.endswith("tests.emulator.public") for line in reaching), reaching
