"""benchmarks/avx2/cpuid_mask.c: under it, CPUID and /proc/cpuinfo say AVX2 without AVX-512 or
VNNI, and a program's own SIGSEGV handler still sees its real crashes."""

from __future__ import annotations

import importlib.util
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from assistant.embedders.onnx_cache import cpu_features

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "avx2_emulation.py"

# Leaf 7, subleaf 0: EBX bit 16 is AVX512F, bit 5 AVX2; ECX bit 11 is AVX512_VNNI.
CPUID_PROGRAM = r"""
#include <cpuid.h>
#include <stdio.h>
int main(void) {
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    printf("%u %u %u\n", (b >> 5) & 1, (b >> 16) & 1, (c >> 11) & 1);
    return 0;
}
"""


pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64" or "cpuid_fault" not in cpu_features()
    or not (shutil.which("cc") or shutil.which("gcc")),
    reason="CPUID masking needs Linux on x86-64 with CPUID faulting (cpuid_fault in /proc/cpuinfo) "
           "and a C compiler (cc)")


@pytest.fixture(scope="module")
def emulation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("avx2_emulation", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def env(emulation: ModuleType) -> dict[str, str]:
    return emulation.avx2_env({"PATH": "/usr/bin:/bin"}, emulation.build_shim())  # type: ignore[no-any-return]


def test_cpuid_leaf_7_hides_avx512_and_vnni(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "cpuid.c"
    source.write_text(CPUID_PROGRAM, encoding="utf-8")
    program = tmp_path / "cpuid"
    subprocess.run([shutil.which("cc") or "gcc", "-O1", "-o", str(program), str(source)], check=True)
    native = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout.split()
    masked = subprocess.run([str(program)], capture_output=True, text=True, check=True,
                            env=env).stdout.split()
    assert masked == [native[0], "0", "0"]  # AVX2 as it is, AVX512F and AVX512_VNNI gone


def test_our_cpu_features_see_no_avx512(env: dict[str, str]) -> None:
    code = ("from assistant.embedders.onnx_cache import cpu_features, quantization_plan; "
            "f = cpu_features(); print(' '.join(sorted(f))); print('+'.join(quantization_plan(f)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env, cwd=ROOT)
    flags, plan = done.stdout.splitlines()
    assert "avx512f" not in flags.split() and "avx512_vnni" not in flags.split()
    assert not any(f.startswith(("avx512", "amx")) or f == "avx_vnni" for f in flags.split())
    if "avx2" in flags.split():
        assert plan == "int8+int8-reduced+fp32"


def test_a_programs_own_segv_handler_still_sees_a_real_crash(env: dict[str, str]) -> None:
    # faulthandler installs its SIGSEGV handler through sigaction: the shim keeps its own and
    # hands this (real) fault on, and faulthandler's re-raise then kills the process.
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", "import ctypes; ctypes.string_at(0)"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == -11
    assert "Segmentation fault" in done.stderr
