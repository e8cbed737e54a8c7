"""Fit the extractive answerer's sentence-score weights on a Q&A set (default: the dev set).

For every answerable question (and every part of a two-part one) it collects the candidate
sentences with their features, marks as "gold" those from an expected source that match
the question's ``must_include`` groups, and searches for weights that put a gold sentence
first (coordinate ascent from the current defaults). It prints the weights and the
top-1 / top-2 hit rates before and after; copy them into ``DEFAULT_WEIGHTS`` in
``rag/answer.py`` and check the held-back set with ``rag eval --qa eval/qa_test.jsonl``.

    python eval/tune_weights.py [--qa eval/qa_dev.jsonl]
"""

from __future__ import annotations

import argparse
import itertools
import re
from pathlib import Path

from rag.answer import DEFAULT_WEIGHTS
from rag.bot import ChatBot
from rag.evaluation import load_qa
from rag.text import fold


def _hits(ex, item, texts: dict[int, str], sid: int, need_all: bool) -> bool:
    """Is sentence ``sid`` gold: from an expected source, matching all (or any) groups?"""
    if ex.table.sentences[sid].article_id not in item.expected_sources:
        return False
    ok = [any(re.search(rx, texts[sid]) for rx in g) for g in item.must_include]
    return all(ok) if need_all else any(ok)


def collect(bot: ChatBot, qa_file: Path) -> list[list[tuple[dict[str, float], bool]]]:
    ex = bot.extractive
    groups = []
    for item in load_qa(qa_file):
        if not item.answerable:
            continue
        retrieval = bot.retrieve(item.question)
        for part in retrieval.parts or [retrieval]:
            cands = ex._candidates(part, ex._weights(part.query))
            texts = {c.sid: fold(ex.table.sentences[c.sid].text) for c in cands}
            need_all = any(_hits(ex, item, texts, c.sid, True) for c in cands)
            labelled = [(c.features, _hits(ex, item, texts, c.sid, need_all)) for c in cands]
            if any(gold for _, gold in labelled):
                groups.append(labelled)
    return groups


def objective(groups, weights: dict[str, float]) -> tuple[float, float]:
    top1 = top2 = 0
    for labelled in groups:
        ranked = sorted(labelled, key=lambda fg: -sum(weights.get(k, 0) * v for k, v in fg[0].items()))
        top1 += ranked[0][1]
        top2 += any(g for _, g in ranked[:2])
    return top1 / len(groups), top2 / len(groups)


def tune(groups, start: dict[str, float], rounds: int = 4) -> dict[str, float]:
    weights = dict(start)
    steps = [-0.3, -0.15, -0.05, 0.05, 0.15, 0.3]

    def value(w):
        t1, t2 = objective(groups, w)
        return t1 + 0.5 * t2

    best = value(weights)
    for _ in range(rounds):
        improved = False
        for key, step in itertools.product(sorted(weights), steps):
            if key == "cov":
                continue  # the scale is fixed by the coverage weight
            trial = dict(weights, **{key: round(weights[key] + step, 3)})
            v = value(trial)
            if v > best + 1e-9:
                best, weights, improved = v, trial, True
        if not improved:
            break
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, default=Path("eval/qa_dev.jsonl"))
    args = parser.parse_args()
    bot = ChatBot.from_settings()
    groups = collect(bot, args.qa)
    print(f"{len(groups)} question parts with a gold sentence among the candidates")
    print("current weights:", DEFAULT_WEIGHTS, "top1/top2:", objective(groups, DEFAULT_WEIGHTS))
    tuned = tune(groups, DEFAULT_WEIGHTS)
    print("tuned weights:  ", tuned, "top1/top2:", objective(groups, tuned))


if __name__ == "__main__":
    main()
