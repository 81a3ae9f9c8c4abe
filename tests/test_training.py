"""Training the ranker, its saved form, and feedback from corrections."""

import csv
import json
import shutil

import numpy as np
import pytest

from hsmatch.classify import Classifier
from hsmatch.errors import DataError, ModelError
from hsmatch.learned_ranker import MLP, Forest, LearnedRanker, fit_scorer, load_ranker
from hsmatch.training import CROSS_VALIDATION, cross_validation_lines, cross_validation_of
from hsmatch.trainset import FOLDS, family_split, holding_out, load_pairs


@pytest.fixture()
def workspace(fixture_models, training_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(fixture_models, models)
    training = tmp_path / "training"
    shutil.copytree(training_dir, training)
    return models, training


def test_pairs_load_and_split_by_family(training_dir):
    pairs = load_pairs(training_dir)
    assert len(pairs) == 31
    by_family = {}
    for p in pairs:
        by_family.setdefault(p.family, set()).add(p.split)
    assert all(len(splits) == 1 for splits in by_family.values())
    # Stable: the split depends on the family name only.
    assert family_split("rice") == family_split("rice")


def test_each_fold_holds_out_its_own_families(training_dir):
    pairs = load_pairs(training_dir)
    held = [{p.family for p in holding_out(pairs, fold) if p.split == "test"} for fold in range(FOLDS)]
    # Every family is held out by exactly one fold; fold 0 is the default split.
    assert sorted(f for fams in held for f in fams) == sorted({p.family for p in pairs})
    assert held[0] == {p.family for p in pairs if p.split == "test"}
    assert all(family_split(f, fold) == "test" for fold, fams in enumerate(held) for f in fams)
    with pytest.raises(ValueError, match=r"not one of 0\.\.4"):
        holding_out(pairs, FOLDS)


@pytest.mark.parametrize("row, message", [
    (["Rice", "goods", "1006", "rice", "r"], "8-digit"),
    (["Rice", "broad", "10063020", "rice", "r"], "chapters"),
    (["Tourism", "service", "1006", "t", "r"], "SAC"),
    (["Nothing", "unknown", "10063020", "n", "r"], "takes no codes"),
    (["Rice", "grain", "10063020", "rice", "r"], "not one of"),
    (["Rice", "goods", "10063020", "", "r"], "empty family"),
    (["Rice", "goods", "1006302", "rice", "r"], "line 2"),
])
def test_bad_pairs_are_named(tmp_path, row, message):
    (tmp_path / "pairs").mkdir()
    with open(tmp_path / "pairs" / "bad.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["text", "kind", "codes", "family", "reason"], row])
    with pytest.raises(DataError, match=message):
        load_pairs(tmp_path)


def test_conflicting_labels_are_an_error(tmp_path):
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "a.csv").write_text(
        "text,kind,codes,family,reason\nRice,goods,10063020,rice,x\nrice,goods,10063010,rice,y\n")
    with pytest.raises(DataError, match="keep one"):
        load_pairs(tmp_path)


def test_exported_scorers_equal_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    X = rng.random((2000, 6))
    y = ((X[:, 0] + X[:, 1] * X[:, 2]) > 0.8).astype(int)
    trees = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15).fit(X, y)
    Z = rng.random((300, 6))
    np.testing.assert_allclose(Forest.from_sklearn(trees).raw(Z), trees.decision_function(Z), atol=1e-9)
    mlp = fit_scorer(X, y, "mlp", seed=0)
    assert isinstance(mlp, MLP) and mlp.raw(Z).shape == (300,)
    with pytest.raises(ModelError, match="NaN"):
        Forest.from_sklearn(trees).raw(np.full((1, 6), np.nan))


def test_train_saves_a_ranker_that_loads_without_pickle(workspace, ref_data):
    from hsmatch.training import train

    models, training = workspace
    results = train(models_path=models, data_dir=ref_data, training_dir=training, kind="mlp")
    folder = models / "ranker"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scorer"] == "mlp" and manifest["training_data_sha256"]
    assert (folder / "README.md").read_text().startswith("# hsmatch ranker")
    assert (folder / "evaluation.md").is_file() and "full_knowledge_base" in results
    by_name = results["full_knowledge_base"]["by_name"]
    assert by_name["known"]["n"] + by_name["new"]["n"] == results["full_knowledge_base"]["goods_pairs"]
    assert "Known names and new names" in (folder / "evaluation.md").read_text()
    ranker = load_ranker(models)
    assert isinstance(ranker, LearnedRanker) and ranker.calibrated
    # The final confidence's weights are saved with it, and said in the manifest.
    assert ranker.joint is not None and ranker.joint.shape == (3,)
    assert manifest["joint_features"] == ["logit_p_right_if_goods", "logit_p_goods"]
    assert results["training"]["joint_names"] > 0
    classifier = Classifier.load(models_dir=models, data_dir=ref_data, training_dir=training)
    assert classifier.ranker.name == "learned-mlp"
    match = classifier.classify("Basmati rice")
    assert match.candidates[0].code == "10063020" and "uncalibrated" not in match.reason


