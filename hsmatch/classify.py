"""classify(): free-text product names to ITC-HS codes, with the evidence.

A name is checked, split into parts when it lists several things, and each part is
resolved as a service (SAC codes), a broad category (the chapters/headings it covers)
or goods (ranked 8-digit lines from three retrievers and a ranker). A part the engine
cannot place with confidence keeps its candidates but gets no code, and says why.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

from hsmatch.errors import IndexOutOfDate, InputError, ModelError
from hsmatch.fuzzy import FuzzyIndex, NearTerms
from hsmatch.index import Index, build_index, load_index
from hsmatch.kind import KINDS, META_FEATURES, KindModel, meta_features
from hsmatch.lexicon import Lexicon, LexiconEntry, load_lexicon
from hsmatch.ranker import HeuristicRanker, Ranker, joint_confidence
from hsmatch.retrieve import EVIDENCE, FEATURE_INDEX, GoodsRetriever, Pool
from hsmatch.spelling import Speller, english_words
from hsmatch.text import (
    content_query,
    content_words,
    display_text,
    normalize,
    problem_with,
    split_strong,
    split_weak,
)

log = logging.getLogger(__name__)

# Without a trained kind model: a lexicon entry this close (rapidfuzz WRatio, 0-100) decides a part's kind.
LEXICON_KIND_SCORE = 90.0
# A broad name this close to a broad lexicon category is that category, and takes its codes;
# a looser hit ("Sanitary ware" ~ "Metal handicraft and art ware", 86) shares a word, not a
# meaning: the headings the name's own words point to serve better.
BROAD_SAME_SCORE = 95.0
# The headings a broad name's words point to: those whose best line scores at least this
# share of the best heading's. The pool's tail ("Brass handicrafts" -> rice, spices) would
# otherwise count as what the name covers when a district list is aligned.
BROAD_HEADING_SHARE = 0.25
# Evidence key of a line shown under a broad match's heading as an example, not as a code
# the name covers (alignment and the broad metrics read the headings only).
EXAMPLE_UNDER = "example_under_heading"
# A whole entry this close to a lexicon term is not split on "&" / "and" ("Gems & Jewellery").
LEXICON_NO_SPLIT_SCORE = 95.0
# Below both, nothing in the nomenclature resembles the text.
MIN_WORD_SIM, MIN_EMB_SIM = 0.08, 0.35
BATCH = 256
# From this many parts on, rapidfuzz's scoring (which releases the GIL) runs in background
# threads beside the batch's Python work; below it, a thread costs more than it saves.
BACKGROUND_MIN = 64
# Chunks whose embedding similarities are computed together (13 MB each for 256 names).
EMBED_AHEAD = 8
# Chunks whose rapidfuzz scores may be computed ahead of their use.
RAPIDFUZZ_AHEAD = 4
SERVICE_WORDS = frozenset({"service", "services", "tourism", "tourist", "hospitality", "ites",
                           "bpo", "software", "consultancy", "education", "healthcare"})
# The feature columns of each retriever's evidence on a candidate (see EVIDENCE).
_EVIDENCE_SIM = [FEATURE_INDEX[sim] for sim, _ in EVIDENCE.values()]
_EVIDENCE_RANK = [FEATURE_INDEX[rank] for _, rank in EVIDENCE.values() if rank]
_EVIDENCE_KEYS = [(name, f"{name}_rank" if rank else None) for name, (_, rank) in EVIDENCE.items()]


@dataclass(frozen=True)
class Candidate:
    """One possible code for a name, with the evidence of each retriever."""

    code: str
    description: str
    level: int
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def example(self) -> bool:
        """A line shown under a broad match's heading as an example, not a code it covers."""
        return EXAMPLE_UNDER in self.evidence

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description, "level": self.level,
                "score": round(self.score, 4), "evidence": self.evidence}


@dataclass
class Match:
    """The classification of one product name.

    ``kind`` is goods, broad, service or unknown. ``code`` is the best code, or None when
    the engine abstains (``reason`` says why). ``parts`` holds the separate matches of a
    compound entry such as "Coconut products, Tourism".
    """

    text: str
    kind: str
    code: str | None
    confidence: float
    candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""
    parts: list[Match] = field(default_factory=list)
    query: str = ""
    kind_probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def description(self) -> str | None:
        for candidate in self.candidates:
            if candidate.code == self.code:
                return candidate.description
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text, "kind": self.kind, "code": self.code,
            "description": self.description, "confidence": round(self.confidence, 4),
            "reason": self.reason, "query": self.query,
            "kind_probabilities": {k: round(v, 4) for k, v in self.kind_probabilities.items()},
            "candidates": [c.to_dict() for c in self.candidates],
            "parts": [p.to_dict() for p in self.parts],
        }

    def __repr__(self) -> str:
        return (f"Match(text={self.text!r}, kind={self.kind!r}, code={self.code!r}, "
                f"confidence={self.confidence:.2f}, candidates={len(self.candidates)}, "
                f"parts={len(self.parts)})")


