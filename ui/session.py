"""Session state keys that more than one page uses, and forgetting the
sessions of closed tabs."""

import gc

from streamlit.runtime import Runtime

LAST_DRAWING = "last_drawing"   # float32 (28, 28) of the Draw page's latest drawing


def forget_closed_tabs():
    """Drop the sessions of tabs closed more than `server.disconnectedSessionTTL`
    seconds ago; how many were dropped.

    Streamlit keeps a closed tab's session that long in case the tab comes
    back, but forgets the expired ones only when another tab closes: after
    the last tabs of a class close, their sessions (runs, uploads) would stay
    for good.  This reaches into Streamlit 1.67's session manager, and does
    nothing where it differs."""
    try:
        manager = Runtime.instance()._session_mgr
        with manager._storage_lock:
            dropped = len(manager._session_storage._cache.expire())
    except (AttributeError, RuntimeError, TypeError):
        return 0
    if dropped:
        gc.collect()  # a session's objects refer to each other: only the collector frees them
    return dropped
