"""Self-contained HTML reports: one file with its styles and images inside.

A :class:`Report` is built section by section (paragraphs, tables, key-value
lists, matplotlib figures) and written as one HTML file that needs nothing
else: no network, no JavaScript, images embedded as base64 ``data:`` URIs.
Every piece of text is escaped with :func:`html.escape`, so file names,
labels and parameter values can hold ``<``, ``&`` or quotes.

Examples
--------
>>> from skimgaug.cli.reports._html import Report
>>> report = Report("Scores", subtitle="3 folds")
>>> section = report.section("Ranking")
>>> section.table([{"rank": 1, "score": 0.91234}, {"rank": 2, "score": 0.8}])
>>> "0.9123" in report.to_html() and "0.91234" not in report.to_html()
True
"""

import base64
import datetime
import html
import io
import math
import numbers

from ..._version import versions
from ..runs._progress import format_duration

#: Distributions whose versions :func:`versions` reports, by display name.
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 2em auto; max-width: 75em; padding: 0 1.5em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; }
.subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.8em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
caption { text-align: left; color: #555; padding-bottom: 0.3em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.scroll th, .scroll td { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
table.keys th { width: 14em; }
code, .value { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
               font-size: 0.95em; }
figure { margin: 0.8em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
footer { margin-top: 3em; color: #777; font-size: 0.85em; }
"""


def _text(value):
    """``value`` as escaped text (``None`` as an empty string)."""
    return "" if value is None else html.escape(str(value))


def format_cell(value, digits=4):
    """How a table shows ``value``: floats with ``digits`` decimals, NaN and None as "-".

    Parameters
    ----------
    value : object
    digits : int, default=4

    Returns
    -------
    str
        Not yet escaped.
    """
    if value is None:
        return "-"
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        value = float(value)
        return "-" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def figure_to_png(figure, dpi=100):
    """The PNG bytes of a matplotlib figure.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    dpi : int, default=100

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


class Section:
    """A titled part of a :class:`Report`; its methods append blocks in order."""

    def __init__(self, heading):
        self.heading = heading
        self._blocks = []

    def paragraph(self, text):
        """Append a paragraph of plain text."""
        self._blocks.append(f"<p>{_text(text)}</p>")

    def table(self, rows, columns=None, caption=None, digits=4):
        """Append a table.

        Parameters
        ----------
        rows : list of dict or list of sequence
            One entry per row. Dicts are read by column name (a missing
            column is an empty cell); sequences by position.
        columns : list of str, optional
            Column headings (and the keys read from dict rows). Default: the
            keys of the dict rows, in order of first appearance.
        caption : str, optional
        digits : int, default=4
            Decimals shown for floats; integers and text are shown as they are.
        """
        if columns is None:
            columns = list(dict.fromkeys(key for row in rows for key in row))
        head = "".join(f"<th>{_text(c)}</th>" for c in columns)
        body = []
        for row in rows:
            values = [row.get(c, "") for c in columns] if isinstance(row, dict) else list(row)
            cells = []
            for value in values:
                number = isinstance(value, numbers.Number) and not isinstance(value, bool)
                css = ' class="number"' if number else ""
                cells.append(f"<td{css}>{_text(format_cell(value, digits))}</td>")
            body.append(f"<tr>{''.join(cells)}</tr>")
        title = f"<caption>{_text(caption)}</caption>" if caption else ""
        self._blocks.append(
            f'<div class="scroll"><table>{title}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )

    def key_values(self, mapping, caption=None):
        """Append a two-column table of names and values (values in monospace)."""
        rows = "".join(
            f'<tr><th>{_text(key)}</th><td class="value">{_text(format_cell(value))}</td></tr>'
            for key, value in mapping.items()
        )
        title = f"<caption>{_text(caption)}</caption>" if caption else ""
        self._blocks.append(f'<table class="keys">{title}<tbody>{rows}</tbody></table>')

    def image(self, png, alt, caption=None):
        """Append PNG bytes as an embedded ``data:`` image."""
        data = base64.b64encode(png).decode("ascii")
        text = f"<figcaption>{_text(caption)}</figcaption>" if caption else ""
        self._blocks.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{_text(alt)}">{text}</figure>'
        )

    def figure(self, figure, alt, caption=None, dpi=100):
        """Append a matplotlib figure as an embedded PNG.

        Parameters
        ----------
        figure : matplotlib.figure.Figure
        alt : str
            Text shown instead of the image (screen readers, no images).
        caption : str, optional
        dpi : int, default=100
        """
        self.image(figure_to_png(figure, dpi), alt, caption)

    def to_html(self):
        """The section as an HTML fragment."""
        return f"<section><h2>{_text(self.heading)}</h2>\n" + "\n".join(self._blocks) + "</section>"


class Report:
    """A self-contained HTML page: a title, sections, versions and timings.

    Parameters
    ----------
    title : str
    subtitle : str, optional
        A line under the title (data, settings in brief).
    """

    def __init__(self, title, subtitle=None):
        self.title = title
        self.subtitle = subtitle
        self.sections = []

    def section(self, heading):
        """Add a section at the end of the page and return it."""
        section = Section(heading)
        self.sections.append(section)
        return section

    def add_timings(self, timings, heading="Timings"):
        """Add a section of durations.

        Parameters
        ----------
        timings : dict of str to float
            Seconds by label, shown as hours:minutes:seconds (and seconds
            below one minute with one decimal).
        heading : str, default="Timings"
        """
        shown = {
            label: f"{seconds:.1f} s" if seconds < 60 else format_duration(seconds)
            for label, seconds in timings.items()
        }
        self.section(heading).key_values(shown)

    def add_versions(self, heading="Versions"):
        """Add a section with :func:`versions`."""
        self.section(heading).key_values(versions())

    def to_html(self):
        """The whole page as a string."""
        subtitle = f'<p class="subtitle">{_text(self.subtitle)}</p>' if self.subtitle else ""
        created = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        body = "\n".join(section.to_html() for section in self.sections)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_text(self.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<header><h1>{_text(self.title)}</h1>{subtitle}</header>\n{body}\n"
            f"<footer>Written by skimgaug on {_text(created)}.</footer>\n</body>\n</html>\n"
        )

    def write(self, path):
        """Write the page to ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_html())
