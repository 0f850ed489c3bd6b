"""Where the bundled files live, wherever the project is installed from."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = PROJECT_ROOT / "demo"
DEMO_DATA = DEMO_DIR / "demo.jsonl"
DEMO_SAMPLES = DEMO_DIR / "samples"
DEMO_HANDLE = "demo_creator"
MODELS_DIR = PROJECT_ROOT / "models"
