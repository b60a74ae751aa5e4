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
