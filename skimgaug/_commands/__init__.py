"""The ``skimgaug`` commands, one module each; :mod:`skimgaug.cli` assembles them.

Each command module has ``add_parser(commands)`` (its argparse subparser) and
``run(args, out)``.
"""
