"""Every benchmark command still runs, at tiny sizes. Nothing here asserts a time: only that each one
measures what it says (answers counted, requests counted, models written) and writes its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import best, cache, embeddings, load, photo_cost, readme_figures, training
from benchmarks.common import busy_time
from benchmarks.service_setup import benchmark_settings
from tests.botapi import warm_database
from tests.likes_data import synthetic_accounts, write_influencers


@pytest.fixture
def warm_folder(tmp_path: Path) -> Path:
    """A folder whose store already holds the demo accounts and their photo vectors (as the bot tests use)."""
    warm_database(benchmark_settings(tmp_path))
    return tmp_path


def test_cache_command_counts_zero_requests_for_a_cached_handle_and_writes_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cache.main(["--posts", "3", "--repeats", "5"], results_dir=tmp_path) == 0
    result = json.loads((tmp_path / "cache.json").read_text())
    assert result["http_requests_first"] == 1 + 3  # the profile, then each post's photo
    assert result["http_requests_cached"] == 0
    assert result["store_get_account"]["n"] == 5 and result["store_get_account"]["median_ms"] > 0
    assert "store.accounts.get" in capsys.readouterr().out


def test_embeddings_command_reads_every_cached_vector_both_ways_and_writes_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert embeddings.main(["--images", "20", "--dimensions", "8", "--repeats", "2"], results_dir=tmp_path) == 0
    result = json.loads((tmp_path / "embeddings.json").read_text())
    assert result["images"] == 20 and result["stored_vectors_one_query"]["n"] == result["one_query_per_photo"]["n"] == 2
    assert result["ratio_median"] > 0
    out = capsys.readouterr().out
    assert "HashtagEngine.stored_vectors, new engine (one query)" in out and "the same engine again" in out


def test_photo_cost_measures_decode_encoder_and_the_full_prediction(warm_folder: Path) -> None:
    result = photo_cost.measure(photos_per_size=1, repeats=1, sizes=((640, 480),), folder=warm_folder)
    row = result["sizes"]["640x480"]
    assert row["floor_decode"]["n"] == row["floor_pass"]["n"] == row["full"]["n"] == 1
    assert row["full"]["median_ms"] > row["steps_median_ms"]["encode"]  # the full answer includes the encoder
    assert row["ratio_median"] > 0 and row["six_view_ratio_median"] > 0
    assert {"decode", "faces", "hand", "encode", "concepts", "hand_faces", "side_224"} <= set(row["steps_median_ms"])
    assert "full/floor p50" in photo_cost.table(result)


def test_best_ranks_the_drafts_warm_and_cold(warm_folder: Path) -> None:
    result = best.measure(drafts=2, repeats=1, side=320, folder=warm_folder)
    assert result["warm"]["n"] == result["cold"]["n"] == 1
    assert result["analyse_one_batched_call"]["median_ms"] > 0
    assert "/best of 2" in best.table(result)


def test_load_gets_every_chat_answered_through_the_local_bot_api(warm_folder: Path) -> None:
    result = load.measure(chats=3, singles=1, side=320, folder=warm_folder)
    assert result["answered"] == 3
    assert result["update_to_reply"]["n"] == 3
    assert 0 <= result["overhead_burst_busy"] <= 1 and result["longest_stall_ms"] >= 0
    assert "answered | 3 / 3" in load.table(result)


def test_training_times_each_step_into_a_copy_of_the_models(tmp_path: Path) -> None:
    influencers = write_influencers(synthetic_accounts(30, seed=3), tmp_path / "tiny.jsonl")
    result = training.measure([influencers], photos=None, data=None)
    assert result["steps"]["likes"]["seconds"] > 0
    assert result["steps"]["appeal"]["seconds"] is None  # skipped: no photos given
    assert {"likes", "likes_q10", "likes_q90"} <= set(result["models_written"])


def test_busy_time_counts_overlapping_intervals_once() -> None:
    assert busy_time([(0, 2), (1, 3), (5, 6)]) == 4
    assert busy_time([(0, 10)], start=2, end=4) == 2
    assert busy_time([]) == 0


def test_readme_figures_come_from_the_result_files_and_replace_only_the_marked_section(tmp_path: Path) -> None:
    assert cache.main(["--posts", "2", "--repeats", "3"], results_dir=tmp_path) == 0
    requests = json.loads((tmp_path / "cache.json").read_text())["http_requests_first"]
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n\n{readme_figures.START}\nold figures\n{readme_figures.END}\n\nafter\n")
    readme_figures.main(readme, tmp_path)
    text = readme.read_text()
    assert "old figures" not in text and text.startswith("# title\n\nbefore") and text.endswith("after\n")
    assert f"| first request (fetch + photos) | {requests} |" in text
    assert "python -m benchmarks.cache" in text and "Not measured yet: `python -m benchmarks.load`" in text
    readme_figures.main(readme, tmp_path)
    assert readme.read_text() == text  # a second run changes nothing


def test_readme_figures_keep_the_section_of_a_benchmark_not_re_run(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    earlier = "### load\n\n`python -m benchmarks.load` — taken earlier.\n\n| measure | value |\n| --- | --- |\n| answered | 9 / 9 |"
    readme.write_text(f"# title\n\n{readme_figures.START}\nintro\n\n{earlier}\n{readme_figures.END}\n")
    readme_figures.main(readme, tmp_path)  # no result files at all
    text = readme.read_text()
    assert earlier in text
    assert "Not measured yet: `python -m benchmarks.cache`" in text


def test_readme_accuracy_shows_the_likes_interval_and_ceiling_from_the_card() -> None:
    year = {"accounts": 3, "model_mdape": 0.18, "baseline_mdape": 0.2, "mdape_vs_baseline": 0.9}
    card = {
        "models": {
            "likes": {"metrics": {"a.jsonl": {**year, "mdape_vs_baseline_p05": 0.85, "mdape_vs_baseline_p95": 0.97}}}
        },
        "reports": {
            "likes_cv": {
                "folds": 3,
                "a.jsonl": {"mdape": 0.19, "baseline_mdape": 0.2},
                "ceiling": {
                    "a.jsonl": {
                        "other_posts_median_vs_baseline": 0.96,
                        "model_with_other_posts_median_vs_baseline": 0.91,
                    }
                },
            }
        },
    }
    text = readme_figures.accuracy_section(card, Path("/nonexistent"))
    assert "| a.jsonl (3 accounts) | 0.180 | 0.200 | 0.900 [0.850, 0.970] |" in text
    assert "| the shipped model | 0.950 |" in text
    assert "| the model told that median (the ceiling) | 0.910 |" in text
