"""Tests of mmgan_ref.nn: shapes, gradients, conditioning, masking, errors, spectral norm."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from mmgan_ref.nn import (
    PAD,
    AuxClassifierDiscriminator,
    ConditionalBatchNorm2d,
    ConvDiscriminator,
    ConvGenerator,
    CrossModalEncoder,
    FiLM,
    ImageEncoder,
    JointDiscriminator,
    MatchingAwareDiscriminator,
    MLPDiscriminator,
    MLPEncoder,
    MLPGenerator,
    SoundEncoder,
    TextEncoder,
    maybe_spectral_norm,
)
from mmgan_ref.nn.blocks import mlp

B = 4


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def assert_all_parameters_get_gradients(module: nn.Module, *outputs: torch.Tensor) -> None:
    loss = sum((out * torch.randn_like(out)).sum() for out in outputs)
    loss.backward()
    missing = [name for name, p in module.named_parameters()
               if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, f"no gradient reached: {missing}"


def weight_layers(module: nn.Module) -> list[nn.Module]:
    kinds = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)
    return [m for m in module.modules() if isinstance(m, kinds)]


def labels(k: int = 10) -> torch.Tensor:
    return torch.randint(0, k, (B,))


# ----------------------------------------------------------------------------- blocks


def test_mlp_layers_and_spectral_norm():
    net = mlp([2, 16, 16, 1], activation="relu", final_activation="tanh")
    assert net(torch.randn(B, 2)).shape == (B, 1)
    assert isinstance(net[-1], nn.Tanh) and sum(isinstance(m, nn.ReLU) for m in net) == 2
    sn = mlp([2, 16, 1], spectral_norm=True)
    assert all(parametrize.is_parametrized(m, "weight") for m in weight_layers(sn))
    assert not any(parametrize.is_parametrized(m) for m in weight_layers(net))
    assert maybe_spectral_norm(nn.Linear(2, 2), False).__class__ is nn.Linear
    with pytest.raises(ValueError, match="activation"):
        mlp([2, 1], activation="gelu")
    with pytest.raises(ValueError, match="sizes"):
        mlp([2])


def test_mlp_fast_forward_matches_sequential_and_yields_to_hooks():
    net = mlp([2, 16, 16, 1], activation="leaky_relu", spectral_norm=True).eval()
    x = torch.randn(B, 2)  # eval: spectral norm's power iteration holds still between calls
    assert isinstance(net, nn.Sequential)
    assert torch.equal(net(x), nn.Sequential(*net)(x))  # the same layers, called directly
    assert list(net.state_dict()) == list(nn.Sequential(*net).state_dict())
    seen: list[str] = []
    handle = net[2].register_forward_hook(lambda m, i, o: seen.append("layer"))
    net(x)
    handle.remove()
    glob = nn.modules.module.register_module_forward_hook(
        lambda m, i, o: seen.append(type(m).__name__))
    try:
        net(x)
    finally:
        glob.remove()
    assert seen[0] == "layer" and seen.count("LeakyReLU") == 2, seen
    seen.clear()
    net(x)  # no hook left: the fast path, and nothing recorded
    assert seen == []


def test_film_and_conditional_bn_are_identity_at_init():
    film = FiLM(cond_dim=5, num_features=3)
    x, code = torch.randn(B, 3, 6, 6), torch.randn(B, 5)
    torch.testing.assert_close(film(x, code), x)
    assert film(torch.randn(B, 3), code).shape == (B, 3)  # any rank >= 2
    cbn = ConditionalBatchNorm2d(3, cond_dim=5)
    torch.testing.assert_close(cbn(x, code), nn.BatchNorm2d(3, affine=False)(x))
    with torch.no_grad():
        film.to_gamma_beta.weight.normal_()
    assert not torch.allclose(film(x, code), x)  # trained FiLM does depend on the code
    with pytest.raises(ValueError, match="code"):
        film(x, torch.randn(B, 4))


# ----------------------------------------------------------------------------- MLPs


@pytest.mark.parametrize("cond", [{}, {"num_classes": 10}, {"cond_dim": 6}])
def test_mlp_generator_shapes_and_gradients(cond):
    gen = MLPGenerator(8, 2, (32, 32), **cond)
    y = labels() if "num_classes" in cond else torch.randn(B, 6) if cond else None
    x = gen(torch.randn(B, 8), y)
    assert x.shape == (B, 2)
    assert not any(isinstance(m, nn.Tanh) for m in gen.modules())  # unbounded for 2-D data
    assert_all_parameters_get_gradients(gen, x)


def test_mlp_generator_tanh_for_flat_images():
    gen = MLPGenerator(8, 64, out_activation="tanh")
    x = gen(torch.randn(B, 8) * 100)
    assert x.shape == (B, 64) and x.abs().max() <= 1


@pytest.mark.parametrize("projection", [False, True])
@pytest.mark.parametrize("cond", [{"num_classes": 10}, {"cond_dim": 6}])
def test_mlp_discriminator_conditional(projection, cond):
    disc = MLPDiscriminator(2, (32, 32), projection=projection, **cond)
    y = labels() if "num_classes" in cond else torch.randn(B, 6)
    logits = disc(torch.randn(B, 2), y)
    assert logits.shape == (B,)
    assert not any(isinstance(m, nn.Sigmoid) for m in disc.modules())
    assert_all_parameters_get_gradients(disc, logits)
    other = disc(torch.randn(B, 2), y.flip(0) if y.dim() == 1 else torch.randn(B, 6))
    assert other.shape == (B,)


def test_mlp_discriminator_plain_spectral_norm_and_errors():
    disc = MLPDiscriminator(2, (16,), spectral_norm=True, projection=False)
    assert disc(torch.randn(B, 2)).shape == (B,)
    assert all(parametrize.is_parametrized(m, "weight") for m in weight_layers(disc))
    with pytest.raises(ValueError, match="projection=True needs a condition"):
        MLPDiscriminator(2, projection=True)
    with pytest.raises(ValueError, match="x must have shape"):
        disc(torch.randn(B, 3))
    with pytest.raises(ValueError, match="unconditional"):
        disc(torch.randn(B, 2), labels())
    cond_disc = MLPDiscriminator(2, num_classes=10)
    with pytest.raises(ValueError, match="conditional; pass labels"):
        cond_disc(torch.randn(B, 2))
    with pytest.raises(TypeError, match="integer"):
        cond_disc(torch.randn(B, 2), torch.zeros(B))
    with pytest.raises(ValueError, match="batch size"):
        cond_disc(torch.randn(B, 2), labels()[:2])
    with pytest.raises(ValueError, match="not both"):
        MLPDiscriminator(2, num_classes=10, cond_dim=3)


def test_aux_classifier_discriminator():
    disc = AuxClassifierDiscriminator(64, num_classes=10, hidden=(32,))
    logit, class_logits = disc(torch.randn(B, 64))
    assert logit.shape == (B,) and class_logits.shape == (B, 10)
    assert_all_parameters_get_gradients(disc, logit, class_logits)


# ----------------------------------------------------------------------------- conv


@pytest.mark.parametrize("size,channels", [(8, 1), (16, 3), (32, 3), (64, 3)])
def test_conv_generator_and_discriminator_shapes(size, channels):
    gen = ConvGenerator(16, channels=channels, image_size=size, base_width=8)
    images = gen(torch.randn(B, 16))
    assert images.shape == (B, channels, size, size) and images.abs().max() <= 1
    disc = ConvDiscriminator(channels=channels, image_size=size, base_width=8)
    logits = disc(images)
    assert logits.shape == (B,)
    assert_all_parameters_get_gradients(gen, images)
    assert_all_parameters_get_gradients(disc, disc(images.detach()))


@pytest.mark.parametrize("conditioning", ["concat", "film"])
@pytest.mark.parametrize("cond", [{"num_classes": 10}, {"cond_dim": 6}])
def test_conv_generator_conditional(conditioning, cond):
    gen = ConvGenerator(16, channels=3, image_size=32, base_width=8, conditioning=conditioning,
                        **cond)
    y = labels() if "num_classes" in cond else torch.randn(B, 6)
    images = gen(torch.randn(B, 16), y)
    assert images.shape == (B, 3, 32, 32)
    assert_all_parameters_get_gradients(gen, images)
    if conditioning == "film":  # FiLM at every resolution, all identity at init
        assert sum(isinstance(m, FiLM) for m in gen.modules()) == 4
        gen.eval()
        z = torch.randn(B, 16)
        y2 = labels() if "num_classes" in cond else torch.randn(B, 6)
        torch.testing.assert_close(gen(z, y), gen(z, y2))


@pytest.mark.parametrize("projection", [False, True])
def test_conv_discriminator_conditional_and_channels_last(projection):
    disc = ConvDiscriminator(channels=3, image_size=32, base_width=8, num_classes=10,
                             projection=projection, spectral_norm=True)
    assert all(parametrize.is_parametrized(m, "weight") for m in weight_layers(disc))
    x, y = torch.rand(B, 3, 32, 32) * 2 - 1, labels()
    disc.eval()  # spectral norm's power iteration updates only in training mode
    logits = disc(x, y)
    assert logits.shape == (B,)
    torch.testing.assert_close(disc(x.to(memory_format=torch.channels_last), y), logits)
    disc.train()
    assert_all_parameters_get_gradients(disc, disc(x, y))


def test_conv_errors_are_clear():
    disc = ConvDiscriminator(channels=1, image_size=8)
    with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 8, 8\)"):
        disc(torch.randn(B, 1, 16, 16))
    with pytest.raises(ValueError, match="image_size"):
        ConvGenerator(8, image_size=28)
    with pytest.raises(ValueError, match="conditioning"):
        ConvGenerator(8, conditioning="attention")
    with pytest.raises(ValueError, match="z must have shape"):
        ConvGenerator(8, image_size=8)(torch.randn(B, 9))


# ----------------------------------------------------------------------------- pair discriminators


def test_matching_aware_discriminator_uses_the_code():
    disc = MatchingAwareDiscriminator(channels=3, image_size=32, code_dim=12, base_width=8,
                                      spectral_norm=True)
    x, s = torch.rand(B, 3, 32, 32) * 2 - 1, torch.randn(B, 12)
    disc.eval()
    logits = disc(x, s)
    assert logits.shape == (B,)
    assert not torch.allclose(disc(x, torch.randn(B, 12)), logits)
    assert parametrize.is_parametrized(disc.head.embed, "weight")
    disc.train()
    assert_all_parameters_get_gradients(disc, disc(x, s))
    with pytest.raises(ValueError, match="s must have shape"):
        disc(x, torch.randn(B, 11))


@pytest.mark.parametrize("x_dim", [64, (1, 8, 8), (3, 32, 32)])
def test_joint_discriminator(x_dim):
    disc = JointDiscriminator(x_dim, z_dim=10, hidden=(32,), base_width=8)
    shape = (x_dim,) if isinstance(x_dim, int) else x_dim
    logits = disc(torch.randn(B, *shape), torch.randn(B, 10))
    assert logits.shape == (B,)
    assert_all_parameters_get_gradients(disc, logits)
    with pytest.raises(ValueError, match="z must have shape"):
        disc(torch.randn(B, *shape), torch.randn(B, 9))


# ----------------------------------------------------------------------------- encoders


def test_image_sound_and_mlp_encoders():
    for size in (8, 32, 64):
        enc = ImageEncoder(channels=3, image_size=size, out_dim=16, base_width=8)
        codes = enc(torch.randn(B, 3, size, size))
        assert codes.shape == (B, 16)
    assert_all_parameters_get_gradients(enc, codes)
    sound = SoundEncoder(33, out_dim=16, width=8)
    for frames in (4, 17, 40):
        assert sound(torch.randn(B, 33, frames)).shape == (B, 16)
    assert_all_parameters_get_gradients(sound, sound(torch.randn(B, 33, 20)))
    with pytest.raises(ValueError, match="spec must have shape"):
        sound(torch.randn(B, 32, 20))
    with pytest.raises(ValueError, match="frames"):
        sound(torch.randn(B, 33, 2))
    bigan = MLPEncoder(64, 10, hidden=(32,))
    assert bigan(torch.randn(B, 64)).shape == (B, 10)
    assert_all_parameters_get_gradients(bigan, bigan(torch.randn(B, 64)))


@pytest.mark.parametrize("mode", ["mean", "gru"])
def test_text_encoder_ignores_padding(mode):
    enc = TextEncoder(20, out_dim=16, embed_dim=8, mode=mode)
    tokens = torch.tensor([[3, 4, 5, PAD], [7, PAD, PAD, PAD], [2, 9, 11, 12], [5, 5, PAD, PAD]])
    codes = enc(tokens)
    assert codes.shape == (4, 16)
    longer = torch.cat([tokens, torch.full((4, 5), PAD)], dim=1)
    torch.testing.assert_close(enc(longer), codes)
    assert not torch.allclose(codes[0], codes[1])  # the words matter
    assert_all_parameters_get_gradients(enc, enc(tokens))
    with pytest.raises(TypeError, match="integer"):
        enc(tokens.float())


def test_text_encoder_gru_rejects_inner_padding():
    enc = TextEncoder(20, mode="gru")
    with pytest.raises(ValueError, match="PAD"):
        enc(torch.tensor([[3, PAD, 4]]))


def test_cross_modal_encoder():
    image = ImageEncoder(channels=3, image_size=8, out_dim=16, base_width=4)
    text = TextEncoder(20, out_dim=24, embed_dim=8)
    sound = SoundEncoder(9, out_dim=16, width=4)
    enc = CrossModalEncoder(image=image, text=text, sound=sound, dim=16)
    assert enc.modalities == ("image", "text", "sound")
    codes = enc(image=torch.randn(B, 3, 8, 8), text=torch.randint(1, 20, (B, 5)),
                sound=torch.randn(B, 9, 12))
    for code in codes.values():
        assert code.shape == (B, 16)
        torch.testing.assert_close(code.norm(dim=1), torch.ones(B))
    assert enc.logit_scale().item() == pytest.approx(1 / 0.07, rel=1e-5)
    with torch.no_grad():
        enc.log_scale.fill_(10.0)
    assert enc.logit_scale().item() == pytest.approx(100.0)
    from mmgan_ref.objectives import info_nce
    loss = info_nce(codes["image"], codes["text"], logit_scale=enc.logit_scale())
    loss.backward()
    assert enc.log_scale.grad is None or enc.log_scale.grad == 0  # clamped: no gradient


def test_cross_modal_encoder_subsets_and_errors():
    text_only = CrossModalEncoder(text=TextEncoder(20, out_dim=8), dim=8)
    both = CrossModalEncoder(text=TextEncoder(20, out_dim=8),
                             sound=SoundEncoder(9, out_dim=8, width=4), dim=8)
    assert text_only.modalities == ("text",) and both.modalities == ("text", "sound")
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(both) > count(text_only)
    codes = text_only.encode_text(torch.randint(1, 20, (B, 6)))
    assert_all_parameters_get_gradients(text_only, info_nce_like(codes, text_only))
    with pytest.raises(ValueError, match="no image encoder"):
        text_only.encode_image(torch.randn(B, 3, 8, 8))
    with pytest.raises(ValueError, match="at least one"):
        CrossModalEncoder(dim=8)
    with pytest.raises(TypeError, match="out_dim"):
        CrossModalEncoder(image=nn.Linear(3, 3), dim=8)


def info_nce_like(codes: torch.Tensor, enc: CrossModalEncoder) -> torch.Tensor:
    return enc.logit_scale() * codes @ codes.T  # (B, B), touches the scale and the codes
