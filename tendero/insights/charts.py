"""Charts as inline SVG, drawn on the server by pygal: no script, no CDN, readable
without JavaScript (each chart also comes with its data as a table on the page)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
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


def _config(title: str, labels: Sequence[str]) -> pygal.Config:
    config = pygal.Config()
    config.title = title
    config.x_labels = list(labels)
    config.style = STYLE
    config.js = []  # pygal's tooltips load a script from the internet: none here
    config.disable_xml_declaration = True
    config.explicit_size = False
    config.width, config.height = 760, 320
    config.legend_at_bottom = True
    config.truncate_label = -1
    config.print_values = False
    return config


# pygal always writes its settings for its (absent) tooltip script into the SVG.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


def _render(chart: pygal.Graph) -> SafeString:
    # pygal escapes the titles, labels and values it writes into the SVG.
    return mark_safe(_SCRIPT.sub("", chart.render(is_unicode=True)))  # noqa: S308


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
