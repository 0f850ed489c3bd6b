"""`likepredict train` on tiny data into a temporary models folder: artefacts, card, determinism, evaluate."""

from __future__ import annotations

import json

import pytest

from inference.card import load_card, sha256_of, update_card
from inference.likes_features import LIKES_FEATURE_NAMES
from likepredict.cli import main
from models.training.likes_evaluate import evaluate_committed_likes
from models.training.pipeline import TrainingInputs, run_pipeline
from scraping.datasets import read_any, read_influencers
from tests.likes_data import synthetic_accounts, synthetic_accounts_2019, write_influencers, write_influencers_2019


@pytest.fixture(scope="module")
def influencers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    return (
        write_influencers(synthetic_accounts(30, seed=11), folder / "tiny-2017.jsonl"),
        write_influencers_2019(synthetic_accounts_2019(30, seed=11), folder / "tiny-2019.jsonl"),
    )


def start_card(models_dir):
    """A card with an encoder entry only, as a checkout's before the likes step."""
    update_card(
        {"encoder": {"file": "encoder.onnx", "sha256": "0" * 64, "feature_schema": {"version": "e", "names": []}}},
        models_dir,
    )


@pytest.fixture(scope="module")
def trained_dir(influencers, tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("models")
    start_card(models_dir)
    lines: list[str] = []
    run_pipeline(TrainingInputs(influencers=influencers), models_dir, seed=7, log=lines.append)
    return models_dir, lines


def test_pipeline_writes_each_likes_model_with_its_sha256_and_schema(trained_dir):
    models_dir, _ = trained_dir
    card = load_card(models_dir / "card.json")
    for name in ("likes", "likes_q10", "likes_q90"):
        entry = card["models"][name]
        assert sha256_of(models_dir / entry["file"]) == entry["sha256"]
        assert entry["feature_schema"]["names"] == LIKES_FEATURE_NAMES
    tags = card["models"]["likes"]["tag_popularity"]
    assert sha256_of(models_dir / tags["file"]) == tags["sha256"]
    assert "likes" in (models_dir / "MODEL_CARD.md").read_text()


def test_card_reports_the_model_and_the_baseline_on_held_out_accounts_of_each_year(trained_dir):
    entry = load_card(trained_dir[0] / "card.json")["models"]["likes"]
    assert set(entry["metrics"]) == {"tiny-2017.jsonl", "tiny-2019.jsonl"}
    for metrics in entry["metrics"].values():
        for prefix in ("model", "baseline"):
            assert {f"{prefix}_mdape", f"{prefix}_mae_log", f"{prefix}_within_20pct", f"{prefix}_coverage_80"} <= set(
                metrics
            )
        assert metrics["mdape_vs_baseline"] == pytest.approx(
            metrics["model_mdape"] / metrics["baseline_mdape"], abs=1e-4
        )
        assert metrics["mdape_vs_baseline_p05"] <= metrics["mdape_vs_baseline"] <= metrics["mdape_vs_baseline_p95"]
    assert "model_pairwise_within_account" in entry["metrics"]["tiny-2019.jsonl"]
    [transfer] = entry["transfer"]
    assert (transfer["trained_on"], transfer["evaluated_on"]) == ("tiny-2017.jsonl", "tiny-2019.jsonl")
    assert entry["range_widening"] > 0 and entry["time_effect"]["posts"] > 0


def test_card_reports_the_ceiling_of_a_model_told_the_later_posts_too(trained_dir):
    ceiling = load_card(trained_dir[0] / "card.json")["reports"]["likes_cv"]["ceiling"]
    assert set(ceiling) == {"tiny-2017.jsonl", "tiny-2019.jsonl"}
    for figures in ceiling.values():
        assert 0 < figures["model_with_other_posts_median_vs_baseline"] < 1.5
        assert 0 < figures["other_posts_median_vs_baseline"] < 1.5


def test_steps_without_data_are_skipped_with_a_line_and_keep_their_entries(trained_dir):
    models_dir, lines = trained_dir
    assert any(line.startswith("[appeal] skipped") for line in lines)
    assert any(line.startswith("[similarity] skipped") for line in lines)
    assert "encoder" in load_card(models_dir / "card.json")["models"]


def test_a_rerun_reproduces_the_models_and_the_card_byte_for_byte(trained_dir, influencers, tmp_path):
    models_dir, _ = trained_dir
    # the same card to start from: the likes step rewrites its own entries, which must come out identical
    (tmp_path / "card.json").write_bytes((models_dir / "card.json").read_bytes())
    run_pipeline(TrainingInputs(influencers=influencers), tmp_path, seed=7, log=lambda line: None)
    for name in ("likes.onnx", "likes_q10.onnx", "likes_q90.onnx", "tag_popularity.json", "card.json", "MODEL_CARD.md"):
        assert (tmp_path / name).read_bytes() == (models_dir / name).read_bytes(), name


def test_steps_run_side_by_side_in_worker_processes_write_the_same_bytes(trained_dir, influencers, tmp_path):
    models_dir, _ = trained_dir
    start_card(tmp_path)
    # files from an older run: each worker's copy holds the other step's old files, which must not come back
    for name in ("likes.onnx", "likes_q10.onnx", "likes_q90.onnx", "hashtag_ranker.onnx", "hashtag_concepts.json"):
        (tmp_path / name).write_bytes(b"an older run's file")
    lines: list[str] = []
    run_pipeline(TrainingInputs(influencers=influencers), tmp_path, seed=7, log=lines.append, jobs=2)
    assert "training hashtags, likes: 2 at a time in worker processes" in lines
    assert any(line.startswith("[hashtags] done in") for line in lines)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in models_dir.iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (models_dir / name).read_bytes(), name


def test_evaluate_likes_reports_model_and_baseline_as_json(trained_dir, influencers, capsys):
    models_dir, _ = trained_dir
    old = influencers[0]
    code = main(["evaluate", "likes", "--influencers", str(old), "--json", "--models-dir", str(models_dir)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == sum(len(a.posts) - 3 for a in read_influencers(old))
    assert {"model_mdape", "baseline_mdape", "model_coverage_80", "baseline_within_30_likes"} <= set(result)
    assert result == evaluate_committed_likes(list(read_influencers(old)), models_dir)


def test_evaluate_likes_on_the_2019_format_adds_the_pairwise_order_with_and_without_the_photo(
    trained_dir, influencers, capsys
):
    models_dir, _ = trained_dir
    code = main(["evaluate", "likes", "--data", str(influencers[1]), "--json", "--models-dir", str(models_dir)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.5 < result["model_pairwise_within_account"] <= 1
    assert result["photo_blind_pairwise_within_account"] < result["model_pairwise_within_account"]


def test_evaluate_likes_takes_what_import_reads_and_judges_photos_by_their_detected_concepts(tmp_path, capsys):
    from core.paths import DEMO_DATA

    code = main(["evaluate", "likes", "--data", str(DEMO_DATA), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    accounts = list(read_any(DEMO_DATA))
    assert result["photos_analysed"] == sum(p.image_path is not None for a in accounts for p in a.posts)
    assert {"model_mdape", "baseline_mdape", "model_coverage_80"} <= set(result)
    assert {"model_pairwise_within_account", "photo_blind_pairwise_within_account"} <= set(result)


def test_train_refuses_a_missing_data_path(tmp_path, capsys):
    assert main(["train", "--influencers", str(tmp_path / "absent.jsonl"), "--models-dir", str(tmp_path)]) == 2
    assert "absent.jsonl" in capsys.readouterr().err


def test_only_runs_the_named_steps(influencers, tmp_path):
    lines: list[str] = []
    run_pipeline(TrainingInputs(influencers=influencers), tmp_path, seed=7, log=lines.append, only=["similarity"])
    assert not any(line.startswith("[likes]") for line in lines)
    assert any(line.startswith("[similarity] skipped") for line in lines)
    assert not (tmp_path / "likes.onnx").exists()


def test_image_likes_step_learns_from_demo_photos_and_marks_itself_synthetic(tmp_path):
    import shutil

    from core.paths import DEMO_DATA
    from inference.card import MODELS_DIR

    card = load_card(MODELS_DIR / "card.json")
    for entry in card["models"].values():
        shutil.copy(MODELS_DIR / entry["file"], tmp_path / entry["file"])
    shutil.copy(MODELS_DIR / card["models"]["likes"]["tag_popularity"]["file"], tmp_path)
    shutil.copy(MODELS_DIR / "card.json", tmp_path / "card.json")
    run_pipeline(TrainingInputs(data=DEMO_DATA), tmp_path, seed=7, log=lambda line: None, only=["image-likes"])
    entry = load_card(tmp_path / "card.json")["models"]["likes_image"]
    assert entry["data"]["synthetic"] is True and "demo_creator" in entry["data"]["account_handles"]
    assert sha256_of(tmp_path / entry["file"]) == entry["sha256"]
    assert {"with_photo_mae_log", "likes_model_alone_mae_log"} <= set(entry["metrics"])
    # the demo data plants a photo effect; the step must find some of it on accounts it left out
    assert entry["metrics"]["with_photo_mae_log"] < entry["metrics"]["likes_model_alone_mae_log"]


def test_train_names_the_only_positional_form_it_accepts(tmp_path, capsys):
    assert main(["train", "appeal", str(tmp_path), "--models-dir", str(tmp_path)]) == 2
    assert "likepredict train similarity DATA" in capsys.readouterr().err


def test_evaluate_appeal_reports_the_committed_model_on_a_rated_folder_as_json(tmp_path, capsys):
    import shutil

    from core.paths import DEMO_DIR

    (tmp_path / "images").mkdir()
    rows = ["image,mos"]
    for rating, photo in enumerate(sorted((DEMO_DIR / "images").glob("demo_creator_0*.jpg"))[:5]):
        shutil.copy(photo, tmp_path / "images" / photo.name)
        rows.append(f"images/{photo.name},{20 + 10 * rating}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    assert main(["evaluate", "appeal", "--photos", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["photos"] == 5 and "spearman" in result and "baseline_sharpness_spearman" in result
