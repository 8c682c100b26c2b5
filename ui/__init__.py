"""The Streamlit helpers the pages share (pages/ holds only page scripts;
streamlit_app.py routes to them through routing.py).

    routing.py         the page list and the router; routed() for each page
    models.py          the model picker's models, loaded once per server
    mnist.py           MNIST, obtained once per server with a progress bar
    session.py         session state keys used by more than one page; forgetting closed tabs
    errors.py          how a page shows a user's mistake, and a bug
    presenter.py       presenter mode (?present=1) and the app's screen-saving styles
    viewport.py        the browser window's size, so that the Draw page's canvas fits it
    words.py           small pieces of English ('an 8', '2nd')
    novelty.py         the Draw page's answer to a drawing that is not a digit
    classroom.py       the Draw page in a class: joining, the "Draw this" round
    projector.py       the Class page's teacher view: the class live, moderation, downloads
    charts.py          chart specifications (Vega-Lite dicts; no Streamlit)
    cards.py           digits drawn as framed cards with a caption (no Streamlit)
    train_settings.py  the Train page's data and recipe choices
    train_runs.py      the Train page's runs and its Start / Pause / Stop
    train_live.py      the Train page's live view of a run
    train_results.py   the Train page's results
    train_saving.py    saving, downloading and uploading models
    inside_passes.py   the Inside page's forward and backward passes, equation by equation
    inside_numbers.py  its cards, heat maps and tables of a network's numbers

Pages stay thin: they gather input, call network/, and draw.
"""

from streamlit import runtime
from threadpoolctl import threadpool_limits

from network.files import remove_stale_temporaries
from network.memory import start_janitor
from network.run_queue import RUN_QUEUE
from ui.session import forget_closed_tabs

# One BLAS thread per matrix product in the server.  Alone on a quiet machine
# two threads are faster, but the server trains several sessions at once, and
# OpenBLAS threads competing for 2 cores spin against each other: a 0.2 ms
# product then takes 30 ms (measured; README, "Speed").
threadpool_limits(1, user_api="blas")

# What writes interrupted by a crash left behind (a server starts once per process).
remove_stale_temporaries()

# Training keeps the memory it frees, for its next batch (network/memory.py);
# this gives it back to the machine, and forgets closed tabs, whenever no run
# trains: in the app's server only, not in a script or test that imports ui.
if runtime.exists():
    start_janitor(busy=RUN_QUEUE.computing, tidy=forget_closed_tabs)
