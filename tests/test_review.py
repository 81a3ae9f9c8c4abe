"""The review store: flags imported by stable id, append-only decisions, statuses across
re-runs, concurrent reviewers, the CSV round trip and the feedback into scoring and training."""

from __future__ import annotations

import csv
import sqlite3
import threading

import pytest

from hsmatch.align import Override
from hsmatch.errors import DataError, InputError
from hsmatch.review import ReviewStore
from tests.review_data import LIST, OTHER_LIST, flag_id_of, sample_flags


def _ids(flags):
    return {
        "rice": flag_id_of(flags, product="Basmati rice"),
        "textiles": flag_id_of(flags, code="textiles_garments"),
        "tourism": flag_id_of(flags, product="Tourism"),
        "kantha": flag_id_of(flags, product="Nakshi kantha"),
        "marine": flag_id_of(flags, product="Marine products"),
        "nowhere": flag_id_of(flags, district="Nowhere Nagar"),
    }


def _status(store, flag_id):
    return store.flag(flag_id)["status"]


def test_a_run_is_imported_by_flag_id_in_a_wal_store(store, flags):
    assert store.count() == len(flags) == 6
    assert store.counts()["status"]["open"] == 6
    assert store.counts()["flag_type"]["service"] == 1
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    flag = store.flag(_ids(flags)["rice"])
    assert flag["product"] == "Basmati rice" and flag["evidence"]["codes"] == ["10063020"]
    assert store.flag("Fnothing") is None


def test_decisions_survive_a_rerun(store, flags):
    ids = _ids(flags)
    store.decide(ids["rice"], "accept", "Asha")
    store.decide(ids["textiles"], "reject", "Ravi", note="listed as carpets")
    store.decide(ids["kantha"], "correct", "Asha", codes="5701.10.10")
    report = store.sync_flags(sample_flags(note=" (run 2)"), source="run 2")
    assert (report.new, report.seen_before, report.resolved) == (0, 6, 0)
    assert _status(store, ids["rice"]) == "accepted"
    assert _status(store, ids["textiles"]) == "rejected"
    assert _status(store, ids["kantha"]) == "corrected"
    assert _status(store, ids["tourism"]) == "open"
    # The flag is refreshed from the new run; its history is untouched.
    assert store.flag(ids["rice"])["message"].endswith("(run 2)")
    assert store.flag(ids["rice"])["last_seen_run"] == report.run_id
    assert [d.note for d in store.history(ids["textiles"])] == ["listed as carpets"]


def test_a_flag_gone_from_the_next_run_is_resolved_not_deleted(store, flags):
    ids = _ids(flags)
    store.decide(ids["rice"], "accept", "Asha")
    report = store.sync_flags(sample_flags(drop=("Basmati rice",)), source="run 2")
    assert report.resolved == 1
    flag = store.flag(ids["rice"])
    assert flag["status"] == "resolved" and flag["present"] == 0 and flag["resolved_at"]
    assert flag["decision"] == "accept" and len(store.history(ids["rice"])) == 1
    assert store.counts()["status"]["resolved"] == 1
    # Back in a later run: present again, with its decision.
    again = store.sync_flags(sample_flags(), source="run 3")
    assert again.reappeared == 1
    assert _status(store, ids["rice"]) == "accepted" and store.flag(ids["rice"])["resolved_at"] is None


def test_only_the_runs_own_lists_are_resolved(store, flags):
    ids = _ids(flags)
    one_list = sample_flags()
    store.sync_flags(one_list[one_list["list"] == LIST], source="LIST only")
    assert _status(store, ids["marine"]) == "open"  # another list: not part of this run
    store.sync_flags(one_list[one_list["list"] == LIST], source="both lists",
                     lists=[LIST, OTHER_LIST])
    assert _status(store, ids["marine"]) == "resolved"
    assert _status(store, ids["nowhere"]) == "resolved"


def test_the_latest_decision_is_the_state_and_history_stays(store, flags):
    rice = _ids(flags)["rice"]
    store.decide(rice, "accept", "Asha")
    store.decide(rice, "note", "Ravi", note="checked the sector data too")
    assert _status(store, rice) == "accepted"  # a note never changes the status
    store.decide(rice, "reject", "Ravi", note="it is exported under agri")
    assert _status(store, rice) == "rejected"
    store.decide(rice, "reopen", "Asha")
    assert _status(store, rice) == "open"
    history = store.history(rice)
    assert [d.action for d in history] == ["accept", "note", "reject", "reopen"]
    assert [d.reviewer for d in history] == ["Asha", "Ravi", "Ravi", "Asha"]
    assert all(d.decided_at.endswith("Z") for d in history)


