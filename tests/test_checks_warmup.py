"""The checks framework (mmgan_ref.checks._framework) and the warm-up checks."""

from __future__ import annotations

import pytest
import torch

from mmgan_ref import checks
from mmgan_ref.checks import _framework as fw
from mmgan_ref.checks import warmup

# ----------------------------------------------------------------------------- framework


def test_fail_message_has_expected_got_and_hint():
    c = fw.Check("1.2", "thing")
    with pytest.raises(AssertionError) as err:
        c.fail("wrong", expected="A", got="B", hint="do C")
    assert str(err.value).splitlines() == ["Exercise 1.2 (thing): wrong", "  expected: A",
                                           "  got:      B", "  Hint: do C"]


def test_call_silences_student_output_and_wraps_errors(capsys):
    c = fw.Check("1.2", "thing")

    def noisy(x):
        print("debug", x)
        return x + 1

    assert c.call(noisy, 1) == 2
    assert capsys.readouterr().out == ""

    def broken(x):
        raise KeyError("k")

    with pytest.raises(AssertionError, match=r"calling thing\(int\) raised KeyError") as err:
        c.call(broken, 1)
    assert isinstance(err.value.__cause__, KeyError)  # the student's traceback is kept
    with pytest.raises(AssertionError, match="expected a function named thing"):
        c.call(None)


def test_call_turns_a_stub_into_not_done_yet():
    def stub():
        raise NotImplementedError("Exercise 1.2: do it")

    with pytest.raises(AssertionError, match=r"Exercise 1.2 is not done yet.*NotImplementedError"):
        fw.Check("1.2", "thing").call(stub)


def test_call_no_inplace_catches_changes_even_when_undone():
    c = fw.Check("1.2", "thing")
    x = torch.ones(3)

    def sneaky(t):  # changes the input, then restores its values
        t.add_(1)
        t.sub_(1)
        return t * 2

    with pytest.raises(AssertionError, match="in place"):
        c.call_no_inplace(sneaky, x)
    assert torch.equal(c.call_no_inplace(lambda t: t * 2, x), 2 * torch.ones(3))


def test_assert_close_names_a_matching_mistake():
    c = fw.Check("1.2", "double")
    x = torch.arange(4.0)
    c.assert_close(2 * x + 1e-7, 2 * x, "double(x)")
    with pytest.raises(AssertionError, match="common mistake: added instead of multiplied"):
        c.assert_close(x + 2, 2 * x, "double(x)",
                       mistakes={"squared": lambda: x**2, "added instead of multiplied": x + 2})
    with pytest.raises(AssertionError) as err:
        c.assert_close(x + 5, 2 * x, "double(x)", mistakes={"squared": x**2})
    assert "common mistake" not in str(err.value) and "largest difference" in str(err.value)
    with pytest.raises(AssertionError, match="NaN or inf"):
        c.assert_close(torch.full((4,), float("nan")), 2 * x, "double(x)")
    with pytest.raises(AssertionError, match="should return a torch.Tensor"):
        c.assert_close(x.numpy(), 2 * x, "double(x)")


def test_expect_shape_and_dtype():
    c = fw.Check("1.2", "thing")
    c.expect_shape(torch.zeros(2, 3), (2, 3), "thing()")
    with pytest.raises(AssertionError, match="swapped"):
        c.expect_shape(torch.zeros(3, 2), (2, 3), "thing()")
    with pytest.raises(AssertionError, match="float64"):
        c.expect_dtype(torch.zeros(2, dtype=torch.float32), torch.float64, "thing()")


def test_grads_reaching_module_and_mapping():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    frozen = torch.nn.Linear(2, 1)
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    loss = model(x).sum() + frozen(x).detach().sum()
    assert all(fw.grads_reaching(model, loss).values())
    assert not any(fw.grads_reaching(frozen, loss).values())
    a, b = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    assert fw.grads_reaching({"a": a, "b": b}, (a * 3).sum()) == {"a": True, "b": False}


def test_passed_prints_one_line_unless_quiet(capsys):
    fw.Check("1.2", "thing").passed("ok")
    fw.Check("1.2", "thing", quiet=True).passed("ok")
    assert capsys.readouterr().out == "\u2713 Exercise 1.2 passed: ok\n"


def test_seeded_randn_leaves_global_rng_alone():
    state = torch.get_rng_state()
    assert torch.equal(fw.seeded_randn(3, 2, 2), fw.seeded_randn(3, 2, 2))
    assert torch.equal(torch.get_rng_state(), state)


def test_load_restores_a_replaced_check_and_rejects_unknown_names():
    def fake(*args, **kwargs):
        print("\u2713 Exercise 0.1 passed")

    checks.load("warmup").check_standardize = fake  # what a cheating cell might do
    assert checks.load("warmup").check_standardize is not fake
    with pytest.raises(AssertionError):
        checks.load("warmup").check_standardize(lambda x, eps=1e-5: x)
    with pytest.raises(ValueError, match="allowed"):
        checks.load("no_such_lesson")
    assert "warmup" in checks.available() and "_framework" not in checks.available()


# ----------------------------------------------------------------------------- warm-up


def test_reference_standardize_properties():
    x = 4 * fw.seeded_randn(0, 50, 3) + 1
    z = warmup.reference_standardize(x)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(z.var(0, unbiased=False), torch.ones(3), atol=1e-4)


def test_check_standardize_ignores_student_prints(capsys):
    def chatty(x, eps=1e-5):
        print("my debug output")
        return warmup.reference_standardize(x, eps)

    warmup.check_standardize(chatty)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("\u2713 Exercise 0.1 passed")


def test_check_standardize_rejects_numpy_output():
    with pytest.raises(AssertionError, match="torch.Tensor"):
        warmup.check_standardize(lambda x, eps=1e-5: warmup.reference_standardize(x).numpy())


def test_check_sample_noise_explains_a_crash():
    def typo(batch_size, z_dim, generator):
        return torch.randn(batch_size, z_dim, generatr=generator)

    expected = r"sample_noise\(int, int, torch.Generator\) raised TypeError"
    with pytest.raises(AssertionError, match=expected):
        warmup.check_sample_noise(typo)
