"""Digits as pictures: PNG images (Pillow) and HTML grids of test digits with predictions.

    png_data_uri(image)                                   # "data:image/png;base64,..." for <img>
    digit_grid_html(images, predicted, true, confidence)  # one run: a grid, wrong ones in red
    digit_rows_html(images, true, [("A", predicted_a, confidence_a), ...])  # runs row by row

The HTML is self-contained (inline styles, no scripts) for ``st.html``, and every piece of text
in it is escaped, so a run name or label can never become markup.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

DIGIT_DISPLAY_SCALE = 3
RIGHT_COLOUR = "#1a7f37"
WRONG_COLOUR = "#d62728"
DISAGREE_BACKGROUND = "rgba(255, 179, 0, 0.28)"


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 image, (h, w) grayscale or (h, w, 3) RGB, as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """A uint8 image as a ``data:image/png;base64,...`` URI, usable as an ``<img src>``.

    Remembered for the last few thousand images: the same test digits are drawn on every rerun
    of every session, and encoding one costs more than looking it up.
    """
    array = np.ascontiguousarray(image, dtype=np.uint8)
    return _cached_uri(array.tobytes(), array.shape)


@functools.lru_cache(maxsize=4096)
def _cached_uri(raw: bytes, shape: tuple[int, ...]) -> str:
    image = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def _digit_image(image: np.ndarray, description: str, size: int) -> str:
    # The PNG stays 28x28 (small HTML); the browser enlarges it without blurring.
    return (
        f'<img src="{png_data_uri(image)}" alt="{html.escape(description)}" width="{size}"'
        f' height="{size}" style="width:{size}px;max-width:100%;height:auto;'
        'image-rendering:pixelated;background:#000;display:block">'
    )


def digit_grid_html(
    images: np.ndarray,
    predicted: np.ndarray,
    true_labels: np.ndarray,
    confidence: np.ndarray,
    columns: int = 10,
    caption: str | None = None,
) -> str:
    """A grid of digits (white on black, like MNIST) with the predicted label under each.

    Wrong predictions get a red border and a "true: 7" line, right ones a green label. Each
    cell is a ``div.digit-cell`` with ``data-predicted``, ``data-true`` and
    ``data-correct="true|false"`` and a hover title "predicted 7 (93% confident), true 7".
    """
    cells = []
    for index, image in enumerate(images):
        guess, truth = int(predicted[index]), int(true_labels[index])
        right = guess == truth
        title = f"predicted {guess} ({float(confidence[index]):.0%} confident), true {truth}"
        border = "transparent" if right else WRONG_COLOUR
        style = (
            f"border:2px solid {border};border-radius:6px;padding:4px;text-align:center;"
            "display:flex;flex-direction:column;align-items:center;min-width:0"
        )
        label = (
            '<div class="digit-predicted" style="font-size:1.6em;font-weight:700;line-height:1.2;'
            f'color:{RIGHT_COLOUR if right else WRONG_COLOUR}">{guess}</div>'
        )
        if not right:
            label += f'<div style="font-size:0.8em;color:{WRONG_COLOUR}">true: {truth}</div>'
        cells.append(
            f'<div class="digit-cell" data-index="{index}" data-predicted="{guess}"'
            f' data-true="{truth}" data-correct="{str(right).lower()}"'
            f' title="{html.escape(title)}" style="{style}">'
            f"{_digit_image(image, title, 28 * DIGIT_DISPLAY_SCALE)}{label}</div>"
        )
    if not cells:
        cells = ['<div style="grid-column:1/-1;opacity:0.7">No digits to show.</div>']
    # minmax(0, 1fr) lets the columns shrink in a narrow column instead of overflowing.
    grid_style = (
        f"display:grid;grid-template-columns:repeat({columns},minmax(0,1fr));gap:6px;"
        f"max-width:{columns * 100}px"
    )
    parts = [
        '<figure class="digit-grid-figure" style="margin:0">',
        f'<div class="digit-grid" style="{grid_style}">',
        *cells,
        "</div>",
    ]
    if caption is not None:
        parts.append(
            '<figcaption style="font-size:0.9em;opacity:0.8;margin-top:4px">'
            f"{html.escape(caption)}</figcaption>"
        )
    return "".join([*parts, "</figure>"])


def _cell(kind: str, disagree: bool, content: str, style: str = "", **data: object) -> str:
    """One <td>: its data-* attributes (escaped), the disagreement flag and the amber background."""
    attributes = "".join(f' data-{key}="{html.escape(str(value))}"' for key, value in data.items())
    background = f"background:{DISAGREE_BACKGROUND};" if disagree else ""
    style = f"padding:2px 4px;text-align:center;border-radius:4px;{background}{style}"
    flag = str(disagree).lower()
    return f'<td class="{kind}"{attributes} data-disagree="{flag}" style="{style}">{content}</td>'


def digit_rows_html(
    images: np.ndarray,
    true_labels: np.ndarray,
    rows: Sequence[tuple[str, np.ndarray, np.ndarray]],
    columns: int | None = None,
) -> str:
    """One HTML table (class "digit-rows"): the digits, then each run's predictions under them.

    `rows` holds one (run name, predicted labels, confidence 0..1) per run, each as long as
    `images`. Right predictions are green, wrong ones red with a ✗ (not told by colour
    alone); columns where the runs disagree are
    amber and every cell in them has data-disagree="true". `columns` (default: all) wraps the
    digits into blocks of that many. The table scrolls sideways rather than widen the page.
    """
    count = len(images)
    if count == 0:
        return '<table class="digit-rows"><tr><td>No digits to show.</td></tr></table>'
    truth = [int(label) for label in true_labels]
    stack = np.array([predicted for _, predicted, _ in rows]).reshape(len(rows), count)
    disagree = np.any(stack != stack[:1], axis=0).tolist()
    head = '<th scope="row" style="padding:2px 8px 2px 0;text-align:right;white-space:nowrap">'
    # The scrolling wrapper takes the keyboard's focus (tabindex), so arrow keys scroll it too.
    parts = [
        '<div role="region" aria-label="Test digits and each run\'s answers" tabindex="0" '
        'style="overflow-x:auto"><table class="digit-rows" style="border-spacing:2px">'
    ]
    for start in range(0, count, columns or count):
        block = range(start, min(start + (columns or count), count))
        parts.append(f'<tbody class="digit-block"><tr>{head}Digit</th>')
        for i in block:
            picture = _digit_image(images[i], f"digit, true {truth[i]}", 56)
            content = f'{picture}<div style="font-size:0.8em;opacity:0.75">true {truth[i]}</div>'
            parts.append(_cell("digit", disagree[i], content, position=i, true=truth[i]))
        parts.append("</tr>")
        for name, predicted, confidence in rows:
            parts.append(f"<tr>{head}{html.escape(name)}</th>")
            for i in block:
                label, right = int(predicted[i]), int(predicted[i]) == truth[i]
                tip = f"{name}: {label} ({float(confidence[i]):.0%} confident), true {truth[i]}"
                mark = "" if right else '<span style="font-size:0.7em"> ✗</span>'
                content = f'<span title="{html.escape(tip)}">{label}{mark}</span>'
                colour = RIGHT_COLOUR if right else WRONG_COLOUR
                style = f"font-size:1.3em;font-weight:700;color:{colour}"
                data = {"run": name, "predicted": label, "correct": str(right).lower()}
                parts.append(_cell("prediction", disagree[i], content, style, **data))
            parts.append("</tr>")
        parts.append("</tbody>")
    return "".join([*parts, "</table></div>"])
