"""`likepredict hashtags` offline on the demo data, and `likepredict evaluate hashtags` on a tiny file."""

import json
import os
import subprocess
import sys
from pathlib import Path

from core.paths import DEMO_SAMPLES

PROJECT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LIKEPREDICT_", "TELEGRAM_"))}
    environment["LIKEPREDICT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "likepredict.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT,
        timeout=300,
    )


def test_hashtags_prints_ranked_tags_with_reasons_and_expected_engagement(tmp_path):
    result = run_cli("hashtags", str(DEMO_SAMPLES / "sunset_beach.jpg"), "--handle", "demo_creator", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Hashtags for @demo_creator, photo sunset_beach.jpg")
    ranked = [line for line in lines if line[:4].strip().rstrip(".").isdigit()]
    assert len(ranked) == 10 and ranked[0].lstrip().startswith("1. #")
    assert all("their accounts' usual" in line or "no stored posts" in line for line in ranked)
    assert any("you used it in" in line for line in ranked)
    assert "Expected engagement:" in result.stdout and "followers x your" in result.stdout


def test_hashtags_json_has_suggestions_and_the_figures(tmp_path):
    result = run_cli(
        "hashtags",
        str(DEMO_SAMPLES / "pancakes.jpg"),
        "--handle",
        "@Kitchen_Notes",
        "--count",
        "4",
        "--json",
        data_dir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    advice = json.loads(result.stdout)
    assert advice["handle"] == "kitchen_notes" and len(advice["suggestions"]) == 4
    assert {"tag", "lift", "posts_seen", "reason", "fit"} == set(advice["suggestions"][0])
    assert all(0 < s["fit"] <= 1 for s in advice["suggestions"])
    assert advice["expected_engagement"] > 0 and advice["account_rate"] > 0


def test_hashtags_refuses_a_file_that_is_not_a_photo_in_one_line(tmp_path):
    not_photo = tmp_path / "notes.jpg"
    not_photo.write_text("shopping list", encoding="utf-8")
    result = run_cli("hashtags", str(not_photo), "--handle", "demo_creator", data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_evaluate_hashtags_json_names_each_metric_and_the_baseline(tmp_path):
    data = tmp_path / "influencers.jsonl"
    records = [
        {
            "account": f"acct_{i}",
            "followers": 1000,
            "following": 5,
            "posts_total": 3,
            "crawled": "2017-05-01",
            "posts": [
                {"date": f"2017-04-{d:02d}", "likes": 100 + d, "hashtags": ["sea", "sun"] if d % 2 else ["sea"]}
                for d in (10, 11, 12)
            ],
        }
        for i in range(3)
    ]
    data.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = run_cli("evaluate", "hashtags", "--influencers", str(data), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    for key in (
        "engine_recall_at_10",
        "engine_ndcg_at_10",
        "lift_ranking_recall_at_10",
        "baseline_recall_at_10",
        "baseline_hit_rate_at_10",
        "baseline_ndcg_at_10",
        "engine_lift_gap",
        "engine_lift_gap_ci90",
        "baseline_lift_gap",
        "engine_lift_high_half",
        "engine_lift_low_half",
        "held_out_posts_with_tags",
    ):
        assert key in metrics
    assert metrics["held_out_posts_with_tags"] == 3 and metrics["baseline_recall_at_10"] == 1.0
    assert metrics["ranking"] == "learned" and "learned_ranking_recall_at_10" in metrics  # the committed ranker
    table = run_cli(
        "evaluate",
        "hashtags",
        "--influencers",
        str(data),
        "--half",
        "a",
        "--output",
        str(tmp_path / "report.json"),
        data_dir=tmp_path,
    )
    assert table.returncode == 0 and "recall@10" in table.stdout and "accounts of half 'a'" in table.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["command"].endswith(f"--influencers {data} --count 10 --half a") and report["half"] == "a"
    assert {"expected_ranking_recall_at_10", "lift_ranking_recall_at_10", "baseline_recall_at_10"} <= set(report)
