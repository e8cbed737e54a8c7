"""Evaluation: run a Q&A set (eval/FORMAT.md) through the chatbot and score it.

Covers: loading and validating a Q&A set, answering every question (timed), scoring by
FORMAT.md's rules (answer, citation and abstention accuracy, false abstentions, overall),
retrieval metrics over ``expected_sources`` (Recall@1/5, MRR@10, nDCG@10 on the ranked,
de-duplicated article ids), latency percentiles, per-type accuracy, an optional
LLM-as-judge column, the vanilla LangChain baseline side by side, and the outputs:
``results.jsonl``, ``metrics.json``, ``report.md``, ``report.png``.
Does not cover: answering itself (``rag.bot``).
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import RagError
from rag.text import fold

Progress = Callable[[int, int, str], None]
TOP_RETRIEVED = 10


# ---------------------------------------------------------------- the Q&A set


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    lang: str
    answerable: bool
    expected_sources: tuple[str, ...]
    must_include: tuple[tuple[str, ...], ...]
    reference: str = ""
    type: str = "untyped"


def load_qa(path: Path) -> list[QAItem]:
    """Read a Q&A set; a malformed line raises a ``RagError`` naming the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise RagError(f"Cannot read the Q&A set {path}.", "Pass a UTF-8 JSON Lines file (see eval/FORMAT.md).") from err
    items, seen = [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            item = QAItem(
                id=str(d["id"]),
                question=str(d["question"]),
                lang=str(d.get("lang", "en")),
                answerable=bool(d.get("answerable", True)),
                expected_sources=tuple(d.get("expected_sources", [])),
                must_include=tuple(tuple(group) for group in d.get("must_include", [])),
                reference=str(d.get("reference", "")),
                type=str(d.get("type") or ("unanswerable" if not d.get("answerable", True) else "untyped")),
            )
            for group in item.must_include:
                for rx in group:
                    re.compile(rx)
        except (ValueError, KeyError, TypeError, re.error) as err:
            raise RagError(f"{path} line {n} is not a valid Q&A item ({err}).", "See eval/FORMAT.md.") from err
        if item.id in seen:
            raise RagError(f"{path} line {n}: duplicate id {item.id!r}.", "Give every question its own id.")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise RagError(f"The Q&A set {path} is empty.", "Add questions (see eval/FORMAT.md).")
    return items


# ---------------------------------------------------------------- scoring (FORMAT.md)


def matches(groups: tuple[tuple[str, ...], ...], text: str) -> bool:
    """Every group has an expression matching the accent-folded, lower-cased text."""
    folded = fold(text)
    return all(any(re.search(rx, folded) for rx in group) for group in groups)


def score_row(item: QAItem, row: dict) -> dict:
    """Judge one result row by FORMAT.md: correct answer, citation, abstention."""
    citations = row.get("citations") or []
    first_ok = bool(citations) and citations[0] in item.expected_sources
    if not item.answerable:
        return {"correct": bool(row["abstained"]), "citation_ok": None}
    correct = (
        not row["abstained"]
        and matches(item.must_include, row.get("answer") or "")
        and len(row.get("answer") or "") <= 600
        and first_ok
    )
    return {"correct": correct, "citation_ok": first_ok}


def _ranked_articles(retrieved: list[str]) -> list[str]:
    return list(dict.fromkeys(retrieved))[:TOP_RETRIEVED]


def retrieval_scores(expected: tuple[str, ...], retrieved: list[str]) -> dict[str, float]:
    ranked = _ranked_articles(retrieved)
    exp = set(expected)
    first = next((i for i, a in enumerate(ranked) if a in exp), None)
    dcg = sum(1 / math.log2(i + 2) for i, a in enumerate(ranked) if a in exp)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(exp), TOP_RETRIEVED)))
    return {
        "recall@1": len(exp & set(ranked[:1])) / len(exp),
        "recall@5": len(exp & set(ranked[:5])) / len(exp),
        "mrr@10": 1 / (first + 1) if first is not None else 0.0,
        "ndcg@10": dcg / ideal if ideal else 0.0,
    }


