"""A classroom in one script: N students drawing and M training the Fast
demo at once, each in a browser context of its own (its own visitor),
against one app server; reports how long a drawing waits for its reading,
how long the runs take, and the server's memory before, at peak and after.

    .venv/bin/python scripts/load_test.py --drawers 16 --trainers 4

Each drawer draws `--rounds` digits with the mouse, waits for the reading
("I read a ..."), presses Clear and waits for the empty prompt.  A reading
that has not come after --patience seconds is counted as lost, and the
drawer then adds one short stroke (what a user would do) and waits again.
The server is started here (a temporary data folder, the repository's
MNIST cache), unless --url names one already running (then no RSS).
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, _data_folder, serving_app  # noqa: E402
from tests.drawn import STROKES  # noqa: E402

DIGITS = [1, 7, 0, 4, 3, 2, 5, 6, 8, 9]


def rss_mb(pid):
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    for task in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def draw(page, digit, clears):
    surface = page.locator(f".st-key-canvas-{clears} canvas.upper-canvas")
    await surface.wait_for(state="visible", timeout=60_000)
    box = await surface.bounding_box()
    scale = box["width"] / 280
    for stroke in STROKES[digit]:
        await page.mouse.move(box["x"] + stroke[0][0] * scale, box["y"] + stroke[0][1] * scale)
        await page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in (0.25, 0.5, 0.75, 1.0):
                await page.mouse.move(box["x"] + (x0 + t * (x1 - x0)) * scale, box["y"] + (y0 + t * (y1 - y0)) * scale)
        await page.mouse.up()
    return box


async def wait_text(page, selector, text, timeout):
    """True once the element shows `text`, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if text in await page.locator(selector).inner_text(timeout=1000):
                return True
        except Exception:  # noqa: BLE001 - the element is being redrawn: look again
            pass
        await asyncio.sleep(0.05)
    return False


async def drawer(browser, url, rounds, patience, readings, lost):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(url)
    await wait_text(page, ".st-key-prediction", "Draw a digit", 120)
    await page.wait_for_timeout(1000)  # a canvas that has just appeared may not listen yet
    for clears in range(rounds):
        box = await draw(page, DIGITS[clears % len(DIGITS)], clears)
        start = time.monotonic()
        while not await wait_text(page, ".st-key-prediction", "I read a", patience):
            lost.append(clears)
            await page.mouse.move(box["x"] + 20, box["y"] + 20)  # one more short stroke, as a user would
            await page.mouse.down()
            await page.mouse.move(box["x"] + 30, box["y"] + 30)
            await page.mouse.up()
            start = time.monotonic()
        readings.append(time.monotonic() - start)
        await page.locator(".st-key-clear-canvas button").click()
        await wait_text(page, ".st-key-prediction", "Draw a digit", 120)
        await page.wait_for_timeout(500)
    await context.close()


async def trainer(browser, url, runs):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/train")
    await page.locator(".st-key-train-preset").get_by_text("Fast demo", exact=True).click()
    await page.wait_for_timeout(1500)
    start = time.monotonic()
    await page.locator(".st-key-train-start button").click()
    if await wait_text(page, ".st-key-train-progress", "Finished", 900):
        runs.append(time.monotonic() - start)
    await context.close()


async def classroom(url, args, pid):
    readings, lost, runs, rss = [], [], [], []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        sampling = True

        async def sample():
            while sampling and pid:
                rss.append(rss_mb(pid))
                await asyncio.sleep(0.5)
        sampler = asyncio.create_task(sample())
        await asyncio.gather(*[drawer(browser, url, args.rounds, args.patience, readings, lost)
                               for _ in range(args.drawers)],
                             *[trainer(browser, url, runs) for _ in range(args.trainers)])
        sampling = False
        await sampler
        await browser.close()
    return readings, lost, runs, rss


def report(readings, lost, runs, before, rss, after, args):
    def seconds(values, q):
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]
    print(f"{args.drawers} drawers x {args.rounds} drawings, {args.trainers} Fast-demo trainers")
    if readings:
        print(f"reading: median {statistics.median(readings):.2f} s, p95 {seconds(readings, 95):.2f} s, "
              f"max {max(readings):.2f} s ({len(readings)} readings)")
    print(f"lost readings (none within {args.patience:.0f} s, one more stroke brought them): {len(lost)}")
    if runs:
        print(f"Fast demo runs: {', '.join(f'{r:.1f}' for r in sorted(runs))} s (Start to Finished)")
    if rss:
        print(f"server RSS: before {before:.0f} MB, peak {max(rss):.0f} MB, after {after:.0f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawers", type=int, default=16)
    parser.add_argument("--trainers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="drawings per drawer")
    parser.add_argument("--patience", type=float, default=60.0, help="seconds before a reading counts as lost")
    parser.add_argument("--after", type=float, default=75.0,
                        help="seconds to wait after the tabs close before measuring RSS (sessions expire after 60)")
    parser.add_argument("--url", help="an app already running (no RSS figures then)")
    args = parser.parse_args()
    if args.url:
        readings, lost, runs, rss = asyncio.run(classroom(args.url, args, None))
        report(readings, lost, runs, 0, rss, 0, args)
        return
    with tempfile.TemporaryDirectory() as folder:
        data = _data_folder(Path(folder) / "data", ROOT / "data" / "mnist.npz")
        with serving_app(data) as url:
            pid = next(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                       and url.rsplit(":", 1)[1] in _command_line(p))
            asyncio.run(_warm_up(url))
            before = rss_mb(pid)
            readings, lost, runs, rss = asyncio.run(classroom(url, args, pid))
            time.sleep(args.after)
            report(readings, lost, runs, before, rss, rss_mb(pid), args)


def _command_line(proc):
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


async def _warm_up(url):
    """One visit to each page, so that 'before' is a server that has loaded its models and MNIST."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.goto(url)
        await wait_text(page, ".st-key-prediction", "Draw a digit", 120)
        await page.goto(f"{url}/train")
        await wait_text(page, ".st-key-train-progress", "No run yet", 120)
        await browser.close()


if __name__ == "__main__":
    main()
