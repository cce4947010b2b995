"""benchmarks/index_speed.py's own pieces that need neither the shared data nor the anchors'
environment: cutting an archive to its first releases, counting releases as the anchors do,
and timing a child process with its own peak RSS."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "index_speed.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("index_speed", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first: its dataclass looks its own module up while being made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_limited_keeps_the_first_records_and_the_folder_name(bench: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "some_archive" / "releases.jsonl"
    source.parent.mkdir()
    records = [{"id": str(n), "title": f"t{n}", "text": "" if n == 1 else f"text {n}"} for n in range(5)]
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    [cut] = bench.limited([source], 3, tmp_path / "out")
    assert cut == tmp_path / "out" / "some_archive" / "releases.jsonl"
    kept = [json.loads(line)["id"] for line in cut.read_text(encoding="utf-8").splitlines()]
    assert kept == ["0", "1", "2"]
    # A record without text is no release, for the anchors and for the count alike.
    assert bench.records_with_text([cut]) == 2
    assert bench.records_with_text([source]) == 4


def test_run_timed_gives_the_childs_own_peak(bench: ModuleType) -> None:
    seconds, peak_mb, out = bench.run_timed(
        [sys.executable, "-c", "b = bytearray(120 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
         "print('done')"])
    assert out.strip() == "done"
    assert seconds > 0
    assert peak_mb > 120
    # The parent here is the whole test run (GBs in CI): a child started with vfork would
    # count its high-water mark. The launcher keeps the child's peak its own.
    assert peak_mb < 120 + 100


def test_run_timed_says_what_failed(bench: ModuleType) -> None:
    with pytest.raises(SystemExit, match="failed"):
        bench.run_timed([sys.executable, "-c", "import sys; sys.exit('broken on purpose')"])
