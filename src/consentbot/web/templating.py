"""The Jinja environment the web pages are rendered in, for the app and for previews alike.

Templates come from this package, everything is autoescaped (patient text is shown back
escaped), and a variable a template uses but the view did not give is an error.
"""

from __future__ import annotations

import aiohttp_jinja2
import jinja2
from aiohttp import web


def _loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("consentbot.web", "templates")


def setup_templates(app: web.Application) -> None:
    """Give ``app`` its environment (what ``aiohttp_jinja2.render_template`` uses)."""
    aiohttp_jinja2.setup(
        app,
        loader=_loader(),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        undefined=jinja2.StrictUndefined,
    )


def standalone_environment() -> jinja2.Environment:
    """The same environment outside a running app, to render a page to a file."""
    return jinja2.Environment(
        loader=_loader(),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        undefined=jinja2.StrictUndefined,
    )
