"""An AVX2-only CPU on this AVX-512 + VNNI machine: benchmarks/avx2/cpuid_mask.c, preloaded.

Issue 20's speed target is named for an AVX2-only CPU (no AVX-512, no VNNI). ONNX Runtime's
MLAS, torch's cpuinfo and oneDNN choose their kernels from the CPUID instruction, and our
embedder its quantization plan from /proc/cpuinfo: the shim hides AVX-512, VNNI and AMX from
both (CPUID faulting, Linux's ``cpuid_fault``), so a run takes the code paths such a CPU takes,
on this machine's cores. Not emulated: the clock, caches and cores of another CPU.

    .venv/bin/python benchmarks/avx2_emulation.py     # checks the emulation, prints a table
    .venv/bin/python benchmarks/avx2_emulation.py -- COMMAND...   # runs COMMAND under it

Used by ``benchmarks/index_speed.py --cpu avx2``: :func:`build_shim`, then :func:`avx2_env`
for every timed child.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from assistant.embedders.onnx_cache import cpu_features

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "benchmarks" / "avx2" / "cpuid_mask.c"
SHIM = ROOT / ".eval" / "avx2" / "cpuid_mask.so"
ANCHOR_PYTHON = ROOT / ".eval" / "anchors-venv" / "bin" / "python"
DESCRIPTION = "AVX2 emulated (CPUID masked by benchmarks/avx2/cpuid_mask.c: no AVX-512, no VNNI)"
# glibc chose its own string and memory routines from CPUID in the dynamic loader, before the
# shim's constructor ran; its tunable masks AVX-512 there (glibc 2.26 and later; the names it
# knows: it has no VNNI routines to mask, and ignores names it does not know).
GLIBC_MASK = "glibc.cpu.hwcaps=-AVX512F,-AVX512DQ,-AVX512CD,-AVX512BW,-AVX512VL"


class EmulationUnavailable(RuntimeError):
    """This machine cannot mask CPUID: the AVX2 figures have to come from an AVX2 machine."""


def build_shim() -> Path:
    """The shim's shared library, compiled when missing or older than its source."""
    if platform.system() != "Linux" or platform.machine() not in {"x86_64", "AMD64"}:
        raise EmulationUnavailable(f"CPUID masking needs Linux on x86-64, not "
                                   f"{platform.system()} on {platform.machine()}")
    # This process's /proc/cpuinfo flags: the real ones (it does not run under the shim).
    if "cpuid_fault" not in cpu_features():
        raise EmulationUnavailable("this CPU or kernel has no CPUID faulting (no cpuid_fault in "
                                   "/proc/cpuinfo): run the AVX2 benchmark on an AVX2 machine")
    if SHIM.exists() and SHIM.stat().st_mtime >= SOURCE.stat().st_mtime:
        return SHIM
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise EmulationUnavailable("no C compiler (cc or gcc) to build the CPUID shim: "
                                   "apt-get install gcc, or set CC")
    SHIM.parent.mkdir(parents=True, exist_ok=True)
    partial = SHIM.with_suffix(f".{os.getpid()}.so")
    done = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(SOURCE), "-ldl"],
                          capture_output=True, text=True)
    if done.returncode:
        raise EmulationUnavailable(f"{compiler} could not build {SOURCE}:\n{done.stderr}")
    partial.replace(SHIM)  # whole or not at all: another process may be preloading it
    return SHIM


def avx2_env(env: Mapping[str, str], shim: Path | None = None) -> dict[str, str]:
    """``env`` with the shim preloaded (after any library already preloaded) and glibc's own
    view of the CPU masked the same way."""
    out = dict(env)
    library = str(shim or build_shim())
    preload = out.get("LD_PRELOAD", "").split()
    if library not in preload:
        out["LD_PRELOAD"] = " ".join([*preload, library])
    tunables = out.get("GLIBC_TUNABLES", "")
    if GLIBC_MASK not in tunables:
        out["GLIBC_TUNABLES"] = f"{tunables}:{GLIBC_MASK}" if tunables else GLIBC_MASK
    return out


# The checks of __main__: each child prints one line.
_TORCH = ("import torch; a = torch.randn(256, 256); b = (a @ a).sum().item(); "
          "print(torch.backends.cpu.get_cpu_capability())")
_PLAN = ("from assistant.embedders.onnx_cache import cpu_features, quantization_plan; "
         "f = cpu_features(); "
         "print(sorted(x for x in f if 'avx512' in x or 'vnni' in x or x == 'avx2'), "
         "quantization_plan(f))")
_ORT = """
import time
from assistant.embedders.factory import load_embedder
embedder = load_embedder(backend="onnx", threads=1)
texts = ["The county board met on Tuesday to approve the new drainage plan for the township."
         * 6] * 32
embedder.embed(texts)
started = time.perf_counter()
for _ in range(20):
    embedder.embed(texts)
print(f"{(time.perf_counter() - started) / 20 * 1000:.1f} ms per batch of 32 "
      f"({embedder.backend}, {embedder.path.parent.name})")
"""


def _child(python: Path, code: str, env: Mapping[str, str]) -> str:
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=dict(env),
                          cwd=ROOT, timeout=600)
    if done.returncode:
        return f"FAILED ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}"
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    try:
        shim = build_shim()
    except EmulationUnavailable as exc:
        sys.exit(str(exc))
    if "--" in sys.argv:
        # Any other benchmark under the emulation, e.g. the embedder against torch on the same
        # chunks: ... avx2_emulation.py -- .venv/bin/python benchmarks/indexing.py --embedder-alone
        command = sys.argv[sys.argv.index("--") + 1:]
        if not command:
            sys.exit("nothing to run after --")
        return subprocess.run(command, env=avx2_env(os.environ, shim), cwd=ROOT).returncode
    native = dict(os.environ)
    masked = avx2_env(native, shim)
    ours = Path(sys.executable)
    rows = [("import onnxruntime", ours, "import onnxruntime; print('ok', onnxruntime.__version__)"),
            ("our flags, plan", ours, _PLAN)]
    if ANCHOR_PYTHON.exists():
        rows.insert(0, ("torch capability (+ matmul)", ANCHOR_PYTHON, _TORCH))
    rows.append(("MiniLM int8, ORT 1 thread", ours, _ORT))
    print(f"shim: {shim}\n")
    print("| check | native | AVX2 emulated |\n|---|---|---|")
    for name, python, code in rows:
        print(f"| {name} | {_child(python, code, native)} | {_child(python, code, masked)} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
