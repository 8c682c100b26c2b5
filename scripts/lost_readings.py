"""Issue 14, D12: tabs drawing at once, and the drawings that get no reading.

    .venv/bin/python scripts/lost_readings.py --tabs 16 --rounds 4 [--wait-after-clear 0]

Starts the app on a server of its own and opens --tabs Chromium tabs (one
browser context each, as separate students). Each tab draws a digit,
waits for the reading, presses Clear and draws the next, --rounds times;
after Clear it draws as soon as the new canvas shows (plus
--wait-after-clear seconds), as a quick student does; with --at-once it
draws right after pressing Clear on whatever canvas the page shows then
(the old one, while the server has not answered). A drawing with no
reading within --timeout seconds is *lost*; for each lost one the script
says where it was lost, from what the tab itself saw:

- sent: whether the browser sent the server a rerun carrying this canvas's
  drawing (the websocket frames the tab sent, decoded as Streamlit BackMsgs);
- ink: whether the stroke is still on the canvas (its pixels);
then draws one more stroke and says whether that brought a reading.
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from class_load import CHROMIUM_ARGS, free_port, rss_mb, start_server, strokes  # noqa: E402

DIGITS = [1, 7, 0, 4, 3, 2]
INK_JS = """(c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
    return n;
}"""


class Tab:
    """One student's tab, and what it sent the server."""

    def __init__(self, page, number):
        self.page, self.number = page, number
        self.sent = []          # (time, {canvas key: has a drawing}) of each rerun request sent
        page.on("websocket", self.watch)

    def watch(self, ws):
        ws.on("framesent", self.frame)

    def frame(self, payload):
        if isinstance(payload, str):
            return
        try:
            message = BackMsg.FromString(payload)
        except Exception:  # not a BackMsg: nothing to learn
            return
        if message.WhichOneof("type") != "rerun_script":
            return
        canvases = {}
        for widget in message.rerun_script.widget_states.widgets:
            key = widget.id.rsplit("-", 2)
            if len(key) == 3 and key[1] == "canvas":
                text = widget.json_value or widget.string_value or ""
                canvases[f"canvas-{key[2]}"] = "data:image/png" in text
        self.sent.append((time.monotonic(), canvases))

    def sent_drawing(self, key, since):
        return any(canvases.get(key) for when, canvases in self.sent if when >= since)


async def draw(page, digit, key, settle):
    """The digit's strokes on the canvas of this key (None: whichever canvas
    the page shows now); False if that canvas takes no strokes (greyed out
    by Clear: ui/clear_button.py), as a student sees."""
    where = f".st-key-{key}" if key else "[class*='st-key-canvas-']"
    canvas = page.locator(f"{where} canvas.upper-canvas").first
    await canvas.wait_for(timeout=120_000)
    await canvas.scroll_into_view_if_needed()
    if settle:
        await page.wait_for_timeout(settle * 1000)
    if await canvas.evaluate("c => getComputedStyle(c).pointerEvents") == "none":
        return False
    await strokes(page, await canvas.bounding_box(), digit)
    return True


async def ink(page, key):
    """Inked pixels on the canvas of this key (-1: no such canvas)."""
    try:   # Playwright's locators see into the canvas component's shadow root
        return await page.locator(f".st-key-{key} canvas.lower-canvas").first.evaluate(INK_JS, timeout=5000)
    except Exception:  # not there
        return -1


async def reading(page, timeout, stale=""):
    """Seconds until the page shows a reading other than `stale` (the last
    one, which stays on the page until the rerun replaces it), or None."""
    start = time.monotonic()
    answer = page.locator(".st-key-prediction")
    while time.monotonic() - start < timeout:
        try:
            text = await answer.first.inner_text(timeout=1000)
        except Exception:  # not drawn yet
            text = ""
        if "I read" in text and text != stale:
            return time.monotonic() - start
        await page.wait_for_timeout(100)
    return None


