"""HTML cells of the reports: escaped text, numbers, tables, facts, inline figures."""

import base64
import html
import math

from ..._html import format_duration


def _e(value):
    return html.escape(str(value))


def _number(value, digits=4):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _seconds(value):
    if value is None:
        return "n/a"
    return f"{value:.1f} s" if value < 60 else format_duration(value)


def _points(value):
    return f"{100 * value:+.2f}"


def _table(header, rows, footer=(), css_class=None):
    """An HTML table of plain-text cells (escaped here)."""
    attribute = f' class="{css_class}"' if css_class else ""

    def cells(row, tag):
        return "".join(f"<{tag}>{_e(cell)}</{tag}>" for cell in row)

    parts = [f"<table{attribute}>"]
    if header:
        parts.append(f"<thead><tr>{cells(header, 'th')}</tr></thead>")
    parts.append("<tbody>")
    parts += [f"<tr>{cells(row, 'td')}</tr>" for row in rows]
    parts.append("</tbody>")
    if footer:
        parts.append("<tfoot>" + "".join(f"<tr>{cells(row, 'td')}</tr>" for row in footer))
        parts.append("</tfoot>")
    parts.append("</table>")
    return '<div class="scroll">' + "\n".join(parts) + "</div>"


def _facts(pairs):
    """A two-column table of (name, value) pairs, names as row headers."""
    rows = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in pairs)
    return f'<table class="facts"><tbody>{rows}</tbody></table>'


def _figure(path, caption, alt):
    """A PNG file inline as a ``data:`` URI, with an optional caption."""
    with open(path, "rb") as f:
        encoded = base64.b64encode(f.read()).decode("ascii")
    below = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{_e(caption or alt)}">'
        f"{below}</figure>"
    )


def _paragraph(text, css_class=None):
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{_e(text)}</p>"
