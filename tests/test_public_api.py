import parity


def test_public_names_are_a_deliberate_list() -> None:
    assert sorted(parity.__all__) == sorted(
        [
            "CheckFailed",
            "ConflictError",
            "CorruptObject",
            "EnvironmentMismatch",
            "NotFoundError",
            "ParityError",
            "Run",
            "StorageError",
            "api",
            "UsageError",
            "__version__",
            "load_model",
            "models",
            "runs",
            "start_run",
        ]
    )
    for name in parity.__all__:
        assert hasattr(parity, name)


def test_the_shortcuts_are_the_api_itself_not_copies() -> None:
    import parity.api.models
    import parity.api.runs

    assert parity.start_run is parity.api.runs.start
    assert parity.load_model is parity.api.models.load
    assert parity.Run is parity.api.runs.Run
    assert parity.models is parity.api.models
    assert parity.runs is parity.api.runs


def test_import_parity_loads_no_database_library() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import parity\n"
        "print(sorted(m for m in ('sqlalchemy', 'numpy', 'parity.api') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_error_family_has_its_exit_code() -> None:
    assert parity.UsageError("x").exit_code == 2
    assert parity.NotFoundError("x").exit_code == 3
    assert parity.ConflictError("x").exit_code == 4
    assert parity.StorageError("x").exit_code == 5
    assert parity.CheckFailed("x").exit_code == 1
    assert issubclass(parity.CorruptObject, parity.StorageError)
    assert str(parity.UsageError("bad", hint="do this")) == "bad (do this)"


def test_the_environment_api_after_a_plain_import_parity() -> None:
    import subprocess
    import sys

    # A fresh interpreter: what users get from ``import parity``, whatever this process loaded.
    script = (
        "import parity\n"
        "trained = parity.env.capture()\n"
        "result = parity.env.verify(trained, trained)\n"
        "again = parity.env.verify(trained, trained)\n"  # the function survives its own first use
        "print(callable(parity.env.verify), result.ok, again.ok)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]


def test_the_documented_surface_is_the_real_one() -> None:
    # docs/api.md lists every public name with its signature; a change to either shows here.
    from pathlib import Path

    from tests.public_surface import render

    documented = Path(__file__).resolve().parents[1] / "docs" / "api.md"
    assert documented.read_text(encoding="utf-8") == render(), (
        "the public API changed: regenerate with 'python -m tests.public_surface > docs/api.md'"
    )


def test_every_capability_has_one_entry() -> None:
    # Two public names for one function are allowed only where one is a documented shortcut
    # to the other; two different functions doing one job would each drift on their own.
    import importlib

    from tests.public_surface import public_modules

    shortcuts = {
        "parity.start_run": "parity.api.runs.start",
        "parity.load_model": "parity.api.models.load",
        "parity.env.capture": "parity.api.environments.capture",
        "parity.env.diff": "parity.api.environments.diff",
        "parity.env.verify": "parity.api.environments.verify",
    }
    names_of: dict[int, list[str]] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value) and not isinstance(value, type):
                names_of.setdefault(id(value), []).append(f"{module_name}.{name}")
    for names in names_of.values():
        if len(names) > 1:
            canonical = {shortcuts.get(name, name) for name in names}
            assert len(canonical) == 1, f"one function, several entries: {names}"


def test_every_public_function_says_what_it_does() -> None:
    import importlib
    import inspect

    from tests.public_surface import public_modules

    undocumented = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        assert module.__doc__, f"{module_name} has no docstring"
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) and not inspect.getdoc(value):
                undocumented.append(f"{module_name}.{name}")
    assert undocumented == []


def test_api_functions_act_on_the_workspace_they_are_given_and_name_it_last() -> None:
    import importlib
    import inspect

    from tests.public_surface import public_modules

    for module_name in public_modules():
        if not module_name.startswith("parity.api."):
            continue
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if not inspect.isfunction(value):
                continue
            parameters = list(inspect.signature(value).parameters.values())
            if not any(p.name == "workspace" for p in parameters):
                continue
            last = parameters[-1]
            assert last.name == "workspace", f"{module_name}.{name}: workspace is not last"
            assert last.kind is inspect.Parameter.KEYWORD_ONLY, f"{module_name}.{name}"
            assert last.default is None, f"{module_name}.{name}"


def test_every_api_module_is_reachable_after_a_plain_import_parity() -> None:
    import subprocess
    import sys

    # The README's parity.api.data.status(): the door must open without importing it by name.
    script = (
        "import sys\n"
        "import parity\n"
        "early = 'sqlalchemy' in sys.modules\n"
        "names = [getattr(parity.api, m).__name__ for m in parity.api.__all__]\n"
        "print(early, names == [f'parity.api.{m}' for m in parity.api.__all__])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
