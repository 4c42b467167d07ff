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

# The smallest computed font size of any visible element that shows text of its own, and where it is
# (for ``page.evaluate``; text inside an SVG is scaled by how large the SVG is drawn).
SMALLEST_TEXT = """() => {
  let smallest = 1e9, where = '';
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    const svg = el.closest('svg');
    if (svg && svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
      size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    }
    if (size < smallest) { smallest = size; where = el.tagName + ':' + el.textContent.trim().slice(0, 20); }
  }
  return [smallest, where];
}"""
