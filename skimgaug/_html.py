"""Self-contained HTML reports: one file with its styles and images inside.

A :class:`Report` is built section by section (paragraphs, tables, key-value
lists, matplotlib figures) and written as one HTML file that needs nothing
else: no network, no JavaScript, images embedded as base64 ``data:`` URIs.
Every piece of text is escaped with :func:`html.escape`, so file names,
labels and parameter values can hold ``<``, ``&`` or quotes.

Examples
--------
>>> from skimgaug._html import Report
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

from ._version import versions


def format_duration(seconds):
    """``"0:42"``, ``"12:05"`` or ``"1:02:03"`` (hours:minutes:seconds)."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


#: The one stylesheet of every report page.
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       max-width: 1120px; margin: 0 auto; padding: 20px 32px 48px; color: #1f2328;
       line-height: 1.45; }
h1 { font-size: 1.7em; margin: 0.3em 0 0.1em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em;
     margin-top: 1.8em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
.lead { color: #57606a; margin-top: 0; }
nav { font-size: 0.92em; margin: 0.8em 0 0; }
nav a { color: #0969da; text-decoration: none; margin-right: 1.1em; }
table { border-collapse: collapse; margin: 0.5em 0; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 9px; border-bottom: 1px solid #e1e4e8; text-align: right; }
td { white-space: nowrap; }
table.text th, table.text td { text-align: left; white-space: normal; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f6f8fa; border-bottom: 2px solid #d0d7de; font-weight: 600; }
tfoot td { font-weight: 600; border-top: 2px solid #d0d7de; border-bottom: none; }
table.facts th { text-align: left; font-weight: 600; color: #57606a; background: none;
                 border-bottom: 1px solid #e1e4e8; padding-right: 24px; }
table.facts td { text-align: left; white-space: normal; }
table.facts th { white-space: nowrap; vertical-align: top; }
.verdict { font-size: 1.15em; padding: 12px 16px; border-left: 6px solid; border-radius: 4px; }
.verdict.better { background: #dafbe1; border-color: #1a7f37; }
.verdict.worse { background: #ffebe9; border-color: #cf222e; }
.verdict.noise { background: #f6f8fa; border-color: #8c959f; }
.partial { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 4px;
           padding: 10px 14px; margin: 1em 0; }
.note { color: #57606a; font-size: 0.92em; max-width: 52em; }
.alert { color: #a40e26; background: #ffebe9; border-left: 6px solid #cf222e;
         border-radius: 4px; padding: 8px 14px; font-weight: 600; max-width: 52em; }
.ok { color: #1a7f37; }
h4 { font-size: 0.98em; margin: 1em 0 0.3em; color: #24292f; }
.total { font-size: 1.05em; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 3px; font-size: 0.92em; }
figure { margin: 0.8em 0 1.4em; }
figure img { max-width: 100%; height: auto; border: 1px solid #e1e4e8; }
figcaption { color: #57606a; font-size: 0.92em; }
.subtitle { color: #57606a; margin-top: 0; }
.scroll { overflow-x: auto; }
.scroll td { white-space: nowrap; }
caption { text-align: left; color: #57606a; padding-bottom: 0.3em; }
table.grid th, table.grid td { text-align: left; }
table.grid td.number { text-align: right; }
.value { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.95em; }
footer { margin-top: 3em; color: #57606a; font-size: 0.85em; }
"""


def page(title, header, main, footer=""):
    """A whole self-contained page: ``title``, then the given HTML fragments, one stylesheet.

    Parameters
    ----------
    title : str
        Plain text, escaped here.
    header, main, footer : str
        HTML fragments (already escaped) under the title, in ``<main>`` and
        in ``<footer>``.
    """
    footer = f"<footer>{footer}</footer>\n" if footer else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{_text(title)}</h1>{header}</header>\n<main>\n{main}\n</main>\n"
        f"{footer}</body>\n</html>\n"
    )


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

    def paragraph(self, text, css_class=None):
        """Append a paragraph of plain text (with ``css_class``: ``"note"``, ``"ok"``)."""
        attribute = f' class="{css_class}"' if css_class else ""
        self._blocks.append(f"<p{attribute}>{_text(text)}</p>")

    def alert(self, text):
        """Append a paragraph in red: something that makes the results untrustworthy."""
        self._blocks.append(f'<p class="alert">{_text(text)}</p>')

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
            f'<div class="scroll"><table class="grid">{title}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )

    def key_values(self, mapping, caption=None):
        """Append a two-column table of names and values (values in monospace)."""
        rows = "".join(
            f'<tr><th>{_text(key)}</th><td class="value">{_text(format_cell(value))}</td></tr>'
            for key, value in mapping.items()
        )
        title = f"<caption>{_text(caption)}</caption>" if caption else ""
        self._blocks.append(f'<table class="facts">{title}<tbody>{rows}</tbody></table>')

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

    def to_html(self, level=2):
        """The section as an HTML fragment, its heading at ``<h{level}>``."""
        heading = f"<h{level}>{_text(self.heading)}</h{level}>"
        return f"<section>{heading}\n" + "\n".join(self._blocks) + "</section>"


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
        return page(self.title, subtitle, body, f"Written by skimgaug on {_text(created)}.")

    def write(self, path):
        """Write the page to ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_html())
