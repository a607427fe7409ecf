"""The trainer: exact resume, NaN detection, atomic checkpoints, EMA, AMP on CPU."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mmgan_ref.train import GANFamily, NonFiniteLossError, Phase, TrainConfig, Trainer
from mmgan_ref.train.batches import SampledBatches, TensorBatches
from mmgan_ref.train.checkpoint import CheckpointError, load_checkpoint
from mmgan_ref.train.run import make_trainer, train


def _params(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_resume_continues_exactly_as_an_uninterrupted_run(tmp_path):
    settings = dict(steps=12, batch_size=16, seed=3, device="cpu", progress=False, log_every=4)
    _, straight = make_trainer("ring", **settings)
    straight.fit()

    # An interrupted run: configured for 12 steps, stopped after 5 with its checkpoint.
    _, first = make_trainer("ring", run_dir=tmp_path / "run", **settings)
    first.fit(5)
    first.save()
    torch.manual_seed(12345)  # disturb the global RNG: resume must restore it
    resumed = train("ring", out=tmp_path / "run", resume=tmp_path / "run", evaluate=False,
                    **settings)
    assert resumed.trainer.step == 12
    expected, actual = _params(straight.family), _params(resumed.family)
    assert expected.keys() == actual.keys()
    for name in expected:
        assert torch.equal(expected[name], actual[name]), name
    for name, opt in straight.family.optimizers.items():
        state_a = opt.state_dict()["state"]
        state_b = resumed.family.optimizers[name].state_dict()["state"]
        for key in state_a:
            assert torch.equal(state_a[key]["exp_avg"], state_b[key]["exp_avg"])


def test_interrupted_run_differs_without_rng_restore(tmp_path):
    """The resume test can fail: skipping the RNG restore changes the result."""
    settings = dict(steps=6, batch_size=16, seed=3, device="cpu", progress=False)
    _, straight = make_trainer("ring", **settings)
    straight.fit()
    _, half = make_trainer("ring", **settings)
    half.fit(3)
    payload = half.state()
    payload["rng"]["torch"] = torch.manual_seed(999).get_state()
    _, broken = make_trainer("ring", **settings)
    broken.load_state(payload)
    broken.fit()
    differs = any(not torch.equal(a, b) for a, b in zip(
        straight.family.parameters(), broken.family.parameters(), strict=True))
    assert differs


class _ExplodingFamily(GANFamily):
    """A one-parameter family whose loss turns NaN at a chosen step."""

    def __init__(self, nan_at: int) -> None:
        super().__init__()
        self.generator = nn.Linear(1, 1)
        self.calls = 0
        self.nan_at = nan_at
        self.optimizers = {"g": torch.optim.SGD(self.generator.parameters(), lr=0.01)}
        self.phases = [Phase("g", self.loss, "g")]

    def loss(self, batch):
        self.calls += 1
        out = self.generator(batch["x"]).pow(2).mean()
        if self.calls >= self.nan_at:
            out = out * float("nan")
        return out, {}


def _source(n: int = 32) -> TensorBatches:
    return TensorBatches({"x": torch.randn(n, 1)}, batch_size=8, seed=0)


def test_nan_stops_with_step_and_loss_named_and_keeps_last_good_checkpoint(tmp_path):
    config = TrainConfig(steps=20, batch_size=8, device="cpu", progress=False,
                         log_every=3, checkpoint_every=5)
    trainer = Trainer(_ExplodingFamily(nan_at=8), _source(), config, run_dir=tmp_path)
    with pytest.raises(NonFiniteLossError, match=r"g_loss became nan at step 8") as err:
        trainer.fit()
    assert "last good checkpoint" in str(err.value)
    saved = load_checkpoint(tmp_path)
    assert saved["step"] == 5
    assert all(torch.isfinite(v).all() for v in saved["family"].values())


class _VectorLoggingFamily(_ExplodingFamily):
    """Logs a per-row vector beside its finite loss, its last row NaN from step
    `rows_nan_at` on."""

    def __init__(self, rows_nan_at: int) -> None:
        super().__init__(nan_at=10**9)
        self.rows_nan_at = rows_nan_at

    def loss(self, batch):
        loss, _ = super().loss(batch)
        rows = batch["x"][:, 0].clone()
        if self.calls >= self.rows_nan_at:
            rows[-1] = float("nan")
        return loss, {"rows": rows}


def test_logged_vectors_are_averaged_over_the_window():
    x = torch.arange(16, dtype=torch.float32).reshape(16, 1)
    config = TrainConfig(steps=4, batch_size=8, device="cpu", progress=False, log_every=4)
    source = TensorBatches({"x": x}, batch_size=8, seed=0)
    trainer = Trainer(_VectorLoggingFamily(rows_nan_at=10**9), source, config)
    history = trainer.fit()
    # four batches of 8 rows, two epochs of 0..15: the mean of every logged row is 7.5
    assert history[-1]["rows"] == pytest.approx(7.5)


def test_nan_in_a_logged_vector_names_its_step():
    # Batches of 8, then of 5 (a smaller source): vectors of two sizes in one window.
    config = TrainConfig(steps=10, batch_size=8, device="cpu", progress=False, log_every=10)
    family = _VectorLoggingFamily(rows_nan_at=7)
    sizes = iter([8, 8, 8, 5, 5, 5, 5, 5, 5, 5])

    def source(step):
        return {"x": torch.ones(next(sizes), 1)}

    trainer = Trainer(family, source, config)
    with pytest.raises(NonFiniteLossError, match=r"rows became nan at step 7"):
        trainer.fit()


def test_checkpoint_written_atomically_leaves_no_temporary_files(tmp_path):
    config = TrainConfig(steps=4, batch_size=8, device="cpu", progress=False)
    trainer = Trainer(_ExplodingFamily(nan_at=10**9), _source(), config, run_dir=tmp_path)
    trainer.fit()
    trainer.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_missing_and_corrupt_checkpoints_give_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nowhere")
    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(bad)
    torch.save({"hello": 1}, bad)
    with pytest.raises(CheckpointError, match="not an mmgan checkpoint"):
        load_checkpoint(bad)


def test_resume_refuses_a_checkpoint_of_another_recipe(tmp_path):
    train("ring", out=tmp_path, evaluate=False, steps=2, batch_size=8, device="cpu",
          progress=False)
    with pytest.raises(ValueError, match="recipe 'ring', not 'grid'"):
        train("grid", out=tmp_path, resume=tmp_path, steps=4)


def test_ema_generator_differs_from_raw_and_tracks_it():
    _, trainer = make_trainer("ring", steps=30, batch_size=32, device="cpu", progress=False,
                              ema_decay=0.9)
    trainer.fit()
    raw = torch.cat([p.flatten() for p in trainer.family.generator.parameters()])
    ema = torch.cat([p.flatten() for p in trainer.sampling_generator().parameters()])
    assert not torch.equal(raw, ema)
    assert (raw - ema).norm() < 0.5 * raw.norm()


def test_amp_on_cpu_uses_bfloat16_and_trains():
    _, trainer = make_trainer("ring", steps=3, batch_size=16, device="cpu", progress=False,
                              amp=True)
    assert trainer.amp_dtype == torch.bfloat16
    trainer.fit()
    assert all(torch.isfinite(torch.tensor(v)) for v in trainer.history[-1].values())


def test_history_logs_each_phase_every_log_every_steps():
    _, trainer = make_trainer("ring", steps=10, batch_size=16, device="cpu", progress=False,
                              log_every=5)
    history = trainer.fit()
    assert [h["step"] for h in history] == [5.0, 10.0]
    assert {"d_loss", "g_loss"} <= set(history[0])


def test_sampled_batches_depend_only_on_seed_and_step():
    def sample(n, gen):
        return {"x": torch.randn(n, 2, generator=gen)}

    source = SampledBatches(sample, batch_size=4, seed=1)
    a = source(7)["x"]
    source(3)
    assert torch.equal(a, source(7)["x"])
    ranks = [SampledBatches(sample, 4, seed=1, rank=r, world_size=2)(7)["x"] for r in (0, 1)]
    assert torch.equal(torch.cat(ranks), SampledBatches(sample, 8, seed=1)(7)["x"])


def test_tensor_batches_cover_each_epoch_once_and_shard_by_rank():
    data = {"i": torch.arange(20)}
    source = TensorBatches(data, batch_size=5, seed=0)
    epoch = torch.cat([source(s)["i"] for s in range(4)])
    assert sorted(epoch.tolist()) == list(range(20))
    shards = [TensorBatches(data, 5, seed=0, rank=r, world_size=2)(1)["i"] for r in (0, 1)]
    assert torch.equal(torch.cat(shards), TensorBatches(data, 10, seed=0)(1)["i"])
    with pytest.raises(ValueError, match="exceeds the data set's 20 rows"):
        TensorBatches(data, batch_size=25)


@pytest.mark.parametrize("field,value,message", [
    ("steps", 0, "steps must be >= 1"),
    ("batch_size", -3, "batch_size must be >= 1"),
    ("lr", 0.0, "lr must be > 0"),
    ("ema_decay", 1.5, "ema_decay must be <="),
    ("seed", "zero", "seed must be an integer"),
])
def test_train_config_rejects_out_of_range_values(field, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TrainConfig(**{field: value})
