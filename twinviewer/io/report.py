"""Incident reports as PDF (reportlab, fonts embedded, A4 or Letter) and optionally as one HTML file.

The writer takes a prepared :class:`ReportData` (texts, tables, rendered pictures as RGB arrays and chart
series) and lays it out; it renders nothing itself and needs no browser. Charts are drawn with reportlab's
own graphics in the PDF and as inline SVG in the HTML.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twinviewer.core.errors import TwinViewerError

PAPER_SIZES = ("a4", "letter")
_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)


class ReportError(TwinViewerError):
    """A report that cannot be written."""


@dataclass
class ChartSeries:
    sensor_id: str
    label: str
    unit: str
    times: np.ndarray  # epoch seconds
    values: np.ndarray
    limits: list[tuple[str, float]] = field(default_factory=list)  # (name, value)


@dataclass
class ReportBookmark:
    title: str
    when: str
    author: str
    text: str
    parts: list[str]
    image: np.ndarray | None  # (h, w, 3) uint8
    charts: list[ChartSeries]
    t: float = math.nan
    t_end: float | None = None


@dataclass
class ReportData:
    asset: str
    identity: list[tuple[str, str]]  # (label, value): serial, manufacturer, project, recording, bundle…
    time_range: str
    generated: str
    summary: list[str]
    alarms: list[list[str]]  # rows: onset, sensor, level, value, threshold, cleared
    acknowledgements: list[list[str]]  # rows: time, alarm, who, why
    events: list[list[str]]  # rows: start, end, kind, label, sensor
    bookmarks: list[ReportBookmark]
    notes: list[tuple[str, str]]  # (heading, text)
    overview: np.ndarray | None = None


def _png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), "RGB").save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def _register_fonts() -> tuple[str, str]:
    """A Unicode TrueType font (embedded as a subset): DejaVu Sans if installed, else reportlab's Vera."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "TwinSans" in pdfmetrics.getRegisteredFontNames():
        return "TwinSans", "TwinSans-Bold"
    fonts_dir = Path(reportlab.__file__).parent / "fonts"
    for regular, bold in (*_FONT_CANDIDATES, (str(fonts_dir / "Vera.ttf"), str(fonts_dir / "VeraBd.ttf"))):
        if Path(regular).is_file() and Path(bold).is_file():
            pdfmetrics.registerFont(TTFont("TwinSans", regular))
            pdfmetrics.registerFont(TTFont("TwinSans-Bold", bold))
            from reportlab.lib.fonts import addMapping

            addMapping("TwinSans", 0, 0, "TwinSans")
            addMapping("TwinSans", 1, 0, "TwinSans-Bold")
            # Charts start from reportlab's default graphics state, whose font is the (not embedded) Helvetica.
            from reportlab.graphics import shapes

            shapes.STATE_DEFAULTS["fontName"] = "TwinSans"
            return "TwinSans", "TwinSans-Bold"
    raise ReportError("no TrueType font found to embed in the PDF")


def _chart_drawing(series: ChartSeries, width: float, height: float, font: str, t0: float, t1: float,
                   marks: tuple[float, float | None]):
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, f"{series.sensor_id} {series.label} ({series.unit})".strip(),
                       fontName=font, fontSize=8))
    finite = np.isfinite(series.values)
    times, values = series.times[finite], series.values[finite]
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 36, 14, width - 46, height - 32
    if times.size < 2:
        drawing.add(String(40, height / 2, "no data in this interval", fontName=font, fontSize=8))
        return drawing
    span = max(t1 - t0, 1e-9)
    minutes = (times - t0) / 60.0
    lo, hi = float(values.min()), float(values.max())
    for _name, limit in series.limits:
        if lo - (hi - lo) <= limit <= hi + (hi - lo) + 1e-9:
            lo, hi = min(lo, limit), max(hi, limit)
    if hi <= lo:
        hi = lo + 1.0
    pad = 0.05 * (hi - lo)
    plot.data = [list(zip(minutes.tolist(), values.tolist(), strict=True))]
    plot.lines[0].strokeColor = colors.HexColor("#1f5fa8")
    plot.lines[0].strokeWidth = 0.8
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0.0, span / 60.0
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = lo - pad, hi + pad
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = font
        axis.labels.fontSize = 6
    plot.xValueAxis.labelTextFormat = lambda v: f"{v:.0f} min" if span >= 600 else f"{v * 60:.0f} s"
    plot.yValueAxis.labelTextFormat = lambda v: f"{v:.4g}"
    drawing.add(plot)

    def y_of(v: float) -> float:
        return plot.y + (v - (lo - pad)) / ((hi + pad) - (lo - pad)) * plot.height

    def x_of(t: float) -> float:
        return plot.x + (t - t0) / span * plot.width

    for name, limit in series.limits:
        if lo - pad <= limit <= hi + pad:
            colour = colors.HexColor("#c62828" if name.startswith("alarm") else "#e0a000")
            drawing.add(Line(plot.x, y_of(limit), plot.x + plot.width, y_of(limit), strokeColor=colour,
                             strokeWidth=0.6, strokeDashArray=[2, 2]))
    start, end = marks
    if math.isfinite(start) and t0 <= start <= t1:
        if end is not None and end > start:
            drawing.add(Rect(x_of(start), plot.y, x_of(min(end, t1)) - x_of(start), plot.height,
                             fillColor=colors.Color(0.2, 0.4, 0.9, alpha=0.12), strokeColor=None))
        drawing.add(Line(x_of(start), plot.y, x_of(start), plot.y + plot.height, strokeColor=colors.black,
                         strokeWidth=0.6))
    return drawing


