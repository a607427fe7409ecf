"""Classification Accuracy Score (CAS) and generated data as augmentation.

Lesson: 07 Applications (data augmentation); also used in 08 Evaluating GANs honestly.

CAS (Ravuri and Vinyals 2019, "Classification Accuracy Score for Conditional Generative
Models"): train a classifier on *generated* (image, label) pairs only, test it on *real*
images. It is high only if the generated data carries the class information of the real
data (coherent *and* varied). Compare it with the same classifier trained on real data
(anchor: ImageNet, BigGAN-deep 42.7 % top-1 vs 73.1 % for real data).

Low-data augmentation: with few real images per class (e.g. 10), does adding generated
images help? :func:`low_data_augmentation` trains the same classifier on real only,
real + generated and generated only, and tests each on the same real test set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmgan_ref.metrics.coherence import CLASSIFIER_KINDS, make_classifier
from mmgan_ref.metrics.features import (
    as_labels,
    fit_quietly,
    flatten_images,
    load_real_digits,
)
from mmgan_ref.utils import check_choice, check_int


def _pairs(name: str, images: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    flat = flatten_images(name, images)
    lab = as_labels(f"{name} labels", labels, len(flat))
    if lab.ndim != 1:
        raise ValueError(f"{name} labels must be int classes of shape (N,), got {lab.shape}")
    return flat, lab


def _train_and_test(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                    classifier: str, seed: int) -> float:
    if train[0].shape[1] != test[0].shape[1]:
        raise ValueError(f"training and test images differ in size: "
                         f"{train[0].shape[1]} vs {test[0].shape[1]} values per image")
    if len(np.unique(train[1])) < 2:
        raise ValueError("the training images must cover at least 2 classes")
    model = fit_quietly(make_classifier(classifier, seed), *train)
    return float(model.score(*test))


def classification_accuracy_score(gen_images: Any, gen_labels: Any, real_test_images: Any,
                                  real_test_labels: Any, classifier: str = "logreg",
                                  seed: int = 0) -> float:
    """CAS: accuracy on real test images of a classifier trained on generated pairs only.

    Args:
        gen_images: (N, ...) generated images; gen_labels: (N,) their conditioning labels.
        real_test_images: (M, ...) real images, same size; real_test_labels: (M,).
        classifier: "logreg" or "mlp" (as in ``coherence.make_classifier``).
        seed: seeds the classifier.
    """
    check_choice("classifier", classifier, CLASSIFIER_KINDS)
    return _train_and_test(_pairs("gen_images", gen_images, gen_labels),
                           _pairs("real_test_images", real_test_images, real_test_labels),
                           classifier, seed)


def low_data_augmentation(real_train_images: Any, real_train_labels: Any, gen_images: Any,
                          gen_labels: Any, real_test_images: Any, real_test_labels: Any,
                          classifier: str = "logreg", seed: int = 0) -> dict[str, float]:
    """Accuracy on real test images when training on real, real + generated, generated.

    Returns:
        {"real_only": acc, "real_plus_generated": acc, "generated_only": acc (the CAS),
        "gain": real_plus_generated - real_only}
    """
    check_choice("classifier", classifier, CLASSIFIER_KINDS)
    real = _pairs("real_train_images", real_train_images, real_train_labels)
    gen = _pairs("gen_images", gen_images, gen_labels)
    test = _pairs("real_test_images", real_test_images, real_test_labels)
    if real[0].shape[1] != gen[0].shape[1]:
        raise ValueError(f"real_train_images and gen_images differ in size: "
                         f"{real[0].shape[1]} vs {gen[0].shape[1]} values per image")
    both = (np.concatenate([real[0], gen[0]]), np.concatenate([real[1], gen[1]]))
    result = {"real_only": _train_and_test(real, test, classifier, seed),
              "real_plus_generated": _train_and_test(both, test, classifier, seed),
              "generated_only": _train_and_test(gen, test, classifier, seed)}
    result["gain"] = result["real_plus_generated"] - result["real_only"]
    return result


def low_data_digits_split(per_class: int = 10, seed: int = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A small real training set (``per_class`` images of each digit) and the rest as test.

    Returns:
        small_images (10 * per_class, 1, 8, 8), small_labels, test_images, test_labels.
    """
    check_int("per_class", per_class, minimum=1, maximum=100)
    check_int("seed", seed, minimum=0)
    images, labels = load_real_digits()
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == digit), per_class,
                                        replace=False) for digit in range(10)])
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    return images[chosen], labels[chosen], images[rest], labels[rest]
