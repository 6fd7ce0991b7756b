"""Inside the network: first-layer weights as pictures, and what the hidden neurons do for a digit.

    pictures = weight_pictures(service.weights(run_id))   # up to 64 neurons, strongest first
    st.markdown(READING_GUIDE); st.html(weight_grid_html(pictures))
    result = inference.forward(weights, record.config.activation, digit)
    st.altair_chart(charts.probability_bars(result.probabilities[0]))
    st.altair_chart(charts.activation_strip(activation_frame(result)))

Each neuron of the first hidden layer has one weight per pixel, 784 of them: laid out as the
28×28 digit, they show which ink raises it (red) and which lowers it (blue). The colour scale is
symmetric around 0 (white) and shared by every picture of the grid, its limit the largest
|weight| among the neurons shown: a pale picture is a neuron with small weights, not a
stretched one, so pictures can be compared with each other. NumPy only; the HTML is
self-contained (inline styles, no scripts) for ``st.html`` and every text in it is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.inference import Forward, layer_pairs
from explorer.views.digits import png_data_uri

MAX_UNITS = 64
SIDE = 28
# The ends of ColorBrewer's RdBu scale: colour-blind safe, and the blue-white-red of the charts.
NEGATIVE_RGB = (33, 102, 172)
POSITIVE_RGB = (178, 24, 43)
WHITE_RGB = (255, 255, 255)
PICTURE_SCALE = 3  # each weight drawn as 3×3 screen pixels: 84 px per neuron
READING_GUIDE = (
    "Each square is one neuron of the first hidden layer, showing its 784 weights laid out "
    "like the 28×28 digit it looks at: ink on a red pixel raises the neuron's activation, ink "
    "on a blue pixel lowers it, and white pixels do not matter to it. The neurons with the "
    "largest weights come first. Speckle is what is left of the random weights each neuron "
    "started with, all the more near the edge, where MNIST never has ink: with hundreds of "
    "neurons and a few epochs most pictures are still speckled, while with 16 neurons or many "
    "epochs the strokes they look for stand out."
)
# One sentence on what makes the weight pictures worth a look, and what to look at meanwhile.
CLEARER_PICTURES = (
    "The pictures get clearer with fewer, wider neurons (16 in one hidden layer) and more "
    "epochs. For any network, the grey picture under each one shows the test digits that "
    "excite that neuron most, averaged: what the neuron has learned to look for."
)
FAVOURITE_COUNT = 30  # test digits averaged into each neuron's favourite picture
FAVOURITE_POOL = 2000  # the first test digits searched: enough for every digit, and quick


@dataclass(frozen=True)
class WeightPictures:
    """The first hidden layer's weights of some neurons, as RGB pictures."""

    units: np.ndarray  # (k,) int: which neurons (0-based, as in the layer), strongest first
    norms: np.ndarray  # (k,) float: the length (L2 norm) of each neuron's 784 weights
    images: np.ndarray  # (k, 28, 28, 3) uint8 RGB on the blue-white-red scale
    limit: float  # the |weight| drawn at full blue or red, shared by all k pictures
    layer_size: int  # neurons in the first hidden layer


def strongest_units(kernel: np.ndarray, count: int = MAX_UNITS) -> np.ndarray:
    """Indices of the `count` columns of `kernel` (784, units) with the largest norm, largest
    first (ties: lower index first)."""
    norms = np.linalg.norm(np.asarray(kernel, dtype=np.float64), axis=0)
    return np.argsort(-norms, kind="stable")[: max(count, 0)]


def diverging_colours(values: np.ndarray, limit: float) -> np.ndarray:
    """Values as RGB uint8 (shape + (3,)): blue at -limit, white at 0, red at +limit, linear in
    between, clipped beyond. A limit of 0 draws everything white."""
    values = np.asarray(values, dtype=np.float64)
    share = np.clip(values / limit, -1.0, 1.0) if limit > 0 else np.zeros_like(values)
    white = np.array(WHITE_RGB, dtype=np.float64)
    ends = np.where(share[..., None] < 0, NEGATIVE_RGB, POSITIVE_RGB)
    colours = white + np.abs(share)[..., None] * (ends - white)
    return np.rint(colours).astype(np.uint8)


def weight_pictures(
    weights: list[np.ndarray], count: int = MAX_UNITS, limit: float | None = None
) -> WeightPictures:
    """Pictures of the first hidden layer's `count` strongest neurons (see the module's text).

    `weights` is the run's stored weights (`TrainingService.weights`); `limit` overrides the
    shared colour limit (default: the largest |weight| among the neurons shown).
    """
    kernel = layer_pairs(weights)[0][0]
    if kernel.shape[0] != SIDE * SIDE:
        raise ValueError(f"The first layer must see 784 pixels; it has {kernel.shape[0]} inputs.")
    units = strongest_units(kernel, count)
    shown = np.asarray(kernel[:, units], dtype=np.float64)  # (784, k)
    if limit is None:
        limit = float(np.abs(shown).max()) if shown.size else 0.0
    images = diverging_colours(shown.T.reshape(len(units), SIDE, SIDE), limit)
    return WeightPictures(
        units=units,
        norms=np.linalg.norm(shown, axis=0),
        images=images,
        limit=limit,
        layer_size=kernel.shape[1],
    )


