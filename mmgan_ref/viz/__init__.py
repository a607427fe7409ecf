"""Plots of the course: image grids, loss curves, 2-D samples. Lesson: 02 onwards."""

from mmgan_ref.viz.plots import image_grid, plot_history, plot_image_grid, plot_samples_2d

__all__ = ["image_grid", "plot_history", "plot_image_grid", "plot_samples_2d"]