def no_evidence(features: np.ndarray) -> bool:
    """Whether nothing in a pool resembles the name: no word, meaning or alias close."""
    F = FEATURE_INDEX
    return bool(features[:, F["word_sim"]].max(initial=0) < MIN_WORD_SIM
                and features[:, F["emb_sim"]].max(initial=0) < MIN_EMB_SIM
                and features[:, F["alias_score"]].max(initial=0) < 0.85)


def _unknown(text: str, reason: str, query: str = "") -> Match:
    return Match(text=text, kind="unknown", code=None, confidence=0.0, reason=reason, query=query)


class _EnglishWords:
    """Everyday English words for the speller, read once per process (30,000 words)."""

    _words: frozenset[str] | None = None

    @property
    def words(self) -> frozenset[str]:
        if self._words is None:
            type(self)._words = english_words()
        return self._words or frozenset()


_ENGLISH = _EnglishWords()


class Classifier:
    """Holds the built index, the lexicon and the ranker; classifies names."""

    def __init__(self, index: Index, lexicon: Lexicon, ranker: Ranker | None = None,
                 kind_model: KindModel | None = None) -> None:
        self.index = index
        self.lexicon = lexicon
        self.ranker: Ranker = ranker or HeuristicRanker()
        self.kind_model = kind_model
        self.goods = GoodsRetriever(index, lexicon)
        self._kind_entries: list[LexiconEntry] = [e for e in lexicon.entries if e.kind != "goods"]
        self._kind_norms = [e.norm for e in self._kind_entries]
        self._kind_index = FuzzyIndex(self._kind_norms, index.char_vectorizer)
        self._is_broad = np.array([e.kind == "broad" for e in self._kind_entries], dtype=bool)
        self._all_norms = [e.norm for e in lexicon.entries]
        self._near_terms = NearTerms(self._all_norms, LEXICON_NO_SPLIT_SCORE)
        self._group_text = dict(zip(index.groups.codes, index.groups.texts, strict=True))
        self._service_text = dict(zip(index.services.codes, index.services.texts, strict=True))
        self._goods_text = index.goods.texts
        self._goods_position = self.goods.position
        self._services_word_t = index.services.word.T.tocsr()
        # Known words: the nomenclature's (the word TF-IDF's single words) and the lexicon's.
        self.speller = Speller(chain((t for t in index.word_vectorizer.vocabulary_ if " " not in t),
                                     (w for norm in self._all_norms for w in norm.split())),
                              _ENGLISH.words)

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def load(cls, *, models_dir: str | os.PathLike[str] | None = None,
             data_dir: str | os.PathLike[str] | None = None,
             training_dir: str | os.PathLike[str] | None = None,
             build_if_missing: bool = True, progress: bool = True,
             trained_models: bool = True) -> Classifier:
        """Load the index (building it first if there is none or it is out of date),
        lexicon and ranker.

        ``trained_models=False`` leaves the trained ranker and kind model out: training
        must not depend on (or fail over) the models it is about to replace."""
        try:
            index = load_index(data_dir_path=data_dir, models_path=models_dir)
        except IndexOutOfDate as exc:
            # The index is a cache derived from the data: missing, stale or of an older
            # hsmatch, it is rebuilt rather than refused.
            if not build_if_missing:
                raise
            log.warning("%s; building it now (about half a minute)", str(exc).split(";")[0])
            build_index(data_dir_path=data_dir, models_path=models_dir, progress=progress)
            index = load_index(data_dir_path=data_dir, models_path=models_dir)
        known = _KnownCodes(index)
        from hsmatch.learned_ranker import load_ranker, ranker_dir
        from hsmatch.trainset import load_pairs

        # Every labelled name (the team's pairs and reviewers' corrections) is known by name.
        lexicon = load_lexicon(training_dir, known).with_pairs(load_pairs(training_dir, known))

        if not trained_models:
            return cls(index, lexicon)
        return cls(index, lexicon, load_ranker(models_dir), KindModel.load(ranker_dir(models_dir)))

    def with_lexicon(self, lexicon: Lexicon) -> Classifier:
        """The same index and models over another lexicon (for held-out evaluation)."""
        return Classifier(self.index, lexicon, self.ranker, self.kind_model)

    # -- public API --------------------------------------------------------------------
    def classify(self, values: object, k: int = 5, *, progress: bool = False) -> Match | list[Match]:
        """One name -> a Match; a list, tuple or pandas Series -> a list of Match in order."""
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        if isinstance(values, str) or values is None or not _is_sequence(values):
            return self.classify_batch([values], k=k)[0]
        return self.classify_batch(list(values), k=k, progress=progress)  # type: ignore[call-overload]

    def classify_batch(self, values: Sequence[object], k: int = 5, *,
                       progress: bool = False) -> list[Match]:
        """Classify many names at once; a bad value gets kind unknown and a reason."""
        results: list[Match | None] = [None] * len(values)
        part_texts: dict[int, list[str]] = {}
        to_split: dict[int, str] = {}
        for i, value in enumerate(values):
            if isinstance(value, str) and _looks_like_code(value):
                part_texts[i] = [display_text(value)]
                continue
            problem = problem_with(value)
            if problem:
                results[i] = _unknown(str(value)[:80] if isinstance(value, str) else repr(value)[:80],
                                      problem)
                continue
            to_split[i] = display_text(value)  # type: ignore[arg-type]
        normalized = _Normalized()
        part_texts.update(zip(to_split, self._split_many(list(to_split.values()), normalized),
                              strict=True))
        part_texts = dict(sorted(part_texts.items()))
        unique = list(dict.fromkeys(p for parts in part_texts.values() for p in parts))
        resolved = self._resolve_parts(unique, k, progress, normalized)
        for i, parts in part_texts.items():
            text = display_text(values[i])  # type: ignore[arg-type]
            matches = [resolved[p] for p in parts]
            results[i] = matches[0] if len(matches) == 1 and parts[0] == text else \
                _combine(text, matches, k, normalized[text])
        return [m for m in results if m is not None]

    # -- splitting ---------------------------------------------------------------------
    def _near_lexicon(self, norms: Sequence[str]) -> np.ndarray:
        """Whether each text is within LEXICON_NO_SPLIT_SCORE of a lexicon term (rapidfuzz
        token_sort_ratio, best over the lexicon), for a whole batch (see NearTerms)."""
        return self._near_terms.any_close(norms)

    def _split_many(self, texts: Sequence[str],
                    normalized: _Normalized | None = None) -> list[list[str]]:
        """The parts of each text: a text close to a lexicon term stays whole; else it is split
        on list separators, and each piece on "&"/"and" unless that piece is itself close to
        a lexicon term or a sub-piece would be under 3 letters."""
        normalized = _Normalized() if normalized is None else normalized
        # Per text: its strong pieces, each with its weak pieces when splitting them is
        # still in question (a lexicon check decides), else None (kept whole).
        pieces: dict[int, list[tuple[str, list[str] | None]]] = {}
        for i, text in enumerate(texts):
            pieces[i] = []
            for strong in split_strong(text):
                split = split_weak(strong)
                if len(split) < 2 or any(len(normalized[w]) < 3 for w in split):
                    pieces[i].append((strong, None))
                else:
                    pieces[i].append((strong, split))
        # A text that would not split at all needs no lexicon check (most names): the check
        # runs against thousands of terms.
        splits = [i for i in pieces if pieces[i] != [(texts[i], None)]]
        whole = self._near_lexicon([normalized[texts[i]] for i in splits])
        for i in np.asarray(splits)[whole].tolist():
            del pieces[i]
        asked = [normalized[strong] for i in pieces for strong, weak in pieces[i] if weak is not None]
        near = iter(self._near_lexicon(asked).tolist())
        out: list[list[str]] = []
        for i, text in enumerate(texts):
            if i not in pieces:
                out.append([text])
                continue
            parts: list[str] = []
            for strong, weak in pieces[i]:
                if weak is not None and not next(near):
                    parts.extend(weak)
                else:
                    parts.append(strong)
            out.append(list(dict.fromkeys(parts)) or [text])
        return out

    # -- resolving parts ---------------------------------------------------------------
    def lexicon_kind_scores(self, norms: list[str]) -> np.ndarray:
        """(n x lexicon) WRatio scores of each text against broad and service terms."""
        if not self._kind_norms or not norms:
            return np.zeros((len(norms), len(self._kind_norms)), dtype=np.float32)
        return self._kind_index.scores(norms)

    def _route(self, norm: str, row: np.ndarray) -> str:
        """Without a trained kind model: the lexicon decides, else services words, else goods."""
        best = int(np.argmax(row)) if row.size else -1
        if best >= 0 and float(row[best]) >= LEXICON_KIND_SCORE:
            return self._kind_entries[best].kind
        if SERVICE_WORDS & set(norm.split()):
            return "service"
        return "goods"

    def goods_pools(self, texts: Sequence[str]) -> list[tuple[str, Pool] | None]:
        """The goods query and candidate pool of each text (unsplit; None for a text with no
        words). Training and evaluation use this to see what the ranker sees."""
        norms = [normalize(t) for t in texts]
        return self._pools(norms, [i for i, n in enumerate(norms) if n])

    def _pools(self, norms: Sequence[str], chosen: Sequence[int],
               progress: bool = False) -> list[tuple[str, Pool] | None]:
        from tqdm.auto import tqdm

        out: list[tuple[str, Pool] | None] = [None] * len(norms)
        with _Background(len(chosen) >= BACKGROUND_MIN) as background:
            chunked = self._chunked_pools(norms, chosen, background)
            for chunk, pools, _ in tqdm(chunked, total=len(chunked.chunks), desc="classifying",
                                        unit="batch", disable=not progress):
                for i, pool in zip(chunk, pools, strict=True):
                    out[i] = pool
        return out

    def _chunked_pools(self, norms: Sequence[str], chosen: Sequence[int], background: _Background,
                       lexicon: bool = False, k: int = 5) -> _ChunkedPools:
        """The goods pools of the chosen texts, in chunks of BATCH, each chunk's rapidfuzz
        scores (alias scores, and with ``lexicon`` its :meth:`lexicon_kind_scores`) queued
        in ``background`` a few chunks ahead of their use."""
        chunks = [list(chosen[start:start + BATCH]) for start in range(0, len(chosen), BATCH)]
        queries = [[self.speller.text(content_query(norms[i])) for i in chunk] for chunk in chunks]
        return _ChunkedPools(self, norms, chunks, queries, background, lexicon, k)

    def _score(self, pools: Sequence[Pool], k: int = 5) -> None:
        """Rank every pool of a batch in one call (per-call overhead dominates small pools);
        exact for at least each pool's ``k`` best candidates (see Forest.raw_pools)."""
        if not pools:
            return
        sizes = [len(p.lines) for p in pools]
        scores = self.ranker.score_pools(np.vstack([p.features for p in pools]), sizes, k)
        bounds = np.cumsum(sizes)[:-1]
        # The first places of each pool's order (k shown; two for the confidence), all at once.
        groups = self.goods.hs6_id[np.concatenate([p.lines for p in pools])]
        orders = self.ranker.leading_orders(scores, groups, sizes, max(k, 2))
        for pool, part, order in zip(pools, np.split(scores, bounds), orders, strict=True):
            pool.scores, pool.order = part, order

    def kind_evidence(self, norms: Sequence[str], rows: np.ndarray,
                      pools: Sequence[tuple[str, Pool] | None]) -> tuple[np.ndarray, np.ndarray]:
        """The kind model's non-text inputs for each name: the evidence of
        :func:`hsmatch.kind.meta_features`, and the name's embedding (zeros without a pool)."""
        out = np.zeros((len(norms), len(META_FEATURES)))
        vectors = np.zeros((len(norms), self.goods.emb_t.shape[0]), dtype=np.float32)
        rows = np.asarray(rows)
        broad = rows[:, self._is_broad].max(axis=1, initial=0.0).tolist()
        service = rows[:, ~self._is_broad].max(axis=1, initial=0.0).tolist()
        for i, norm in enumerate(norms):
            pool = pools[i]
            out[i] = meta_features(norm, broad[i], service[i], pool[1].features if pool else None)
            if pool and pool[1].vector is not None:
                vectors[i] = pool[1].vector
        return out, vectors

    def kind_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(n x 4) P(goods, broad, service, unknown) of unsplit texts (needs a kind model)."""
        if self.kind_model is None:
            raise ModelError("no trained kind model; run `hsmatch train`")
        norms = [normalize(t) for t in texts]
        pools = self._pools(norms, [i for i, n in enumerate(norms) if n])
        meta, vectors = self.kind_evidence(norms, self.lexicon_kind_scores(norms), pools)
        return self.kind_model.probabilities(norms, meta, vectors)

    def _resolve_parts(self, parts: list[str], k: int, progress: bool,
                       normalized: _Normalized | None = None) -> dict[str, Match]:
        out: dict[str, Match] = {}
        normalized = _Normalized() if normalized is None else normalized
        norms = [normalized[p] for p in parts]
        todo: list[int] = []
        for i, (part, norm) in enumerate(zip(parts, norms, strict=True)):
            if not norm:
                out[part] = _unknown(part, "no words left after normalisation")
                continue
            code_match = self._code_input(part, norm)
            if code_match:
                out[part] = code_match
                continue
            todo.append(i)
        # Chunk by chunk (every step is row by row, so chunking changes no result), with
        # rapidfuzz's scoring of each chunk (alias scores, lexicon scores) queued in the
        # background, where it runs beside the Python work of the chunks before it.
        from tqdm.auto import tqdm

        with _Background(len(todo) >= BACKGROUND_MIN) as background:
            chunked = self._chunked_pools(norms, todo, background, lexicon=True, k=k)
            for chunk, pools, rows in tqdm(chunked, total=len(chunked.chunks), desc="classifying",
                                           unit="batch", disable=not progress):
                assert rows is not None
                self._resolve_chunk([parts[i] for i in chunk], [norms[i] for i in chunk],
                                    rows, pools, k, out)
        return out

    def _resolve_chunk(self, parts: list[str], norms: list[str], rows: np.ndarray,
                       pools: list[tuple[str, Pool]], k: int, out: dict[str, Match]) -> None:
        """Route each part by the kind model (or the lexicon) and match it; into ``out``."""
        probabilities: list[dict[str, float]] = [{} for _ in parts]
        if self.kind_model is not None and parts:
            meta, vectors = self.kind_evidence(norms, rows, pools)
            p = self.kind_model.probabilities(norms, meta, vectors)
            probabilities = [dict(zip(KINDS, map(float, p[j]), strict=True)) for j in range(len(parts))]
        for part, norm, row, pool, probs in zip(parts, norms, rows, pools, probabilities, strict=True):
            route = max(probs, key=probs.__getitem__) if probs else self._route(norm, row)
            if route == "service":
                match = self._service_match(part, norm, row, k, probs.get("service"))
            elif route == "broad":
                match = self._broad_match(part, norm, row, k, pool, probs.get("broad"))
            elif route == "unknown":
                # The nearest lines stay as candidates, for a reviewer to see what was near.
                nearest = self._goods_match(part, pool[0], pool[1], k, 0.0).candidates
                match = Match(part, "unknown", None, 0.0, nearest, (
                    f"not a product name (P(unknown) = {probs['unknown']:.2f}); "
                    f"next most likely: {_second(probs)}"), query=norm)
            else:
                match = self._goods_match(part, pool[0], pool[1], k, probs.get("goods"))
            if match.kind == "goods" and pool and pool[0] != content_query(norm):
                match.reason += f" (spelling read as '{pool[0]}')"
            match.kind_probabilities = probs
            out[part] = match

    def _code_input(self, part: str, norm: str) -> Match | None:
        digits = norm.replace(" ", "")
        if not digits.isdigit() or len(digits) != 8 or digits not in self._goods_position:
            return None
        position = self._goods_position[digits]
        candidate = Candidate(digits, self._goods_text[position], 8, 1.0, {"input_code": 1.0})
        return Match(part, "goods", digits, 1.0, [candidate], "the input is an ITC-HS code", query=norm)

    def _goods_match(self, part: str, query: str, pool: Pool, k: int, p_goods: float | None = None) -> Match:
        """``p_goods``: the kind model's P(goods) (None: no kind model)."""
        feats = pool.features
        evidence_floor = no_evidence(feats)
        if pool.scores is not None and pool.order is not None and len(pool.order) >= min(k, len(pool.lines)):
            scores, best_first = pool.scores, pool.order
        else:
            scores = pool.scores if pool.scores is not None else self.ranker.score(feats)
            best_first = self.ranker.order(scores, self.goods.hs6_id[pool.lines])
        candidates = self._line_candidates(pool, best_first[:k], scores)
        if evidence_floor or not candidates:
            return Match(part, "unknown", None, 0.0, candidates,
                         "nothing in the nomenclature or the alias index resembles this text",
                         query=query)
        # P(top candidate right), from P(the name is goods) and P(top right | goods).
        confidence = joint_confidence(self.ranker.joint, self.ranker.confidence(scores, feats, best_first),
                                      p_goods)
        top = candidates[0]
        if confidence < self.ranker.threshold:
            return Match(part, "goods", None, confidence, candidates,
                         f"not sure: the best candidate {top.code} ({top.description[:60]}) has "
                         f"confidence {confidence:.2f}, below the threshold {self.ranker.threshold:.2f}",
                         query=query)
        why = f"alias '{top.evidence['alias_term']}'" if "alias_term" in top.evidence else \
            "nomenclature text"
        note = "" if self.ranker.calibrated else " (uncalibrated heuristic ranker)"
        return Match(part, "goods", top.code, confidence, candidates,
                     f"matched on {why}{note}", query=query)

    def _line_candidates(self, pool: Pool, order: np.ndarray, scores: np.ndarray) -> list[Candidate]:
        """Candidates for the pool's lines at ``order``, with each retriever's evidence."""
        feats = pool.features
        # The shown candidates' numbers, taken out of numpy at once (same values as one by one).
        lines = pool.lines[order]
        sims = feats[order][:, _EVIDENCE_SIM].tolist()
        ranks = np.expm1(feats[order][:, _EVIDENCE_RANK]).tolist()
        exports = self.index.export_usd_m[lines].tolist()
        codes = self.index.goods.codes[lines].tolist()
        candidates = []
        for line, score, sim, rank, export, code in zip(lines.tolist(), scores[order].tolist(), sims,
                                                        ranks, exports, codes, strict=True):
            evidence: dict[str, Any] = {}
            ranked = iter(rank)
            for (name, rank_key), value in zip(_EVIDENCE_KEYS, sim, strict=True):
                evidence[name] = round(value, 4)
                if rank_key:
                    evidence[rank_key] = round(next(ranked)) + 1
            if line in pool.aliases:
                evidence["alias_term"] = pool.aliases[line]
            evidence["india_exports_usd_m"] = round(export, 2)
            candidates.append(Candidate(str(code), self._goods_text[line], 8, score, evidence))
        return candidates

    def _lexicon_hits(self, row: np.ndarray, kind: str, norm: str,
                      limit: int = 3) -> list[tuple[LexiconEntry, float]]:
        """The nearest lexicon terms of ``kind``. A term must share a meaningful word with
        the name: WRatio's partial matching finds "cotton based products" close to
        "potato based products" through their filler words alone."""
        words = content_words(norm)
        hits = []
        for j in np.argsort(-row):
            if row[j] < LEXICON_KIND_SCORE - 10:
                break
            entry = self._kind_entries[j]
            if entry.kind == kind and (not words or words & content_words(entry.norm)):
                hits.append((entry, float(row[j])))
                if len(hits) == limit:
                    break
        return hits

    def _broad_match(self, part: str, norm: str, row: np.ndarray, k: int,
                     pool: tuple[str, Pool] | None, p_broad: float | None) -> Match:
        """A broad category: the chapters/headings of the lexicon category it is, or, when
        it is none of them, the headings the goods candidates fall under."""
        hits = self._lexicon_hits(row, "broad", norm, limit=1)
        if hits and hits[0][1] >= BROAD_SAME_SCORE:
            entry, score = hits[0]
            candidates = [Candidate(code, self._group_text.get(code, ""), len(code),
                                    score / 100.0 * (1 - 0.01 * position),
                                    {"broad_category": entry.term, "lexicon_score": score})
                          for position, code in enumerate(entry.codes)]
            covered = ", ".join(entry.codes[:8]) + (" ..." if len(entry.codes) > 8 else "")
            reason = f"broad category '{entry.term}': covers {covered}; too broad for one code"
            confidence = score / 100.0
        else:
            candidates = self._headings_of_pool(pool, k) if pool else []
            covered = ", ".join(c.code for c in candidates)
            near = f"the nearest known category is '{hits[0][0].term}'" if hits else "no known category is near"
            reason = f"broad: too general for one code, and {near}; its words point to headings {covered or 'none'}"
            confidence = 0.0
            if pool and len(candidates) < k:
                # Room left: the best lines under those headings, for a reviewer to narrow
                # the name down ("Pumps" -> 8413, then its likeliest pump lines).
                lines = self._lines_under(pool, {c.code for c in candidates}, k - len(candidates))
                candidates += lines
                if lines:
                    reason += f"; likeliest lines under them: {', '.join(c.code for c in lines)}"
        if p_broad is not None:
            confidence = p_broad
            reason += f" (P(broad) = {p_broad:.2f})"
        return Match(part, "broad", None, confidence, candidates, reason, query=norm)

    def _headings_of_pool(self, pool: tuple[str, Pool], k: int) -> list[Candidate]:
        """The headings of the best goods candidates, each scored by its best line (those
        near the best heading only: see BROAD_HEADING_SHARE)."""
        lines, feats = pool[1].lines, pool[1].features
        scores = pool[1].scores if pool[1].scores is not None else self.ranker.score(feats)
        best: dict[str, tuple[float, str]] = {}
        for j in np.argsort(-scores, kind="stable"):
            code = str(self.index.goods.codes[int(lines[j])])
            if code[:4] not in best:
                best[code[:4]] = (float(scores[j]), code)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[:k]
        floor = ranked[0][1][0] * BROAD_HEADING_SHARE if ranked else 0.0
        return [Candidate(heading, self._group_text.get(heading, ""), 4, score, {"best_line": line})
                for heading, (score, line) in ranked if score >= floor]

    def _lines_under(self, pool: tuple[str, Pool], headings: set[str], k: int) -> list[Candidate]:
        """The ``k`` best goods candidates of ``pool`` that fall under ``headings``."""
        lines, feats = pool[1].lines, pool[1].features
        scores = pool[1].scores if pool[1].scores is not None else self.ranker.score(feats)
        best_first = self.ranker.order(scores, self.goods.hs6_id[lines])
        codes = self.index.goods.codes[lines[best_first]]
        under = [j for j, code in zip(best_first.tolist(), codes.tolist(), strict=True)
                 if str(code)[:4] in headings]
        examples = self._line_candidates(pool[1], np.array(under[:k], dtype=int), scores)
        for candidate in examples:
            candidate.evidence[EXAMPLE_UNDER] = candidate.code[:4]
        return examples

    def _service_match(self, part: str, norm: str, row: np.ndarray, k: int,
                       p_service: float | None) -> Match:
        hits = self._lexicon_hits(row, "service", norm)
        candidates: list[Candidate] = []
        seen: set[str] = set()
        for entry, score in hits:
            for position, code in enumerate(entry.codes):
                if code not in seen:
                    seen.add(code)
                    candidates.append(Candidate(code, self._service_text.get(code, ""), len(code),
                                                score / 100.0 * (1 - 0.01 * position),
                                                {"service_term": entry.term, "lexicon_score": score}))
        retrieved = self._retrieve_services(norm, k)
        for code, sim in retrieved:
            if code not in seen and len(candidates) < k:
                seen.add(code)
                candidates.append(Candidate(code, self._service_text.get(code, ""), len(code),
                                            sim, {"embedding_or_tfidf": round(sim, 4)}))
        candidates = candidates[:k]
        if hits:
            confidence, why = hits[0][1] / 100.0, f"services lexicon term '{hits[0][0].term}'"
        else:
            confidence = float(candidates[0].score) if candidates else 0.0
            why = "no services term is near; SAC codes retrieved from their descriptions"
        if p_service is not None:
            confidence = p_service
            why += f", P(service) = {p_service:.2f}"
        return Match(part, "service", candidates[0].code if candidates else None, confidence,
                     candidates, f"service ({why}); not checked against goods trade data", query=norm)

    def _retrieve_services(self, norm: str, k: int) -> list[tuple[str, float]]:
        ix = self.index
        vector = ix.embedder.encode([norm])
        emb = (vector @ ix.services.emb.T)[0]
        word = (ix.word_vectorizer.transform([norm]) @ self._services_word_t).toarray()[0]
        score = 0.6 * emb + 0.4 * word
        top = np.argsort(-score)[:k]
        return [(str(ix.services.codes[j]), float(score[j])) for j in top]


