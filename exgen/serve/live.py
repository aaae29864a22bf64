"""`exgen serve`: a live preview of one sheet's HTML on 127.0.0.1, rebuilt when its
definition, its images or its templates change, and reloaded in the open browser tab.

Everything is rendered in memory: serve writes no file anywhere. The stdlib's
ThreadingHTTPServer is enough for one author's browser (a handful of routes, one
long-lived server-sent-events stream per open tab), and it adds no dependency.
"""

from __future__ import annotations

import errno
import html
import os
import socketserver
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from exgen.errors import ArgumentError, ExgenError, printable

HOST = "127.0.0.1"
ROUTES = ("/", "/sheet.html", "/key.html")
KEEPALIVE = 15.0  # seconds between comments on an idle event stream: finds closed tabs
# the only files whose change means a rebuild, besides the definition and its templates
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")

# Injected before </body>: reload when the server says a newer build is there. `since`
# is the build the page shows, so a rebuild between loading the page and opening the
# stream is not missed.
RELOAD_SCRIPT = (
    "<script>/* exgen serve: live reload */"
    "new EventSource('/events?since={generation}')"
    ".onmessage=function(){{location.reload()}};</script>\n"
)

ERROR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>exgen serve: error in {name}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }}
.error {{ border: 3px solid #b00020; border-radius: 6px; padding: 1rem; background: #fff4f4; }}
h1 {{ color: #b00020; font-size: 1.4rem; margin-top: 0; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; font-size: 1rem; }}
</style>
</head>
<body>
<main class="error" role="alert">
<h1>{name} did not build</h1>
<pre>{message}</pre>
<p>This page reloads by itself after the next good build.</p>
</main>
{script}</body>
</html>
"""

INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>exgen serve: {name}</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2rem; }}</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>Live preview of <code>{source}</code>: it reloads after every rebuild.</p>
<ul>
<li><a href="/sheet.html">Problem sheet</a> (sheet.html)</li>
<li><a href="/key.html">Solution key</a> (key.html)</li>
</ul>
</main>
{script}</body>
</html>
"""


def render_pages(name_or_path: str, cwd: Path):
    """(sheet, {"sheet.html": …, "key.html": …}): the HTML exactly as `exgen build`
    writes it, from the same steps, without writing anything."""
    from exgen.build.single import solved_and_rendered
    from exgen.define.load import load_sheet
    from exgen.render.documents import forget_templates

    forget_templates()  # an edited template must be read again
    sheet = load_sheet(name_or_path, cwd)
    _traces, _results, docs = solved_and_rendered(sheet)
    return sheet, {"sheet.html": docs.sheet_html, "key.html": docs.key_html}


class Preview:
    """The latest build (pages, or the error that stopped it), numbered: each build is a
    new generation, and waiting event streams are woken by it."""

    def __init__(self, name_or_path: str, cwd: Path, say: Callable[[str, bool], None]):
        from exgen.define.load import resolve

        self.name_or_path = name_or_path
        self.cwd = cwd
        self.say = say
        self.name, definition, self.source = resolve(name_or_path, cwd)
        # as watchfiles reports paths: under the watched folder as given, links unresolved
        self.definition = Path(os.path.abspath(definition))
        self.folder = self.definition.parent
        self.template_dir: Path | None = None
        self.title = self.name
        self.pages: dict[str, str] = {}
        self.error: str | None = None
        self.generation = 0
        self.closed = False
        self.changed = threading.Condition()

    def rebuild(self, verb: str = "rebuilt") -> None:
        start = time.perf_counter()
        try:
            sheet, pages = render_pages(self.name_or_path, self.cwd)
        except ExgenError as exc:
            pages, error = {}, f"error: {printable(exc)}"
        except Exception as exc:  # a bug in exgen: keep serving, say so, show the traceback
            traceback.print_exc()
            pages, error = {}, f"error: exgen failed ({type(exc).__name__}: {printable(exc)})"
        else:
            error = None
            self.title = sheet.spec.title
            # resolved by load_sheet; watchfiles reports paths under the folder as given
            own = (
                Path(sheet.template_dir).relative_to(self.folder.resolve())
                if sheet.template_dir
                else None
            )
            self.template_dir = self.folder / own if own is not None else None
        with self.changed:
            self.pages, self.error = pages, error
            self.generation += 1
            self.changed.notify_all()
        if error:
            self.say(error, True)
        else:
            self.say(f"{verb} {self.name} in {time.perf_counter() - start:.1f} s", False)

    def page(self, route: str) -> str:
        """The HTML served at ``route`` ("", "sheet.html" or "key.html"), with the reload
        script."""
        with self.changed:
            pages, error, generation = self.pages, self.error, self.generation
        script = RELOAD_SCRIPT.format(generation=generation)
        if error is not None:
            return ERROR_PAGE.format(
                name=html.escape(self.name), message=html.escape(error), script=script
            )
        if not route:
            return INDEX_PAGE.format(
                name=html.escape(self.name),
                title=html.escape(self.title),
                source=html.escape(self.source),
                script=script,
            )
        return _injected(pages[route], script)

    def wait(self, since: int, timeout: float) -> int | None:
        """The generation once it differs from ``since`` (None: closed, or none yet)."""
        with self.changed:
            self.changed.wait_for(lambda: self.closed or self.generation != since, timeout)
            return None if self.closed or self.generation == since else self.generation

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def relevant(self, path: str) -> bool:
        """Whether a changed file can change the pages: the definition, a file of its
        templates folder, or an image (other definitions beside it cannot)."""
        changed = Path(path)
        if changed == self.definition:
            return True
        if self.template_dir is not None and changed.is_relative_to(self.template_dir):
            return True
        if not changed.is_relative_to(self.folder):
            return False
        hidden = any(part.startswith(".") for part in changed.relative_to(self.folder).parts)
        return changed.suffix.lower() in IMAGE_SUFFIXES and not hidden


def _injected(page: str, script: str) -> str:
    at = page.rfind("</body>")
    return page[:at] + script + page[at:] if at >= 0 else page + script


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # an open event stream never holds up the exit

    def server_bind(self):
        # HTTPServer.server_bind looks the host's name up (socket.getfqdn), which may ask
        # a name server: serve reaches no network
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    server_version = "exgen-serve"
    preview: Preview  # set on the subclass made per server

    def do_GET(self):
        # the path as sent, compared whole (urlsplit would read "//x/key.html" as a host)
        path, _, query = self.path.partition("?")
        if not self._local_host():
            self._send(HTTPStatus.FORBIDDEN, "text/plain", "only http://127.0.0.1 is served\n")
            return
        if path == "/events":
            self._events(parse_qs(query).get("since", [""])[0])
        elif path in ROUTES:
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.preview.page(path[1:]))
        else:  # only the routes above: no file of the machine is ever read by path
            self._send(HTTPStatus.NOT_FOUND, "text/plain", "not found\n")

    def _local_host(self) -> bool:
        """Refuses a Host a web page could have pointed at 127.0.0.1 (DNS rebinding):
        the key is for the author's own browser."""
        host = (self.headers.get("Host") or HOST).rsplit(":", 1)[0].strip("[]")
        return host in (HOST, "localhost")

    def _send(self, status: HTTPStatus, kind: str, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _events(self, since: str) -> None:
        """Server-sent events: one message per build after ``since``."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = int(since) if since.isdigit() else self.preview.generation
        try:
            self.wfile.flush()
            while True:
                generation = self.preview.wait(seen, KEEPALIVE)
                if self.preview.closed:
                    return
                if generation is None:
                    self.wfile.write(b": idle\n\n")
                else:
                    seen = generation
                    self.wfile.write(f"data: {generation}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the tab was closed or reloaded

    def log_message(self, format, *args):
        pass  # the terminal shows builds, not requests


def open_server(preview: Preview, port: int) -> ThreadingHTTPServer:
    """The server bound to 127.0.0.1:``port`` (0: any free port; see .server_port)."""
    handler = type("Handler", (_Handler,), {"preview": preview})
    try:
        return _Server((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ArgumentError(f"port {port} is in use (give --port)") from None
        raise ArgumentError(f"cannot serve on port {port} ({exc.strerror or exc})") from None


def watch(preview: Preview, stop: threading.Event) -> None:
    """Rebuild on every relevant change until ``stop`` is set. watchfiles: the folder is
    watched, not the file, so an editor's save by rename is seen too."""
    import watchfiles

    for _changes in watchfiles.watch(
        preview.folder,
        watch_filter=lambda change, path: preview.relevant(path),
        stop_event=stop,
        debounce=400,
        rust_timeout=500,  # how soon `stop` is noticed
        yield_on_timeout=False,
        raise_interrupt=True,
    ):
        preview.rebuild()


def serve(name_or_path: str, port: int, say: Callable[[str, bool], None], cwd=None) -> None:
    """Build, serve and rebuild until Ctrl-C (KeyboardInterrupt propagates)."""
    preview = Preview(name_or_path, Path.cwd() if cwd is None else Path(cwd), say)
    if not preview.definition.is_file():
        render_pages(name_or_path, preview.cwd)  # raises load_sheet's own message
    server = open_server(preview, port)
    stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        preview.rebuild("built")
        thread.start()
        say(
            f"serving {preview.name} at http://{HOST}:{server.server_port}/ (Ctrl-C to stop)",
            False,
        )
        watch(preview, stop)
    finally:
        stop.set()
        preview.close()
        if thread.is_alive():
            server.shutdown()
        server.server_close()
