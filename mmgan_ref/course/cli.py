"""The ``mmgan exercises|notebooks``, ``mmgan grade`` and ``mmgan site`` commands.

Lesson: 00 Setup and tour (how exercises are made and graded).

``mmgan_ref.cli`` wires these in with::

    from mmgan_ref.course.cli import register_cli
    register_cli(subparsers)        # then: sys.exit(args.func(args))

Each ``func`` takes the parsed ``argparse.Namespace`` and returns an exit status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The commands import their modules when run: `mmgan --help` must not wait for nbformat.


def _error(err: Exception) -> int:
    print(f"error: {err}", file=sys.stderr)
    return 2


def _report_written(changed: list[Path], what: str) -> int:
    """Print the files a build wrote and how many; exit status 0."""
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} {what}(s) changed")
    return 0


def _report_problems(problems: list[str], ok: str, prefix: str = "") -> int:
    """Print each problem to stderr (exit status 1), or the `ok` line (exit status 0)."""
    for problem in problems:
        print(f"{prefix}{problem}", file=sys.stderr)
    if problems:
        return 1
    print(ok)
    return 0


def exercises_build(args: argparse.Namespace) -> int:
    """Regenerate exercises/ from solutions/; print the files that changed."""
    from mmgan_ref.course.generator import CourseError, build_exercises

    try:
        changed = build_exercises(args.solutions, args.exercises)
    except CourseError as err:
        return _error(err)
    return _report_written(changed, "exercise notebook")


def exercises_check(args: argparse.Namespace) -> int:
    """Exit 1 when exercises/ is stale (differs from what the solutions generate)."""
    from mmgan_ref.course.generator import CourseError, check_exercises

    try:
        problems = check_exercises(args.solutions, args.exercises)
    except CourseError as err:
        return _error(err)
    return _report_problems(problems, f"{args.exercises} is up to date with {args.solutions}")


def notebooks_prepare(args: argparse.Namespace) -> int:
    """Add the Colab cell and the slide types to notebooks; print the files that changed."""
    from mmgan_ref.course.prepare import prepare_paths

    try:
        changed = prepare_paths(args.paths)
    except ValueError as err:
        return _error(err)
    status = _report_written(changed, "notebook")
    if any(path.parent.name == "solutions" for path in changed):
        print("solutions changed: run `mmgan exercises build`")
    return status


def notebooks_check(args: argparse.Namespace) -> int:
    """Exit 1 listing the notebooks that lack the Colab cell or the slide types."""
    from mmgan_ref.course.prepare import check_paths

    try:
        problems = check_paths(args.paths)
    except ValueError as err:
        return _error(err)
    return _report_problems(problems, f"all notebooks in {' '.join(args.paths)} are prepared")


def grade_command(args: argparse.Namespace) -> int:
    """Grade a folder of submissions; print one line per student."""
    from mmgan_ref.course.generator import CourseError
    from mmgan_ref.course.grader import grade

    try:
        rows = grade(args.submissions, out=args.out, feedback_dir=args.feedback,
                     solutions_dir=args.solutions, cell_timeout=args.timeout,
                     notebook_timeout=args.notebook_timeout, workers=args.workers)
    except (CourseError, ValueError, TypeError) as err:
        return _error(err)
    for row in rows:
        note = "" if row["status"] == "ok" else f"  ({row['status']})"
        print(f"{row['student']}: {row['total']} / {row['max_total']}{note}")
    feedback = args.feedback or Path(args.out).parent / "feedback"
    print(f"gradebook: {args.out}; feedback: {feedback}/")
    return 0


def site_command(args: argparse.Namespace) -> int:
    """Build the website, then check its internal links; exit 1 on a broken one."""
    from mmgan_ref.course.site import SiteError, build_site, internal_link_problems

    try:
        index = build_site(args.out, warnings_as_errors=not args.allow_warnings)
        problems = internal_link_problems(index.parent)
    except SiteError as err:
        return _error(err)
    return _report_problems(problems, f"site: {index}", prefix="broken link: ")


def _add_folders(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--solutions", default="solutions",
                        help="folder of solution notebooks, the source of truth "
                             "(default: %(default)s)")
    parser.add_argument("--exercises", default="exercises",
                        help="folder of generated exercise notebooks (default: %(default)s)")


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``exercises`` and ``notebooks`` (each ``build``/``prepare``, ``check``), ``grade``
    and ``site`` to an argparse subparsers object."""
    exercises = subparsers.add_parser("exercises", help="generate exercises from solutions, "
                                      "or check that they are up to date")
    actions = exercises.add_subparsers(dest="exercises_command", required=True)
    build = actions.add_parser("build", help="regenerate exercises/ from solutions/")
    _add_folders(build)
    build.set_defaults(func=exercises_build)
    check = actions.add_parser("check", help="exit 1 if exercises/ is stale")
    _add_folders(check)
    check.set_defaults(func=exercises_check)

    notebooks = subparsers.add_parser("notebooks", help="make notebooks ready for Colab and "
                                      "reveal.js slides, or check that they are")
    actions = notebooks.add_subparsers(dest="notebooks_command", required=True)
    prepare = actions.add_parser("prepare", help="add the Colab cell and the slide types "
                                 "(idempotent); then run `mmgan exercises build`")
    prepare.add_argument("paths", nargs="*", default=["notebooks", "solutions"], metavar="PATH",
                         help="folders or .ipynb files (default: notebooks solutions)")
    prepare.set_defaults(func=notebooks_prepare)
    check = actions.add_parser("check", help="exit 1 if a notebook is not prepared")
    check.add_argument("paths", nargs="*", default=["notebooks", "solutions", "exercises"],
                       metavar="PATH",
                       help="folders or .ipynb files (default: notebooks solutions exercises)")
    check.set_defaults(func=notebooks_check)

    grader = subparsers.add_parser("grade", help="grade a folder of student notebooks")
    grader.add_argument("submissions", metavar="SUBMISSIONS_DIR",
                        help="one folder per student (STUDENT/...ipynb) or STUDENT.ipynb files")
    grader.add_argument("--out", default="gradebook.csv",
                        help="gradebook CSV to write (default: %(default)s)")
    grader.add_argument("--feedback", default=None,
                        help="folder for one STUDENT.md feedback file each "
                             "(default: 'feedback' beside --out)")
    grader.add_argument("--timeout", type=float, default=60.0,
                        help="seconds one cell may run (default: %(default)s)")
    grader.add_argument("--notebook-timeout", type=float, default=600.0,
                        help="seconds one notebook may run in all (default: %(default)s)")
    grader.add_argument("--workers", type=int, default=2,
                        help="notebooks graded at the same time (default: %(default)s)")
    grader.add_argument("--solutions", default="solutions",
                        help="folder of solution notebooks, the masters (default: %(default)s)")
    grader.set_defaults(func=grade_command)

    site = subparsers.add_parser("site", help="build the course website (offline) and check "
                                 "its links")
    site.add_argument("--out", default="_build/site",
                      help="output folder (default: %(default)s)")
    site.add_argument("--allow-warnings", action="store_true",
                      help="do not fail on Sphinx warnings")
    site.set_defaults(func=site_command)


def main(argv: list[str] | None = None) -> int:
    """``python -m mmgan_ref.course``: the same commands without the rest of ``mmgan``."""
    parser = argparse.ArgumentParser(prog="python -m mmgan_ref.course",
                                     description="Exercises and grading of the course.")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)