class _Normalized(dict[str, str]):
    """normalize() of each text, computed once for the texts of a batch."""

    def __missing__(self, text: str) -> str:
        self[text] = value = normalize(text)
        return value


@dataclass
class _ChunkedPools:
    """Goods pools to compute chunk by chunk (iterate: each chunk's positions, its (query,
    pool) pairs scored by the ranker, and, with ``lexicon``, its lexicon scores)."""

    classifier: Classifier
    norms: Sequence[str]
    chunks: list[list[int]]
    queries: list[list[str]]
    background: _Background
    lexicon: bool = False
    k: int = 5  # candidates wanted per name: the pools' scores are exact for at least these

    def _queue(self, j: int) -> tuple[Future[np.ndarray], Future[np.ndarray] | None]:
        engine = self.classifier
        alias = self.background.submit(engine.goods.alias_scores, self.queries[j])
        rows = self.background.submit(engine.lexicon_kind_scores,
                                      [self.norms[i] for i in self.chunks[j]]) if self.lexicon else None
        return alias, rows

    def __iter__(self) -> Iterator[tuple[list[int], list[tuple[str, Pool]], np.ndarray | None]]:
        engine = self.classifier
        # rapidfuzz's work runs RAPIDFUZZ_AHEAD chunks ahead (in order), beside this work.
        queued = deque(self._queue(j) for j in range(min(RAPIDFUZZ_AHEAD, len(self.chunks))))
        for group in range(0, len(self.chunks), EMBED_AHEAD):
            # The embedding similarities of a few chunks back to back (each chunk's own
            # product, as always): OpenBLAS's threads busy-wait about 0.1 s after each
            # product, which on 2 cores takes a core from the rest; this pays it once a group.
            members = list(range(group, min(group + EMBED_AHEAD, len(self.chunks))))
            vectors = [engine.index.embedder.encode(self.queries[j]) for j in members]
            embs = [engine.goods.embedding_similarities(v) for v in vectors]
            for j in members:
                if j + RAPIDFUZZ_AHEAD < len(self.chunks):
                    queued.append(self._queue(j + RAPIDFUZZ_AHEAD))
                alias, rows = queued.popleft()
                queries = self.queries[j]
                pools = engine.goods.pools(queries, vectors.pop(0), alias, embs.pop(0))
                engine._score(pools, self.k)
                yield (self.chunks[j], list(zip(queries, pools, strict=True)),
                       None if rows is None else rows.result())


