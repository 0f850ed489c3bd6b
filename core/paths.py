"""Where the bundled files live: package data, found through `importlib.resources`, so a wheel works too."""

from importlib.resources import files
from pathlib import Path

# `files()` of a regular (unzipped) package is a real folder; the runtime needs paths for onnxruntime.
MODELS_DIR = Path(str(files("models")))
DEMO_DIR = Path(str(files("demo")))
DEMO_DATA = DEMO_DIR / "demo.jsonl"
DEMO_SAMPLES = DEMO_DIR / "samples"
DEMO_HANDLE = "demo_creator"
HASHTAG_RESULTS_DIR = Path(str(files("inference"))) / "hashtag_results"
