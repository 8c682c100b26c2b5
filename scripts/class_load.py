"""A class under load: N students drawing at once while M others train.

    python scripts/class_load.py --students 60 --trainers 2

Starts the app (its own data folder; or --url for a running one), opens a
class, and drives real Chromium: students join by link, one every 2 s, and
draw the digits asked for, one after another, with 4-8 s between
readings (drawing the next digit takes a student that long); once all have joined, the readings of
the next --window seconds are timed; each trainer runs the Fast demo (or
--trainer-preset default: the shipped CNN's recipe at full speed, trained
in halves with the worker process, network/second_half.py) on the Train
page again and again meanwhile.  A reading's time is from the pen lifting (the
mouse-up) to the prediction on the page.  Prints the readings' median, p95
and max, and the server's memory before, at its peak and after every tab
has closed.  The browsers run on the same machine as the server: on 2
cores they take much of the CPU, so the figures are an upper bound.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import websockets
from playwright.async_api import async_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network.memory import SERVER_ENVIRONMENT  # noqa: E402
from network.store import open_store  # noqa: E402
from tests.drawn import STROKES, canvas_state, draw_digit  # noqa: E402
from ui.train_runs import PRESET_NAMES  # noqa: E402

PAUSE = (4.0, 8.0)  # seconds a student takes between readings: drawing the next digit, looking
RUN_TIMEOUT = 120   # seconds a page run may take before the student counts as stuck
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-renderer-backgrounding", "--disable-background-timer-throttling"]


def rss_mb(pid):
    """Resident memory of a process and its children, in MB."""
    total = 0
    for line in subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)],
                               capture_output=True, text=True).stdout.split():
        total += int(line)
    return total / 1024


def cpu_seconds(pid):
    """CPU time a process has used so far, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def window_cpu(pid, room):
    """CPU seconds the server used while the readings were timed: what a
    reading costs, whatever else runs on the machine."""
    while not room.full():
        await asyncio.sleep(0.2)
    start = cpu_seconds(pid)
    while not room.over():
        await asyncio.sleep(0.2)
    return cpu_seconds(pid) - start


def start_server(folder, port):
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **SERVER_ENVIRONMENT, "NETWORK_DATA_DIR": str(folder)},
        stdout=open(Path(folder) / "server.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the app server did not start")


async def draw(page, digit, clears):
    canvas = page.locator(f".st-key-canvas-{clears} canvas.upper-canvas")
    await canvas.wait_for(timeout=60_000)
    await canvas.scroll_into_view_if_needed()
    await page.wait_for_timeout(500)
    await strokes(page, await canvas.bounding_box(), digit)


async def strokes(page, box, digit):
    """The digit's strokes with the mouse, on a canvas at `box`."""
    scale = box["width"] / 280
    for stroke in STROKES[digit]:
        await page.mouse.move(box["x"] + stroke[0][0] * scale, box["y"] + stroke[0][1] * scale)
        await page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in (0.25, 0.5, 0.75, 1.0):
                await page.mouse.move(box["x"] + (x0 + t * (x1 - x0)) * scale,
                                      box["y"] + (y0 + t * (y1 - y0)) * scale)
        await page.mouse.up()


class Class:
    """What the students share: how many have joined, when to stop, the readings."""

    def __init__(self, size, window):
        self.size, self.window = size, window
        self.joined = 0
        self.full_since = None
        self.readings, self.misses, self.failed = [], 0, []

    def join(self):
        self.joined += 1
        if self.joined == self.size:
            self.full_since = time.monotonic()

    def full(self):
        return self.full_since is not None

    def over(self):
        return self.full() and time.monotonic() > self.full_since + self.window


async def student(browser, url, code, room, delay=0.0):
    """Join, then draw the digits asked for until the class is over; only
    readings asked for while the whole class is in count."""
    await asyncio.sleep(delay)   # a class joins over a minute or two, not all in one instant
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/?class={code}", timeout=600_000, wait_until="domcontentloaded")
    prompt = page.locator(".st-key-draw-prompt")
    await prompt.filter(has_text="Draw a").wait_for(timeout=600_000)
    room.join()
    clears = 0
    while not room.over():
        await prompt.filter(has_text="Draw a").wait_for(timeout=600_000)
        digit = int((await prompt.inner_text()).split("Draw a ")[1][0])
        await draw(page, digit, clears)
        counted = room.full()
        start = time.monotonic()
        try:
            await page.locator(".st-key-prediction").filter(has_text="I read a").wait_for(timeout=30_000)
            if counted:
                room.readings.append(time.monotonic() - start)
        except Exception:
            room.misses += counted   # no reading within 30 s: counted, not timed
        await page.wait_for_timeout(1000 * random.uniform(*PAUSE))
        await page.locator(".st-key-clear-canvas button").click()
        clears += 1
        await page.locator(f".st-key-canvas-{clears}").wait_for(timeout=600_000)
    await context.close()


