"""Charts as inline SVG, drawn on the server by pygal: no script, no CDN, readable
without JavaScript (each chart also comes with its data as a table on the page)."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

import pygal
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#2f855a", "#c53030", "#2b6cb0", "#b7791f"),
    font_family="system-ui, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
)


# Sales by product: a colour for each best seller, greys for the other products and
# for the purchases without one.
PRODUCT_COLOURS = (
    "#2b6cb0", "#2f855a", "#b7791f", "#6b46c1", "#c05621", "#2c7a7b", "#b83280", "#2d3748",
    "#4299e1", "#68d391", "#f6ad55", "#9f7aea", "#f687b3", "#4fd1c5", "#fc8181", "#718096",
    "#90cdf4", "#9ae6b4", "#fbd38d", "#d6bcfa",
)  # fmt: skip
OTHER_COLOUR = "#a0aec0"
NONE_COLOUR = "#d2d6dc"


def _config(
    title: str, labels: Sequence[str], colours: Sequence[str] | None = None
) -> pygal.Config:
    config = pygal.Config()
    config.title = title
    config.x_labels = list(labels)
    config.style = STYLE if colours is None else _with_colours(colours)
    config.js = []  # pygal's tooltips load a script from the internet: none here
    config.disable_xml_declaration = True
    config.explicit_size = False
    config.width, config.height = 760, 320
    config.legend_at_bottom = True
    config.truncate_label = -1
    config.print_values = False
    return config


def _with_colours(colours: Sequence[str]) -> Style:
    style = copy.copy(STYLE)
    style.colors = tuple(colours)
    return style


# pygal always writes its settings for its (absent) tooltip script into the SVG.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
# Its stylesheet (scoped to the chart's id) and the hidden tooltip's style attribute
# are inline styles, which the Content-Security-Policy refuses: the stylesheet moves
# to a data-style attribute that tendero/static/tendero/charts.js applies through
# the CSSOM, the tooltip's opacity to a presentation attribute.
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL)
_HIDDEN = 'style="opacity: 0"'


def _render(chart: pygal.Graph) -> SafeString:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True)).replace(_HIDDEN, 'opacity="0"')
    css = "".join(_STYLE.findall(svg))
    svg = _STYLE.sub("", svg).replace("<svg ", f'<svg data-style="{escape(css)}" ', 1)
    # pygal escapes the titles, labels and values it writes into the SVG.
    return mark_safe(svg)  # noqa: S308


def bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> SafeString:
    chart = pygal.Bar(_config(title, labels))
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)


def lines(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> SafeString:
    chart = pygal.Line(_config(title, labels))
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    colours: Sequence[str] | None = None,
) -> SafeString:
    """One bar per label, each series (name, values; names may repeat) a slice of it."""
    chart = pygal.StackedBar(_config(title, labels, colours))
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)
