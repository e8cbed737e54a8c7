"""The vanilla LangChain baseline the project is measured against.

Covers: raw article files -> ``RecursiveCharacterTextSplitter(1000, 200)`` -> the same
embeddings -> an in-memory FAISS inner-product index -> the top chunk as the answer
(cut to the 600-character answer limit), citing its article, never abstaining.
``from_vectors`` builds it over chunks and vectors made elsewhere (the benchmark at scale).
Does not cover: anything the project adds (cleaning, dates, hybrid search, sentence
selection, abstention) - that is the point of the comparison.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.answer import MAX_ANSWER_CHARS, Answer, Citation
from rag.embeddings import EngineEmbeddings
from rag.ingest import article_files, article_id


class BaselinePipeline:
    def __init__(self, embeddings: EngineEmbeddings, articles_dir: Path | None) -> None:
        self.embeddings = embeddings
        if articles_dir is None:  # from_vectors fills the rest
            return
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        docs = [
            Document(page_content=p.read_text(encoding="utf-8", errors="replace"), metadata={"id": article_id(p)})
            for p in article_files(Path(articles_dir))
        ]
        self.chunks = splitter.split_documents(docs)
        vectors = np.asarray(embeddings.embed_documents([c.page_content for c in self.chunks]), dtype=np.float32)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    @classmethod
    def from_vectors(
        cls, embeddings: EngineEmbeddings, chunks: list[Document], vectors: np.ndarray | faiss.IndexFlat
    ) -> BaselinePipeline:
        """The same pipeline over chunks already split and embedded (``metadata``: ``id``,
        ``start_index``), their vectors as an array or a flat FAISS index; the benchmark uses
        it at corpus sizes no one can embed twice."""
        self = cls(embeddings, None)
        self.chunks = chunks
        if isinstance(vectors, faiss.Index):
            self.index = vectors
        else:
            self.index = faiss.IndexFlatIP(vectors.shape[1])
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return self

    def ask(self, question: str) -> Answer:
        query = np.asarray(self.embeddings.embed_query(question), dtype=np.float32).reshape(1, -1)
        _, ids = self.index.search(query, min(10, len(self.chunks)))
        ranked = [self.chunks[i] for i in ids[0] if i >= 0]
        top = ranked[0]
        text = top.page_content[:MAX_ANSWER_CHARS]
        start = top.metadata.get("start_index", 0)
        citation = Citation(top.metadata["id"], top.metadata["id"], None, text, start, start + len(text))
        return Answer(
            text=text,
            abstained=False,
            citations=[citation],
            question=question,
            backend="baseline",
            retrieved=[c.metadata["id"] for c in ranked],
        )
