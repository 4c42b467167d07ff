"""Subcommands of ``roadsafe``; each module exposes ``register(subparsers)``."""
