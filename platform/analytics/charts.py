"""Server-rendered SVG charts (no script: the CSP allows none inline, and no CDN).

Only presentation attributes are used (no ``style``), so the strict CSP holds.
Values are escaped; the SVG goes into the page with ``|safe``.
"""

from __future__ import annotations

from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2")


def _fmt(v: float, percent: bool) -> str:
    return f"{v:.1f}%" if percent else f"{v:,.0f}"


def line_chart(labels: list[str], series: list[tuple[str, list[float | None]]], *,
               title: str, percent: bool = False, width: int = 640, height: int = 240) -> str:
    """Trend lines: one polyline per series over the month labels."""
    left, right, top, bottom = 56, 12, 28, 36
    values = [v for _, vs in series for v in vs if v is not None]
    hi = max(values) if values else 1.0
    hi = hi * 1.1 if hi > 0 else 1.0
    n = max(1, len(labels) - 1)
    pw, ph = width - left - right, height - top - bottom

    def x(i):
        return left + pw * i / n

    def y(v):
        return top + ph * (1 - v / hi)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<text x="{left}" y="16" font-size="13" fill="#111">{escape(title)}</text>']
    for k in range(5):
        v = hi * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="10" fill="#555" '
                     f'text-anchor="end">{_fmt(v, percent)}</text>')
    step = max(1, len(labels) // 8)
    for i, lab in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{height - 14}" font-size="10" fill="#555" '
                         f'text-anchor="middle">{escape(lab)}</text>')
    for s, (name, vs) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None)
        if pts:
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
        for i, v in enumerate(vs):
            if v is not None:
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                             f'<title>{escape(name)} {escape(labels[i])}: '
                             f'{_fmt(v, percent)}</title></circle>')
        parts.append(f'<text x="{left + 8 + 150 * s}" y="{height - 2}" font-size="11" '
                     f'fill="{colour}">■ {escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: list[tuple[str, float | None]], *, title: str, percent: bool = False,
              width: int = 640, bar: int = 22) -> str:
    """Horizontal bars (e.g. regions by recruitment rate), best first as given."""
    left, right, top = 120, 70, 26
    height = top + bar * max(1, len(items)) + 8
    hi = max([v for _, v in items if v is not None] or [1.0]) or 1.0
    pw = width - left - right
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<text x="4" y="16" font-size="13" fill="#111">{escape(title)}</text>']
    for i, (name, v) in enumerate(items):
        yy = top + i * bar
        parts.append(f'<text x="{left - 6}" y="{yy + bar * 0.65:.1f}" font-size="11" fill="#333" '
                     f'text-anchor="end">{escape(name[:16])}</text>')
        w = 0 if v is None else pw * v / hi
        parts.append(f'<rect x="{left}" y="{yy + 3}" width="{w:.1f}" height="{bar - 6}" '
                     f'fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{yy + bar * 0.65:.1f}" font-size="11" '
                     f'fill="#333">{"—" if v is None else _fmt(v, percent)}</text>')
    parts.append("</svg>")
    return "".join(parts)