def test_evaluate_command_reports_the_fold_the_ranker_held_out(workspace, ref_data, monkeypatch):
    from click.testing import CliRunner

    from hsmatch.cli import cli
    from hsmatch.training import train

    models, training = workspace
    train(models_path=models, data_dir=ref_data, training_dir=training, test_fold=2)
    monkeypatch.setenv("HSMATCH_TRAINING_DATA", str(training))
    result = CliRunner().invoke(cli, ["--data", str(ref_data), "--models", str(models), "evaluate"])
    assert result.exit_code == 0, result.output
    assert "(fold 2 of 5)" in result.output
    report = json.loads((models / "ranker" / "evaluation.json").read_text())
    held = {p.family for p in holding_out(load_pairs(training), 2) if p.split == "test"}
    assert report["split"]["test_fold"] == 2 and report["split"]["test_families"] == len(held)
    assert report["training"]["scorer"] == "trees"  # evaluate keeps what train recorded


def test_ranker_with_foreign_features_is_refused(workspace, ref_data):
    from hsmatch.training import train

    models, training = workspace
    train(models_path=models, data_dir=ref_data, training_dir=training, run_evaluation=False)
    path = models / "ranker" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["features"] = ["something", "else"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="other features"):
        load_ranker(models)
    # Retraining replaces it: training never reads the models it replaces.
    train(models_path=models, data_dir=ref_data, training_dir=training, run_evaluation=False)
    assert isinstance(load_ranker(models), LearnedRanker)


def test_a_correction_changes_the_answer_after_retraining(workspace, ref_data):
    from hsmatch.training import train

    models, training = workspace
    name = "Nakshi kantha quilt"
    before = Classifier.load(models_dir=models, data_dir=ref_data, training_dir=training).classify(name)
    wanted = next(c for c in ("57011010", "95030030", "69120010") if c != before.candidates[0].code)
    (training / "reviewed").mkdir()
    (training / "reviewed" / "corrections.csv").write_text(
        f"text,kind,codes,family,reason\n{name},goods,{wanted},review:kantha,reviewer correction\n")
    train(models_path=models, data_dir=ref_data, training_dir=training, run_evaluation=False)
    after = Classifier.load(models_dir=models, data_dir=ref_data, training_dir=training).classify(name)
    assert after.candidates[0].code == wanted != before.candidates[0].code


def test_joint_confidence_without_kind_model_or_weights():
    from hsmatch.ranker import joint_confidence

    assert joint_confidence(None, 0.8, None) == 0.8
    assert joint_confidence(None, 0.8, 0.5) == pytest.approx(0.4)
    # Weights (1, 0, 0): P(goods) is ignored and P(right | goods) passes through.
    assert joint_confidence(np.array([1.0, 0.0, 0.0]), 0.8, 0.3) == pytest.approx(0.8)


def test_joint_fit_is_calibrated_where_the_product_is_not():
    """Names that are goods: right with probability p_right whatever P(goods) says (0.6 to
    1); names that are not goods (P(goods) lower) are never right. The product of the two
    is then underconfident for goods; the fitted joint confidence is calibrated."""
    from hsmatch.evaluate import expected_calibration_error
    from hsmatch.learned_ranker import fit_joint
    from hsmatch.ranker import joint_confidence

    rng = np.random.default_rng(0)
    n = 4000
    goods = rng.random(n) < 0.85
    p_goods = np.where(goods, rng.uniform(0.6, 1.0, n), rng.uniform(0.4, 0.8, n))
    p_right = rng.uniform(0.05, 0.99, n)
    correct = goods & (rng.random(n) < p_right)
    joint = fit_joint(p_right, p_goods, correct)
    fitted = np.array([joint_confidence(joint, r, g) for r, g in zip(p_right, p_goods, strict=True)])
    product = p_right * p_goods
    ece_fitted = expected_calibration_error(fitted, correct.astype(float))[0]
    ece_product = expected_calibration_error(product, correct.astype(float))[0]
    assert ece_fitted < 0.03 < ece_product
    assert joint[0] > 0 and joint[1] > 0  # more sure of either, more sure of the answer


def test_labelled_pairs_join_the_knowledge_base_by_name(training_dir):
    from hsmatch.lexicon import load_lexicon
    from hsmatch.text import normalize

    base = load_lexicon(training_dir)
    pairs = load_pairs(training_dir)
    richer = base.with_pairs(pairs)
    added = {e.norm: e for e in richer.entries[len(base.entries):]}
    assert normalize("Pusa basmati chawal") in added
    assert added[normalize("Pusa basmati chawal")].codes == ("10063020",)
    # Non-products name nothing; a pair already in the lexicon is not added twice.
    assert normalize("Not applicable") not in added
    assert len(richer.with_pairs(pairs).entries) == len(richer.entries)
    # Held-out evaluation removes a family's pairs with its aliases.
    assert all(e.family != "rice" for e in richer.without_families({"rice"}).entries)


