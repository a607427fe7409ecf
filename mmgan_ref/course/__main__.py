"""``python -m mmgan_ref.course exercises build|check`` and ``... grade SUBMISSIONS_DIR``."""

import sys

from mmgan_ref.course.cli import main

if __name__ == "__main__":
    sys.exit(main())
