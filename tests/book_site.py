"""The built website in headless Chromium, read as a reader's browser sees it: the machinery of
test_book.

- ``serve(root)`` serves a built site on a free localhost port (a thread of this process).
- ``visit(browser, url)`` opens one page, waits until MathJax has typeset it and every image
  has loaded or failed, and records what the tests check: console errors, uncaught errors,
  failed requests and every request that left the site, the images, the links, the ids a link
  may point to, and the page's prose (its text outside code, outputs and typeset math).

Playwright drives Debian's ``chromium`` (``browser.CHROMIUM``); no request may leave
127.0.0.1, so a page that needs a CDN fails here as it would offline.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Runs in the page once it has loaded: typeset math, settle images, read everything at once.
_READ_PAGE_JS = """async () => {
    if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
    await Promise.all(Array.from(document.images, (img) => img.complete ? null :
        new Promise((done) => { img.addEventListener('load', done);
                                img.addEventListener('error', done); })));
    const article = document.querySelector('article') || document.body;
    const prose = article.cloneNode(true);
    prose.querySelectorAll('pre, code, mjx-container, script, style, .cell_output')
        .forEach((node) => node.remove());
    return {
        title: document.title,
        images: Array.from(document.images, (img) => ({
            src: img.currentSrc || img.src, width: img.naturalWidth })),
        links: Array.from(document.querySelectorAll('a[href]'), (a) => ({
            href: a.href, text: a.textContent.trim() })),
        ids: Array.from(document.querySelectorAll('[id], a[name]'), (e) => e.id || e.name),
        prose: prose.textContent,
        typeset: document.querySelectorAll('mjx-container').length,
        math_errors: document.querySelectorAll('mjx-merror').length,
    };
}"""


# Elements reaching past the right edge that no scrolling box of their own holds in.
_STICKING_OUT_JS = """(width) => {
    const heldIn = (element) => {
        for (let box = element.parentElement; box; box = box.parentElement) {
            if (getComputedStyle(box).overflowX !== 'visible') {
                return box !== document.documentElement && box !== document.body;
            }
        }
        return false;
    };
    return Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > width + 1 && !heldIn(e))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} ` +
                    `${Math.round(e.getBoundingClientRect().right)}px`);
}"""


@dataclass
class Page:
    """What one page showed and asked for."""

    url: str
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    prose: str = ""
    typeset: int = 0
    math_errors: int = 0

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def __repr__(self) -> str:  # a failing test names the page, not its whole text
        return f"Page({self.path})"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # the tests read the browser's record, not the server's


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """The site at ``root`` on http://127.0.0.1:<free port>/ while the context lasts."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def visit(browser: object, url: str, viewport: dict | None = None) -> Page:
    """Open ``url`` in a fresh page of ``browser`` and record it (see the module)."""
    page = browser.new_page(viewport=viewport or {"width": 1300, "height": 900})
    record = Page(url)
    site = urlsplit(url).netloc

    def on_request(request) -> None:
        if urlsplit(request.url).netloc != site and not request.url.startswith("data:"):
            record.outside_requests.append(request.url)

    def on_response(response) -> None:
        if response.status >= 400:
            record.failed_requests.append(f"{response.status} {response.url}")

    page.on("console", lambda message: message.type == "error"
            and record.console_errors.append(message.text))
    page.on("pageerror", lambda error: record.console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: record.failed_requests.append(
        f"{request.failure} {request.url}"))
    page.on("request", on_request)
    page.on("response", on_response)
    # Nothing leaves the machine: a request elsewhere is recorded, then refused.
    page.route(lambda target: urlsplit(target).netloc != site,
               lambda route: route.abort())
    try:
        page.goto(url, wait_until="load")
        found = page.evaluate(_READ_PAGE_JS)
    finally:
        page.close()
    record.title = found["title"]
    record.images = found["images"]
    record.links = found["links"]
    record.ids = set(found["ids"])
    record.prose = found["prose"]
    record.typeset = found["typeset"]
    record.math_errors = found["math_errors"]
    return record


def page_width(browser: object, url: str, width: int, height: int) -> tuple[int, list[str]]:
    """The page's scroll width at a viewport ``width`` wide, and the widest elements that stick
    out of it (tag, class and width of each), to name what a phone would scroll sideways."""
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(url, wait_until="load")
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) "
                      "{ await MathJax.startup.promise; } }")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        culprits = page.evaluate(_STICKING_OUT_JS, width)
    finally:
        page.close()
    return scroll_width, culprits
