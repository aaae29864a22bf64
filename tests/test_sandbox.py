"""Templates and prompts cannot run code or reach out: sheet templates render in Jinja's
sandbox, every template failure is a message naming the file (and line), style sheets are
checked, prompt images are embedded from the definition's folder only, and WeasyPrint's
URL fetcher serves nothing but data: URIs, exgen's own files and the sheet's folder.
No test here contacts anything: the fetcher refuses before it would open a socket."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from jinja2.sandbox import SandboxedEnvironment

from exgen.cli import main
from exgen.define.load import load_sheet
from exgen.errors import DefinitionError, TemplateProblem
from exgen.render.documents import environment, warm
from exgen.render.pdf import PACKAGE, LocalOnly, RefusedURL, html_to_pdf
from exgen.render.sandbox import check_document
from exgen.typeset import markdown

FIXTURE = (Path(__file__).parent / "fixtures" / "q3.yaml").read_text()
SHEET9 = (Path(__file__).parents[1] / "exercises" / "sheet9.yaml").read_text()
F = "exercises/s.yaml"
T = "exercises/t"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def sheet_dir(tmp_path, monkeypatch):
    (tmp_path / T).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test (nothing would be reached anyway)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def build(sheet_dir, templates="t", text=FIXTURE, *flags):
    head = f"templates: {templates}\n" if templates is not None else ""
    (sheet_dir / F).write_text(head + text)
    result = run("build", "s", "--no-pdf", *flags)
    assert "Traceback" not in result.output
    return result


def template(sheet_dir, name, text: str | bytes):
    path = sheet_dir / T / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def refused(result, message):
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message}\n"


# 1. The sandbox

ESCAPES = {
    "os through lipsum": (
        '{{ lipsum.__globals__["os"].system("touch pwned") }}',
        "access to attribute '__globals__' of 'function' object is unsafe.",
    ),
    "classes through a string": (
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "access to attribute '__class__' of 'str' object is unsafe.",
    ),
    "globals through cycler": (
        "{{ cycler.__init__.__globals__ }}",
        "access to attribute '__init__' of 'type' object is unsafe.",
    ),
    "changing exgen's data": (
        "{{ doc.exercises.append(1) }}",
        "access to attribute 'append' of 'list' object is unsafe.",
    ),
    "a huge repetition": (
        '\n{{ "a" * 100000000 }}',
        "repetition would make 100,000,000 items (at most 1,000,000)",
    ),
    "a huge power": ("{{ 2 ** 100000000 }}", "exponent 100000000 is larger than 1000"),
    "a huge format width": (
        '{{ "%0999999999d" % 1 }}',
        "format width '%0999999999' is too large (at most 1,000,000)",
    ),
    "a huge width from the arguments": (
        '{{ "%*d" % (1000000000, 1) }}',
        "% with 1,000,000,000 would make a huge value (at most 1,000,000)",
    ),
    "a huge str.format width": (
        '{{ "{:>999999999}".format(1) }}',
        "format width '{:>999999999' is too large (at most 1,000,000)",
    ),
    "a huge padding method": (
        '{{ "a".ljust(1000000000) }}',
        "ljust with 1,000,000,000 would make a huge value (at most 1,000,000)",
    ),
    "a huge padding filter": (
        '{{ "a" | center(1000000000) }}',
        "center with 1,000,000,000 would make a huge value (at most 1,000,000)",
    ),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_a_template_cannot_escape_the_sandbox(sheet_dir, case):
    text, message = ESCAPES[case]
    template(sheet_dir, "sheet.html", text)
    line = text.count("\n", 0, text.index("{{")) + 1
    refused(build(sheet_dir), f"{T}/sheet.html:{line}: not allowed in a sheet template: {message}")
    assert not (sheet_dir / "pwned").exists()
    assert not (sheet_dir / "out").exists()


def test_the_templates_render_in_the_sandbox(sheet_dir):
    # the default templates' output is unchanged: tests/test_documents.py's golden files
    assert isinstance(environment(None), SandboxedEnvironment)
    assert isinstance(environment(str(sheet_dir / T)), SandboxedEnvironment)


def test_a_sandboxed_custom_template_still_works(sheet_dir):
    template(
        sheet_dir,
        "partials/heading.html",
        "<h2>{{ ex.title | upper }} ({{ range(3) | list | length }})</h2>",
    )
    assert build(sheet_dir).exit_code == 0
    assert "<h2>BACKPROPAGATION BY HAND (3)</h2>" in (sheet_dir / "out/s/sheet.html").read_text()


# 2. Template failures are messages

FAILURES = {
    "division by zero": (
        "sheet.html",
        "<p>\n{{ 1 // 0 }}",
        "2: integer division or modulo by zero (ZeroDivisionError)",
    ),
    "not UTF-8": ("sheet.html", b"<p>\n\xff\xfe", "2: is not UTF-8 text (byte 0xff at offset 4)"),
    "extends itself": (
        "sheet.html",
        '{% extends "sheet.html" %}',
        "1: a template includes, imports or extends itself (endless recursion)",
    ),
    "includes itself": (
        "partials/heading.html",
        '<h2>\n{% include "partials/heading.html" %}',
        "2: a template includes, imports or extends itself (endless recursion)",
    ),
    "syntax error": (
        "partials/given.html",
        "<p>\n\n{{ x",
        "3: unexpected end of template, expected 'end of print statement'.",
    ),
    "missing include": (
        "sheet.html",
        '\n{% include "nope.html" %}',
        "2: no template named 'nope.html'",
    ),
    "a file elsewhere": (
        "sheet.html",
        '{% include "/etc/passwd" %}',
        "1: no template named '/etc/passwd'",
    ),
    "a file above": ("sheet.html", '{% include "../s.yaml" %}', "1: no template named '../s.yaml'"),
    "undefined field": (
        "partials/heading.html",
        "<h2>{{ ex.no_such_field }}</h2>",
        "1: 'exgen.render.context.ExerciseContext object' has no attribute 'no_such_field'",
    ),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_failing_template_is_a_message_naming_file_and_line(sheet_dir, case):
    name, text, message = FAILURES[case]
    template(sheet_dir, name, text)
    refused(build(sheet_dir), f"{T}/{name}:{message}")


def test_a_folder_or_a_pipe_where_a_template_should_be(sheet_dir):
    (sheet_dir / T / "style.css").mkdir()
    refused(build(sheet_dir), f"{T}/style.css: is a folder, not a file")
    (sheet_dir / T / "style.css").rmdir()
    os.mkfifo(sheet_dir / T / "sheet.html")  # reading it would block the build for ever
    refused(build(sheet_dir), f"{T}/sheet.html: is not a regular file (a pipe, socket or device)")


def test_a_template_linked_from_outside_is_refused(sheet_dir):
    (sheet_dir / "secret.html").write_text("secret")
    (sheet_dir / T / "sheet.html").symlink_to(sheet_dir / "secret.html")
    refused(build(sheet_dir), f"{T}/sheet.html: is outside the folder {sheet_dir / T}")


@pytest.mark.parametrize(
    "written, message",
    [
        (
            "/usr/share",
            "template folder '/usr/share' is outside the definition's folder {home}: "
            "a sheet's templates must be in that folder or below it",
        ),
        (
            "../elsewhere",
            "template folder '../elsewhere' is outside the definition's folder {home}: "
            "a sheet's templates must be in that folder or below it",
        ),
        ("a" * 5000, "template folder path is 5,000 characters long (at most 1024)"),
        (
            "a/" * 300 + "b",
            "template folder " + repr(("a/" * 300 + "b")[:60]) + "… does not exist "
            "(relative to the definition file)",
        ),
        ("x" * 300, "template folder " + repr("x" * 60) + "… cannot be used (File name too long)"),
    ],
)
def test_a_templates_folder_outside_the_definitions_folder_is_refused(sheet_dir, written, message):
    (sheet_dir / "elsewhere").mkdir()
    home = sheet_dir.resolve() / "exercises"
    refused(build(sheet_dir, written), f"{F}:1: templates: " + message.format(home=home))


def test_a_templates_folder_linked_from_elsewhere_is_refused(sheet_dir):
    (sheet_dir / "exercises" / "linked").symlink_to(sheet_dir)
    home = sheet_dir.resolve() / "exercises"
    refused(
        build(sheet_dir, "linked"),
        f"{F}:1: templates: template folder 'linked' is outside "
        f"the definition's folder {home}: a sheet's templates must be in that folder or below it",
    )


def test_the_class_build_loads_only_the_templates_it_uses(sheet_dir):
    template(sheet_dir, "unused.html", "{{ 1 // }")
    template(sheet_dir, "partials/heading.html", "<h2>{{ ex.title }}</h2>")
    (sheet_dir / F).write_text("templates: t\n" + SHEET9)
    warm(load_sheet(F))  # no error: unused.html is never read
    result = run("build", "s", "--no-pdf", "--variants", "2", "--jobs", "1")
    assert result.exit_code == 0, result.output


def test_a_broken_template_the_class_build_uses_is_a_message(sheet_dir):
    template(sheet_dir, "unused.html", "{{ 1 // }")
    template(sheet_dir, "sheet.html", '{% include "unused.html" %}')
    (sheet_dir / F).write_text("templates: t\n" + SHEET9)
    result = run("build", "s", "--no-pdf", "--variants", "2", "--jobs", "1")
    refused(result, f"{T}/unused.html:1: unexpected '}}'")


def test_a_broken_override_fails_the_class_build_before_any_student(sheet_dir):
    template(sheet_dir, "key.html", "{% if %}")
    (sheet_dir / F).write_text("templates: t\n" + SHEET9)
    with pytest.raises(TemplateProblem, match=f"^{T}/key.html:1: Expected an expression"):
        warm(load_sheet(F))


# 3. The style sheet

STYLES = {
    "ends the style element": (
        "p { color: red }\n</style><script>alert(1)</script>",
        "2: a style sheet may not contain '<' (it would end the <style> "
        "element: found '</style><scr')",
    ),
    "< in a comment": (
        "/* <!-- */",
        "1: a style sheet may not contain '<' (it would end the <style> element: found '<!-- */')",
    ),
    "@import": (
        'p {}\n@import "sheet.css";',
        "2: @import is not allowed (exgen fetches no other style sheet; copy its rules in)",
    ),
    "@import in @media": (
        "@media print {\n @import url(x.css); }",
        "2: @import is not allowed (exgen fetches no other style sheet; copy its rules in)",
    ),
    "remote url": (
        "body {\n background: url(http://127.0.0.1:9/x.png) }",
        "2: url('http://127.0.0.1:9/x.png') is not allowed: a style sheet may only "
        "use data: URIs (exgen fetches nothing)",
    ),
    "escaped url": (
        "body { background: u\\72l(https://127.0.0.1:9/x.png) }",
        "1: url('https://127.0.0.1:9/x.png') is not allowed: a style sheet may only "
        "use data: URIs (exgen fetches nothing)",
    ),
    "quoted url in a font": (
        '@font-face { src: url("file:///etc/passwd") format("woff2") }',
        "1: url('file:///etc/passwd') is not allowed: a style sheet may "
        "only use data: URIs (exgen fetches nothing)",
    ),
    "image-set": (
        'p { background: image-set("x.png" 1x) }',
        "1: url('x.png') is not allowed: "
        "a style sheet may only use data: URIs (exgen fetches nothing)",
    ),
}


@pytest.mark.parametrize("case", sorted(STYLES))
def test_a_style_sheet_that_escapes_or_fetches_is_refused(sheet_dir, case):
    text, message = STYLES[case]
    template(sheet_dir, "style.css", text)
    refused(build(sheet_dir), f"{T}/style.css:{message}")


def test_a_plain_style_sheet_is_used(sheet_dir):
    css = 'h1 { color: #123; background: url(data:image/png;base64,AAAA) } /* a "quote" > */'
    template(sheet_dir, "style.css", css)
    assert build(sheet_dir).exit_code == 0
    assert css in (sheet_dir / "out/s/sheet.html").read_text()


ACTIVE = {
    "a script": (
        "<p>\n<script>alert(1)</script>",
        "<script> is not allowed: a sheet runs no code and fetches nothing",
    ),
    "a handler": (
        '<div onclick="alert(1)">',
        "the attribute onclick is not allowed: a sheet runs no code",
    ),
    "a remote image": (
        '<img src="http://127.0.0.1:9/a.png">',
        "src='http://127.0.0.1:9/a.png' is "
        "not allowed: a sheet uses only data: URIs (exgen embeds prompt images itself)",
    ),
    "an svg image": (
        '<svg><image href="//127.0.0.1:9/a.png"/></svg>',
        "href='//127.0.0.1:9/a.png' "
        "is not allowed: a sheet uses only data: URIs (exgen embeds prompt images itself)",
    ),
    "a style attribute": (
        '<p style="background: url(http://127.0.0.1:9/a.png)">',
        "url('http://127.0.0.1:9/a.png') is not allowed: a style sheet may only "
        "use data: URIs (exgen fetches nothing)",
    ),
    "a style element": (
        '<style>\np {}\n@import "x.css";</style>',
        "@import is not allowed (exgen fetches no other style sheet; copy its rules in)",
    ),
    "a refresh": (
        '<meta http-equiv="refresh" content="0; url=http://127.0.0.1:9/">',
        "<meta> is not allowed: a sheet runs no code and fetches nothing",
    ),
    "a javascript link": (
        '<a href="javascript:alert(1)">x</a>',
        "the link 'javascript:alert(1)' is not allowed: a sheet runs no code",
    ),
}


@pytest.mark.parametrize("case", sorted(ACTIVE))
def test_a_sheet_made_with_own_templates_runs_and_fetches_nothing(sheet_dir, case):
    text, message = ACTIVE[case]
    template(sheet_dir, "sheet.html", text)
    line = 1 + text.count("\n")
    refused(build(sheet_dir), f"{T}: sheet.html as rendered, line {line}: {message}")


@pytest.mark.parametrize("name", ["sheet.html", "key.html"])
def test_the_default_documents_pass_the_same_check(name):
    check_document((Path(__file__).parent / "golden" / "sheet9" / name).read_text(), name)


def test_links_to_click_are_allowed(sheet_dir):
    template(
        sheet_dir,
        "partials/heading.html",
        '<h2><a href="https://example.org/dnn">{{ ex.title }}</a></h2>',
    )
    assert build(sheet_dir).exit_code == 0


# 4. Prompt images and the URL fetcher


def prompt(image: str) -> str:
    return FIXTURE.replace("Perform both", f"![a figure]({image}) Perform both")


PROMPT_LINE = FIXTURE.splitlines().index("    prompt: >") + 1


@pytest.mark.parametrize(
    "image",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.invalid/x.png",
        "//127.0.0.1:9/x.png",
        "ftp://127.0.0.1:9/x.png",
    ],
)
def test_a_remote_prompt_image_is_refused_at_definition_time(sheet_dir, no_network, image):
    refused(
        build(sheet_dir, None, prompt(image)),
        f"{F}:{PROMPT_LINE}: exercises[0].prompt: image {image!r} is not a file beside the "
        f"definition: exgen fetches nothing from the network or from elsewhere (save the "
        f"image in the definition's folder and give its relative path)",
    )


def test_a_remote_image_in_the_intro_is_refused(sheet_dir, no_network):
    result = build(sheet_dir, None, "intro: '![x](http://127.0.0.1:9/x.png)'\n" + FIXTURE)
    refused(
        result,
        f"{F}:1: intro: image 'http://127.0.0.1:9/x.png' is not a file beside the "
        f"definition: exgen fetches nothing from the network or from elsewhere (save "
        f"the image in the definition's folder and give its relative path)",
    )


def test_a_class_build_refuses_a_remote_image_before_any_student(sheet_dir, no_network):
    (sheet_dir / F).write_text(
        SHEET9.replace(
            "    prompt: >\n", "    prompt: >\n      ![x](http://127.0.0.1:9/x.png)\n", 1
        )
    )
    sheet = load_sheet(F)
    line = SHEET9.splitlines().index("    prompt: >") + 1
    with pytest.raises(DefinitionError) as caught:
        warm(sheet)
    assert str(caught.value).startswith(
        f"{F}:{line}: exercises[0].prompt: image 'http://127.0.0.1:9/x.png' is"
    )


def test_a_local_prompt_image_is_embedded(sheet_dir):
    (sheet_dir / "exercises" / "fig 1.png").write_bytes(PNG)
    assert build(sheet_dir, None, prompt("fig%201.png")).exit_code == 0
    html = (sheet_dir / "out/s/sheet.html").read_text()
    assert (
        f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}" alt="a figure"' in html
    )
    assert "fig%201.png" not in html


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
REMOTE_SVG = SVG.replace(
    "<rect", '<image href="http://127.0.0.1:9/x.png" width="4" height="4"/><rect'
)


def test_an_svg_prompt_image_is_embedded_unless_it_refers_elsewhere(sheet_dir, no_network):
    (sheet_dir / "exercises" / "net.svg").write_text(SVG)
    assert build(sheet_dir, None, prompt("net.svg")).exit_code == 0
    uri = "data:image/svg+xml;base64," + base64.b64encode(SVG.encode()).decode()
    assert f'<img src="{uri}"' in (sheet_dir / "out/s/sheet.html").read_text()
    (sheet_dir / "exercises" / "net.svg").write_text(REMOTE_SVG)
    refused(
        build(sheet_dir, None, prompt("net.svg")),
        f"{F}:{PROMPT_LINE}: exercises[0].prompt: image 'net.svg' may not hold scripts, "
        f"entities or references to other files or URLs (found "
        f'\'href="http://127.0.0.1:9/x.png" width="4\'); embed them as data: URIs',
    )


@pytest.mark.parametrize(
    "image, message",
    [
        ("../outside.png", "image '../outside.png' is outside the folder {home}"),
        ("nope.png", "image 'nope.png' does not exist (relative to the definition's folder)"),
        ("fake.png", "image 'fake.png' is not a PNG file"),
        ("big.png", "image 'big.png' is 2,001 bytes; at most 2,000 are allowed"),
        ("figure.gif", "image 'figure.gif': only .png, .jpg/.jpeg and .svg files are embedded"),
        ("/etc/x.png", "image '/etc/x.png': give a path relative to the definition's folder"),
    ],
)
def test_a_bad_local_prompt_image_is_refused(sheet_dir, monkeypatch, image, message):
    monkeypatch.setattr(markdown, "MAX_IMAGE_BYTES", 2000)
    (sheet_dir / "outside.png").write_bytes(PNG)
    (sheet_dir / "exercises" / "fake.png").write_text("<p>not an image</p>")
    (sheet_dir / "exercises" / "big.png").write_bytes(PNG + b"\0" * (2001 - len(PNG)))
    home = sheet_dir.resolve() / "exercises"
    refused(
        build(sheet_dir, None, prompt(image)),
        f"{F}:{PROMPT_LINE}: exercises[0].prompt: " + message.format(home=home),
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://127.0.0.1:9/x.css",
        "ftp://127.0.0.1:9/x",
        "file:///etc/passwd",
        "file://127.0.0.1/etc/passwd",
        "gopher://127.0.0.1:9/",
        f"file://{PACKAGE}/../../x",
        "relative.png",
    ],
)
def test_the_fetcher_refuses_everything_but_exgens_data_and_the_sheets_folder(no_network, url):
    with pytest.raises(RefusedURL) as caught:
        LocalOnly().fetch(url)
    assert str(caught.value) == url


def test_the_fetcher_serves_data_uris_exgens_files_and_the_sheets_folder(tmp_path, no_network):
    (tmp_path / "fig.png").write_bytes(PNG)
    fetcher = LocalOnly((str(tmp_path),))
    assert fetcher.fetch("data:text/plain;base64,ZXhnZW4=").read() == b"exgen"
    assert fetcher.fetch((tmp_path / "fig.png").as_uri()).read() == PNG
    font = PACKAGE / "render" / "fonts" / "DejaVuSansMono.woff2"
    assert fetcher.fetch(font.as_uri()).read() == font.read_bytes()
    with pytest.raises(RefusedURL):
        LocalOnly().fetch((tmp_path / "fig.png").as_uri())  # not this document's folder


@pytest.mark.pdf
def test_the_pdf_build_names_the_refused_url(no_network):
    with pytest.raises(TemplateProblem) as caught:
        html_to_pdf('<p>x</p><img src="http://127.0.0.1:9/x.png">')
    assert str(caught.value) == (
        "the document refers to 'http://127.0.0.1:9/x.png', which exgen "
        "does not fetch: a sheet may use only data: URIs and files "
        "inside its folder"
    )


@pytest.mark.pdf
def test_a_url_inside_an_svg_is_refused_and_named_too(no_network):
    # WeasyPrint swallows errors while drawing an SVG: the fetcher keeps what it refused
    uri = "data:image/svg+xml;base64," + base64.b64encode(REMOTE_SVG.encode()).decode()
    with pytest.raises(
        TemplateProblem, match=r"^the document refers to 'http://127\.0\.0\.1:9/x\.png'"
    ):
        html_to_pdf(f'<p>x</p><img src="{uri}">')
