"""The `hsmatch` command: a thin layer over the library.

Library errors reach the user as one line ("error: ..."), never as a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from hsmatch.errors import HsmatchError, InputError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HsmatchError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Reference data folder (holds hs/ and districts/). Default: HSMATCH_DATA or ../shared/data.")
@click.option("--models", "models_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the built index and trained ranker. Default: HSMATCH_MODELS or ./models.")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(package_name="hsmatch")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, models_dir: str | None, verbose: bool) -> None:
    """Map product names to ITC-HS codes and check district export lists against trade data."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"data_dir": data_dir, "models_dir": models_dir}


def _classifier(ctx: click.Context) -> Any:
    from hsmatch.classify import Classifier

    return Classifier.load(models_dir=ctx.obj["models_dir"], data_dir=ctx.obj["data_dir"])


@cli.command()
@click.option("--force", is_flag=True, help="Rebuild everything, the distilled embedding model too.")
@click.pass_context
def build(ctx: click.Context, force: bool) -> None:
    """Build the retrieval index (and the distilled embedding model) under models/.

    Example: hsmatch build
    """
    from hsmatch.index import build_index

    path = build_index(data_dir_path=ctx.obj["data_dir"], models_path=ctx.obj["models_dir"],
                       force=force, progress=True)
    manifest = json.loads((path / "manifest.json").read_text())
    click.echo(f"built {path} in {manifest['build_seconds']} s: {manifest['counts']}")


def _format_match(match: Any, indent: str = "") -> list[str]:
    lines = [
        f"{indent}{match.text}",
        f"{indent}  kind: {match.kind}   code: {match.code or '-'}   confidence: {match.confidence:.2f}",
        f"{indent}  {match.reason}",
    ]
    if match.candidates:
        lines.append(f"{indent}  {'#':>2}  {'code':<8}  {'level':>5}  {'score':>6}  description")
        for rank, c in enumerate(match.candidates, start=1):
            lines.append(f"{indent}  {rank:>2}  {c.code:<8}  {c.level:>5}  {c.score:>6.3f}  "
                         f"{c.description[:80]}")
    for part in match.parts:
        lines.append(f"{indent}  part:")
        lines.extend(_format_match(part, indent + "    "))
    return lines


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="Candidates to return per name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--input", "input_path", type=click.Path(dir_okay=False),
              help="CSV of names to classify (with --column and --out).")
@click.option("--column", default="product", show_default=True, help="Column of --input holding the names.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="Where to write the matches (.csv, .parquet or .jsonl).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of --input.")
@click.pass_context
def classify(ctx: click.Context, names: tuple[str, ...], k: int, as_json: bool,
             input_path: str | None, column: str, out_path: str | None, encoding: str) -> None:
    """Classify product names given as arguments, or a CSV column.

    \b
    Examples:
      hsmatch classify "Basmati rice" "Agra petha"
      hsmatch classify "Marine products" --json
      hsmatch classify --input names.csv --column product --out matches.csv
    """
    if input_path:
        if names:
            raise InputError("give names as arguments or --input FILE, not both")
        if not out_path:
            raise InputError("--input needs --out FILE (.csv, .parquet or .jsonl)")
        from hsmatch.batch import classify_file

        summary = classify_file(input_path, out_path, column=column, k=k, encoding=encoding,
                                classifier=_classifier(ctx), progress=True)
        click.echo(summary)
        return
    if not names:
        raise InputError("give at least one name, for example: hsmatch classify \"Basmati rice\"")
    matches = _classifier(ctx).classify(list(names), k=k)
    if as_json:
        payload = [m.to_dict() for m in matches]
        click.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2,
                              ensure_ascii=False))
        return
    for match in matches:
        click.echo("\n".join(_format_match(match)))
        click.echo("")


@cli.command()
@click.option("--scorer", type=click.Choice(["mlp", "trees"]), default="trees", show_default=True,
              help="Candidate scorer: gradient-boosted trees (better on the held-out split) or a small MLP.")
@click.option("--all", "use_all", is_flag=True,
              help="Train on every pair, held-out families too (no evaluation is then possible).")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.pass_context
