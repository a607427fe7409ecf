"""GPU checks, run by benchmarks/gpu_check.sh on a machine with CUDA; skipped elsewhere."""

from __future__ import annotations

import pytest
import torch

from mmgan_ref.train.recipes import get_recipe, recipe_names
from mmgan_ref.train.run import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device on this machine")


# Recipes that read a local data folder (captions-64) have their own CUDA test.
@pytest.mark.parametrize("recipe", [n for n in recipe_names()
                                    if not getattr(get_recipe(n), "takes_data", False)])
@pytest.mark.parametrize("amp", [False, True])
def test_every_recipe_trains_on_cuda(recipe, amp, tmp_path):
    run = train(recipe, out=tmp_path, steps=5, batch_size=16, device="cuda", amp=amp,
                progress=False)
    assert run.trainer.device.type == "cuda"
    assert all(p.is_cuda for p in run.family.parameters())
    assert (tmp_path / "samples.png").is_file()
    assert run.metrics["throughput"]["peak_memory_mb"] > 0


def test_compile_and_channels_last_on_cuda(tmp_path):
    recipe = "shapes-64" if "shapes-64" in recipe_names() else "digits-cgan"
    run = train(recipe, out=tmp_path, steps=5, batch_size=16, device="cuda", amp=True,
                compile=True, channels_last=True, progress=False)
    assert run.trainer.step == 5
