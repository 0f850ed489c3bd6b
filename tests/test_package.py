"""`pip install .` gives a working package: the demo runs from another folder, on the installed files only."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGES = ("likepredict", "bot", "app", "inference", "scraping", "store", "core", "models", "migrations", "demo")


def test_a_non_editable_install_runs_the_demo_from_another_folder(tmp_path):
    target = tmp_path / "site"
    # --no-deps: the dependencies are this interpreter's; what is checked is that our files are all packaged.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(PROJECT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    assert all((target / name / "__init__.py").is_file() for name in PACKAGES)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LIKEPREDICT_", "TELEGRAM_"))}
    environment["PYTHONPATH"] = str(target)  # ahead of the editable checkout, so only installed files are used
    probe = subprocess.run(
        [sys.executable, "-c", "import core.paths, likepredict; print(core.paths.MODELS_DIR, likepredict.__file__)"],
        cwd=elsewhere, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert all(str(target) in part for part in probe.stdout.split()), probe.stdout

    result = subprocess.run(
        [sys.executable, "-m", "likepredict.cli", "demo"],
        cwd=elsewhere, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "@demo_creator" in result.stdout and "likes" in result.stdout
    assert (elsewhere / "data" / "demo" / "demo.sqlite3").is_file()  # the demo's store, beside where it ran
    helped = subprocess.run(
        [sys.executable, "-m", "likepredict.cli", "--help"], cwd=elsewhere, env=environment, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert helped.returncode == 0 and "train" in helped.stdout
