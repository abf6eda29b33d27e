"""Check a built book as a reader's browser shows it: headless Chromium renders every page.

The book is served on a loopback port (Chromium refuses to render ``file://`` pages in this
headless mode). For each page Chromium writes the DOM after loading and a screenshot; the check
fails on a page that shows a Python traceback or an error output, on an image that does not
load, and on an internal link to a file that does not exist.
"""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image, UnidentifiedImageError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
_ERROR_MARKERS = ("Traceback (most recent call last)", "output error", "output_error")


def find_chromium() -> str | None:
    """Path of a Chromium executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    return None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("src"):
            self.images.append(values["src"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])


@dataclass
class PageReport:
    """What the browser showed for one page."""

    page: str
    screenshot: str
    problems: list[str] = field(default_factory=list)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the server silent."""


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free loopback port for the duration of the block; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _local_target(reference: str, *, page: Path) -> Path | None:
    parsed = urlparse(reference)
    if parsed.scheme or parsed.netloc or not parsed.path:
        return None
    return (page.parent / unquote(parsed.path)).resolve()


def _image_problem(target: Path) -> str | None:
    if not target.exists():
        return f"missing image {target.name}"
    if target.suffix.lower() == ".svg":
        return None if target.stat().st_size > 0 else f"empty image {target.name}"
    try:
        with Image.open(target) as image:
            image.verify()
    except (UnidentifiedImageError, OSError):
        return f"unreadable image {target.name}"
    return None


def _render(chromium: str, url: str, *, screenshot: Path, profile: Path, timeout: float) -> str:
    common = [chromium, *_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1600"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=timeout, check=True)
    subprocess.run([*common, f"--screenshot={screenshot}", url], capture_output=True, timeout=timeout, check=True)
    return dom.stdout


_REFRESH = re.compile(r"""http-equiv=["']refresh["'][^>]*url=([^"'>]+)""", re.IGNORECASE)


def check_page(
    chromium: str, page: Path, *, url: str, screenshot: Path, profile: Path, timeout: float = 60.0
) -> PageReport:
    """Render one page (file ``page``, served at ``url``), save its screenshot, list what a reader would find broken.

    A redirect page (``<meta http-equiv="refresh">``, such as the book's ``index.html``) is checked
    for its target only.
    """
    redirect = _REFRESH.search(page.read_text(errors="replace"))
    if redirect:
        target = _local_target(redirect.group(1).strip(), page=page)
        missing = target is not None and not target.exists()
        return PageReport(page=str(page), screenshot="", problems=[f"redirect to missing {target}"] if missing else [])
    dom = _render(chromium, url, screenshot=screenshot, profile=profile, timeout=timeout)
    report = PageReport(page=str(page), screenshot=str(screenshot))
    if not dom.strip():
        report.problems.append("the browser returned an empty page")
    report.problems += [f"shows {marker!r}" for marker in _ERROR_MARKERS if marker in dom]
    parser = _Links()
    parser.feed(dom)
    for source in parser.images:
        target = _local_target(source, page=page)
        problem = _image_problem(target) if target is not None else None
        if problem:
            report.problems.append(problem)
    for link in parser.links:
        target = _local_target(link, page=page)
        if target is not None and not target.exists():
            report.problems.append(f"broken link {link}")
    return report


def check_book(html_dir: str | Path, *, screenshots: str | Path, chromium: str | None = None) -> list[PageReport]:
    """Render every page of a built book in headless Chromium; one report per page (problems empty when fine).

    Raises
    ------
    FileNotFoundError
        If there is no Chromium or no ``index.html`` under ``html_dir``.
    """
    html_dir = Path(html_dir)
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError(f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)})")
    if not (html_dir / "index.html").exists():
        raise FileNotFoundError(f"{html_dir}: no index.html; build the book first")
    screenshots = Path(screenshots)
    screenshots.mkdir(parents=True, exist_ok=True)
    pages = sorted(p for p in html_dir.rglob("*.html") if not {"_static", "_sources"} & set(p.parts))
    reports = []
    with tempfile.TemporaryDirectory() as profile, serve(html_dir) as base:
        for page in pages:
            relative = page.relative_to(html_dir).as_posix()
            shot = screenshots / relative.replace("/", "__").replace(".html", ".png")
            reports.append(check_page(chromium, page, url=base + relative, screenshot=shot, profile=Path(profile)))
    return reports