class Session:
    """A browser tab as the server sees it: Streamlit's websocket protocol
    spoken directly, with none of a browser's CPU (--client ws)."""

    def __init__(self, socket):
        self.socket = socket
        self.ids = {}          # widget key -> widget id
        self.texts = []        # markdown of the last run

    async def run(self, query, widgets=(), until=None):
        """Rerun the page with these widget states; returns seconds until
        `until` shows in a markdown element (or the run finishes)."""
        message = BackMsg()
        message.rerun_script.query_string = query
        for widget in widgets:
            message.rerun_script.widget_states.widgets.append(widget)
        self.texts = []
        start = time.monotonic()
        seen = None
        await self.socket.send(message.SerializeToString())
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self.socket.recv(), RUN_TIMEOUT))
            kind = reply.WhichOneof("type")
            if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                element = reply.delta.new_element
                which = element.WhichOneof("type")
                if which == "markdown":
                    self.texts.append(element.markdown.body)
                    if until and seen is None and until in element.markdown.body:
                        seen = time.monotonic() - start
                elif which in ("bidi_component", "button"):
                    widget_id = getattr(element, which).id
                    self.ids[widget_id.rsplit("-", 1)[-1] if which == "bidi_component" else
                             widget_id.split("-", 2)[-1]] = widget_id
            elif kind == "script_finished":
                return seen if until else time.monotonic() - start

    def asked(self):
        for text in self.texts:
            if text.startswith("### Draw a "):
                return int(text[len("### Draw a ")])
        return None


def canvas_widget(widget_id, digit):
    return WidgetState(id=widget_id, json_value=json.dumps(canvas_state(draw_digit(digit))))


def clear_widget(widget_id):
    return WidgetState(id=widget_id, trigger_value=True)


async def ws_student(url, code, room, delay=0.0):
    """A student through the websocket: join, then draw the digit asked for,
    pause, Clear, and again, until the class is over."""
    await asyncio.sleep(delay)
    address = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(address, subprotocols=["streamlit"], max_size=2 ** 26, open_timeout=300,
                                  ping_interval=None) as socket:
        tab = Session(socket)
        query = f"class={code}"
        await tab.run(query)
        room.join()
        clears = 0
        while not room.over():
            digit = tab.asked()
            canvas = next(v for k, v in tab.ids.items() if k == f"canvas_{clears}" or v.endswith(f"canvas-{clears}"))
            counted = room.full()
            seconds = await tab.run(query, [canvas_widget(canvas, digit if digit in STROKES else 1)],
                                    until="I read a")
            if seconds is None:
                room.misses += counted
            elif counted:
                room.readings.append(seconds)
            await asyncio.sleep(random.uniform(*PAUSE))
            clear = next(v for v in tab.ids.values() if v.endswith("clear-canvas"))
            await tab.run(query, [clear_widget(clear)])
            clears += 1


async def warm_up(browser, url, code):
    """One drawing, not counted: the server loads the model once."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/?class={code}", timeout=600_000)
    await draw(page, 1, 0)
    await page.locator(".st-key-prediction").filter(has_text="I read a").wait_for(timeout=600_000)
    await context.close()


async def trainer(browser, url, stop, times, preset):
    """A student training `preset` again and again, the Fast demo at the
    page's own pace (Watch), any other at full speed; `times` gets each
    run's seconds from Start to Finished."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/train", timeout=600_000, wait_until="domcontentloaded")
    await page.locator(".st-key-train-preset").get_by_text(PRESET_NAMES[preset], exact=True).click(timeout=600_000)
    if preset != "fast":
        await page.locator(".st-key-train-speed").get_by_text("Full speed", exact=True).click(timeout=600_000)
    progress = page.locator(".st-key-train-progress")
    runs = 0
    while not stop.is_set():
        await page.locator(".st-key-train-start button").click()
        start = time.monotonic()
        try:
            # This run's own "Finished" (the caption names it), not the last run's.
            await progress.filter(has_text=f"Run {runs + 1} ·").filter(has_text="Finished").wait_for(timeout=300_000)
        except Exception:
            break
        runs += 1
        times.append(time.monotonic() - start)
    await context.close()
    return runs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(args):
    folder = Path(tempfile.mkdtemp(prefix="class-load-"))
    if (ROOT / "data" / "mnist.npz").exists():
        (folder / "mnist.npz").symlink_to(ROOT / "data" / "mnist.npz")
    server, url = (None, args.url) if args.url else start_server(folder, free_port())
    os.environ["NETWORK_DATA_DIR"] = str(folder)
    code, _ = open_store().open_class()
    peak = [0.0]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            peak[0] = max(peak[0], rss_mb(server.pid))
            time.sleep(0.5)

    try:
        await measure(args, url, code, server, peak, sample, sampling)
    finally:
        if server:
            server.terminate()
            server.wait()