async def student(browser, url, number, args, results):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    tab = Tab(page, number)
    try:
        await page.goto(url, timeout=180_000)
        for round_ in range(args.rounds):
            key = f"canvas-{round_}"
            digit = DIGITS[round_ % len(DIGITS)]
            stale = ""
            if round_:
                stale = await page.locator(".st-key-prediction").first.inner_text()
                await page.locator(".st-key-clear-canvas button").click()
            since = time.monotonic()
            at_once = round_ and args.at_once
            try:
                taken = await draw(page, digit, None if at_once else key, 1.0 if round_ == 0 else args.wait_after_clear)
            except Exception:  # the old canvas went while the student reached for it
                if not at_once:
                    raise
                taken = None
            if not taken:   # the old canvas, greyed out or gone: the student draws on the new one when it shows
                await draw(page, digit, key, 0)
            seconds = await reading(page, args.timeout, stale)
            row = {"tab": number, "round": round_, "seconds": seconds, "refused_on_old_canvas": taken is False,
                   "old_canvas_gone": taken is None}
            if seconds is None:
                row["sent"] = tab.sent_drawing(key, since)
                row["sent_to_old_canvas"] = tab.sent_drawing(f"canvas-{round_ - 1}", since) if round_ else False
                row["ink"] = await ink(page, key)
                await draw(page, digit, key, 0)
                row["one_more_stroke"] = await reading(page, args.timeout, stale)
            results.append(row)
            print(json.dumps(row), flush=True)
    except Exception as error:  # a tab that never loads is counted, not fatal
        results.append({"tab": number, "error": str(error).splitlines()[0]})
        print(json.dumps(results[-1]), flush=True)
    finally:
        await context.close()


async def main(args):
    folder = Path(tempfile.mkdtemp(prefix="lost-readings-"))
    if (ROOT / "data" / "mnist.npz").exists():
        (folder / "mnist.npz").symlink_to(ROOT / "data" / "mnist.npz")
    server, url = start_server(folder, free_port())
    results = []
    try:
        before = rss_mb(server.pid)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            await asyncio.gather(*(student(browser, url, n, args, results) for n in range(args.tabs)))
            await browser.close()
        after = rss_mb(server.pid)
    finally:
        server.terminate()
    drawings = [r for r in results if "round" in r]
    lost = [r for r in drawings if r["seconds"] is None]
    read = [r["seconds"] for r in drawings if r["seconds"] is not None]
    print(f"{args.tabs} tabs, {len(drawings)} drawings, {len(lost)} with no reading within {args.timeout:.0f} s "
          f"({len(lost) / max(1, len(drawings)):.0%}); tabs that failed: {sum('error' in r for r in results)}")
    if read:
        print(f"readings: median {statistics.median(read):.2f} s, max {max(read):.2f} s")
    print(f"  strokes refused by a greyed-out old canvas: {sum(r['refused_on_old_canvas'] for r in drawings)}; "
          f"old canvas gone as the student reached for it: {sum(r['old_canvas_gone'] for r in drawings)}")
    for where in ("round 0", "after Clear"):
        part = [r for r in drawings if (r["round"] == 0) == (where == "round 0")]
        print(f"  {where}: {sum(r['seconds'] is None for r in part)} lost of {len(part)}")
    if lost:
        print(f"  lost ones: the browser sent the drawing in {sum(r['sent'] for r in lost)} "
              f"(as the old canvas's in {sum(r['sent_to_old_canvas'] for r in lost)}), "
              f"ink left on the canvas in {sum(r['ink'] > 0 for r in lost)}, "
              f"one more stroke brought a reading in {sum(r['one_more_stroke'] is not None for r in lost)}")
    print(f"server memory {before:.0f} MB before, {after:.0f} MB after")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--wait-after-clear", type=float, default=0.0)
    parser.add_argument("--at-once", action="store_true",
                        help="draw right after Clear on the canvas the page shows, without waiting for the new one")
    asyncio.run(main(parser.parse_args()))
