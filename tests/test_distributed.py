"""Data-parallel training with gloo on CPU: two real processes on this machine."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from mmgan_ref.train import GANFamily, Phase, TrainConfig, Trainer
from mmgan_ref.train import distributed as ddp
from mmgan_ref.train.batches import TensorBatches


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Regression(GANFamily):
    """A noiseless one-phase 'family' (least squares), so results can be compared exactly."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.generator = nn.Linear(3, 1)
        self.optimizers = {"g": torch.optim.SGD(self.generator.parameters(), lr=0.1)}
        self.phases = [Phase("g", self.loss, "g")]

    def loss(self, batch):
        return (self.generator(batch["x"]).squeeze(1) - batch["y"]).pow(2).mean(), {}


def _data() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 3, generator=g)
    return {"x": x, "y": x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(64, generator=g)}


def _worker(rank: int, world: int, port: int, out: str, what: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    ddp.init_from_env("cpu")
    try:
        config = TrainConfig(steps=6, batch_size=8, device="cpu", progress=False, log_every=3)
        if what == "regression":
            family = _Regression()
            source = TensorBatches(_data(), 8, seed=0, rank=rank, world_size=world)
            trainer = Trainer(family, source, config)
        else:
            from mmgan_ref.train.run import make_trainer

            _, trainer = make_trainer("ring", rank=rank, world_size=world, steps=6,
                                      batch_size=8, device="cpu", progress=False)
        trainer.fit()
        torch.save(trainer.family.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    finally:
        ddp.shutdown()


def _launch(tmp_path, what: str) -> list[dict]:
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path), what), nprocs=2, join=True)
    return [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]


def test_two_gloo_ranks_end_identical_and_match_one_process_with_the_global_batch(tmp_path):
    rank0, rank1 = _launch(tmp_path, "regression")
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    # Documented semantics: global batch = per-rank batch x world size.
    single = Trainer(_Regression(), TensorBatches(_data(), 16, seed=0),
                     TrainConfig(steps=6, batch_size=16, device="cpu", progress=False))
    single.fit()
    for key, value in single.family.state_dict().items():
        torch.testing.assert_close(rank0[key], value, rtol=1e-5, atol=1e-6)


def test_gan_recipe_under_ddp_keeps_ranks_in_step(tmp_path):
    rank0, rank1 = _launch(tmp_path, "gan")
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key


def test_incomplete_launch_environment_is_a_clear_error(monkeypatch):
    for name in ddp.REQUIRED_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="RANK, WORLD_SIZE.*torchrun"):
        ddp.init_from_env("cpu")
