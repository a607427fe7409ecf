"""The evaluation suite: one module per question a lesson asks of a generator.

Modules, the question each answers, and the lesson that asks it::

    | module | question | lesson |
    |---|---|---|
    | ``coverage`` | does a 2D GAN cover every mode? (modes, % high quality, reverse KL) | 02 |
    | ``coherence`` | does a conditional generator draw the requested class / attributes? | 03 |
    | ``diversity`` | is it as varied as real data within one condition? | 03 |
    | ``retrieval`` | do codes of different modalities find each other? (R@K, mAP) | 04, 07 |
    | ``anomaly`` | does a score single out an unseen digit? (AUROC, AUPRC) | 07 |
    | ``probe`` | do frozen features know the labels? (linear and k-NN probes) | 07 |
    | ``cas`` | does generated data train a classifier? (CAS, augmentation) | 07, 08 |
    | ``features`` | domain feature networks (cached), input helpers | 08 |
    | ``frechet`` | Fréchet distance and KID on domain features, the real-vs-real floor | 08 |
    | ``prd`` | precision and recall with k-NN manifolds | 08 |
    | ``privacy`` | does D remember its training set? (membership-inference AUROC) | 11 |
    | ``latency`` | how fast is one-step sampling, measured fairly? | 11 |

All functions take torch tensors or NumPy arrays and return Python floats or dicts.
"""

from mmgan_ref.metrics.anomaly import (
    anomaly_scores_auc,
    anomaly_splits,
    evaluate_anomaly_detector,
    pca_baseline,
)
from mmgan_ref.metrics.cas import (
    classification_accuracy_score,
    low_data_augmentation,
    low_data_digits_split,
)
from mmgan_ref.metrics.coherence import (
    DigitsClassifier,
    attribute_accuracy,
    coherence,
    fit_digits_classifier,
)
from mmgan_ref.metrics.coverage import (
    PUBLISHED_GRID,
    PUBLISHED_RING,
    mode_coverage,
    toy2d_coverage,
)
from mmgan_ref.metrics.diversity import mean_pairwise_distance, within_class_diversity
from mmgan_ref.metrics.features import (
    DigitsMLPConfig,
    FeatureExtractor,
    digits_feature_network,
    digits_features,
    digits_split,
    load_real_digits,
)
from mmgan_ref.metrics.frechet import (
    digits_reference_distances,
    feature_stats,
    frechet_distance,
    frechet_from_stats,
    kernel_inception_distance,
    real_vs_real_floor,
)
from mmgan_ref.metrics.prd import precision_recall
from mmgan_ref.metrics.probe import knn_probe, linear_probe, representation_report
from mmgan_ref.metrics.retrieval import (
    cca_retrieval_baseline,
    chance_level,
    cross_modal_retrieval,
    retrieval_metrics,
)

__all__ = [
    "PUBLISHED_GRID", "PUBLISHED_RING", "DigitsClassifier", "DigitsMLPConfig",
    "FeatureExtractor", "anomaly_scores_auc", "anomaly_splits", "attribute_accuracy",
    "cca_retrieval_baseline", "chance_level", "classification_accuracy_score", "coherence",
    "cross_modal_retrieval", "digits_feature_network", "digits_features",
    "digits_reference_distances", "digits_split", "evaluate_anomaly_detector",
    "feature_stats", "fit_digits_classifier", "frechet_distance", "frechet_from_stats",
    "kernel_inception_distance", "knn_probe", "linear_probe", "load_real_digits",
    "low_data_augmentation", "low_data_digits_split", "mean_pairwise_distance",
    "mode_coverage", "pca_baseline", "precision_recall", "real_vs_real_floor",
    "representation_report", "retrieval_metrics", "toy2d_coverage",
    "within_class_diversity",
]
