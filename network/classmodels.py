"""Models saved in a class.

Thirty students saving "my model" must not collide, nor fill everyone's
picker: a model saved in a class is written under a random id (its file's
name, data/models/classes/CODE/ID.npz) and recorded in the store with the
name its owner chose as a label.  Its owner deletes it, and so can the
teacher; deleting or purging the class deletes its models.
"""

import secrets
import shutil

from .modelfile import check_models_quota, save_model, user_models_dir, validate_model_name


def class_models_dir(class_code):
    return user_models_dir() / "classes" / class_code


def class_model_path(class_code, model_id):
    if not (len(model_id) == 16 and all(ch in "0123456789abcdef" for ch in model_id)):
        raise ValueError("not a model id")
    return class_models_dir(class_code) / f"{model_id}.npz"


def save_class_model(store, net, metadata, class_code, student, name, recipe=""):
    """Save a trained network in the class; returns its id."""
    name = validate_model_name(name)
    check_models_quota()
    model_id = secrets.token_hex(8)
    path = class_model_path(class_code, model_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(net, path, metadata, overwrite=False)
    metrics = (metadata or {}).get("metrics")
    accuracy = metrics.get("test_accuracy") if isinstance(metrics, dict) else None
    try:
        store.add_model(model_id, class_code, student, name, recipe,
                        accuracy if isinstance(accuracy, (int, float)) else None)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return model_id


def delete_class_model(store, class_code, model_id, student=None, token=None):
    """Its owner or the teacher deletes a model, record and file; True if deleted."""
    if not store.delete_model(model_id, student=student, token=token):
        return False
    class_model_path(class_code, model_id).unlink(missing_ok=True)
    return True


def forget_class_models(class_code):
    """The files of a deleted or purged class's models."""
    shutil.rmtree(class_models_dir(class_code), ignore_errors=True)
