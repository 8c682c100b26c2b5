"""Session state keys that more than one page uses."""

LAST_DRAWING = "last_drawing"   # float32 (28, 28) of the Draw page's latest drawing
