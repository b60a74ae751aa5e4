import dataclasses

from parity.core.environment import (
    Distribution,
    Environment,
    Interpreter,
    NativeLibrary,
    Platform,
    Skipped,
    Source,
)


def sample() -> Environment:
    return Environment(
        interpreter=Interpreter(
            "cpython",
            "3.11.7",
            "cpython-311-x86_64-linux-gnu",
            ("cp311-cp311-manylinux_2_36_x86_64",),
            "/venv",
            "/usr",
            True,
        ),
        platform=Platform(
            "Linux",
            "6.1.0",
            "Debian GNU/Linux 12",
            "glibc",
            "2.36",
            "x86_64",
            "EPYC",
            ("avx2",),
            2,
            2,
        ),
        distributions=(
            Distribution(
                "scikit-learn",
                "1.9.1",
                "uv",
                True,
                Source("index"),
                ("cp311-cp311-manylinux",),
                False,
                "ab" * 32,
                ("sklearn",),
            ),
            Distribution(
                "numpy",
                "2.3.0",
                "uv",
                False,
                Source("vcs", "https://x/y.git", "c0ffee", "git"),
                (),
                False,
                None,
                ("numpy",),
                ("numpy/core/x.py",),
            ),
        ),
        native=(
            NativeLibrary(
                "blas",
                "openblas",
                "0.3.27",
                2,
                "pthreads",
                "Haswell",
                "libscipy_openblas64_.so",
                "numpy",
            ),
        ),
        numerics={"OMP_NUM_THREADS": "1"},
    )


def test_round_trip_and_stable_id() -> None:
    env = sample()
    again = Environment.from_record(env.to_record())
    assert again.id == env.id
    assert [d.name for d in again.distributions] == ["numpy", "scikit-learn"]
    assert again.distribution("numpy").modified_files == ("numpy/core/x.py",)  # type: ignore[union-attr]
    assert again.interpreter.minor == "3.11"


def test_any_change_changes_the_id() -> None:
    env = sample()
    other = Environment.from_dict({**env.to_dict(), "numerics": {"OMP_NUM_THREADS": "2"}})
    assert other.id != env.id


def test_a_complete_capture_keeps_the_id_it_had_before_skips_were_recorded() -> None:
    env = sample()
    assert "skipped" not in env.to_dict()
    # sample()'s id on the code before the field existed: ordinary captures keep their ids.
    assert env.id == "6ab49d8fc588c0dab29a12935bfa5e83b7311f7e21e4d07cfbbb822982a8b2ea"


def test_what_a_capture_skipped_is_part_of_the_record() -> None:
    gpu = Skipped("GPU names (nvidia-smi)", "exit 9: NVIDIA-SMI has failed")
    numpy = Skipped("importing numpy for its native libraries", "ImportError: libx.so: missing")
    env = dataclasses.replace(sample(), skipped=(gpu, numpy))
    assert env.to_dict()["skipped"] == [
        {"what": "GPU names (nvidia-smi)", "error": "exit 9: NVIDIA-SMI has failed"},
        {
            "what": "importing numpy for its native libraries",
            "error": "ImportError: libx.so: missing",
        },
    ]
    again = Environment.from_record(env.to_record())
    assert again.skipped == (gpu, numpy)
    assert again.id == env.id != sample().id
    # Found in another order, skipped in another order: the same record.
    assert dataclasses.replace(sample(), skipped=(numpy, gpu)).id == env.id
