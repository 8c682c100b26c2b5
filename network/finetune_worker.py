"""Fine-tuning in a background thread, for the Train page.

The page starts it and reads `snapshot()` on every refresh: the curves so
far, and at the end the report.  It waits its turn in the same queue as
training runs (run_queue.RUN_QUEUE), so fine-tuning never adds to the number
of runs computing at once, and a visitor's fine-tuning and training runs
take one place between them.  It is held to the app's training budget
like any run (budgets.py), checked before its thread starts.
"""

import logging
import threading
from dataclasses import dataclass, field

from .budgets import check_run_budget
from .digits import MNIST
from .drawing_sets import DrawingSet
from .errors import UserError
from .finetune import FinetuneProgress, FinetuneRecipe, Finetuning
from .model import Network
from .priority import run_in_background
from .run_queue import RUN_QUEUE
from .training import TrainingDiverged

log = logging.getLogger(__name__)


@dataclass
class FinetuneSnapshot:
    state: str                                   # waiting, measuring, training, finished, stopped, failed
    history: list[FinetuneProgress] = field(default_factory=list)
    run: Finetuning | None = None                # set once measured before; its report once finished
    message: str = ""


class FinetuneWorker:
    def __init__(self, net: Network, drawings: DrawingSet, mnist: MNIST, recipe: FinetuneRecipe | None = None,
                 queue=RUN_QUEUE, owner=None):
        """owner: who started it (one running run per owner, training runs
        included).  Raises BudgetError for a run the app's limits do not allow."""
        self.net, self.drawings, self.mnist, self.recipe, self.queue = net, drawings, mnist, recipe, queue
        self.owner = owner
        check_run_budget(net.layers, (recipe or FinetuneRecipe()).images_processed(len(drawings), len(mnist.test)))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._snapshot = FinetuneSnapshot("waiting")
        self._thread = threading.Thread(target=self._run, daemon=True, name="finetune")

    def start(self) -> "FinetuneWorker":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def snapshot(self) -> FinetuneSnapshot:
        with self._lock:
            s = self._snapshot
            return FinetuneSnapshot(s.state, list(s.history), s.run, s.message)

    def _set(self, **changes):
        with self._lock:
            for name, value in changes.items():
                setattr(self._snapshot, name, value)

    def _run(self):
        run_in_background()  # readings first: see priority.py
        if not self.queue.enter(self, self._stop.is_set, self.owner):
            self._set(state="stopped")
            return
        try:
            self._set(state="measuring")
            run = Finetuning(self.net, self.drawings, self.mnist, self.recipe)
            self._set(state="training", run=run)
            for progress in run.steps():
                with self._lock:
                    self._snapshot.history.append(progress)
                if self._stop.is_set():
                    break
            if run.after is None:   # stopped early: measure where it got to
                run.after = run.measure()
            self._set(state="stopped" if self._stop.is_set() else "finished")
        except (UserError, TrainingDiverged) as error:
            self._set(state="failed", message=str(error))
        except Exception:  # a bug: logged with its traceback, never shown on a page
            log.exception("fine-tuning failed")
            self._set(state="failed", message="something went wrong (the error is in the server's log)")
        finally:
            self.queue.leave(self)