def train(ctx: click.Context, scorer: str, use_all: bool, seed: int) -> None:
    """Train the ranker on training_data/ (plus reviewed corrections) and evaluate it.

    The ranker is saved under models/ranker with its manifest, model card and the
    held-out evaluation report.

    Example: hsmatch train
    """
    from hsmatch.training import train as run_train

    results = run_train(models_path=ctx.obj["models_dir"], data_dir=ctx.obj["data_dir"],
                        kind=scorer, use="all" if use_all else "train", seed=seed)
    stats = results["training"]
    click.echo(f"trained a {stats['scorer']} ranker on {stats['pools']} names "
               f"(out-of-fold top-1 {stats['out_of_fold_top1_accuracy']:.3f})")
    if "full_knowledge_base" in results:
        from hsmatch.evaluate import markdown_report

        click.echo(markdown_report(results))


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for evaluation.md and evaluation.json (default: beside the ranker).")
@click.pass_context
def evaluate(ctx: click.Context, out_dir: str | None) -> None:
    """Evaluate classify() on the held-out product families and write the report.

    Example: hsmatch evaluate
    """
    from hsmatch.classify import _KnownCodes
    from hsmatch.evaluate import evaluate as run_evaluate
    from hsmatch.evaluate import markdown_report, write_reports
    from hsmatch.lexicon import load_lexicon
    from hsmatch.paths import models_dir
    from hsmatch.trainset import holding_out, load_pairs

    classifier = _classifier(ctx)
    manifest = getattr(classifier.ranker, "manifest", {})
    # The families the ranker was trained without (fold 0 unless trained otherwise).
    pairs = holding_out(load_pairs(None, _KnownCodes(classifier.index)), manifest.get("test_fold", 0))
    results = run_evaluate(classifier, pairs, load_lexicon(None, _KnownCodes(classifier.index)))
    if manifest.get("training"):
        results["training"] = manifest["training"]  # as `hsmatch train` writes it
    folder = Path(out_dir) if out_dir else models_dir(ctx.obj["models_dir"]) / "ranker"
    md, js = write_reports(results, folder)
    written = f"{md} and {js}"
    if not out_dir and manifest.get("training"):
        # The model card beside the ranker repeats the headline numbers: keep it in step.
        from hsmatch.training import write_model_card

        written = f"{md}, {js} and {write_model_card(folder, manifest, results)}"
    click.echo(markdown_report(results))
    click.echo(f"wrote {written}")


# --- District data: the name crosswalk and the synthetic HS8 stand-in ------------------


def _district_file(ctx: click.Context, given: str | None, name: str) -> str:
    if given:
        return given
    from hsmatch.paths import data_dir

    return str(data_dir(ctx.obj["data_dir"]) / "districts" / name)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


@cli.group()
def districts() -> None:
    """District product lists and the district name crosswalk."""


@districts.command("crosswalk")
@click.option("--products", type=click.Path(dir_okay=False), default=None,
              help="District list CSV (state, district, product[, list]). "
                   "Default: districts/odop_products.csv in the data folder.")
@click.option("--exports", type=click.Path(dir_okay=False), default=None,
              help="District exports (tidy schema or the DGCI&S sector file). "
                   "Default: districts/district_sector_exports_fy2025.csv.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary and rows as JSON.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the unmatched rows with their reasons (.csv, .parquet or .jsonl).")
@click.option("--all-out", "all_path", type=click.Path(dir_okay=False), default=None,
              help="Write every row with its match (.csv, .parquet or .jsonl).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of --products.")
