"""Render the report's pages in headless Chromium to PNG and check the images are not blank.

``python -m warehouse_ml.report.screenshot --reports reports/`` (``make report-check``) writes
``<reports>/<page>.png`` for every ``<reports>/*.html`` with ``chromium --headless
--screenshot`` (Debian package ``chromium``) and fails when Chromium is missing, a page did not
render, or an image is (nearly) one colour. Chromium loads the pages from ``file://`` with the
network switched off by a proxy that points nowhere, so a page that needs the network shows it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1280, 7000)
MIN_COLOURS = 50
"""A rendered page with charts has hundreds of colours; a blank or error page a handful."""


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit(
        "report-check: no Chromium found (tried " + ", ".join(BROWSERS) + "); install the "
        "Debian package: apt-get install -y chromium"
    )


def screenshot(page: Path, png: Path, executable: str) -> None:
    command = [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={png.resolve()}",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not png.is_file():
        raise SystemExit(f"report-check: chromium could not render {page}: {done.stderr[-2000:]}")


def colours(png: Path) -> int:
    with Image.open(png) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(found) if found is not None else 1 << 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    pages = sorted(args.reports.glob("*.html"))
    if not pages:
        raise SystemExit(f"report-check: no HTML pages in {args.reports}; run make report first")
    executable = browser()
    for page in pages:
        png = page.with_suffix(".png")
        screenshot(page, png, executable)
        count = colours(png)
        if count < MIN_COLOURS:
            raise SystemExit(f"report-check: {png} has {count} colours: the page looks blank")
        with Image.open(png) as image:
            print(f"{png}: {image.size[0]}x{image.size[1]}, {count} colours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