_T = TypeVar("_T")


class _Background:
    """Runs work that releases the GIL (rapidfuzz's scoring) in background threads, or,
    when not enabled, at once in the calling thread. The results are the same either way."""

    def __init__(self, enabled: bool) -> None:
        # One worker: the tasks run in the order they were queued.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hsmatch") \
            if enabled else None

    def submit(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        if self._executor is not None:
            return self._executor.submit(fn, *args)
        done: Future[_T] = Future()
        try:
            done.set_result(fn(*args))
        except Exception as exc:
            done.set_exception(exc)
        return done

    def __enter__(self) -> _Background:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)


class _KnownCodes:
    """Membership test for lexicon codes against what the index holds."""

    def __init__(self, index: Index) -> None:
        self.exact = set(index.goods.codes) | set(index.services.codes) | set(index.groups.codes)
        self.prefixes = {c[:n] for c in index.goods.codes for n in (2, 4, 6)}
        self.prefixes |= {c[:n] for c in index.services.codes for n in (2, 4)}

    def __contains__(self, code: object) -> bool:
        return code in self.exact or code in self.prefixes


def _second(probabilities: dict[str, float]) -> str:
    ranked = sorted(probabilities.items(), key=lambda item: -item[1])
    return f"{ranked[1][0]} ({ranked[1][1]:.2f})" if len(ranked) > 1 else "none"