def write_pdf(out: Path | str, data: ReportData, paper: str = "a4", chart_span: tuple[float, float] | None = None) -> Path:
    """Lay out ``data`` as a PDF on A4 or Letter paper."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    if paper not in PAPER_SIZES:
        raise ReportError(f"--paper {paper}: use a4 or letter")
    out = Path(out)
    font, bold = _register_fonts()
    pagesize = A4 if paper == "a4" else letter
    margin = 16 * mm
    width = pagesize[0] - 2 * margin
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4)
    h3 = ParagraphStyle("h3", fontName=bold, fontSize=10, leading=13, spaceBefore=6, spaceAfter=2)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(html.escape(text).replace("\n", "<br/>"), style)

    def table(header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
        cells = [[p(h, small) for h in header]] + [[p(c, small) for c in row] for row in rows]
        t = Table(cells, colWidths=[w * width for w in widths], repeatRows=1)
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e9ee")),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b6bf")),
                               ("FONTNAME", (0, 0), (-1, -1), font),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    def picture(pixels: np.ndarray) -> Image:
        h, w = pixels.shape[:2]
        shown_w = width
        shown_h = shown_w * h / w
        return Image(io.BytesIO(_png_bytes(pixels)), width=shown_w, height=shown_h)

    story = [p(f"Incident report: {data.asset}", h1), p(data.time_range), Spacer(1, 4)]
    story.append(table(["", ""], [list(row) for row in data.identity], [0.25, 0.75]))
    if data.overview is not None:
        story += [Spacer(1, 6), picture(data.overview)]
    story.append(p("Summary", h2))
    story += [p(f"• {line}") for line in data.summary] or [p("Nothing happened in this interval.")]
    story.append(p("Alarms in order", h2))
    story.append(table(["Onset", "Sensor", "Level", "Value at onset", "Threshold", "Cleared"], data.alarms,
                       [0.2, 0.2, 0.12, 0.16, 0.12, 0.2]) if data.alarms else p("No alarms or warnings."))
    story.append(p("Acknowledgements", h2))
    story.append(table(["Time", "Alarm", "Who", "Why"], data.acknowledgements, [0.2, 0.3, 0.15, 0.35])
                 if data.acknowledgements else p("No acknowledgements."))
    story.append(p("Events", h2))
    story.append(table(["Start", "End", "Kind", "Label", "Sensor"], data.events, [0.2, 0.2, 0.13, 0.32, 0.15])
                 if data.events else p("No events in this interval."))
    span = chart_span
    for n, bookmark in enumerate(data.bookmarks, 1):
        story.append(PageBreak())
        heading = [p(f"Bookmark {n}: {bookmark.title}", h2),
                   p(f"{bookmark.when}" + (f" — {bookmark.author}" if bookmark.author else "")
                     + (f" — parts: {', '.join(bookmark.parts)}" if bookmark.parts else ""), small)]
        if bookmark.image is not None:
            heading.append(picture(bookmark.image))
        story.append(KeepTogether(heading))
        if bookmark.text:
            story += [p("Notes", h3), p(bookmark.text)]
        if bookmark.charts:
            story.append(p("Sensors involved", h3))
            c0, c1 = span if span else (float(bookmark.charts[0].times.min()), float(bookmark.charts[0].times.max()))
            for series in bookmark.charts:
                story.append(_chart_drawing(series, width, 95, font, c0, c1, (bookmark.t, bookmark.t_end)))
    if data.notes:
        story.append(p("Notes", h2))
        for note_title, text in data.notes:
            story += [p(note_title, h3), p(text)]

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(margin, 10 * mm, f"{data.asset} — {data.generated}")
        canvas.drawRightString(pagesize[0] - margin, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    out.parent.mkdir(parents=True, exist_ok=True)
    doc = SimpleDocTemplate(str(out), pagesize=pagesize, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=18 * mm, title=f"Incident report: {data.asset}", author="TwinViewer",
                            initialFontName=font)
    try:
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    except OSError as exc:
        raise ReportError(f"cannot write the report {out}: {exc.strerror or exc}") from None
    return out


def _svg_chart(series: ChartSeries, t0: float, t1: float, width: int = 720, height: int = 140) -> str:
    finite = np.isfinite(series.values)
    times, values = series.times[finite], series.values[finite]
    title = html.escape(f"{series.sensor_id} {series.label} ({series.unit})")
    if times.size < 2:
        return f"<p>{title}: no data in this interval</p>"
    lo, hi = float(values.min()), float(values.max())
    hi = hi if hi > lo else lo + 1.0
    xs = 40 + (times - t0) / max(t1 - t0, 1e-9) * (width - 50)
    ys = height - 20 - (values - lo) / (hi - lo) * (height - 40)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (f'<figure><svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<text x="0" y="12" font-size="12">{title}</text>'
            f'<text x="0" y="{height - 20}" font-size="10">{lo:.4g}</text><text x="0" y="30" font-size="10">{hi:.4g}</text>'
            f'<polyline fill="none" stroke="#1f5fa8" stroke-width="1.2" points="{points}"/></svg></figure>')


def write_html(out: Path | str, data: ReportData, chart_span: tuple[float, float] | None = None) -> Path:
    """The same report as one self-contained HTML file (pictures inlined)."""
    out = Path(out)
    e = html.escape

    def rows_table(header: list[str], rows: list[list[str]]) -> str:
        if not rows:
            return "<p>None.</p>"
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def img(pixels: np.ndarray) -> str:
        return f'<img alt="3D view" src="data:image/png;base64,{base64.b64encode(_png_bytes(pixels)).decode()}">'

    parts = [f"<h1>Incident report: {e(data.asset)}</h1><p>{e(data.time_range)}</p>",
             rows_table(["", ""], [list(r) for r in data.identity])]
    if data.overview is not None:
        parts.append(img(data.overview))
    parts.append("<h2>Summary</h2><ul>" + "".join(f"<li>{e(s)}</li>" for s in data.summary) + "</ul>")
    parts.append("<h2>Alarms in order</h2>" + rows_table(
        ["Onset", "Sensor", "Level", "Value at onset", "Threshold", "Cleared"], data.alarms))
    parts.append("<h2>Acknowledgements</h2>" + rows_table(["Time", "Alarm", "Who", "Why"], data.acknowledgements))
    parts.append("<h2>Events</h2>" + rows_table(["Start", "End", "Kind", "Label", "Sensor"], data.events))
    for n, b in enumerate(data.bookmarks, 1):
        parts.append(f"<h2>Bookmark {n}: {e(b.title)}</h2><p>{e(b.when)} {e(b.author)}</p>")
        if b.image is not None:
            parts.append(img(b.image))
        if b.text:
            parts.append(f"<p>{e(b.text)}</p>")
        for series in b.charts:
            c0, c1 = chart_span or (float(series.times.min()), float(series.times.max()))
            parts.append(_svg_chart(series, c0, c1))
    for heading, text in data.notes:
        parts.append(f"<h3>{e(heading)}</h3><p>{e(text)}</p>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;font-size:14px}"
             "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left}"
             "img{max-width:100%}")
    document = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Incident report: "
                f"{e(data.asset)}</title><style>{style}</style></head><body>{''.join(parts)}"
                f"<footer><p>{e(data.generated)}</p></footer></body></html>")
    try:
        out.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write the report {out}: {exc.strerror or exc}") from None
    return out