@click.pass_context
def districts_crosswalk(ctx: click.Context, products: str | None, exports: str | None,
                        as_json: bool, out_path: str | None, all_path: str | None,
                        encoding: str) -> None:
    """Match a district list's names to the export file's districts.

    Prints the match rate (all rows, and per list) and every unmatched row with its
    reason; renamed and newer districts are resolved through hsmatch/district_aliases.csv.

    \b
    Examples:
      hsmatch districts crosswalk
      hsmatch districts crosswalk --products my_list.csv --out unmatched.csv
      hsmatch districts crosswalk --json
    """
    from hsmatch.batch import write_table
    from hsmatch.districts import crosswalk_files

    result = crosswalk_files(_district_file(ctx, products, "odop_products.csv"),
                             _district_file(ctx, exports, "district_sector_exports_fy2025.csv"),
                             encoding=encoding)
    unmatched = result.unmatched()
    columns = ["source_line", "list", "state", "district", "product", "match_status",
               "match_score", "match_reason"]
    if out_path:
        write_table(unmatched, out_path)
    if all_path:
        write_table(result.rows, all_path)
    if as_json:
        payload = {
            "summary": result.summary(),
            "unmatched": [{k: _json_safe(v) for k, v in row.items()}
                          for row in unmatched[columns].to_dict(orient="records")],
            "warnings": [w.to_dict() for w in result.warnings],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=_json_safe))
        return
    click.echo(result.format_summary())
    if len(unmatched):
        click.echo(f"\nunmatched rows ({len(unmatched)}):")
        for row in unmatched.itertuples(index=False):
            click.echo(f"  line {row.source_line:>4}  {row.state} / {row.district}: "
                       f"{row.match_status}: {row.match_reason}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    for path in (out_path, all_path):
        if path:
            click.echo(f"wrote {path}")


@cli.command("synth-exports")
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              default="out/district_hs8_synthetic.parquet", show_default=True,
              help="Output table (.parquet, .csv or .jsonl); the parameters go to "
                   "<name>.meta.json beside it.")
@click.option("--seed", default=0, show_default=True, help="Random seed (same seed, same table).")
@click.option("--exports", type=click.Path(dir_okay=False), default=None,
              help="District x sector exports. Default: "
                   "districts/district_sector_exports_fy2025.csv in the data folder.")
@click.option("--national", type=click.Path(dir_okay=False), default=None,
              help="National HS8 exports. Default: hs/india_exports_hs8.csv in the data folder.")
@click.pass_context
def synth_exports(ctx: click.Context, out_path: str, seed: int, exports: str | None,
                  national: str | None) -> None:
    """Build the labelled district x HS8 stand-in that agrees with every real total.

    Each district x sector value is spread over 8-digit codes by iterative proportional
    fitting, so that district x sector totals and national HS8 totals both hold; value
    the national table lacks goes to per-chapter residual rows (level hs2_residual).
    Every row is marked synthetic.

    \b
    Examples:
      hsmatch synth-exports
      hsmatch synth-exports --out out/hs8.csv --seed 7
    """
    from hsmatch.synth import SynthParams, sidecar_path
    from hsmatch.synth import synth_exports as run_synth

    result = run_synth(out_path, params=SynthParams(seed=seed), data_dir=ctx.obj["data_dir"],
                       exports_path=exports, national_path=national)
    report = result.report
    margins = report["margins"]
    counts = report["counts"]
    click.echo(f"wrote {counts['rows']:,} synthetic rows ({counts['districts']} districts, "
               f"{counts['national_codes']:,} HS8 codes, {counts['residual_rows']:,} residual "
               f"rows) to {out_path} in {report['run_seconds']:.1f} s "
               f"({report['total_seconds']:.1f} s with reading and writing)")
    click.echo(f"largest relative margin error: district x sector "
               f"{margins['district_sector_max_rel_error']:.1e}, national HS8 "
               f"{margins['national_hs8_max_rel_error']:.1e}, residuals "
               f"{margins['residual_max_rel_error']:.1e}")
    unallocated = report["unallocated_national"]
    if unallocated["usd"]:
        click.echo(f"not allocated: USD {unallocated['usd'] / 1e6:,.1f} M of national exports in "
                   f"{len(unallocated['codes'])} codes of chapters in no sector (see the sidecar)")
    click.echo(f"parameters, seed and checks: {sidecar_path(out_path)}")


# --- Scoring district lists against district exports ------------------------------------


@cli.command()
@click.option("--products", "products_path", type=click.Path(dir_okay=False), default=None,
              help="District list CSV (state, district, product[, list]). "
                   "Default: districts/odop_products.csv in the data folder.")
@click.option("--exports", "exports_path", type=click.Path(dir_okay=False), default=None,
              help="District exports (tidy CSV/Parquet, or the DGCI&S sector file). "
                   "Default: districts/district_sector_exports_fy2025.csv in the data folder.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/score",
              show_default=True, help="Folder for the tables and report.html.")
