"""The `mmgan` command: a short end-to-end run, sampling, doctor, and errors at the boundary."""

from __future__ import annotations

import json

import pytest

from mmgan_ref.cli import build_parser, main
from mmgan_ref.utils import resolve_device


def test_train_writes_a_complete_run_folder_and_sample_reads_it(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "digits-cgan", "--steps", "3", "--batch-size", "16", "--out", str(out),
                 "--device", "cpu", "--no-progress"])
    assert code == 0
    for name in ("config.json", "checkpoint.pt", "samples.png", "curves.png", "metrics.json",
                 "history.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"coherence", "ceiling", "diversity"} <= set(metrics)
    assert str(out.resolve()) in capsys.readouterr().out

    picture = tmp_path / "fives.png"
    assert main(["sample", str(out), "-o", str(picture), "-n", "8", "--label", "5"]) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_subcommand_has_complete_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in sub.choices.items():
        text = subparser.format_help()
        for action in subparser._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"mmgan {name} {action.option_strings[0]} has no help"
        assert text.strip()


def test_doctor_reports_versions_and_data(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for needle in ("torch", "device (auto)", "data: digits", "data: toy2d"):
        assert needle in out


@pytest.mark.parametrize("argv,message", [
    (["train", "no-such-recipe"], "recipe: got 'no-such-recipe'; allowed:"),
    (["train", "ring", "--device", "tpu"], "device: got 'tpu'; allowed:"),
    (["train", "ring", "--steps", "0"], "steps must be >= 1, got 0"),
    (["train", "ring", "--batch-size", "100000"], "batch_size must be <= 65536"),
    (["sample", "/nonexistent/run"], "no checkpoint at"),
])
def test_bad_input_is_a_clear_error_before_any_work(argv, message, capsys, tmp_path,
                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.pt"))


def test_cuda_requested_without_cuda_is_refused(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert main(["train", "ring", "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


def test_unwritable_output_folder_is_refused(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["train", "ring", "--steps", "2", "--out", str(blocker / "run")]) == 2
    assert "out: cannot write to" in capsys.readouterr().err


def test_corrupt_checkpoint_is_refused_by_sample(tmp_path, capsys):
    (tmp_path / "checkpoint.pt").write_bytes(b"\x00garbage")
    assert main(["sample", str(tmp_path)]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err


def test_sample_rejects_options_the_recipe_does_not_take(tmp_path, capsys):
    out = tmp_path / "ring"
    main(["train", "ring", "--steps", "2", "--batch-size", "8", "--out", str(out),
          "--no-progress", "--no-eval"])
    assert main(["sample", str(out), "--label", "3"]) == 2
    assert "does not take --label" in capsys.readouterr().err


def test_resume_keeps_the_runs_own_settings_unless_a_flag_overrides_them(tmp_path):
    out = tmp_path / "run"
    common = ["--batch-size", "4", "--out", str(out), "--device", "cpu", "--no-progress",
              "--no-eval"]
    assert main(["train", "shapes", "--image-size", "64", "--steps", "1", *common]) == 0
    # Resumed without --image-size: the run stays at 64 (the recipe's default is 32).
    assert main(["train", "shapes", "--resume", str(out), "--steps", "2", *common]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["extra"]["image_size"] == 64
    assert config["train"]["steps"] == 2


def test_resume_goes_on_in_the_runs_own_folder_with_its_own_recipe(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.chdir(tmp_path)  # the default folder, runs/RECIPE, would land here
    run = tmp_path / "my-ring"
    flags = ["--device", "cpu", "--no-progress", "--no-eval"]
    assert main(["train", "ring", "--steps", "2", "--batch-size", "8", "--out", str(run),
                 *flags]) == 0
    # Neither the recipe nor --out is named: both come from the run being resumed.
    assert main(["train", "--resume", str(run / "checkpoint.pt"), "--steps", "3", *flags]) == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["recipe"], config["train"]["steps"]) == ("ring", 3)
    assert not (tmp_path / "runs").exists()
    assert str(run.resolve()) in capsys.readouterr().out
    # A run that is not there is refused by name before any work.
    assert main(["train", "--resume", str(tmp_path / "nowhere"), *flags]) == 2
    assert "resume: no checkpoint at" in capsys.readouterr().err