def test_the_subheading_most_likely_right_comes_first():
    from hsmatch.learned_ranker import subheading_first

    # One line of 010130 at 0.6 against three lines of 020110 at 0.5: P(some line of
    # 020110 is right) = 1 - 0.5**3 = 0.875 > 0.6, so 020110's best line leads.
    scores = np.array([0.6, 0.5, 0.49, 0.48, 0.1])
    groups = np.array(["010130", "020110", "020110", "020110", "030110"])
    order = subheading_first(scores, groups)
    assert order.tolist() == [1, 0, 2, 3, 4]
    # A lone strong line keeps its place.
    assert subheading_first(np.array([0.9, 0.3, 0.3]), np.array(["a", "b", "b"])).tolist() == [0, 1, 2]
    assert subheading_first(np.array([0.4]), np.array(["a"])).tolist() == [0]


def test_the_first_candidates_spread_over_subheadings():
    from hsmatch.learned_ranker import spread_subheadings

    # Scored order: four lines of 010130, then 020110 and 030110. The best two stay; the
    # next places go to the subheadings not yet shown, then the siblings follow.
    groups = np.array(["010130", "010130", "010130", "010130", "020110", "030110"])
    order = np.arange(6)
    assert spread_subheadings(order, groups, shown=4, kept=2).tolist() == [0, 1, 4, 5, 2, 3]
    # With no other subheading, the order is kept; every position appears once.
    same = np.array(["a"] * 4)
    assert spread_subheadings(np.array([2, 0, 1, 3]), same).tolist() == [2, 0, 1, 3]
    # Lines past the exactly scored ones never move up.
    assert spread_subheadings(order, groups, shown=4, kept=2, scope=4).tolist() == [0, 1, 2, 3, 4, 5]


def test_leading_orders_of_a_batch_equal_each_pool_ordered_alone():
    from hsmatch.learned_ranker import leading_orders, spread_subheadings, subheading_first

    rng = np.random.default_rng(1)
    sizes = [0, 1, 2, 3, 7, 12, 13, 40, 64, *rng.integers(1, 70, 60).tolist()]
    # Coarse scores and few subheadings: ties in score and shared subheadings everywhere.
    scores = rng.integers(0, 12, sum(sizes)) / 11.0
    groups = rng.integers(0, 6, sum(sizes))
    batch = leading_orders(scores, groups, sizes, places=7)
    start = 0
    for size, got in zip(sizes, batch, strict=True):
        s, g = scores[start:start + size], groups[start:start + size]
        start += size
        alone = spread_subheadings(subheading_first(s, g), g) if size else np.zeros(0, dtype=np.int64)
        assert got.tolist() == alone[:7].tolist()


def test_known_names_are_reported_apart_from_new_ones():
    from hsmatch.classify import Candidate, Match
    from hsmatch.evaluate import name_breakdown
    from hsmatch.trainset import Pair

    def match(code):
        return Match(text="", kind="goods", code=code, confidence=0.9,
                     candidates=[Candidate(code=code, description="", level=len(code), score=0.9)])

    pairs = [Pair("Basmati rice", "goods", ("10063020",), "basmati", "", "pairs/x.csv"),
             Pair("Kaya chips", "goods", ("20089999",), "banana_chips", "", "pairs/x.csv"),
             Pair("Tourism", "service", ("998552",), "tourism", "", "pairs/x.csv")]
    out = name_breakdown(pairs, [match("10063020"), match("08039010"), match("998552")], {"basmati rice"})
    assert out["known"] == {"n": 1, "hs4_top1": 1.0, "hs6_top1": 1.0, "hs8_top1": 1.0, "hs6_top5": 1.0}
    assert out["new"]["n"] == 1 and out["new"]["hs8_top1"] == 0.0


def _card_manifest(features=("word_sim", "alias_score")):
    return {"training_data_sha256": "abc", "features": list(features)}


def _fold(hs4):
    return {s: {"hs4_top1": hs4, "ece": 0.05, "goods_pairs": 600} for s in ("full_knowledge_base", "unseen_families")}


def test_model_card_headlines_the_cross_validation_of_its_own_model(tmp_path):
    manifest = _card_manifest()
    saved = {"model": cross_validation_of(manifest), "folds": {"0": _fold(0.80), "1": _fold(0.90)}}
    (tmp_path / CROSS_VALIDATION).write_text(json.dumps(saved))
    text = "\n".join(cross_validation_lines(tmp_path, manifest))
    assert "Mean ± sd over 2 folds" in text
    assert "| HS4 top-1 | 0.850 ± 0.071 | 0.850 ± 0.071 |" in text
    assert "HS6 top-1" not in text  # not measured in these folds: not shown
    # Retrained with other features (or data): the folds measured another model.
    other = "\n".join(cross_validation_lines(tmp_path, _card_manifest(("word_sim",))))
    assert "Not measured for this model" in other and "0.850" not in other
    # No file, or one in the old format without the model it measured.
    (tmp_path / CROSS_VALIDATION).write_text(json.dumps({"0": _fold(0.8), "1": _fold(0.9)}))
    assert "Not measured" in "\n".join(cross_validation_lines(tmp_path, manifest))
