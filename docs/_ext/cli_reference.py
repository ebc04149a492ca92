"""The command-line reference, generated from skimgaug's argparse parsers.

``.. skimgaug-cli::`` in a page inserts one section for the ``skimgaug``
command and one per sub-command (found through the top-level parser's
sub-parsers action), each holding that parser's ``--help`` text as a literal
block. The text comes from :func:`skimgaug.cli.build_parser` at build time, so
the reference cannot drift from the code. :func:`cli_reference_rst` is what
the directive parses; the tests call it directly.
"""

import argparse
import os
import re
from contextlib import contextmanager
from pathlib import Path

#: Width of the help text, so that the page does not depend on the terminal.
HELP_WIDTH = 88

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@contextmanager
def _fixed_width(columns):
    """argparse wraps help to ``$COLUMNS``; pin it while the help is formatted."""
    saved = {name: os.environ.get(name) for name in ("COLUMNS", "NO_COLOR")}
    os.environ["COLUMNS"] = str(columns)
    os.environ["NO_COLOR"] = "1"  # Python 3.14's argparse colours its help otherwise
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _subcommands(parser):
    """``(name, one-line help, parser)`` of each sub-command, in ``--help`` order."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        return []
    action = actions[0]  # parser._subparsers._group_actions[0]
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    return [(name, helps.get(name), sub) for name, sub in action.choices.items()]


def cli_sections(parser=None, width=HELP_WIDTH):
    """``(title, one-line help, help text)`` for the top parser, then each sub-command."""
    if parser is None:
        from skimgaug.cli import build_parser

        parser = build_parser()
    with _fixed_width(width):
        sections = [(parser.prog, parser.description, parser.format_help())]
        sections += [
            (sub.prog, summary, sub.format_help()) for _, summary, sub in _subcommands(parser)
        ]
    return [(title, summary, _ANSI.sub("", text)) for title, summary, text in sections]


def _underline(title, char):
    return f"{title}\n{char * len(title)}\n"


def cli_reference_rst(parser=None, width=HELP_WIDTH):
    """The reference as reStructuredText: one section per command, ``--help`` verbatim."""
    parts = []
    for index, (title, summary, text) in enumerate(cli_sections(parser, width)):
        parts.append(_underline(f"``{title}``", "-"))
        if index and summary:  # the top parser's description is in its help already
            parts.append(summary[0].upper() + summary[1:].rstrip(".") + ".\n")
        body = "\n".join(("   " + line).rstrip() for line in text.rstrip().splitlines())
        parts.append(f".. code-block:: text\n\n{body}\n")
    return "\n".join(parts)


def _parser_sources():
    """The files the parsers come from, so that editing them rebuilds the page.

    Every loaded module of ``skimgaug.cli`` (a module or a package) and of
    ``skimgaug._commands``, whichever layout the package has.
    """
    import sys

    import skimgaug.cli  # noqa: F401

    prefixes = ("skimgaug.cli", "skimgaug._commands")
    files = {
        getattr(module, "__file__", None)
        for name, module in list(sys.modules.items())
        if name in prefixes or name.startswith(tuple(f"{p}." for p in prefixes))
    }
    return sorted(Path(f) for f in files if f)


def setup(app):
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class SkimgaugCli(SphinxDirective):
        """``.. skimgaug-cli::``: the sections of :func:`cli_reference_rst`."""

        has_content = False

        def run(self):
            for source in _parser_sources():
                if source.exists():
                    self.env.note_dependency(str(source))
            text = cli_reference_rst()
            container = nodes.section()
            container.document = self.state.document
            nested_parse_with_titles(
                self.state, StringList(text.splitlines(), source="<skimgaug --help>"), container
            )
            return container.children

    app.add_directive("skimgaug-cli", SkimgaugCli)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