def favourite_digits(
    weights: list[np.ndarray], units: np.ndarray, images: np.ndarray, top: int = FAVOURITE_COUNT
) -> np.ndarray:
    """For each first-layer neuron in `units`, the mean of the `top` digits of `images`
    ((n, 28, 28) uint8, as MNIST stores them) that excite it most: (len(units), 28, 28) uint8.

    The hidden activations (ReLU, tanh, sigmoid) all grow with their input, so the digits
    with the largest weighted sum are the ones that activate the neuron most. Where a weight
    picture is still speckle, this picture already shows a stroke or a digit.
    """
    kernel, bias = layer_pairs(weights)[0]
    pixels = np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0
    sums = pixels @ np.asarray(kernel[:, units], dtype=np.float32) + bias[units]  # (n, k)
    top = min(top, len(images))
    chosen = np.argsort(-sums, axis=0, kind="stable")[:top]  # (top, k)
    means = np.asarray(images, dtype=np.float64)[chosen].mean(axis=0)  # (k, 28, 28)
    return np.rint(means).astype(np.uint8)


def weight_grid_html(
    pictures: WeightPictures,
    columns: int = 8,
    caption: str | None = None,
    favourites: np.ndarray | None = None,
) -> str:
    """The pictures as a grid (class "weight-grid"), a colour key under it.

    Each cell is a ``div.weight-cell`` with ``data-unit`` (the neuron, 1-based as in the page's
    text) and ``data-norm``, and a hover title like "Neuron 17 of 400: weight length 2.31".
    `favourites` (from `favourite_digits`, one per picture) adds under each picture, white on
    black like MNIST, the digits that excite that neuron most.
    """
    size = SIDE * PICTURE_SCALE
    cells = []
    for index, (unit, norm, image) in enumerate(
        zip(pictures.units, pictures.norms, pictures.images, strict=True)
    ):
        number = int(unit) + 1
        title = f"Neuron {number} of {pictures.layer_size}: weight length {norm:.2f}"
        liked = ""
        if favourites is not None:
            alt = f"the test digits that excite neuron {number} most, averaged"
            liked = (
                f'<img class="favourite" src="{png_data_uri(favourites[index])}" alt="{alt}"'
                f' width="{size}" height="{size}" style="width:{size}px;max-width:100%;'
                "height:auto;image-rendering:pixelated;display:block;margin:2px auto 0;"
                'background:#000">'
            )
        cells.append(
            f'<div class="weight-cell" data-unit="{number}" data-norm="{norm:.4f}"'
            f' title="{html.escape(title)}" style="text-align:center;min-width:0">'
            f'<img src="{png_data_uri(image)}" alt="{html.escape(title)}" width="{size}"'
            f' height="{size}" style="width:{size}px;max-width:100%;height:auto;'
            'image-rendering:pixelated;display:block;margin:auto;border:1px solid #ddd">'
            f'{liked}<div style="font-size:0.75em">#{number}</div></div>'
        )
    if not cells:
        cells = ['<div style="grid-column:1/-1;opacity:0.7">No neurons to show.</div>']
    grid_style = (
        f"display:grid;grid-template-columns:repeat({columns},minmax(0,1fr));gap:6px;"
        f"max-width:{columns * (size + 16)}px"
    )
    parts = [
        '<figure class="weight-grid-figure" style="margin:0">',
        f'<div class="weight-grid" style="{grid_style}">',
        *cells,
        "</div>",
        _colour_key(pictures.limit),
    ]
    if caption is not None:
        parts.append(
            '<figcaption style="font-size:0.9em;opacity:0.8;margin-top:4px">'
            f"{html.escape(caption)}</figcaption>"
        )
    return "".join([*parts, "</figure>"])


def _colour_key(limit: float) -> str:
    blue, red = (f"rgb{colour}" for colour in (NEGATIVE_RGB, POSITIVE_RGB))
    bar = (
        f"display:inline-block;width:160px;height:10px;vertical-align:middle;margin:0 6px;"
        f"background:linear-gradient(to right,{blue},white,{red});border:1px solid #ddd"
    )
    return (
        '<div class="weight-key" style="font-size:0.8em;opacity:0.85;margin-top:6px">'
        f'<span>−{limit:.2g} lowers</span><span style="{bar}"></span>'
        f"<span>+{limit:.2g} raises</span> (white: 0, no effect)</div>"
    )


def activation_frame(result: Forward, index: int = 0) -> pd.DataFrame:
    """What every hidden neuron computed for input `index` of a forward pass, for a chart.

    One row per neuron, layer by layer, in the layer's own order (so a neuron stays in its
    place while a drawing changes): layer ("Hidden layer 1", ...), unit (1-based), units (the
    layer's size) and activation.
    """
    frames = []
    for number, values in enumerate(result.hidden, start=1):
        row = np.asarray(values[index], dtype=np.float64)
        frames.append(
            pd.DataFrame(
                {
                    "layer": f"Hidden layer {number}",
                    "unit": np.arange(1, len(row) + 1),
                    "units": len(row),
                    "activation": row,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["layer", "unit", "units", "activation"])
    return pd.concat(frames, ignore_index=True)