def _looks_like_code(value: str) -> bool:
    digits = value.strip().replace(".", "").replace(" ", "")
    return digits.isdigit() and len(digits) == 8


def _is_sequence(values: object) -> bool:
    return isinstance(values, Iterable) and not isinstance(values, str | bytes | dict)


def _combine(text: str, parts: list[Match], k: int, query: str | None = None) -> Match:
    """The Match of a compound entry from the matches of its parts."""
    known = [p for p in parts if p.kind != "unknown"] or parts
    kinds = {p.kind for p in known}
    codes = {p.code for p in known}
    confidence = min(p.confidence for p in known)
    candidates: list[Candidate] = []
    seen: set[str] = set()
    # Round robin over the parts: what each names first, then broad parts' example lines.
    for examples in (False, True):
        ranked = [[c for c in p.candidates if c.example == examples] for p in known]
        for rank in range(k):
            for own in ranked:
                if rank < len(own) and len(candidates) < k and own[rank].code not in seen:
                    seen.add(own[rank].code)
                    candidates.append(own[rank])
    names = "; ".join(f"{p.text} -> {p.kind} {p.code or ''}".strip() for p in parts)
    if len(kinds) == 1:
        kind = kinds.pop()
        code = codes.pop() if len(codes) == 1 else None
        reason = f"compound entry of {len(parts)} parts ({names})"
        if code is None and kind == "goods":
            reason += "; no single code covers them, see .parts"
    else:
        kind, code = "broad", None
        reason = f"compound entry mixing {', '.join(sorted(kinds))} ({names}); see .parts"
    return Match(text, kind, code, confidence, candidates, reason, parts=parts,
                 query=normalize(text) if query is None else query)


# -- module-level convenience -------------------------------------------------------------
_default: Classifier | None = None
_lock = threading.Lock()


def load_model(*, models_dir: str | os.PathLike[str] | None = None,
               data_dir: str | os.PathLike[str] | None = None,
               training_dir: str | os.PathLike[str] | None = None,
               build_if_missing: bool = True) -> Classifier:
    """Load a :class:`Classifier` (and make it the one :func:`classify` uses)."""
    global _default
    with _lock:
        _default = Classifier.load(models_dir=models_dir, data_dir=data_dir,
                                   training_dir=training_dir, build_if_missing=build_if_missing)
        return _default


def classify(values: object, k: int = 5, *, progress: bool = False) -> Match | list[Match]:
    """Classify one product name (-> Match) or many (-> list of Match, input order).

    The first call loads the model, building the index once if it is missing.
    """
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Classifier.load()
    return _default.classify(values, k=k, progress=progress)
