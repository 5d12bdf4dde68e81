"""What a command or an import loads: listing experiments imports none of them, and the engine
loads neither torch nor matplotlib (the timings are in benchmarks/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "numba", "pandas", "pyarrow", "matplotlib", "scipy", "sklearn", "av")


def _modules_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    names = json.loads(result.stdout.strip().splitlines()[-1])
    return {name.split(".")[0] for name in names} | set(names)


def _loaded_heavy(code: str) -> list[str]:
    loaded = _modules_after(code)
    return [name for name in HEAVY if name in loaded]


@pytest.mark.parametrize(
    "code",
    [
        "from genailab.lab.cli import _parser; _parser()",  # genailab --help
        "from genailab.lab.cli import main; main(['list'])",  # genailab list
        "import genailab; genailab.list_experiments()",
    ],
)
def test_help_and_list_import_nothing_heavy(code):
    assert _loaded_heavy(code) == []
    assert "numpy" not in _modules_after(code)
    assert not any(m.startswith("genailab.experiments.") for m in _modules_after(code))


def test_the_engine_loads_neither_torch_nor_matplotlib():
    assert _loaded_heavy("import genailab.engine, genailab.engine.nn, genailab.engine.optim") == []


def test_one_tool_costs_only_its_own_imports():
    loaded = _modules_after("from genailab.learn import TabulatedFunction")
    assert "genailab.learn.bitmap_classifier" not in loaded
    assert [name for name in ("torch", "numba", "pandas") if name in loaded] == []


def test_running_gradient_descent_imports_only_what_it_needs(tmp_path):
    code = (
        "import genailab\n"
        f"genailab.run('gradient-descent', quick=True, out={str(tmp_path)!r},\n"
        "             overrides={'steps': 2}, size=(64, 64), progress=False)"
    )
    assert [
        name for name in ("torch", "numba", "pandas", "pyarrow") if name in _modules_after(code)
    ] == []


def test_lazy_exports_behave_like_attributes():
    import genailab.learn as learn
    from genailab.learn import Perceptron

    assert learn.Perceptron is Perceptron
    assert "Perceptron" in dir(learn) and "Perceptron" in learn.__all__
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        learn.Nope  # noqa: B018


def test_no_package_exports_a_name_that_is_also_one_of_its_modules():
    # `genailab.simulate.sine_map` cannot be both the function and the module: whichever is
    # imported first would win, and `from genailab.simulate import sine_map` would depend on
    # what happened to be imported before.
    import importlib
    import pkgutil

    import genailab

    for info in pkgutil.walk_packages(genailab.__path__, "genailab."):
        if not info.ispkg:
            continue
        package = importlib.import_module(info.name)
        modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
        clashes = set(getattr(package, "__all__", [])) & modules
        # exporting a submodule itself (genailab.engine.nn) is no clash
        shadowing = {
            n for n in clashes if getattr(package, n) is not sys.modules[f"{info.name}.{n}"]
        }
        assert shadowing == set(), info.name
