"""Membership inference: AUROC orientation, advantage, discriminator scores (Lesson 11)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.privacy import (
    discriminator_scores,
    membership_advantage,
    membership_auroc,
    membership_report,
    tpr_at_fpr,
)


def test_auroc_is_oriented_members_high():
    members, others = [3.0, 4.0, 5.0], [0.0, 1.0, 2.0]
    assert membership_auroc(members, others) == 1.0
    assert membership_auroc(others, members) == 0.0
    # one tie between a member and a non-member counts one half: (8 + 0.5) / 9
    assert membership_auroc([2.0, 4.0, 5.0], others) == pytest.approx(8.5 / 9)


def test_identical_distributions_give_chance():
    rng = np.random.default_rng(0)
    report = membership_report(rng.normal(size=4000), rng.normal(size=4000))
    assert report["auroc"] == pytest.approx(0.5, abs=0.02)
    assert report["advantage"] < 0.05
    assert (report["members"], report["nonmembers"]) == (4000, 4000)


def test_advantage_and_tpr_at_fpr():
    members, others = np.array([0.5, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 1.5, 2.5])
    assert membership_advantage(members, others) == pytest.approx(0.5)
    assert tpr_at_fpr(members, others, 0.0) == pytest.approx(0.5)
    assert tpr_at_fpr(members, others, 1.0) == 1.0


def test_discriminator_scores_eval_mode_and_conditions():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8),
                              torch.nn.Dropout(0.5), torch.nn.Linear(8, 1)).train()
    images = torch.randn(10, 1, 2, 2)
    first = discriminator_scores(net, images, batch_size=3)
    assert first.shape == (10,) and net.training
    assert np.allclose(first, discriminator_scores(net, images))  # dropout off: deterministic

    class Conditional(torch.nn.Module):
        def forward(self, x, label):
            return x.flatten(1).sum(1) + label

    scores = discriminator_scores(Conditional(), images, torch.arange(10), batch_size=4)
    assert np.allclose(scores, images.flatten(1).sum(1).numpy() + np.arange(10))


@pytest.mark.parametrize("members, others, message", [
    ([], [1.0], "member_scores"),
    ([1.0], [[1.0]], "nonmember_scores"),
    ([np.nan], [1.0], "NaN"),
])
def test_bad_scores_are_named(members, others, message):
    with pytest.raises(ValueError, match=message):
        membership_auroc(members, others)
