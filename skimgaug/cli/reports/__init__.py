"""What the commands write: the HTML page engine, plots, verdicts, result files."""