async def measure(args, url, code, server, peak, sample, sampling):
    room = Class(args.students, args.window)
    async with async_playwright() as p:
        browsers = [await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                    for _ in range(args.browsers)]
        await warm_up(browsers[0], url, code)
        if server:
            before = rss_mb(server.pid)
            threading.Thread(target=sample, daemon=True).start()
        stop = asyncio.Event()
        run_times = []
        trainers = [asyncio.create_task(trainer(browsers[i % len(browsers)], url, stop, run_times, args.trainer_preset))
                    for i in range(args.trainers)]
        started = time.monotonic()
        cpu = asyncio.create_task(window_cpu(server.pid, room)) if server else None

        async def one(i):
            try:
                if args.client == "ws":
                    await ws_student(url, code, room, delay=i * args.join_every)
                else:
                    await student(browsers[i % len(browsers)], url, code, room, delay=i * args.join_every)
            except Exception as error:   # one student's failure is a figure, not the end of the run
                room.failed.append(f"{type(error).__name__}: {str(error).splitlines()[0][:100]}")
                if room.joined < room.size:
                    room.size -= 1

        load = os.getloadavg()[0]
        await asyncio.gather(*(one(i) for i in range(args.students)))
        load = max(load, os.getloadavg()[0])
        seconds = time.monotonic() - started
        stop.set()
        for task in trainers:   # a run still going is not waited for: the readings are what is timed
            task.cancel()
        await asyncio.gather(*trainers, return_exceptions=True)
        for browser in browsers:
            await browser.close()
    stored = open_store().count_drawings(code) - 1
    name = PRESET_NAMES[args.trainer_preset]
    print(f"{args.students} students drawing, {args.trainers} training ({name}, {len(run_times)} runs done); "
          f"{stored} drawings stored in the class in {seconds:.0f} s")
    if run_times:
        print(f"{name} runs, Start to Finished: median {statistics.median(run_times):.1f} s, "
              f"max {max(run_times):.1f} s")
    if room.failed:
        print(f"{len(room.failed)} students failed: {room.failed[:3]}")
    if room.readings:
        ordered = sorted(room.readings)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"reading after the pen lifts: median {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, "
              f"max {ordered[-1]:.2f} s ({len(ordered)} readings in the {args.window:.0f} s with all "
              f"{args.students} in class; {room.misses} drawings with no reading within 30 s)")
    print(f"machine load average (1 min) {load:.1f} at the start or end of the drawing, whichever is higher")
    if cpu is not None and cpu.done() and not cpu.cancelled():
        used = cpu.result()
        per = f"; {1000 * used / len(room.readings):.0f} ms a reading, its Clear included" if room.readings else ""
        print(f"server CPU while timed: {used:.1f} s in {args.window:.0f} s "
              f"({100 * used / args.window:.0f}% of one core{per})")
    if server:
        sampling.set()
        time.sleep(args.settle)
        after = rss_mb(server.pid)
        print(f"server memory: {before:.0f} MB before, {peak[0]:.0f} MB at peak, {after:.0f} MB "
              f"{args.settle:.0f} s after every tab closed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--trainers", type=int, default=2)
    parser.add_argument("--trainer-preset", choices=["fast", "default"], default="fast",
                        help="what the trainers train (default: the shipped CNN's recipe, at full speed)")
    parser.add_argument("--window", type=float, default=90,
                        help="seconds of drawing, timed, once every student has joined")
    parser.add_argument("--browsers", type=int, default=4, help="Chromium processes to share the tabs")
    parser.add_argument("--join-every", type=float, default=2.0, help="seconds between students joining")
    parser.add_argument("--client", choices=["browser", "ws"], default="browser",
                        help="students as Chromium tabs, or as websocket clients (no browser CPU)")
    parser.add_argument("--url", help="a running app instead of starting one (then no memory figures)")
    parser.add_argument("--settle", type=float, default=30, help="seconds to wait after the tabs close")
    asyncio.run(main(parser.parse_args()))