def compute_metrics(items: list[QAItem], rows: list[dict]) -> dict[str, Any]:
    """All figures for one run; ``rows`` align with ``items``."""
    scored = [score_row(item, row) for item, row in zip(items, rows, strict=True)]
    answerable = [(i, r, s) for i, r, s in zip(items, rows, scored, strict=True) if i.answerable]
    unanswerable = [(i, r, s) for i, r, s in zip(items, rows, scored, strict=True) if not i.answerable]

    def share(values: list[bool]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    metrics: dict[str, Any] = {
        "questions": len(items),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answer_acc": share([s["correct"] for _, _, s in answerable]),
        "citation_acc": share([s["citation_ok"] for _, _, s in answerable]),
        "abstain_acc": share([s["correct"] for _, _, s in unanswerable]),
        "false_abstain": share([bool(r["abstained"]) for _, r, _ in answerable]),
        "false_abstain_count": sum(bool(r["abstained"]) for _, r, _ in answerable),
        "overall": share([s["correct"] for s in scored]),
    }
    if answerable:
        per = [retrieval_scores(i.expected_sources, r.get("retrieved") or []) for i, r, _ in answerable if i.expected_sources]
        for key in ("recall@1", "recall@5", "mrr@10", "ndcg@10"):
            metrics[key] = round(statistics.fmean(p[key] for p in per), 4) if per else None
    seconds = [float(r.get("seconds", 0.0)) for r in rows]
    metrics["latency_p50_s"] = round(float(np.percentile(seconds, 50)), 4)
    metrics["latency_p95_s"] = round(float(np.percentile(seconds, 95)), 4)
    by_type: dict[str, list[bool]] = {}
    for item, s in zip(items, scored, strict=True):
        by_type.setdefault(item.type, []).append(s["correct"])
    metrics["per_type"] = {t: {"n": len(v), "acc": share(v)} for t, v in sorted(by_type.items())}
    by_lang: dict[str, list[bool]] = {}
    for item, s in zip(items, scored, strict=True):
        by_lang.setdefault(item.lang, []).append(s["correct"])
    metrics["per_lang"] = {lang: {"n": len(v), "acc": share(v)} for lang, v in sorted(by_lang.items())}
    judged = [r["judge"] for r in rows if r.get("judge") is not None]
    if judged:
        metrics["judge_acc"] = share(judged)
    return metrics


# ---------------------------------------------------------------- running


@dataclass
class Run:
    """One system's answers to a Q&A set."""

    name: str
    rows: list[dict]
    metrics: dict[str, Any] = field(default_factory=dict)


def _answer_rows(
    items: list[QAItem], ask: Callable[[str], Any], name: str, progress: Progress | None
) -> list[dict]:
    rows = []
    for n, item in enumerate(items):
        if progress:
            progress(n, len(items), f"{name} {item.id}")
        started = time.perf_counter()
        answer = ask(item.question)
        seconds = time.perf_counter() - started
        rows.append(
            {
                "id": item.id,
                "answer": answer.text,
                "abstained": answer.abstained,
                "citations": [c.article_id for c in answer.citations],
                "retrieved": list(answer.retrieved),
                "seconds": round(seconds, 4),
                "quotes": [c.quote for c in answer.citations],
            }
        )
    if progress:
        progress(len(items), len(items), "")
    return rows


def evaluate(
    qa_file: Path,
    out_dir: Path | None = None,
    *,
    settings: Settings | None = None,
    bot: Any = None,
    backend: str | None = None,
    baseline: bool = False,
    judge: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Answer and score a Q&A set; write the four outputs to ``out_dir`` when given.

    Returns the metrics (as written to ``metrics.json``), with the baseline's under
    ``"baseline"`` when ``baseline`` is true.
    """
    from rag.bot import ChatBot

    items = load_qa(qa_file)
    settings = settings or Settings.from_env()
    bot = bot or ChatBot.from_settings(settings)
    backend = backend or settings.backend
    bot.ask("warm-up question")  # load models outside the timings
    rows = _answer_rows(items, lambda q: bot.ask(q, backend=backend), "rag", progress)
    if judge:
        _judge(items, rows, bot, backend)
    for item, row in zip(items, rows, strict=True):
        row.update(score_row(item, row))
    project = Run("rag", rows, compute_metrics(items, rows))
    project.metrics["settings"] = {
        "backend": backend,
        "embedding_engine": bot.index.engine,
        "embedding_model": bot.index.model,
        "index": bot.index.fingerprint,
        "index_dir": str(bot.index.directory),
        "chunks": len(bot.index.chunks),
        "articles": len(bot.index.articles),
        "qa_file": str(qa_file),
    }
    base = None
    if baseline:
        from rag.baseline import BaselinePipeline

        pipeline = BaselinePipeline(bot.embeddings, settings.articles_dir)
        pipeline.ask("warm-up question")
        base_rows = _answer_rows(items, pipeline.ask, "baseline", progress)
        for item, row in zip(items, base_rows, strict=True):
            row.update(score_row(item, row))
        base = Run("baseline", base_rows, compute_metrics(items, base_rows))
        project.metrics["baseline"] = base.metrics
    if out_dir is not None:
        write_outputs(Path(out_dir), items, project, base)
    return project.metrics


def _judge(items: list[QAItem], rows: list[dict], bot: Any, backend: str) -> None:
    """LLM-as-judge: semantic correctness against the reference (answerable items only)."""
    from langchain_core.messages import HumanMessage

    from rag.prompts import render

    model = bot.chat_model(backend if backend != "extractive" else "openai")  # ConfigError without an LLM
    for item, row in zip(items, rows, strict=True):
        if not item.answerable or row["abstained"] or not item.reference:
            row["judge"] = None if item.answerable else bool(row["abstained"])
            continue
        prompt = render("judge", question=item.question, reference=item.reference, answer=row["answer"])
        reply = model.invoke([HumanMessage(prompt)])
        verdict = fold(str(reply.content)).strip()
        row["judge"] = verdict.startswith("correct")


# ---------------------------------------------------------------- outputs

_HEADLINE = [
    ("overall", "overall"),
    ("answer_acc", "answer accuracy"),
    ("citation_acc", "citation accuracy"),
    ("abstain_acc", "abstention accuracy"),
    ("false_abstain", "false abstentions (share of answerable)"),
    ("recall@1", "retrieval Recall@1"),
    ("recall@5", "retrieval Recall@5"),
    ("mrr@10", "retrieval MRR@10"),
    ("ndcg@10", "retrieval nDCG@10"),
    ("latency_p50_s", "latency p50 (s)"),
    ("latency_p95_s", "latency p95 (s)"),
    ("judge_acc", "LLM judge accuracy"),
]


def write_outputs(out_dir: Path, items: list[QAItem], project: Run, base: Run | None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as fh:
        for row in project.rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    if base is not None:
        with (out_dir / "baseline_results.jsonl").open("w", encoding="utf-8") as fh:
            for row in base.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out_dir / "metrics.json").write_text(json.dumps(project.metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "report.md").write_text(report_markdown(items, project, base), encoding="utf-8")
    plot_report(out_dir / "report.png", project, base)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def report_markdown(items: list[QAItem], project: Run, base: Run | None) -> str:
    m = project.metrics
    s = m["settings"]
    lines = [
        "# Evaluation report",
        "",
        f"Q&A set `{s['qa_file']}`: {m['questions']} questions ({m['answerable']} answerable, "
        f"{m['unanswerable']} unanswerable). Scored by eval/FORMAT.md.",
        "",
        "| metric | rag |" + (" baseline |" if base else ""),
        "| --- | --- |" + (" --- |" if base else ""),
    ]
    for key, label in _HEADLINE:
        if key in m or (base and key in base.metrics):
            row = f"| {label} | {_fmt(m.get(key))} |"
            if base:
                row += f" {_fmt(base.metrics.get(key))} |"
            lines.append(row)
    lines += ["", "## Per question type", "", "| type | n | rag |" + (" baseline |" if base else "")]
    lines.append("| --- | --- | --- |" + (" --- |" if base else ""))
    for t, v in m["per_type"].items():
        row = f"| {t} | {v['n']} | {_fmt(v['acc'])} |"
        if base:
            row += f" {_fmt(base.metrics['per_type'][t]['acc'])} |"
        lines.append(row)
    lines += ["", "## Per language", "", "| language | n | rag |", "| --- | --- | --- |"]
    lines += [f"| {lang} | {v['n']} | {_fmt(v['acc'])} |" for lang, v in m["per_lang"].items()]
    lines += [
        "",
        "## Settings",
        "",
        f"- backend: `{s['backend']}`",
        f"- embeddings: `{s['embedding_engine']}` (`{s['embedding_model']}`)",
        f"- index: `{s['index_dir']}`, fingerprint `{s['index']}`, {s['articles']} articles, {s['chunks']} chunks",
    ]
    if base:
        lines.append(
            "- baseline: raw article files, RecursiveCharacterTextSplitter(1000, 200), FAISS inner product, "
            "same embeddings, top chunk (first 600 characters) as the answer, never abstains"
        )
    misses = [(i, r) for i, r in zip(items, project.rows, strict=True) if not r["correct"]]
    lines += ["", f"## Misses ({len(misses)})", ""]
    for item, row in misses:
        expected = (
            "abstain" if not item.answerable
            else f"sources {', '.join(item.expected_sources)}; must include {item.must_include}"
        )
        got = "abstained" if row["abstained"] else f"cited {', '.join(row['citations']) or 'nothing'}"
        lines += [
            f"### {item.id} ({item.type}, {item.lang})",
            "",
            f"- question: {item.question}",
            f"- answer ({got}): {row['answer']}",
            f"- expected: {expected}",
        ]
        if item.reference:
            lines.append(f"- reference: {item.reference}")
        lines.append("")
    return "\n".join(lines) + "\n"


def plot_report(path: Path, project: Run, base: Run | None) -> None:
    """Per-type accuracy bars (with the baseline beside) and a latency histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = list(project.metrics["per_type"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    x = np.arange(len(types) + 1)
    labels = ["OVERALL", *types]
    ours = [project.metrics["overall"] or 0.0] + [project.metrics["per_type"][t]["acc"] or 0.0 for t in types]
    width = 0.4 if base else 0.6
    bars = ax1.bar(x - (width / 2 if base else 0), ours, width, label="rag", color="#2b6cb0")
    ax1.bar_label(bars, labels=[f"{v:.2f}" for v in ours], fontsize=7)
    if base:
        theirs = [base.metrics["overall"] or 0.0] + [base.metrics["per_type"][t]["acc"] or 0.0 for t in types]
        bars = ax1.bar(x + width / 2, theirs, width, label="baseline", color="#c0c0c0")
        ax1.bar_label(bars, labels=[f"{v:.2f}" for v in theirs], fontsize=7)
    counts = [project.metrics["questions"]] + [project.metrics["per_type"][t]["n"] for t in types]
    ax1.set_xticks(x, [f"{lab}\n(n={n})" for lab, n in zip(labels, counts, strict=True)], fontsize=8, rotation=30)
    ax1.set_ylim(0, 1.1)
    ax1.set_ylabel("accuracy (FORMAT.md rules)")
    ax1.set_title("Accuracy by question type")
    ax1.legend(loc="lower right")
    seconds = [r["seconds"] * 1000 for r in project.rows]
    ax2.hist(seconds, bins=20, color="#2b6cb0", alpha=0.8, label="rag")
    if base:
        ax2.hist([r["seconds"] * 1000 for r in base.rows], bins=20, color="#999999", alpha=0.6, label="baseline")
    p50, p95 = np.percentile(seconds, 50), np.percentile(seconds, 95)
    ax2.axvline(p50, color="black", linestyle="--", label=f"p50 {p50:.0f} ms")
    ax2.axvline(p95, color="red", linestyle=":", label=f"p95 {p95:.0f} ms")
    ax2.set_xlabel("milliseconds per question")
    ax2.set_ylabel("questions")
    ax2.set_title("Latency")
    ax2.legend()
    fig.suptitle(
        f"rag eval: overall {project.metrics['overall']:.2f}"
        + (f" vs baseline {base.metrics['overall']:.2f}" if base else "")
        + f"  ({project.metrics['questions']} questions)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary(metrics: dict[str, Any]) -> str:
    """One line for the terminal."""
    parts = [f"{label} {_fmt(metrics.get(key))}" for key, label in _HEADLINE[:5] if key in metrics]
    text = "; ".join(parts)
    if "baseline" in metrics:
        text += f" | baseline overall {_fmt(metrics['baseline']['overall'])}"
    return text