def test_decisions_are_append_only(store, flags):
    store.decide(_ids(flags)["rice"], "accept", "Asha")
    with sqlite3.connect(store.path) as conn:
        for statement in ("UPDATE decisions SET action = 'reject'", "DELETE FROM decisions"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    assert [d.action for d in store.decisions()] == ["accept"]


@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    (("Fnope", "accept", "Asha"), {}, "no flag 'Fnope'"),
    (("{rice}", "accept", "  "), {}, "no reviewer name"),
    (("{rice}", "approve", "Asha"), {}, "unknown action 'approve'"),
    (("{rice}", "correct", "Asha"), {}, "needs the right code"),
    (("{rice}", "correct", "Asha"), {"codes": "99999999"}, "not in the nomenclature"),
    (("{rice}", "correct", "Asha"), {"codes": "1006", "kind": "goods"}, "8-digit"),
    (("{rice}", "correct", "Asha"), {"codes": "801"}, "leading zero (0801?)"),
    (("{rice}", "correct", "Asha"), {"codes": "rice"}, "only digits"),
    (("{rice}", "correct", "Asha"), {"codes": "10063020", "kind": "gods"}, "kind 'gods'"),
    (("{textiles}", "correct", "Asha"), {"codes": "57011010"}, "no code to correct"),
    (("{rice}", "accept", "Asha"), {"codes": "57011010"}, "with a correction only"),
    (("{rice}", "note", "Asha"), {}, "a note needs its text"),
])
def test_invalid_decisions_say_what_and_how(store, flags, args, kwargs, expected):
    ids = _ids(flags)
    flag_id = args[0].format(**ids)
    with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        store.decide(flag_id, *args[1:], **kwargs)
    assert store.decisions() == []


def test_a_correction_takes_its_kind_from_the_codes(store, flags):
    ids = _ids(flags)
    assert store.decide(ids["kantha"], "correct", "A", codes="57011010").kind == "goods"
    assert store.decide(ids["marine"], "correct", "A", codes="03 1604").kind == "broad"
    assert store.decide(ids["tourism"], "correct", "A", codes="9985.52").kind == "service"
    assert store.decide(ids["rice"], "correct", "A", kind="unknown").codes == ()


