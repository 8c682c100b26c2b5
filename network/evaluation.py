"""How good is a trained network, and where does it go wrong?"""

import numpy as np


def confusion_matrix(labels, predictions, n_classes=10):
    """counts[true, predicted]: the diagonal is right, the rest is wrong."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def evaluate(probabilities: np.ndarray, labels: np.ndarray, n_wrong: int = 0) -> dict:
    """Accuracy, per-class accuracy and the confusion matrix of a network's
    probabilities (m, 10) for labelled images, as plain Python numbers; with
    n_wrong > 0 also the indices of the n_wrong most confidently wrong images."""
    predictions = probabilities.argmax(axis=1)
    counts = confusion_matrix(labels, predictions)
    per_class = counts.diagonal() / np.maximum(counts.sum(axis=1), 1)
    report = {
        "accuracy": float(np.mean(predictions == labels)),
        "per_class_accuracy": [round(float(a), 6) for a in per_class],
        "confusion_matrix": counts.tolist(),
    }
    if n_wrong:
        wrong = np.flatnonzero(predictions != labels)
        confidence = probabilities[wrong, predictions[wrong]]
        report["most_confident_wrong"] = wrong[np.argsort(-confidence)[:n_wrong]].tolist()
    return report
