"""`hsmatch score --reviews` and the `hsmatch review` commands."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from click.testing import CliRunner

from hsmatch.cli import cli
from hsmatch.review import ReviewStore
from tests.review_data import flag_id_of, sample_flags


@pytest.fixture()
def run(fixture_models, ref_data, training_dir, monkeypatch):
    monkeypatch.setenv("HSMATCH_TRAINING_DATA", str(training_dir))
    monkeypatch.delenv("HSMATCH_REVIEWS", raising=False)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["--data", str(ref_data), "--models", str(fixture_models), *args])

    return invoke


def test_a_correction_changes_the_next_run_and_decisions_survive_it(run, tmp_path, ref_data):
    lists = tmp_path / "lists.csv"
    lists.write_text("state,district,product\nUttar Pradesh,Bhadohi,Basmati rice\n"
                     "Uttar Pradesh,Moradabad,Tourism\n")
    exports = tmp_path / "exports.csv"
    exports.write_text("state,district,code,level,value_usd,year\n"
                       "UTTAR PRADESH,BHADOHI,textiles_garments,sector,900000,2024-25\n"
                       "UTTAR PRADESH,BHADOHI,furniture,sector,100000,2024-25\n"
                       "UTTAR PRADESH,MORADABAD,metals,sector,800000,2024-25\n")
    db = tmp_path / "reviews.sqlite"
    score = ["score", "--products", str(lists), "--exports", str(exports), "--reviews", str(db)]

    first = run(*score, "--out", str(tmp_path / "run1"))
    assert first.exit_code == 0, first.output
    assert "flags synced into" in first.output
    flags = pd.read_csv(tmp_path / "run1" / "flags.csv", dtype=str, keep_default_na=False)
    rice = flag_id_of(flags, flag_type="not_exported", product="Basmati rice")
    tourism = flag_id_of(flags, flag_type="service", product="Tourism")
    store = ReviewStore(db, data_dir=ref_data)
    assert store.count() == len(flags)
    store.decide(rice, "correct", "Asha", codes="57011010", note="Bhadohi means carpets")
    store.decide(tourism, "accept", "Ravi")

    second = run(*score, "--out", str(tmp_path / "run2"))
    assert second.exit_code == 0, second.output
    assert "1 reviewers' correction(s) applied" in second.output
    products = pd.read_csv(tmp_path / "run2" / "products.csv", dtype=str,
                           keep_default_na=False).set_index("product")
    assert products.loc["Basmati rice", "code"] == "57011010"
    assert products.loc["Basmati rice", "overridden"] == "True"
    assert "Asha" in products.loc["Basmati rice", "classifier_reason"]
    # Carpets are exported: the not-exported flag is gone, so it is resolved (kept, with
    # its correction); the accepted service flag is raised again and stays accepted.
    assert store.flag(rice)["status"] == "resolved"
    assert store.flag(rice)["decision"] == "correct"
    assert store.flag(tourism)["status"] == "accepted"
    assert [d.reviewer for d in store.history(tourism)] == ["Ravi"]
    flags2 = pd.read_csv(tmp_path / "run2" / "flags.csv", dtype=str, keep_default_na=False)
    assert rice not in set(flags2["flag_id"]) and tourism in set(flags2["flag_id"])


def test_review_commands_round_trip(run, tmp_path, monkeypatch):
    flags_csv = tmp_path / "score" / "flags.csv"
    flags_csv.parent.mkdir()
    frame = sample_flags()
    frame.to_csv(flags_csv, index=False)
    db = str(tmp_path / "reviews.sqlite")

    synced = run("review", "sync", "--flags", str(flags_csv), "--db", db)
    assert synced.exit_code == 0, synced.output
    assert "6 flags (6 new" in synced.output

    queue = tmp_path / "queue.csv"
    exported = run("review", "export", "--out", str(queue), "--state", "Uttar Pradesh", "--db", db)
    assert exported.exit_code == 0, exported.output
    assert "wrote 3 flags" in exported.output
    with open(queue, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rice = flag_id_of(frame, product="Basmati rice")
    for row in rows:
        if row["flag_id"] == rice:
            row.update(action="correct", codes="57011010", reviewer="Asha")
        elif row["product"] == "Tourism":
            row.update(action="accept", reviewer="")  # no reviewer: an error naming the line
    rows.append({**rows[0], "flag_id": "Fnotaflag", "action": "accept", "reviewer": "Asha"})
    with open(queue, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = run("review", "import", str(queue), "--db", db)
    assert imported.exit_code == 1
    assert "saved 1 decision(s)" in imported.output
    assert "line 5" in imported.output and "no flag 'Fnotaflag'" in imported.output
    assert "no reviewer name" in imported.output and "Traceback" not in imported.output

    history = run("review", "history", rice, "--db", db)
    assert history.exit_code == 0 and "[corrected]" in history.output and "Asha" in history.output

    training = tmp_path / "training"  # not the session's shared training folder
    training.mkdir()
    monkeypatch.setenv("HSMATCH_TRAINING_DATA", str(training))
    trained = run("review", "to-training", "--db", db)
    assert trained.exit_code == 0, trained.output
    written = training / "reviewed" / "corrections.csv"
    assert "Basmati rice,goods,57011010,review:basmati rice" in written.read_text()


def test_review_commands_refuse_a_missing_store(run, tmp_path):
    result = run("review", "export", "--out", str(tmp_path / "q.csv"), "--db",
                 str(tmp_path / "none.sqlite"))
    assert result.exit_code == 1
    assert "no review store at" in result.output and "hsmatch review sync" in result.output
    assert not (tmp_path / "none.sqlite").exists()


def test_the_store_path_comes_from_the_environment(run, tmp_path, monkeypatch):
    flags_csv = tmp_path / "flags.csv"
    sample_flags().to_csv(flags_csv, index=False)
    monkeypatch.setenv("HSMATCH_REVIEWS", str(tmp_path / "env.sqlite"))
    result = run("review", "sync", "--flags", str(flags_csv))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env.sqlite").is_file()


def test_readme_lists_every_review_command():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in cli.commands["review"].commands:
        assert f"hsmatch review {name}" in readme, name
    assert "--reviews" in readme
