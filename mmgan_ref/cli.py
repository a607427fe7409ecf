"""The `mmgan` command: train, sample, evaluate, doctor, exercises, grade.

Lesson: 00 Setup and tour.

Usage::

    mmgan train [RECIPE] [--steps N --batch-size B --lr LR --device D --seed S --out DIR
                          --amp --compile --ema DECAY --resume RUN --distributed
                          --data DIR]
    mmgan sample RUN -o FILE [-n N --seed S ...]
    mmgan doctor
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

DEFAULT_RECIPE = "shapes"
FAST_STEPS = 30  # MMGAN_FAST: enough to exercise every code path, not to learn

log = logging.getLogger("mmgan")


def default_recipe() -> str:
    """What a plain `mmgan train` trains: the flagship."""
    return DEFAULT_RECIPE


# ----------------------------------------------------------------------------- train


def add_train_parser(sub) -> None:
    from mmgan_ref.train.recipes import RECIPES, recipe_names
    from mmgan_ref.utils import DEVICE_CHOICES

    names = recipe_names()
    lines = "\n".join(f"  {n:14s} {RECIPES[n].description}" for n in names)
    p = sub.add_parser(
        "train", help="train a recipe and write a run folder",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a named recipe; writes config.json, checkpoint.pt, samples.png, "
                    "curves.png, history.json and metrics.json into the run folder.\n\n"
                    f"recipes:\n{lines}")
    p.add_argument("recipe", nargs="?", default=None,
                   help=f"recipe name (default: {default_recipe()}; with --resume, the run's own)")
    p.add_argument("--steps", type=int, help="training steps (default: the recipe's)")
    p.add_argument("--batch-size", type=int, help="batch size per process")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--device", help=f"one of {', '.join(DEVICE_CHOICES)} or cuda:N "
                                    "(default auto: cuda, then mps, then cpu)")
    p.add_argument("--out", help="run folder (default runs/RECIPE; with --resume, the resumed "
                                 "run's folder)")
    p.add_argument("--amp", action="store_true", default=None,
                   help="mixed precision: bf16 where supported, else fp16 with a grad scaler")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile networks")
    p.add_argument("--ema", type=float, dest="ema_decay",
                   help="decay of the generator's moving average (0 disables)")
    p.add_argument("--channels-last", action="store_true", default=None,
                   help="NHWC memory format for conv nets (faster with AMP on GPUs)")
    p.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (0: at end)")
    p.add_argument("--image-size", type=int, help="image size, for recipes that take one")
    p.add_argument("--data", metavar="DIR",
                   help="captions-64 only (required there; a resumed run keeps its own): a local "
                        "caption folder, DIR/images/.../NAME.jpg|.png with DIR/text/.../NAME.txt "
                        "(or text_c10/), one caption per line, as CUB-200 and Oxford-102 "
                        "captions ship; nothing is downloaded. On a GPU: mmgan train "
                        "captions-64 --data DIR --device cuda --amp --channels-last. Other "
                        "recipes refuse it")
    p.add_argument("--resume", help="run folder or checkpoint to continue from")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training under torchrun (gloo on CPU, NCCL on GPU)")
    p.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from mmgan_ref.train import distributed as ddp
    from mmgan_ref.train.checkpoint import load_checkpoint, resolve_checkpoint_path
    from mmgan_ref.train.recipes import get_recipe
    from mmgan_ref.train.run import train
    from mmgan_ref.utils import fast_mode

    name = args.recipe
    if name is None and args.resume is not None:
        name = load_checkpoint(args.resume, name="resume")["recipe"]  # the run's own recipe
    recipe = get_recipe(name or default_recipe())  # unknown name: error before work
    _check_data_flag(recipe, args.data, resuming=args.resume is not None)
    rank, world, device = 0, 1, args.device
    if args.distributed:
        rank, world, device = ddp.init_from_env(args.device or "auto")
    elif device is not None:
        from mmgan_ref.utils import resolve_device

        resolve_device(device)
    steps = args.steps
    if steps is None and fast_mode():
        steps = min(recipe.defaults.steps, FAST_STEPS)
        log.info("MMGAN_FAST is set: training %d steps instead of %d (figures will be poor)",
                 steps, recipe.defaults.steps)
    if args.out is None and args.resume is not None:
        out = resolve_checkpoint_path("resume", args.resume).parent  # a run goes on in its folder
    else:
        out = Path(args.out or Path("runs") / recipe.name)
    # Resuming keeps the run's own settings: only flags given now override them.
    extra = {} if args.resume else dict(recipe.defaults.extra)
    if args.image_size is not None:
        extra["image_size"] = args.image_size
    if args.data is not None:
        extra["data_dir"] = str(Path(args.data).expanduser().resolve())
    overrides = dict(steps=steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                     device=device, amp=args.amp, compile=args.compile,
                     ema_decay=args.ema_decay, checkpoint_every=args.checkpoint_every,
                     channels_last=args.channels_last,
                     progress=False if args.no_progress else None, extra=extra)
    try:
        run = train(recipe.name, out=out, resume=args.resume, evaluate=not args.no_eval,
                    rank=rank, world_size=world, **overrides)
    finally:
        if args.distributed:
            ddp.shutdown()
    if rank == 0:
        trainer = run.trainer
        log.info("trained %s for %d steps in %.1f s (%.1f steps/s) on %s", recipe.name,
                 trainer.step, trainer.seconds, trainer.step / max(trainer.seconds, 1e-9),
                 trainer.device)
        for key, value in _flat_metrics(run.metrics):
            log.info("  %-28s %s", key, value)
        log.info("run folder: %s", out.resolve())
    return 0


def _check_data_flag(recipe, data: str | None, resuming: bool = False) -> None:
    """--data goes with recipes that read a local folder (`takes_data`), and only with them."""
    from mmgan_ref.train.recipes import RECIPES

    takes_data = getattr(recipe, "takes_data", False)
    if data is None and takes_data and not resuming:
        raise ValueError(f"--data: recipe {recipe.name!r} trains on a local caption folder "
                         "(DIR/images/.../NAME.jpg and DIR/text/.../NAME.txt, as CUB-200 and "
                         "Oxford-102 captions ship); give --data DIR")
    if data is not None and not takes_data:
        takers = sorted(n for n, r in RECIPES.items() if getattr(r, "takes_data", False))
        raise ValueError(f"--data: recipe {recipe.name!r} uses built-in data and takes no "
                         f"folder; --data goes with: {', '.join(takers)}")


def _flat_metrics(metrics: dict, prefix: str = ""):
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _flat_metrics(value, f"{prefix}{key}.")
        elif isinstance(value, float):
            yield f"{prefix}{key}", f"{value:.4g}"
        elif isinstance(value, (int, str)):
            yield f"{prefix}{key}", value


# ----------------------------------------------------------------------------- sample


def add_sample_parser(sub) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained run",
                       description="Draw samples from a run folder written by `mmgan train` "
                                   "and save them as an image.")
    p.add_argument("run", help="run folder (or its checkpoint.pt)")
    p.add_argument("-o", "--output", default="samples.png", help="image file to write")
    p.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--device", default="cpu", help="device to sample on (default cpu)")
    p.add_argument("--label", type=int, help="digits-cgan: draw only this digit (0-9)")
    p.add_argument("--text", help="shapes: a caption to draw, e.g. 'a small red circle at the "
                                  "top left'")
    p.add_argument("--sound", help="shapes: a .wav file to draw from")
    p.add_argument("--image", help="shapes: a .png image: print its nearest captions")
    p.add_argument("--interpolate", nargs=2, metavar=("CAPTION_A", "CAPTION_B"),
                   help="shapes: an interpolation strip between two captions")
    p.set_defaults(func=cmd_sample)


def cmd_sample(args: argparse.Namespace) -> int:
    from mmgan_ref.train.run import load_run
    from mmgan_ref.utils import check_int

    check_int("-n", args.n, minimum=1, maximum=10_000)
    run = load_run(args.run, device=args.device)
    options = {k: getattr(args, k) for k in ("label", "text", "sound", "image", "interpolate")
               if getattr(args, k) is not None}
    lines = run.recipe.sample_to_file(run.family, run.generator, Path(args.output), args.n,
                                      args.seed, **options)
    for line in lines:
        log.info("%s", line)
    return 0


# ----------------------------------------------------------------------------- doctor


def add_doctor_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check the environment: versions, device, data",
                       description="Print versions, the device `auto` picks, thread counts "
                                   "and whether the offline data sets load.")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from mmgan_ref.doctor import doctor_report

    report = doctor_report()
    for key, value in report["lines"]:
        log.info("%-22s %s", key, value)
    return 0 if report["ok"] else 1


# ----------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmgan", description="Multimodal GANs course: train, sample, evaluate and grade.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(sub)
    add_sample_parser(sub)
    add_doctor_parser(sub)
    for module in ("mmgan_ref.metrics.cli", "mmgan_ref.course.cli"):
        _register_optional(module, sub)
    return parser


def _register_optional(module_name: str, sub) -> None:
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        return
    module.register_cli(sub)


def _configure_logging(level: int) -> None:
    """Messages of the command (and of mmgan_ref) go to stdout, one plain line each."""
    root = logging.getLogger("mmgan_ref")
    for logger in (log, root):
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        if args.verbose:
            raise
        print(f"mmgan {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
