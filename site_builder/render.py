"""Rendering: a page's context through its Jinja2 template (autoescape on,
StrictUndefined, sandboxed). The only importer of jinja2.

Template lookup: the site's ``templates/`` folder first, then the built-in theme;
a site template can extend the theme's own with ``{% extends "theme/base.html" %}``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Callable

import jinja2
import jinja2.sandbox

from site_builder.errors import Diagnostic, error

THEME = os.path.join(os.path.dirname(__file__), "theme")
THEME_TEMPLATES = os.path.join(THEME, "templates")
THEME_ASSETS = os.path.join(THEME, "assets")


@dataclass(frozen=True)
class Asset:
    source: str  # absolute path
    out_path: str  # fingerprinted, e.g. "assets/site.3f2a9c1b.css"
    data: bytes


def theme_assets() -> dict[str, Asset]:
    """The theme's CSS and JS, fingerprinted by content for long caching."""
    out = {}
    for name in sorted(os.listdir(THEME_ASSETS)):
        path = os.path.join(THEME_ASSETS, name)
        if not os.path.isfile(path) or name.startswith("."):
            continue
        with open(path, "rb") as fh:
            data = fh.read()
        stem, ext = os.path.splitext(name)
        digest = hashlib.sha256(data).hexdigest()[:10]
        out[name] = Asset(path, f"assets/{stem}.{digest}{ext}", data)
    return out


THEME_ICONS = os.path.join(THEME, "icons")
ICON_LINKS = (  # (file, rel, type, sizes) as the page head links them
    ("favicon.ico", "icon", "", "32x32"),
    ("favicon.svg", "icon", "image/svg+xml", ""),
    ("apple-touch-icon.png", "apple-touch-icon", "", ""),
    ("site.webmanifest", "manifest", "", ""),
)
MANIFEST_ICONS = (("icon-192.png", "192x192"), ("icon-512.png", "512x512"))


def theme_icons() -> dict[str, bytes]:
    """The theme's default favicon set, by the name it has at the site's root."""
    out = {}
    for name in sorted(os.listdir(THEME_ICONS)):
        if not name.startswith("."):
            with open(os.path.join(THEME_ICONS, name), "rb") as fh:
                out[name] = fh.read()
    return out


def environment(site: str) -> jinja2.Environment:
    """Built once per build (or per worker), never per page.

    A site's templates are code from whoever can change the site (a pull request from a
    stranger, in CI), so they run in Jinja's immutable sandbox: no attribute that starts
    with an underscore (``cycler.__init__.__globals__`` is refused), no method that
    changes a list or dict, ``range`` capped at 100,000 items. The theme needs nothing
    more than that."""
    loaders: list[jinja2.BaseLoader] = []
    site_templates = os.path.join(site, "templates")
    if os.path.isdir(site_templates):
        loaders.append(jinja2.FileSystemLoader(site_templates))
    theme = jinja2.FileSystemLoader(THEME_TEMPLATES)
    loaders.append(theme)
    loader = jinja2.ChoiceLoader([jinja2.PrefixLoader({"theme": theme}), *loaders])
    env = Sandbox(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    env.filters["isodate"] = lambda d: d.isoformat()
    return env


class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with one shortcut: ``card.title`` on a plain dict that has
    the key "title" reads the item at once. Jinja tries the attribute first and reads the
    item when that fails; the failure (an exception) was a sixth of the time spent rendering
    a page made of cards. Items are what the sandbox lets a template read anyway; the only
    difference is a key named like a dict method (``d.items`` where d has an "items" key),
    which gives the value."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def template_digest(site: str) -> str:
    """A hash of every template the site can use (the render stage's input)."""
    h = hashlib.sha256()
    for root in (os.path.join(site, "templates"), THEME_TEMPLATES, THEME_ASSETS, THEME_ICONS):
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                h.update(os.path.relpath(p, root).encode())
                with open(p, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def format_date(d: Any) -> str:
    """'30 March 2023', the same in every locale (the templates' ``date`` filter)."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


class Tools:
    """What a page's context may need from Jinja itself: the cards of the theme's (or the
    site's) ``partials/cards.html``, so that cards inside bodies are the same markup as
    every other card."""

    def __init__(self, env: jinja2.Environment):
        self.env = env
        self._cards: Any = None

    def card_list(self, items: list[dict[str, Any]], css: str) -> str:
        if self._cards is None:
            self._cards = self.env.get_template("partials/cards.html").module
        return str(self._cards.card_list(items, css, previews=True))


def render_page(env: jinja2.Environment, template_name: str, make_context: Callable[[Tools], dict[str, Any]],
                site: dict[str, Any]) -> tuple[bytes | None, Diagnostic | None]:
    """The page's bytes, or the template mistake that stopped it (never a traceback)."""
    try:
        template = env.get_template(template_name)
        return template.render(site=site, **make_context(Tools(env))).encode("utf-8"), None
    except jinja2.TemplateSyntaxError as exc:
        return None, error(_template_path(exc.filename, exc.name), exc.lineno or 1, 1, "template.syntax",
                           f"template error: {exc.message}", "fix the Jinja2 syntax on this line")
    except jinja2.TemplateNotFound as exc:
        return None, error(f"templates/{template_name}", 0, 0, "template.missing",
                           f"template '{exc.name}' was not found", "add it to templates/ or remove the reference")
    except jinja2.sandbox.SecurityError as exc:
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.unsafe",
                           f"template refused by the sandbox: {exc.message or exc}",
                           "templates may read the values they are given, not Python internals "
                           "(names starting with '_') or change lists and dicts (README: Safety)")
    except jinja2.TemplateError as exc:
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.render",
                           f"template failed: {exc.message or exc}",
                           "check the variable names this template uses (see the README's template context)")
    except RecursionError as exc:
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.render",
                           "template failed: it calls itself without end (a macro or include that recurses)",
                           "give the recursion a condition that stops it")
    except Exception as exc:  # noqa: BLE001 - a template's own mistake ({{ 1 // 0 }}), never a traceback
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.render",
                           f"template failed: {type(exc).__name__}: {exc}",
                           "fix the expression on this line")


def _template_path(filename: str | None, name: str | None) -> str:
    if filename:
        for root, prefix in ((THEME_TEMPLATES, "theme:templates/"), ):
            if os.path.abspath(filename).startswith(root + os.sep):
                return prefix + os.path.relpath(filename, root).replace(os.sep, "/")
        cwd_rel = os.path.relpath(filename)
        return cwd_rel.replace(os.sep, "/")
    return f"templates/{name or '?'}"


def _template_frame(exc: BaseException) -> tuple[str | None, int]:
    """The innermost template file and line in a Jinja traceback."""
    found: tuple[str | None, int] = (None, 0)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml")):
            found = (_template_path(filename, None), tb.tb_lineno)
        tb = tb.tb_next
    return found
