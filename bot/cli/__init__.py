"""paperboy's command line (`bot.cli.commands:main`), the offline console and the CLI look-ups.

The top of the stack: may import everything; nothing imports it.
"""
