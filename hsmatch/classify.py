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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from hsmatch.errors import InputError, ModelError
from hsmatch.index import Index, build_index, load_index
from hsmatch.kind import KINDS, KindModel, meta_features
from hsmatch.lexicon import Lexicon, LexiconEntry, load_lexicon
from hsmatch.ranker import HeuristicRanker, Ranker
from hsmatch.retrieve import EVIDENCE, FEATURE_INDEX, GoodsRetriever, Pool
from hsmatch.text import (
    content_query,
    display_text,
    normalize,
    problem_with,
    split_strong,
    split_weak,
)

log = logging.getLogger(__name__)

# Without a trained kind model: a lexicon entry this close (rapidfuzz WRatio, 0-100) decides a part's kind.
LEXICON_KIND_SCORE = 90.0
# A whole entry this close to a lexicon term is not split on "&" / "and" ("Gems & Jewellery").
LEXICON_NO_SPLIT_SCORE = 95.0
# Below both, nothing in the nomenclature resembles the text.
MIN_WORD_SIM, MIN_EMB_SIM = 0.08, 0.35
BATCH = 256
SERVICE_WORDS = frozenset({"service", "services", "tourism", "tourist", "hospitality", "ites",
                           "bpo", "software", "consultancy", "education", "healthcare"})


@dataclass(frozen=True)
class Candidate:
    """One possible code for a name, with the evidence of each retriever."""

    code: str
    description: str
    level: int
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

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


