"""exgen serve: the routes, rebuilds on a change, the error page, the event stream, and a
port in use. Servers bind port 0 (any free port); waits are on conditions, never on the
clock."""

import http.client
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from cli_run import invoke

from exgen.serve.live import Preview, open_server, watch

FIXTURE = Path(__file__).parent / "fixtures" / "q3.yaml"
PATIENCE = 60.0  # seconds: generous, a loaded CI machine may be slow; passes return early


@pytest.fixture
def served(tmp_path):
    """A server on a copy of q3.yaml in tmp_path/exercises, with its watcher running."""
    (tmp_path / "exercises").mkdir()
    shutil.copy(FIXTURE, tmp_path / "exercises" / "q3.yaml")
    lines = []
    preview = Preview("q3", tmp_path, lambda line, err: lines.append(line))
    server = open_server(preview, 0)
    preview.rebuild("built")
    stop = threading.Event()
    threads = [
        threading.Thread(target=server.serve_forever, daemon=True),
        threading.Thread(target=watch, args=(preview, stop), daemon=True),
    ]
    for t in threads:
        t.start()
    preview.port = server.server_port
    preview.lines = lines
    yield preview
    stop.set()
    preview.close()
    server.shutdown()
    server.server_close()
    threads[1].join(PATIENCE)


def get(preview, path, host=None):
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=PATIENCE)
    conn.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, body


def edit_until(preview, path: Path, text: str, shown) -> str:
    """Write ``text`` to ``path`` until the key page satisfies ``shown`` (the watcher may
    start after the first write: writing again is harmless)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        path.write_text(text)
        since = preview.generation
        while preview.wait(since, 1.0) is not None:
            since = preview.generation
            page = get(preview, "/key.html")[1]
            if shown(page):
                return page
    raise AssertionError(f"no rebuild showed the change; terminal: {preview.lines}")


def test_routes(served):
    status, index = get(served, "/")
    assert status == 200
    assert "<title>exgen serve: q3</title>" in index
    assert 'href="/sheet.html"' in index and 'href="/key.html"' in index
    for page in ("/sheet.html", "/key.html"):
        status, body = get(served, page)
        assert status == 200 and "Deep Neural Networks" in body
        assert "new EventSource('/events?since=1')" in body
    for missing in (
        "/sheet.pdf",
        "/key.json",
        "/../etc/passwd",
        "/exercises/q3.yaml",
        "//x/key.html",
        "/key.html/",
    ):
        assert get(served, missing)[0] == 404, missing


def test_pages_are_what_build_writes(served, tmp_path):
    result = invoke(tmp_path, "build", "q3", "--no-pdf", "--out", str(tmp_path / "built"))
    assert result.exit_code == 0, result.output
    for page in ("sheet.html", "key.html"):
        served_page = get(served, f"/{page}")[1]
        script_start = served_page.rindex("<script>/* exgen serve")
        script_end = served_page.index("</script>\n", script_start) + len("</script>\n")
        without = served_page[:script_start] + served_page[script_end:]
        assert without == (tmp_path / "built" / "q3" / page).read_text()


def test_writes_nothing(served, tmp_path):
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    get(served, "/key.html")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_other_hosts_refused(served):
    assert get(served, "/key.html", host="attacker.example")[0] == 403
    assert get(served, "/key.html", host=f"localhost:{served.port}")[0] == 200


def test_rebuild_error_and_recovery(served, tmp_path):
    definition = tmp_path / "exercises" / "q3.yaml"
    good = definition.read_text().replace("Deep Neural Networks", "Shallow Networks")
    edit_until(served, definition, good, lambda page: "Shallow Networks" in page)
    assert any(line.startswith("rebuilt q3 in ") for line in served.lines)

    broken = good.replace("points: 7", "points: seven")
    page = edit_until(served, definition, broken, lambda page: "did not build" in page)
    message = "error: exercises/q3.yaml:9: exercises[0].points: expected a number, found &#x27;seven&#x27;"
    assert message in page
    assert "new EventSource('/events?since=" in page
    assert get(served, "/")[1] == get(served, "/sheet.html")[1]  # every page shows it
    assert any("exercises/q3.yaml:9: exercises[0].points" in line for line in served.lines)

    edit_until(served, definition, good, lambda page: "Shallow Networks" in page)
    assert "did not build" not in get(served, "/sheet.html")[1]


def test_image_change_rebuilds_other_definition_does_not(served, tmp_path):
    assert served.relevant(str(tmp_path / "exercises" / "q3.yaml"))
    assert served.relevant(str(tmp_path / "exercises" / "figures" / "net.png"))
    assert not served.relevant(str(tmp_path / "exercises" / "other.yaml"))
    assert not served.relevant(str(tmp_path / "exercises" / ".q3.yaml.swp"))
    assert not served.relevant(str(tmp_path / "elsewhere" / "x.png"))


def test_event_stream(served, tmp_path):
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=PATIENCE)
    conn.request("GET", f"/events?since={served.generation}")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    got = []
    reader = threading.Thread(target=lambda: got.append(response.fp.readline()), daemon=True)
    reader.start()
    definition = tmp_path / "exercises" / "q3.yaml"
    changed = definition.read_text().replace("Deep Neural Networks", "Recurrent Networks")
    edit_until(served, definition, changed, lambda page: "Recurrent Networks" in page)
    reader.join(PATIENCE)
    conn.close()
    assert got and got[0].startswith(b"data: ")


def test_stale_page_reloads_at_once(served):
    """A page of an older build opens its stream after a rebuild: told at once."""
    served.rebuild()
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=PATIENCE)
    conn.request("GET", "/events?since=1")
    assert conn.getresponse().fp.readline() == f"data: {served.generation}\n".encode()
    conn.close()


def test_port_in_use(tmp_path):
    (tmp_path / "exercises").mkdir()
    shutil.copy(FIXTURE, tmp_path / "exercises" / "q3.yaml")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(tmp_path, "serve", "q3", "--port", str(port))
    assert result.exit_code == 2
    assert f"error: port {port} is in use (give --port)" in result.output
    assert "Traceback" not in result.output


def test_missing_definition(tmp_path):
    result = invoke(tmp_path, "serve", "nothere")
    assert result.exit_code == 2
    assert result.output.startswith("error: exercises/nothere.yaml")


def test_template_change_rebuilds(served, tmp_path):
    folder = tmp_path / "exercises" / "mine" / "partials"
    folder.mkdir(parents=True)
    heading = folder / "heading.html"
    heading.write_text("<h2>Aufgabe {{ ex.number }}</h2>")
    definition = tmp_path / "exercises" / "q3.yaml"
    text = "templates: mine\n" + definition.read_text()
    edit_until(served, definition, text, lambda page: "<h2>Aufgabe 1</h2>" in page)
    assert served.relevant(str(heading))
    edit_until(
        served, heading, "<h2>Exercise {{ ex.number }}</h2>", lambda p: "<h2>Exercise 1</h2>" in p
    )
