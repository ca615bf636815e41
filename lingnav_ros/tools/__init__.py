"""Command-line tools: demo, scenario evaluation, bag replay."""