@click.option("--reviews", "reviews_db", type=click.Path(dir_okay=False), default=None,
              help="Review store (SQLite): reviewers' corrections override the classifier, and "
                   "this run's flags are synced into it (made if missing).")
@click.pass_context
def score(ctx: click.Context, products_path: str | None, exports_path: str | None, out_dir: str,
          reviews_db: str | None) -> None:
    """Score every district's listed products against its exports; write tables and a report.

    \b
    Examples:
      hsmatch score --out out/score
      hsmatch score --out out/score --reviews out/reviews.sqlite
      hsmatch synth-exports --out out/hs8.parquet
      hsmatch score --exports out/hs8.parquet --out out/score_hs8
    """
    from hsmatch.align import score_districts
    from hsmatch.districts import read_district_list
    from hsmatch.exports import read_district_exports
    from hsmatch.report import write_outputs

    lists = read_district_list(_district_file(ctx, products_path, "odop_products.csv"))
    exports = read_district_exports(_district_file(ctx, exports_path,
                                                   "district_sector_exports_fy2025.csv"),
                                    strict=False, check_codes=False)
    store = None
    if reviews_db:
        from hsmatch.review import ReviewStore

        store = ReviewStore(reviews_db, data_dir=ctx.obj["data_dir"])
    overrides = store.overrides() if store else None
    result = score_districts(lists, exports, classifier=_classifier(ctx), progress=True,
                             overrides=overrides, data_dir=ctx.obj["data_dir"])
    written = write_outputs(result, out_dir)
    counts = result.districts["alignment"].value_counts().to_dict()
    click.echo(f"scored {len(result.districts)} district lists ({result.meta['data_level']} data, "
               f"{'synthetic' if result.meta['synthetic'] else 'real'}): "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"{len(result.flags)} flags, {len(result.recommendations)} recommendations; "
               f"report: {written['report']}")
    if store is not None:
        synced = store.sync_flags(result.flags, source=str(written["flags"]),
                                  lists=result.meta["lists"])
        click.echo(f"{len(overrides or {})} reviewers' correction(s) applied; flags synced into "
                   f"{store.path}: {synced}")


# --- Reviewing flags: the review store, its web page, the CSV round trip ------------------

_db_option = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False), envvar="HSMATCH_REVIEWS",
    default="out/reviews.sqlite", show_default=True,
    help="The review store (SQLite). Also set by HSMATCH_REVIEWS.")


def _filter_options(command: Any) -> Any:
    from hsmatch.flags import FLAG_TYPES
    from hsmatch.review import STATUSES

    for option in reversed([
        click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status."),
        click.option("--flag-type", "flag_type", type=click.Choice(list(FLAG_TYPES)), default=None,
                     help="Only this flag type."),
        click.option("--state", default=None, help="Only this state (as in the list)."),
        click.option("--district", default=None, help="Only this district (as in the list)."),
        click.option("--list", "list_name", default=None, help="Only this list."),
    ]):
        command = option(command)
    return command


def _store(ctx: click.Context, db_path: str, *, create: bool = False) -> Any:
    from hsmatch.review import ReviewStore

    return ReviewStore(db_path, data_dir=ctx.obj["data_dir"], create=create)


@cli.group()
def review() -> None:
    """Review flags: a persistent queue, decisions, a local web page and a CSV round trip.

    \b
    Examples:
      hsmatch review sync --flags out/score/flags.csv
      hsmatch review serve
      hsmatch review export --out queue.csv --status open
      hsmatch review import queue.csv
      hsmatch review to-training
    """


@review.command("sync")
@click.option("--flags", "flags_path", type=click.Path(dir_okay=False), default="out/score/flags.csv",
              show_default=True, help="flags.csv of a scoring run.")
@_db_option
@click.pass_context
def review_sync(ctx: click.Context, flags_path: str, db_path: str) -> None:
    """Import a scoring run's flags into the review store (made if missing).

    New flags join the queue, flags seen before keep their decisions, and flags of the
    run's lists that it no longer raises are marked resolved (never deleted).

    Example: hsmatch review sync --flags out/score/flags.csv
    """
    store = _store(ctx, db_path, create=True)
    click.echo(f"{store.path}: {store.sync_flags(flags_path)}")


