"""Decoding what users send, and the hand-made features computed from it."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, TiffImagePlugin

from bot.texts import explain
from core.paths import DEMO_SAMPLES
from inference.photo import HAND_FEATURE_NAMES, SINGLE_PASS_SIZE, PhotoError, decode_photo, faces_of, hand_features
from inference.photo_faces import Faces
from tests.image_fixtures import jpeg_bytes, textured_photo

FIXTURES = Path(__file__).parent / "fixtures"


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


# ---- refusals ---------------------------------------------------------------------------------------


def test_zero_bytes_are_refused_as_empty():
    with pytest.raises(PhotoError) as refused:
        decode_photo(b"")
    assert "empty" in explain(refused.value)


def test_random_bytes_are_not_a_photo():
    with pytest.raises(PhotoError) as refused:
        decode_photo(np.random.default_rng(1).bytes(5000))
    assert "not a photo" in explain(refused.value)


def test_a_video_file_is_not_a_photo():
    mp4_start = struct.pack(">I", 24) + b"ftypmp42" + b"\x00" * 4 + b"mp42isom" + struct.pack(">I", 8) + b"mdat"
    with pytest.raises(PhotoError) as refused:
        decode_photo(mp4_start + b"\x00" * 4000)
    assert "not a photo" in explain(refused.value)


def test_a_truncated_jpeg_is_refused_as_damaged():
    whole = jpeg_bytes(textured_photo(800, 600))
    with pytest.raises(PhotoError) as refused:
        decode_photo(whole[: len(whole) // 2])
    assert "damaged or incomplete" in explain(refused.value)


def test_a_png_declaring_a_huge_size_is_refused_before_decoding():
    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)  # 3.6 gigapixels of RGB
    bomb = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
    with pytest.raises(PhotoError) as refused:
        decode_photo(bomb)
    assert "too large" in explain(refused.value)


def test_the_pixel_limit_is_the_callers():
    photo = jpeg_bytes(textured_photo(400, 300))
    with pytest.raises(PhotoError) as refused:
        decode_photo(photo, max_pixels=100_000)
    assert "too large" in explain(refused.value)
    assert decode_photo(photo, max_pixels=120_000).width == 400


def test_an_animated_gif_is_refused():
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with pytest.raises(PhotoError) as refused:
        decode_photo(buffer.getvalue())
    assert "animation" in explain(refused.value)


def test_a_multi_page_tiff_is_refused_from_its_header_without_counting_pages(monkeypatch):
    pages = [Image.new("RGB", (64, 64), (i, i, i)) for i in range(300)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])

    def counting_pages(self):  # walks every page: quadratic in Pillow for a long TIFF
        raise AssertionError("the pages were counted")

    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "n_frames", property(counting_pages))
    with pytest.raises(PhotoError) as refused:
        decode_photo(buffer.getvalue())
    assert "animation" in explain(refused.value)


def test_a_single_page_tiff_is_accepted():
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), "teal").save(buffer, format="TIFF")
    assert decode_photo(buffer.getvalue()).width == 80


def test_a_single_frame_gif_is_accepted():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, format="GIF")
    assert (decode_photo(buffer.getvalue()).width, decode_photo(buffer.getvalue()).height) == (64, 48)


def test_a_tiny_image_is_refused():
    with pytest.raises(PhotoError) as refused:
        decode_photo(jpeg_bytes(Image.new("RGB", (10, 10))))
    assert "too small" in explain(refused.value)


def test_a_file_over_the_byte_limit_is_refused(tmp_path):
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg_bytes(textured_photo(300, 200)))
    with pytest.raises(PhotoError) as refused:
        decode_photo(path, max_bytes=1000)
    assert "too large" in explain(refused.value)


def test_a_missing_file_is_a_photo_error(tmp_path):
    with pytest.raises(PhotoError) as refused:
        decode_photo(tmp_path / "nope.jpg")
    assert "could not read" in explain(refused.value)


# ---- what a decoded photo holds ------------------------------------------------------------------


def test_a_phone_photo_is_decoded_small_with_its_original_size():
    photo = decode_photo(jpeg_bytes(textured_photo(4032, 3024)))
    assert (photo.width, photo.height) == (4032, 3024)
    assert photo.rgb_small.shape == (378, 504, 3)  # decoded at 1/8
    assert photo.rgb_small.dtype == np.uint8
    assert (
        photo.encoder_input.shape == (3, SINGLE_PASS_SIZE, SINGLE_PASS_SIZE) and photo.encoder_input.dtype == np.float32
    )
    assert photo.encoder_input.min() >= -1.0 and photo.encoder_input.max() <= 1.0


@pytest.mark.parametrize(("side", "decoded"), [(224, (338, 270)), (256, (338, 270)), (320, (675, 540))])
def test_a_jpeg_is_decoded_at_the_smallest_scale_that_still_gives_the_encoders_side(side, decoded):
    photo = decode_photo(jpeg_bytes(textured_photo(1080, 1350)), encoder_size=side)
    assert photo.rgb_small.shape[:2] == decoded  # 1/4 or 1/2 of 1350x1080
    assert photo.encoder_input.shape == (3, side, side)


def test_the_encoder_reads_the_centre_square_of_the_working_image():
    photo = decode_photo(jpeg_bytes(textured_photo(SINGLE_PASS_SIZE, 2 * SINGLE_PASS_SIZE - 40)))
    top = (photo.rgb_small.shape[0] - SINGLE_PASS_SIZE) // 2
    centre = photo.rgb_small[top : top + SINGLE_PASS_SIZE].transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(photo.encoder_input, centre, atol=1e-5)


def test_a_large_png_is_brought_down_to_the_encoders_side():
    photo = decode_photo(png_bytes(np.asarray(textured_photo(1600, 1200))))
    assert photo.rgb_small.shape == (SINGLE_PASS_SIZE, round(SINGLE_PASS_SIZE * 4 / 3), 3)


def test_exif_orientation_is_applied():
    # Stored landscape: red on the left, blue on the right. Orientation 6 = display rotated 90 degrees clockwise.
    stored = np.zeros((60, 120, 3), dtype=np.uint8)
    stored[:, :60] = (255, 0, 0)
    stored[:, 60:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = decode_photo(jpeg_bytes(Image.fromarray(stored), exif=exif))
    assert (photo.width, photo.height) == (60, 120)
    top, bottom = photo.rgb_small[10, 30], photo.rgb_small[-10, 30]
    assert top[0] > 200 and top[2] < 60  # red now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_transparent_png_is_composited_on_white():
    rgba = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    assert decode_photo(buffer.getvalue()).rgb_small.min() == 255


def test_path_and_bytes_decode_alike(tmp_path):
    data = jpeg_bytes(textured_photo(640, 480))
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    from_path, from_bytes = decode_photo(path), decode_photo(data)
    assert from_path.sha256 == from_bytes.sha256
    np.testing.assert_array_equal(from_path.rgb_small, from_bytes.rgb_small)


# ---- hand features ---------------------------------------------------------------------------------


def test_hand_features_have_one_value_per_name():
    features = hand_features(decode_photo(DEMO_SAMPLES / "valley.jpg"))
    assert features.shape == (len(HAND_FEATURE_NAMES),) and features.dtype == np.float32
    assert np.isfinite(features).all()


def test_features_barely_change_between_a_1080_and_a_4032_copy():
    large = textured_photo(4032, 3024, seed=3)
    small = large.resize((1080, 810), Image.Resampling.LANCZOS)
    big_features = dict(zip(HAND_FEATURE_NAMES, hand_features(decode_photo(jpeg_bytes(large)))))
    small_features = dict(zip(HAND_FEATURE_NAMES, hand_features(decode_photo(jpeg_bytes(small)))))
    assert big_features["width"] == 4032 and small_features["width"] == 1080
    assert big_features["aspect_ratio"] == pytest.approx(small_features["aspect_ratio"], rel=1e-3)
    for name in HAND_FEATURE_NAMES:
        if name in ("width", "height", "aspect_ratio"):
            continue
        tolerance = max(
            0.1 * abs(small_features[name]), 2.0 if name.endswith(("mean", "std", "p10", "p50", "p90")) else 0.1
        )
        assert abs(big_features[name] - small_features[name]) <= tolerance, name


def test_sharpness_drops_when_a_photo_is_blurred():
    from PIL import ImageFilter

    sharp = textured_photo(800, 600, seed=5)
    blurred = sharp.filter(ImageFilter.GaussianBlur(3))
    index = HAND_FEATURE_NAMES.index("sharpness_log_laplacian_var")
    assert (
        hand_features(decode_photo(jpeg_bytes(blurred)))[index]
        < hand_features(decode_photo(jpeg_bytes(sharp)))[index] - 1.0
    )


def test_noise_estimate_rises_with_added_noise():
    clean = np.asarray(textured_photo(600, 600, seed=6), dtype=np.float32)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    index = HAND_FEATURE_NAMES.index("noise_sigma")
    noisy_sigma = hand_features(decode_photo(png_bytes(noisy)))[index]
    assert noisy_sigma > hand_features(decode_photo(png_bytes(clean.astype(np.uint8))))[index] + 6


def test_grey_photo_has_no_colourfulness_and_a_colourful_one_has_much():
    index = HAND_FEATURE_NAMES.index("colourfulness")
    grey = hand_features(decode_photo(jpeg_bytes(Image.new("RGB", (200, 200), (128, 128, 128)))))
    assert grey[index] < 1.0
    assert hand_features(decode_photo(DEMO_SAMPLES / "sunset_beach.jpg"))[index] > 50


def test_a_face_is_counted_and_a_landscape_has_none():
    """`fixtures/face_astronaut.jpg`: a crop of NASA's public-domain portrait of Eileen Collins (scikit-image's `astronaut`)."""
    index = HAND_FEATURE_NAMES.index("face_count")
    assert hand_features(decode_photo(FIXTURES / "face_astronaut.jpg"))[index] == 1
    assert hand_features(decode_photo(DEMO_SAMPLES / "valley.jpg"))[index] == 0


def test_faces_the_caller_found_are_the_ones_the_hand_features_count():
    photo = decode_photo(DEMO_SAMPLES / "valley.jpg")
    height, width = photo.rgb_small.shape[:2]
    two = Faces(np.array([[0, 0, 10, 10], [50, 50, 20, 20]], dtype=np.int64), width, height)
    features = dict(zip(HAND_FEATURE_NAMES, hand_features(photo, faces=two)))
    assert features["face_count"] == 2
    assert features["face_area_fraction"] == pytest.approx(500 / (width * height))
    assert faces_of(photo).count == 0


def jpeg_with_extra_scans(extra: int) -> bytes:
    """A valid progressive JPEG with its last scan repeated `extra` times: each costs the decoder a pass over
    every block (libjpeg only warns), a few bytes each in a flat image."""
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (120, 130, 140)).save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    last_scan = data[data.rindex(b"\xff\xda") : -2]  # up to the end-of-image marker
    return data[:-2] + last_scan * extra + b"\xff\xd9"


def test_a_jpeg_of_thousands_of_scans_is_refused_before_decoding(monkeypatch):
    bomb = jpeg_with_extra_scans(5000)

    def decoding(self, *args):
        raise AssertionError("the scans were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoding)
    with pytest.raises(PhotoError) as refused:
        decode_photo(bomb)
    assert "too many passes" in explain(refused.value)


def test_a_progressive_jpeg_with_a_few_extra_scans_is_accepted():
    assert decode_photo(jpeg_with_extra_scans(20)).width == 256