def _unknown(text: str, reason: str, query: str = "") -> Match:
    return Match(text=text, kind="unknown", code=None, confidence=0.0, reason=reason, query=query)


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
        self._is_broad = np.array([e.kind == "broad" for e in self._kind_entries], dtype=bool)
        self._all_norms = [e.norm for e in lexicon.entries]
        self._group_text = dict(zip(index.groups.codes, index.groups.texts, strict=True))
        self._service_text = dict(zip(index.services.codes, index.services.texts, strict=True))
        self._goods_text = index.goods.texts
        self._goods_position = self.goods.position
        self._services_word_t = index.services.word.T.tocsr()

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def load(cls, *, models_dir: str | os.PathLike[str] | None = None,
             data_dir: str | os.PathLike[str] | None = None,
             training_dir: str | os.PathLike[str] | None = None,
             build_if_missing: bool = True, progress: bool = True) -> Classifier:
        """Load the index (building it first if there is none), lexicon and ranker."""
        try:
            index = load_index(data_dir_path=data_dir, models_path=models_dir)
        except ModelError as exc:
            if not build_if_missing or "no built index" not in str(exc):
                raise
            log.warning("no built index yet; building it once (a few minutes)")
            build_index(data_dir_path=data_dir, models_path=models_dir, progress=progress)
            index = load_index(data_dir_path=data_dir, models_path=models_dir)
        known = _KnownCodes(index)
        lexicon = load_lexicon(training_dir, known)
        from hsmatch.learned_ranker import load_ranker, ranker_dir

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
        for i, value in enumerate(values):
            if isinstance(value, str) and _looks_like_code(value):
                part_texts[i] = [display_text(value)]
                continue
            problem = problem_with(value)
            if problem:
                results[i] = _unknown(str(value)[:80] if isinstance(value, str) else repr(value)[:80],
                                      problem)
                continue
            text = display_text(value)  # type: ignore[arg-type]
            part_texts[i] = self._split(text)
        unique = list(dict.fromkeys(p for parts in part_texts.values() for p in parts))
        resolved = self._resolve_parts(unique, k, progress)
        for i, parts in part_texts.items():
            text = display_text(values[i])  # type: ignore[arg-type]
            matches = [resolved[p] for p in parts]
            results[i] = matches[0] if len(matches) == 1 and parts[0] == text else \
                _combine(text, matches, k)
        return [m for m in results if m is not None]

    # -- splitting ---------------------------------------------------------------------
    def _lexicon_score(self, norm: str) -> float:
        if not self._all_norms:
            return 0.0
        best = process.extractOne(norm, self._all_norms, scorer=fuzz.token_sort_ratio)
        return float(best[1]) if best else 0.0

    def _split(self, text: str) -> list[str]:
        if self._lexicon_score(normalize(text)) >= LEXICON_NO_SPLIT_SCORE:
            return [text]
        parts: list[str] = []
        for strong in split_strong(text):
            weak = split_weak(strong)
            keep_whole = (len(weak) < 2 or self._lexicon_score(normalize(strong)) >= LEXICON_NO_SPLIT_SCORE
                          or any(len(normalize(w)) < 3 for w in weak))
            parts.extend([strong] if keep_whole else weak)
        return list(dict.fromkeys(parts)) or [text]

    # -- resolving parts ---------------------------------------------------------------
    def lexicon_kind_scores(self, norms: list[str]) -> np.ndarray:
        """(n x lexicon) WRatio scores of each text against broad and service terms."""
        if not self._kind_norms or not norms:
            return np.zeros((len(norms), len(self._kind_norms)), dtype=np.float32)
        return process.cdist(norms, self._kind_norms, scorer=fuzz.WRatio, workers=-1)

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
        chunks = range(0, len(chosen), BATCH)
        for start in tqdm(chunks, desc="classifying", unit="batch", disable=not progress):
            chunk = chosen[start:start + BATCH]
            queries = [content_query(norms[i]) for i in chunk]
            pools = self.goods.pools(queries, self.index.embedder.encode(queries))
            self._score(pools)
            for i, query, pool in zip(chunk, queries, pools, strict=True):
                out[i] = (query, pool)
        return out

    def _score(self, pools: Sequence[Pool]) -> None:
        """Rank every pool of a batch in one call (per-call overhead dominates small pools)."""
        if not pools:
            return
        scores = self.ranker.score(np.vstack([p.features for p in pools]))
        bounds = np.cumsum([len(p.lines) for p in pools])[:-1]
        for pool, part in zip(pools, np.split(scores, bounds), strict=True):
            pool.scores = part

    def kind_evidence(self, norms: Sequence[str], rows: np.ndarray,
                      pools: Sequence[tuple[str, Pool] | None]) -> np.ndarray:
        """The kind model's non-text inputs for each name (see :func:`hsmatch.kind.meta_features`)."""
        out = np.zeros((len(norms), 9))
        for i, norm in enumerate(norms):
            row = rows[i]
            broad = float(row[self._is_broad].max(initial=0.0)) if row.size else 0.0
            service = float(row[~self._is_broad].max(initial=0.0)) if row.size else 0.0
            pool = pools[i]
            out[i] = meta_features(norm, broad, service, pool[1].features if pool else None)
        return out

    def kind_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(n x 4) P(goods, broad, service, unknown) of unsplit texts (needs a kind model)."""
        if self.kind_model is None:
            raise ModelError("no trained kind model; run `hsmatch train`")
        norms = [normalize(t) for t in texts]
        pools = self._pools(norms, [i for i, n in enumerate(norms) if n])
        meta = self.kind_evidence(norms, self.lexicon_kind_scores(norms), pools)
        return self.kind_model.probabilities(norms, meta)

    def _resolve_parts(self, parts: list[str], k: int, progress: bool) -> dict[str, Match]:
        out: dict[str, Match] = {}
        norms = [normalize(p) for p in parts]
        rows = self.lexicon_kind_scores(norms)
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
        pools = self._pools(norms, todo, progress)
        probabilities: dict[int, dict[str, float]] = {}
        if self.kind_model is not None and todo:
            meta = self.kind_evidence([norms[i] for i in todo], rows[todo], [pools[i] for i in todo])
            p = self.kind_model.probabilities([norms[i] for i in todo], meta)
            probabilities = {i: dict(zip(KINDS, map(float, p[j]), strict=True)) for j, i in enumerate(todo)}
        for i in todo:
            part, norm, row, pool = parts[i], norms[i], rows[i], pools[i]
            probs = probabilities.get(i, {})
            route = max(probs, key=probs.__getitem__) if probs else self._route(norm, row)
            if route == "service":
                match = self._service_match(part, norm, row, k, probs.get("service"))
            elif route == "broad":
                match = self._broad_match(part, norm, row, k, pool, probs.get("broad"))
            elif route == "unknown":
                # The nearest lines stay as candidates, for a reviewer to see what was near.
                nearest = self._goods_match(part, pool[0], pool[1], k, 0.0).candidates if pool else []
                match = Match(part, "unknown", None, 0.0, nearest, (
                    f"not a product name (P(unknown) = {probs['unknown']:.2f}); "
                    f"next most likely: {_second(probs)}"), query=norm)
            else:
                assert pool is not None
                match = self._goods_match(part, pool[0], pool[1], k, probs.get("goods", 1.0))
            match.kind_probabilities = probs
            out[part] = match
        return out

    def _code_input(self, part: str, norm: str) -> Match | None:
        digits = norm.replace(" ", "")
        if not digits.isdigit() or len(digits) != 8 or digits not in self._goods_position:
            return None
        position = self._goods_position[digits]
        candidate = Candidate(digits, self._goods_text[position], 8, 1.0, {"input_code": 1.0})
        return Match(part, "goods", digits, 1.0, [candidate], "the input is an ITC-HS code", query=norm)

    def _goods_match(self, part: str, query: str, pool: Pool, k: int, p_goods: float = 1.0) -> Match:
        feats = pool.features
        F = FEATURE_INDEX
        evidence_floor = (feats[:, F["word_sim"]].max(initial=0) < MIN_WORD_SIM
                          and feats[:, F["emb_sim"]].max(initial=0) < MIN_EMB_SIM
                          and feats[:, F["alias_score"]].max(initial=0) < 0.85)
        scores = pool.scores if pool.scores is not None else self.ranker.score(feats)
        order = np.argsort(-scores, kind="stable")[:k]
        candidates = []
        for j in order:
            line = int(pool.lines[j])
            evidence: dict[str, Any] = {}
            for name, (sim, rank) in EVIDENCE.items():
                evidence[name] = round(float(feats[j, F[sim]]), 4)
                if rank:
                    evidence[f"{name}_rank"] = round(float(np.expm1(feats[j, F[rank]]))) + 1
            if line in pool.aliases:
                evidence["alias_term"] = pool.aliases[line]
            evidence["india_exports_usd_m"] = round(float(self.index.export_usd_m[line]), 2)
            candidates.append(Candidate(str(self.index.goods.codes[line]), self._goods_text[line], 8,
                                        float(scores[j]), evidence))
        if evidence_floor or not candidates:
            return Match(part, "unknown", None, 0.0, candidates,
                         "nothing in the nomenclature or the alias index resembles this text",
                         query=query)
        # P(top candidate right) = P(the name is goods) x P(top right | goods).
        confidence = p_goods * self.ranker.confidence(scores, feats)
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

    def _lexicon_hits(self, row: np.ndarray, kind: str, limit: int = 3) -> list[tuple[LexiconEntry, float]]:
        hits = [(self._kind_entries[j], float(row[j])) for j in np.argsort(-row)
                if self._kind_entries[j].kind == kind and row[j] >= LEXICON_KIND_SCORE - 10]
        return hits[:limit]

    def _broad_match(self, part: str, norm: str, row: np.ndarray, k: int,
                     pool: tuple[str, Pool] | None, p_broad: float | None) -> Match:
        """A broad category: the chapters/headings of the nearest lexicon category, or, when
        no category is near, the headings the goods candidates fall under."""
        hits = self._lexicon_hits(row, "broad", limit=1)
        if hits:
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
            reason = (f"broad: too general for one code, and no known category is near; "
                      f"its words point to headings {covered or 'none'}")
            confidence = 0.0
        if p_broad is not None:
            confidence = p_broad
            reason += f" (P(broad) = {p_broad:.2f})"
        return Match(part, "broad", None, confidence, candidates, reason, query=norm)

    def _headings_of_pool(self, pool: tuple[str, Pool], k: int) -> list[Candidate]:
        """The headings of the best goods candidates, each scored by its best line."""
        lines, feats = pool[1].lines, pool[1].features
        scores = pool[1].scores if pool[1].scores is not None else self.ranker.score(feats)
        best: dict[str, tuple[float, str]] = {}
        for j in np.argsort(-scores, kind="stable"):
            code = str(self.index.goods.codes[int(lines[j])])
            if code[:4] not in best:
                best[code[:4]] = (float(scores[j]), code)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[:k]
        return [Candidate(heading, self._group_text.get(heading, ""), 4, score, {"best_line": line})
                for heading, (score, line) in ranked]

    def _service_match(self, part: str, norm: str, row: np.ndarray, k: int,
                       p_service: float | None) -> Match:
        hits = self._lexicon_hits(row, "service")
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


def _combine(text: str, parts: list[Match], k: int) -> Match:
    """The Match of a compound entry from the matches of its parts."""
    known = [p for p in parts if p.kind != "unknown"] or parts
    kinds = {p.kind for p in known}
    codes = {p.code for p in known}
    confidence = min(p.confidence for p in known)
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for rank in range(k):
        for part in known:
            if rank < len(part.candidates) and len(candidates) < k:
                candidate = part.candidates[rank]
                if candidate.code not in seen:
                    seen.add(candidate.code)
                    candidates.append(candidate)
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
    return Match(text, kind, code, confidence, candidates, reason, parts=parts, query=normalize(text))


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
