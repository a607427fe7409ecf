"""mmgan_ref: the reference package of the Multimodal GANs course.

Each module holds one idea and its docstring names the lesson that teaches it.
The package is the lessons' code made solid: notebooks and solutions import it.
"""

__version__ = "0.1.0"
