"""How every browser test starts Debian's Chromium (installed by scripts/bootstrap.sh): headless, as root,
and without the background connections this offline machine refuses."""

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