def test_two_reviewers_deciding_at_once_both_keep_their_decisions(tmp_path, ref_data, flags):
    path = tmp_path / "reviews.sqlite"
    ReviewStore(path, data_dir=ref_data).sync_flags(flags)
    ids = list(flags["flag_id"])
    rounds = 25
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def reviewer(name: str, action: str) -> None:
        own = ReviewStore(path, data_dir=ref_data)  # each reviewer its own connection
        start.wait()
        try:
            for i in range(rounds):
                own.decide(ids[i % len(ids)], action, name, note=f"{name} {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=reviewer, args=("Asha", "accept")),
               threading.Thread(target=reviewer, args=("Ravi", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    decisions = ReviewStore(path).decisions()
    assert len(decisions) == 2 * rounds
    for name in ("Asha", "Ravi"):
        assert sorted(d.note for d in decisions if d.reviewer == name) == sorted(
            f"{name} {i}" for i in range(rounds))
    assert len({d.id for d in decisions}) == 2 * rounds


def test_a_reviewer_in_another_program_deciding_at_once_keeps_their_decisions(tmp_path, flags):
    """Two programs (say the web page and a CSV import) writing to one store at once."""
    import subprocess
    import sys

    path = tmp_path / "reviews.sqlite"
    store = ReviewStore(path, known=set())
    store.sync_flags(flags)
    ids = list(flags["flag_id"])
    rounds = 40
    script = (
        "import sys\nfrom hsmatch.review import ReviewStore\n"
        "store = ReviewStore(sys.argv[1], known=set(), create=False)\n"
        "ids = sys.argv[2].split(',')\nprint('ready', flush=True)\nsys.stdin.readline()\n"
        f"for i in range({rounds}):\n"
        "    store.decide(ids[i % len(ids)], 'reject', 'Ravi', note=f'Ravi {i}')\n")
    other = subprocess.Popen([sys.executable, "-c", script, str(path), ",".join(ids)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "ready"
    other.stdin.write("go\n")
    other.stdin.flush()
    for i in range(rounds):
        store.decide(ids[i % len(ids)], "accept", "Asha", note=f"Asha {i}")
    assert other.wait(timeout=60) == 0
    decisions = store.decisions()
    assert sorted(d.note for d in decisions) == sorted(
        [f"Asha {i}" for i in range(rounds)] + [f"Ravi {i}" for i in range(rounds)])


def _write_csv(path, rows, columns=("flag_id", "action", "kind", "codes", "note", "reviewer")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def test_import_saves_valid_rows_and_names_each_bad_one(store, flags, tmp_path):
    ids = _ids(flags)
    source = tmp_path / "decisions.csv"
    _write_csv(source, [
        {"flag_id": ids["rice"], "action": "accept", "reviewer": "Asha"},               # line 2
        {"flag_id": "Fdoesnotexist", "action": "accept", "reviewer": "Asha"},           # line 3
        {"flag_id": ids["kantha"], "action": "correct", "codes": "12345678", "reviewer": "Asha"},
        {"flag_id": ids["tourism"], "action": "reject", "reviewer": ""},                # line 5
        {"flag_id": ids["marine"], "action": "", "reviewer": "Asha"},                   # no action
        {"flag_id": ids["kantha"], "action": "Corrected", "codes": "'57011010", "reviewer": "Ravi",
         "note": "kantha is embroidered cloth"},                                         # line 7
    ])
    report = store.import_csv(source)
    assert (report.saved, report.blank, report.unchanged) == (2, 1, 0)
    by_line = {e.line: e for e in report.errors}
    assert sorted(by_line) == [3, 4, 5]
    assert "Fdoesnotexist" in by_line[3].message and by_line[3].column == "flag_id"
    assert "12345678" in by_line[4].message and by_line[4].column == "codes"
    assert "reviewer" in by_line[5].message and by_line[5].column == "reviewer"
    assert "decisions.csv, line 5" in str(by_line[5])
    assert _status(store, ids["rice"]) == "accepted"
    kantha = store.history(ids["kantha"])[-1]
    assert kantha.codes == ("57011010",) and kantha.source == "import decisions.csv line 7"
    # The same file again adds nothing.
    again = store.import_csv(source)
    assert (again.saved, again.unchanged, len(again.errors)) == (0, 2, 3)
    assert len(store.decisions()) == 2


def test_an_import_that_fails_halfway_loses_nothing_saved(store, flags, tmp_path, monkeypatch):
    ids = list(flags["flag_id"])
    source = tmp_path / "decisions.csv"
    _write_csv(source, [{"flag_id": f, "action": "accept", "reviewer": "Asha"} for f in ids])
    real_decide = ReviewStore.decide
    calls = {"n": 0}

    def crash_on_the_fourth(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("the disk went away")
        return real_decide(self, *args, **kwargs)

    monkeypatch.setattr(ReviewStore, "decide", crash_on_the_fourth)
    with pytest.raises(RuntimeError):
        store.import_csv(source)
    monkeypatch.undo()
    reopened = ReviewStore(store.path)
    assert [d.flag_id for d in reopened.decisions()] == ids[:3]
    report = reopened.import_csv(source)
    assert (report.saved, report.unchanged) == (3, 3)
    assert sorted(d.flag_id for d in reopened.decisions()) == sorted(ids)


def test_an_import_without_the_needed_columns_saves_nothing(store, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("flag,decision\nF1,accept\n")
    with pytest.raises(InputError, match=r"missing column\(s\) \['flag_id', 'action', 'reviewer'\]"):
        store.import_csv(source)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("flag_id,action,reviewer\nF1,accept,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="CSV UTF-8"):
        store.import_csv(latin)


def test_export_then_import_is_a_round_trip(store, flags, tmp_path):
    ids = _ids(flags)
    store.decide(ids["tourism"], "note", "Asha", note="=HYPERLINK(\"x\")")
    out = tmp_path / "queue.csv"
    assert store.export_csv(out, status="open") == 6
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["flag_id"] for r in rows] == [r["flag_id"] for r in store.queue(status="open", limit=None)]
    tourism = next(r for r in rows if r["flag_id"] == ids["tourism"])
    assert tourism["last_note"].startswith("'=")  # a spreadsheet will not run it
    assert tourism["classifier_kind"] == "service" and tourism["classifier_codes"] == "998552"
    for row in rows:
        if row["flag_id"] == ids["rice"]:
            row.update(action="correct", codes="57011010", reviewer="Asha", note="carpets, not rice")
        elif row["flag_id"] == ids["textiles"]:
            row.update(action="accept", reviewer="Ravi")
    with open(out, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = store.import_csv(out)
    assert report.saved == 2 and not report.errors and report.blank == 4
    assert _status(store, ids["rice"]) == "corrected" and _status(store, ids["textiles"]) == "accepted"
    assert store.export_csv(tmp_path / "open.csv", status="open") == 4


def test_queue_filters_counts_and_navigation(store, flags):
    ids = _ids(flags)
    store.decide(ids["rice"], "accept", "Asha")
    assert {r["district"] for r in store.queue(state="Haryana")} == {"Karnal", "Nowhere Nagar"}
    assert [r["flag_id"] for r in store.queue(status="accepted")] == [ids["rice"]]
    assert [r["flag_id"] for r in store.queue(q="kantha")] == [ids["kantha"]]
    assert store.count(flag_type="service", district="Moradabad") == 1
    counts = store.counts(state="Uttar Pradesh", status="open")
    assert counts["status"] == {"open": 2, "accepted": 1, "rejected": 0, "corrected": 0, "resolved": 0}
    assert counts["flag_type"]["service"] == 1 and counts["flag_type"]["not_exported"] == 0
    order = [r["flag_id"] for r in store.queue(limit=None)]
    assert store.neighbours(order[2]) == (order[1], order[3])
    assert store.neighbours(order[0])[0] is None and store.position(order[3]) == 4
    # Next open: skips decided flags and wraps round.
    assert store.next_open(order[-1]) == next(f for f in order if f != ids["rice"])
    with pytest.raises(InputError, match="unknown status 'done'"):
        store.queue(status="done")


def test_corrections_become_overrides_for_the_next_run(store, flags):
    ids = _ids(flags)
    store.decide(ids["kantha"], "correct", "Asha", codes="57011010", note="a quilt")
    store.decide(ids["marine"], "correct", "Ravi", codes="03")
    store.decide(ids["marine"], "correct", "Ravi", codes="03 1604")  # the later one stands
    store.decide(ids["tourism"], "correct", "Ravi", codes="998552")
    store.decide(ids["tourism"], "reopen", "Ravi")                  # withdrawn
    store.decide(ids["kantha"], "accept", "Ravi")  # judging the flag keeps the correction
    assert _status(store, ids["kantha"]) == "accepted"
    assert store.standing_correction(ids["kantha"]).codes == ("57011010",)
    assert store.standing_correction(ids["tourism"]) is None
    overrides = store.overrides()
    assert set(overrides) == {"Nakshi kantha", "Marine products"}
    assert overrides["Nakshi kantha"] == Override("goods", ("57011010",),
                                                  f"Asha on {ids['kantha']}: a quilt")
    assert overrides["Marine products"].codes == ("03", "1604")
    # A correction whose flag is then resolved by the next run still applies.
    store.sync_flags(sample_flags(drop=("Nakshi kantha",)))
    assert "Nakshi kantha" in store.overrides()


def test_corrections_become_training_pairs(store, flags, tmp_path, ref_data):
    from hsmatch.nomenclature import Nomenclature
    from hsmatch.trainset import load_pairs

    ids = _ids(flags)
    store.decide(ids["kantha"], "correct", "Asha", codes="57011010", note="a quilt")
    store.decide(ids["marine"], "correct", "Ravi", codes="03 1604")
    store.decide(ids["rice"], "accept", "Ravi")
    training = tmp_path / "training"
    (training / "pairs").mkdir(parents=True)
    (training / "pairs" / "team.csv").write_text(
        "text,kind,codes,family,reason\nBasmati rice,goods,10063020,rice,team\n")
    path, n = store.to_training(training_dir=training)
    assert path == training / "reviewed" / "corrections.csv" and n == 2
    pairs = {p.text: p for p in load_pairs(training, Nomenclature.load(ref_data))}
    kantha = pairs["Nakshi kantha"]
    assert (kantha.kind, kantha.codes, kantha.family) == ("goods", ("57011010",), "review:nakshi kantha")
    assert kantha.reviewed and kantha.split == "train"
    assert "Asha" in kantha.reason and ids["kantha"] in kantha.reason and "a quilt" in kantha.reason
    assert pairs["Marine products"].codes == ("03", "1604")
    # Rewritten from the store each time: a withdrawn correction leaves the file.
    store.decide(ids["marine"], "reopen", "Ravi")
    assert store.to_training(training_dir=training)[1] == 1


def test_stores_that_cannot_be_opened_say_why(tmp_path):
    with pytest.raises(InputError, match="no review store at"):
        ReviewStore(tmp_path / "missing.sqlite", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all, just text " * 100)
    with pytest.raises(DataError, match="not a review store"):
        ReviewStore(junk)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE something (x)")
    with pytest.raises(DataError, match="not a review store"):
        ReviewStore(other)


def test_a_flags_file_with_the_wrong_columns_is_refused(tmp_path):
    bad = tmp_path / "flags.csv"
    bad.write_text("id,message\nF1,hello\n")
    with pytest.raises(DataError, match="missing column"):
        ReviewStore(tmp_path / "r.sqlite").sync_flags(bad)
