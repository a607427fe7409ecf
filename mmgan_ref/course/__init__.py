"""The exercise pipeline: solutions -> exercises, drift check, grading with nbval.

Lesson: 00 Setup and tour (how exercises are made and graded).

- :mod:`markers`: ``### BEGIN SOLUTION`` / ``### BEGIN HIDDEN TESTS`` regions in a cell;
- :mod:`generator`: validate solutions, write ``exercises/``, detect drift;
- :mod:`nbrun`: one notebook through nbval in a child process, with time limits;
- :mod:`merge`: a student's answers put into the master notebook;
- :mod:`grader`: a folder of submissions -> gradebook CSV and feedback files;
- :mod:`cli`: ``mmgan exercises build|check`` and ``mmgan grade``.

Instructors' guide: ``docs/instructors.md``. Nothing is imported here, so that
``mmgan --help`` starts fast.
"""
