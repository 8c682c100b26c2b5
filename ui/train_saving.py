"""Keeping a model: saving a run's network under a name, downloading it,
and uploading a model file saved elsewhere."""

import logging

import streamlit as st

from network.modelfile import (
    ModelFileError,
    check_models_quota,
    load_model,
    model_path,
    save_model,
    validate_model_name,
)
from network.worker import DIVERGED
from ui.classroom import save_in_class
from ui.train_runs import MAX_WEIGHTS_KEPT

log = logging.getLogger(__name__)

SAVED_PATH = "train_saved_path"  # session state: (where from, model file) this session saved last
SAVES = "train_saves"            # session state: how many models this session saved
MAX_SAVES_PER_SESSION = 20       # one visitor cannot fill the server's disk
UPLOAD_NAME = "upload-model-name"


def save_network(net, metadata, name, overwrite, origin):
    """Save under a user's name in data/models/ (in a class: into the class), or say why not;
    `origin` (a run's label, or "upload") says where its download button goes."""
    if save_in_class(net, metadata, name):
        return
    try:
        name = validate_model_name(name)
        if st.session_state.get(SAVES, 0) >= MAX_SAVES_PER_SESSION:
            raise ModelFileError(f"this session has saved {MAX_SAVES_PER_SESSION} models, the most one visitor may")
        check_models_quota()
        path = save_model(net, model_path(name), metadata, overwrite=overwrite)
    except FileExistsError:
        st.warning(f"A model named “{name}” exists already. Choose another name, or tick "
                   "“Replace a saved model of the same name”.")
    except ModelFileError as error:
        st.error(f"Cannot save: {error}")
    except OSError as error:  # the server's disk, not the user: logged, and said plainly
        log.exception("saving model %r", name)
        st.error(f"Cannot save: the server could not write the file ({error.strerror or error}).")
    else:
        st.session_state[SAVES] = st.session_state.get(SAVES, 0) + 1
        st.session_state[SAVED_PATH] = (origin, path)
        st.success(f"Saved as “{name}”. It is in the Draw page's model picker now.")


def offer_download(origin):
    """The download button of the model saved last, under what it was saved from."""
    origin_saved, path = st.session_state.get(SAVED_PATH) or (None, None)
    if origin_saved == origin and path is not None and path.exists():
        st.download_button(f"Download “{path.stem}”", path.read_bytes(), file_name=path.name,
                           mime="application/octet-stream", key="download-model",
                           help="The model file (weights and how they were trained), to keep or share.")


def save_section(run, snap):
    st.subheader("Keep this model")
    if not run.worker.weights_kept:
        st.info(f"{run.label}: its network was let go to spare the server's memory (a session keeps the networks "
                f"of its latest runs, up to {MAX_WEIGHTS_KEPT:,} weights in all); its results stay above. To keep "
                "a big network, save it before starting the next runs.")
        return
    diverged = snap.ended_as == DIVERGED
    accuracy = snap.outcome.result.get("test_accuracy") or snap.outcome.result.get("dev_accuracy")
    if diverged:
        st.warning(f"{run.label} diverged: this network holds the weights of its last step before the loss "
                   f"blew up{f', {accuracy:.1%} accurate' if accuracy is not None else ''}. It is not a good "
                   "reader of digits; save it only to study what went wrong.")
    st.caption(f"Saving {run.label}. Saved models appear at once in the Draw page's model picker.")
    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    name = name_column.text_input("Model name", key="model-name", placeholder="e.g. fast demo, 97%",
                                  help="Letters, digits, spaces, '_', '-' and '.'.")
    overwrite = st.checkbox("Replace a saved model of the same name", key="model-overwrite")
    anyway = st.checkbox("Save it anyway, diverged as it is", key="model-save-diverged") if diverged else True
    if button_column.button("Save diverged model" if diverged else "Save model", key="save-model",
                            type="secondary" if diverged else "primary", width="stretch", disabled=not anyway):
        save_network(run.worker.finished_network(), snap.outcome.metadata, name, overwrite, run.label)
    offer_download(run.label)


def name_from_upload():
    """Fill "Save it as" from the uploaded file's name."""
    upload = st.session_state.get("upload-model")
    if upload is not None:
        st.session_state[UPLOAD_NAME] = upload.name.rsplit(".", 1)[0]


def upload_section():
    with st.expander("Upload a model file"):
        upload = st.file_uploader("A model file (.npz) saved by this app", type=["npz"], key="upload-model",
                                  on_change=name_from_upload)
        name = st.text_input("Save it as", key=UPLOAD_NAME)
        overwrite = st.checkbox("Replace a saved model of the same name", key="upload-overwrite")
        if st.button("Save uploaded model", key="save-upload", disabled=upload is None):
            try:
                net = load_model(upload.getvalue(), label=upload.name)
            except ModelFileError as error:
                st.error(str(error))
            else:
                save_network(net, net.metadata, name, overwrite, "upload")
        offer_download("upload")
