"""One module per ``hotline`` subcommand; each exposes ``register(sub, eval_sub)``.

A command's ``func(args)`` calls library functions and returns an exit code.
"""
