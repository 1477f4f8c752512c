"""The plugin's ``opcore doctor`` lines (hook ``opcore_doctor_checks``) and the NVRTC/driver
compatibility rule."""

from __future__ import annotations

from opcore.config import config
from opcore_gpu_cuda.info import doctor_lines, nvrtc_driver_check


def test_nvrtc_driver_compatibility_rule():
    assert nvrtc_driver_check((12, 4), 12040)[0] == "ok"
    assert nvrtc_driver_check((12, 2), 12080)[0] == "ok"
    status, detail, fix = nvrtc_driver_check((12, 9), 12040)
    assert status == "note" and "12.9 is newer than the CUDA driver (12.4)" in detail
    assert "nvidia-cuda-nvrtc-cu12==12.4.*" in fix
    status, detail, fix = nvrtc_driver_check((13, 0), 12080)
    assert status == "problem" and "will not load" in detail
    assert nvrtc_driver_check(None, None)[0] == "note"
    assert nvrtc_driver_check((12, 9), None) == ("ok", "NVRTC 12.9 (no CUDA driver: compile "
                                                 "checks only)", "")


def test_doctor_lines_through_the_host(ctx):
    from opcore.plugins import get_host

    checks = [c for c in get_host().ensure_loaded().doctor_checks() if c["plugin"] == "gpu_cuda"]
    topics = {c["topic"]: c for c in checks}
    assert topics[f"GPU device {ctx.name}"]["status"] == "ok"
    assert "GPU: NVRTC" in topics
    with config.change_flags(device=ctx.name):
        mine = {t: s for t, s, _, _ in doctor_lines()}
        assert mine[f"GPU: device={ctx.name}"] == "ok"
    with config.change_flags(device="opencl97:0"):
        bad = [ln for ln in doctor_lines() if ln[0] == "GPU: device=opencl97:0"]
    assert bad and bad[0][1] == "problem" and "opencl97:0" in bad[0][2]


def test_doctor_cli_lists_gpu_lines(ctx):
    from opcore.cli import doctor_checks

    lines = [c for c in doctor_checks() if c.topic.startswith("GPU")]
    assert any(c.topic == f"GPU device {ctx.name}" for c in lines)
    assert any(c.topic == "GPU: NVRTC" for c in lines)