@review.command("export")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True,
              help="CSV to write (UTF-8 with a byte-order mark, for spreadsheets).")
@_filter_options
@_db_option
@click.pass_context
def review_export(ctx: click.Context, out_path: str, db_path: str, status: str | None,
                  flag_type: str | None, state: str | None, district: str | None,
                  list_name: str | None) -> None:
    """Write the review queue as a CSV for a spreadsheet.

    Fill the columns action (accept, reject, correct, note, reopen), kind and codes (for a
    correction), note and reviewer, then read it back with `hsmatch review import`. Keep
    the codes column as text so that leading zeros survive.

    Example: hsmatch review export --out queue.csv --status open --state "Uttar Pradesh"
    """
    store = _store(ctx, db_path)
    n = store.export_csv(out_path, status=status, flag_type=flag_type, state=state,
                         district=district, list=list_name)
    click.echo(f"wrote {n:,} flags to {out_path}")


@review.command("import")
@click.argument("csv_path", type=click.Path(dir_okay=False))
@_db_option
@click.pass_context
def review_import(ctx: click.Context, csv_path: str, db_path: str) -> None:
    """Read decisions back from a CSV made by `hsmatch review export`.

    Every row is checked; a row with an unknown flag id, an invalid code or no reviewer
    is reported with its line, and the valid rows are saved all the same (each on its
    own). Rows without an action are skipped; importing the same file twice adds nothing.
    Exits with status 1 when any row had an error.

    Example: hsmatch review import queue.csv
    """
    store = _store(ctx, db_path)
    report = store.import_csv(csv_path)
    click.echo(str(report))
    for error in report.errors:
        click.secho(f"  {error}", fg="red", err=True)
    if report.errors:
        ctx.exit(1)


@review.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The page has no login: keep it on 127.0.0.1.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one).")
@_db_option
@click.pass_context
def review_serve(ctx: click.Context, host: str, port: int, db_path: str) -> None:
    """Serve the review page: the queue with filters, each flag's evidence, decision buttons.

    Keys on a flag: a accept, r reject, c code, n note, j/k next/previous, q queue.
    Stop with Ctrl+C.

    Example: hsmatch review serve --port 8765
    """
    from hsmatch.review_web import serve

    store = _store(ctx, db_path)
    store.known  # noqa: B018 - load the nomenclature now, not on the first correction
    serve(store, host, port, ready=lambda server: click.echo(
        f"reviewing {store.path} at {server.url} (Ctrl+C stops)"))


@review.command("to-training")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Pairs file to write. Default: training_data/reviewed/corrections.csv "
                   "(HSMATCH_TRAINING_DATA moves training_data).")
@_db_option
@click.pass_context
def review_to_training(ctx: click.Context, out_path: str | None, db_path: str) -> None:
    """Write reviewers' corrections as training pairs for `hsmatch train`.

    One pair per corrected product name (its latest correction): text, kind, codes,
    family ("review:" + the name) and reason (who, which flag, the note). The file is
    rewritten from the store each time.

    Example: hsmatch review to-training && hsmatch train
    """
    path, n = _store(ctx, db_path).to_training(out_path)
    click.echo(f"wrote {n} reviewed pair(s) to {path}; `hsmatch train` now uses them")


@review.command("history")
@click.argument("flag_id")
@_db_option
@click.pass_context
def review_history(ctx: click.Context, flag_id: str, db_path: str) -> None:
    """Show one flag, its status and every decision on it.

    Example: hsmatch review history F2e3afaacae18
    """
    store = _store(ctx, db_path)
    flag = store.flag(flag_id)
    if flag is None:
        raise InputError(f"no flag {flag_id!r} in {store.path}")
    click.echo(f"{flag_id} {flag['flag_type']} [{flag['status']}] {flag['state']} / "
               f"{flag['district']} ({flag['list']})")
    click.echo(f"  {flag['message']}")
    for d in store.history(flag_id):
        codes = f" {d.kind} {' '.join(d.codes)}" if d.action == "correct" else ""
        note = f": {d.note}" if d.note else ""
        click.echo(f"  {d.decided_at}  {d.reviewer}  {d.action}{codes}{note}  ({d.source})")


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli(prog_name="hsmatch")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
