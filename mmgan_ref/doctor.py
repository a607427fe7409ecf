"""`mmgan doctor`: what a student checks first. Lesson: 00 Setup and tour."""

from __future__ import annotations

import os
import platform
from typing import Any


def doctor_report() -> dict[str, Any]:
    """Versions, the device `auto` picks, threads, and whether the offline data loads.

    Returns:
        {"ok": bool, "lines": [(label, value), ...]}; ok is False when a data set fails.
    """
    import numpy
    import scipy
    import sklearn
    import torch

    import mmgan_ref
    from mmgan_ref.utils import mps_available, resolve_device

    lines: list[tuple[str, str]] = [
        ("mmgan_ref", mmgan_ref.__version__),
        ("python", platform.python_version()),
        ("platform", platform.platform()),
        ("torch", torch.__version__),
        ("numpy", numpy.__version__),
        ("scipy", scipy.__version__),
        ("scikit-learn", sklearn.__version__),
        ("cuda available", str(torch.cuda.is_available())),
        ("mps available", str(mps_available())),
        ("device (auto)", str(resolve_device("auto"))),
        ("torch threads", str(torch.get_num_threads())),
        ("cpu count", str(os.cpu_count())),
        ("fast mode (MMGAN_FAST)", os.environ.get("MMGAN_FAST", "off") or "off"),
    ]
    if torch.cuda.is_available():
        lines.append(("cuda device", torch.cuda.get_device_name(0)))
    ok = True
    for name, check in _data_checks():
        try:
            lines.append((f"data: {name}", check()))
        except Exception as err:  # report every data set, whatever breaks
            ok = False
            lines.append((f"data: {name}", f"FAILED: {type(err).__name__}: {err}"))
    return {"ok": ok, "lines": lines}


def _data_checks():
    def toy2d() -> str:
        from mmgan_ref.data.toy2d import sample_toy2d

        return f"ok ({tuple(sample_toy2d('grid', 10, seed=0).shape)} samples)"

    def digits() -> str:
        from mmgan_ref.data.digits import load_digits_tensors

        images, _ = load_digits_tensors("all")
        return f"ok ({images.shape[0]} images, shipped with scikit-learn)"

    def shapes() -> str:
        from mmgan_ref.data.shapes import Shapes

        item = Shapes(n=4, seed=0)[0]
        return f"ok (e.g. {item['caption']!r})"

    return [("toy2d", toy2d), ("digits", digits), ("shapes", shapes)]
