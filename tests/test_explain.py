"""`convolib.explain`: the explained result is the library's, term by term, and every
rendering shows the same steps.

Oracles: ``scipy.signal`` and ``numpy`` for values; ``convolib.convolve``/``correlate``
for the claim that the explanation computes what the library computes; hand
derivations (written out below) for windows, flips, boundary sources and formulas.
"""

from __future__ import annotations

import html
import io
import json
import re
import sys
from fractions import Fraction

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import convolib
from convolib.errors import ArgumentError, ArgumentTypeError, ExactOverflowError
from convolib.explain import MAX_TERMS, explain
from helpers import assert_close, chromium, needs_chromium

OPS = {"convolve": convolib.convolve, "correlate": convolib.correlate}
SCIPY = {"convolve": scipy.signal.convolve, "correlate": scipy.signal.correlate}
BOUNDARIES = ("constant", "edge", "reflect", "symmetric", "wrap")
SEED_X = np.arange(1, 10).reshape(3, 3)
SEED_K = np.array([[1, 2], [3, 4]])


def same_origins(k_shape):
    """Every per-axis origin `same` mode accepts: [-(m // 2), (m - 1) // 2]."""
    ranges = [range(-(m // 2), (m - 1) // 2 + 1) for m in k_shape]
    return [
        tuple(o) for o in np.array(np.meshgrid(*ranges, indexing="ij")).reshape(len(ranges), -1).T
    ]


# ------------------------------------------------------------------- the seed's 3x3 example


def test_seed_example_correlation_terms_and_value():
    e = explain(SEED_X, SEED_K, "correlate", "valid")
    # Oracle: scipy; the seed's [[20, 26], [38, 44]] is wrong.
    np.testing.assert_array_equal(e.result, scipy.signal.correlate(SEED_X, SEED_K, "valid"))
    assert e.result.dtype == np.int64
    first = e.steps[0]
    # By hand: the 2x2 window at the top-left holds A=1, B=2, D=4, E=5; correlation
    # pairs them with k as it is (a=1, b=2, c=3, d=4).
    assert first.symbolic() == "a·A + b·B + c·D + d·E"
    assert first.numeric() == "1·1 + 2·2 + 3·4 + 4·5"
    assert first.products() == "1 + 4 + 12 + 20"
    assert first.value == 1 * 1 + 2 * 2 + 3 * 4 + 4 * 5
    assert [t.position for t in first.terms] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(t.boundary is None and t.source == t.position for t in first.terms)
    assert [s.index for s in e.steps] == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_seed_example_convolution_reverses_the_kernel_on_every_axis():
    e = explain(SEED_X, SEED_K, "convolve", "valid")
    np.testing.assert_array_equal(e.result, scipy.signal.convolve2d(SEED_X, SEED_K, "valid"))
    np.testing.assert_array_equal(e.kernel, SEED_K[::-1, ::-1])
    assert e.kernel_symbols.tolist() == [["d", "c"], ["b", "a"]]
    assert e.steps[0].symbolic() == "d·A + c·B + b·D + a·E"
    assert [t.kernel_index for t in e.steps[0].terms] == [(1, 1), (1, 0), (0, 1), (0, 0)]
    assert any("reversed on every axis" in n for n in e.notes)


# -------------------------------------------------------- equal to the library: a grid


SHAPES = [((6,), (3,)), ((5,), (4,)), ((4, 5), (2, 3)), ((3, 4), (3, 2)), ((3, 3, 4), (2, 1, 3))]


@pytest.mark.parametrize(("x_shape", "k_shape"), SHAPES)
@pytest.mark.parametrize("op", ["convolve", "correlate"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_result_equals_the_library_every_mode_boundary_origin(x_shape, k_shape, op, boundary):
    rng = np.random.default_rng(len(x_shape) * 10 + len(boundary))
    x = rng.integers(-9, 10, x_shape)
    k = rng.integers(-9, 10, k_shape)
    for mode in ("full", "valid"):
        got = explain(x, k, op, mode, boundary=boundary).result
        want = OPS[op](x, k, mode, boundary=boundary)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
        if boundary == "constant":
            np.testing.assert_array_equal(got, SCIPY[op](x, k, mode))
    for origin in same_origins(k_shape):
        got = explain(x, k, op, "same", boundary=boundary, origin=origin).result
        np.testing.assert_array_equal(got, OPS[op](x, k, "same", boundary=boundary, origin=origin))
        if boundary == "constant" and not any(origin):
            np.testing.assert_array_equal(got, SCIPY[op](x, k, "same"))


@pytest.mark.parametrize("op", ["convolve", "correlate"])
def test_valid_mode_swap_matches_scipy(op):
    x = np.array([[1, -2], [3, 5]])
    k = np.arange(12).reshape(3, 4) - 5
    e = explain(x, k, op, "valid")
    assert e.signal == "k"  # scipy swaps the operands when k is the larger one
    np.testing.assert_array_equal(e.result, SCIPY[op](x, k, "valid"))
    np.testing.assert_array_equal(e.result, OPS[op](x, k, "valid"))


def test_fill_value_enters_the_sum_and_is_marked():
    e = explain([1, 2, 3], [1, 1, 1], "correlate", "same", fill_value=5)
    np.testing.assert_array_equal(e.result, [5 + 1 + 2, 6, 2 + 3 + 5])
    first = e.steps[0].terms[0]
    assert (first.position, first.source, first.boundary, first.value) == (
        (-1,),
        None,
        "constant",
        5,
    )
    assert e.steps[0].symbolic() == "a·5 + b·A + c·B"


@pytest.mark.parametrize(
    ("boundary", "source"),
    # By hand, for x = [A, B, C, D] read at position -2 and -1, and at 4 and 5:
    #   edge      A A | A B C D | D D
    #   reflect   C B | A B C D | C B
    #   symmetric B A | A B C D | D C
    #   wrap      C D | A B C D | A B
    [
        ("edge", [(0,), (0,), (3,), (3,)]),
        ("reflect", [(2,), (1,), (2,), (1,)]),
        ("symmetric", [(1,), (0,), (3,), (2,)]),
        ("wrap", [(2,), (3,), (0,), (1,)]),
    ],
)
def test_padding_cells_name_their_rule_and_source(boundary, source):
    x = np.array([10, 20, 30, 40])
    e = explain(x, [1, 1, 1, 1, 1], "correlate", "same", boundary=boundary)
    first, last = e.steps[0].terms, e.steps[-1].terms
    edges = [first[0], first[1], last[3], last[4]]
    assert [t.position for t in edges] == [(-2,), (-1,), (4,), (5,)]
    assert [t.source for t in edges] == source
    assert all(t.boundary == boundary for t in edges)
    assert [t.value for t in edges] == [x[s] for s in source]
    assert [t.value_symbol for t in edges] == ["ABCD"[s[0]] for s in source]
    inside = [t for t in first if 0 <= t.position[0] < 4]
    assert all(t.boundary is None for t in inside)


def test_zero_padding_terms_are_absent_as_in_the_library():
    e = explain([1.0, 2.0], [np.inf, 1.0], "correlate", "full")
    np.testing.assert_array_equal(e.result, convolib.correlate([1.0, 2.0], [np.inf, 1.0]))
    # y[0] reads (pad, x[0]) with (inf, 1): the inf meets the padding, so no NaN.
    assert e.result[0] == 1.0
    assert e.steps[0].terms[0].product is None
    assert e.steps[0].symbolic() == "b·A"


def test_stride_and_dilation_against_a_derivation():
    # Oracle: a dilated kernel is k with (dilation - 1) zeros between taps; valid
    # correlation of the zero-padded x with it, sampled every `stride`, is the strided,
    # dilated correlation. In full mode the padding is extent - 1 on both sides.
    rng = np.random.default_rng(7)
    x = rng.integers(-9, 10, (7, 8))
    k = rng.integers(-9, 10, (2, 3))
    stride, dilation = (2, 3), (2, 1)
    dilated = np.zeros((3, 3), np.int64)
    dilated[::2, ::1] = k
    extents = (3, 3)
    for mode in ("valid", "full"):
        padded = x if mode == "valid" else np.pad(x, [(e - 1, e - 1) for e in extents])
        want = scipy.signal.correlate(padded, dilated, "valid")[:: stride[0], :: stride[1]]
        e = explain(x, k, "correlate", mode, stride=stride, dilation=dilation)
        np.testing.assert_array_equal(e.result, want)
        flipped = explain(x, k, "convolve", mode, stride=stride, dilation=dilation)
        want = scipy.signal.correlate(padded, dilated[::-1, ::-1], "valid")[
            :: stride[0], :: stride[1]
        ]
        np.testing.assert_array_equal(flipped.result, want)
    one = explain(x, k, "correlate", "valid", stride=stride, dilation=dilation).steps[1]
    assert one.index == (0, 1)
    assert [t.position for t in one.terms] == [(0, 3), (0, 4), (0, 5), (2, 3), (2, 4), (2, 5)]


def test_complex_correlation_conjugates_the_kernel():
    x = np.array([1 + 1j, 2, -1j])
    k = np.array([1j, 2 - 1j])
    e = explain(x, k, "correlate", "full")
    np.testing.assert_array_equal(e.result, np.correlate(x, k, "full"))
    assert e.kernel_symbols.tolist() == ["conj(a)", "conj(b)"]
    np.testing.assert_array_equal(e.kernel, np.conj(k))
    c = explain(x, k, "convolve", "full")
    np.testing.assert_array_equal(c.result, np.convolve(x, k))
    assert c.kernel_symbols.tolist() == ["b", "a"]


def test_fractions_are_exact():
    die = np.array([Fraction(1, 6)] * 6, dtype=object)
    e = explain(die, die, "convolve", "full")
    assert e.result.tolist() == [Fraction(6 - abs(s - 7), 36) for s in range(2, 13)]
    assert "1/6" in e.steps[0].numeric()


def test_int64_overflow_raises_like_the_library():
    big = np.array([2**62, 2**62], dtype=np.int64)
    with pytest.raises(ExactOverflowError):
        convolib.convolve(big, [1, 1])
    with pytest.raises(ExactOverflowError):
        explain(big, [1, 1], "convolve")
    np.testing.assert_array_equal(
        explain(big, [1, 0, -1], "convolve").result, convolib.convolve(big, [1, 0, -1])
    )


def test_empty_operands_give_the_library_shape_and_render():
    for x, k, mode in (([1, 2, 3], np.zeros(0, int), "same"), (np.zeros(0), [1.0, 2.0], "full")):
        e = explain(x, k, "convolve", mode)
        want = convolib.convolve(x, k, mode)
        np.testing.assert_array_equal(e.result, want)
        assert e.result.shape == want.shape
        assert all(not s.terms and s.value == 0 for s in e.steps)
        assert e.text(color=False) and e.markdown() and e.html()


def test_three_d_and_one_d_render():
    x = np.arange(18).reshape(2, 3, 3)
    e = explain(x, np.ones((2, 2, 2), int), "correlate", "same", boundary="edge")
    np.testing.assert_array_equal(
        e.result, convolib.correlate(x, np.ones((2, 2, 2), int), "same", boundary="edge")
    )
    text = e.text(color=False)
    # `same` pads an extent-2 axis by (2 // 2, 0) = (1, 0): one plane before, none after.
    assert "[-1, :, :] padding" in text and "[0, :, :]" in text and "[1, :, :]" in text
    assert "[2, :, :]" not in text
    e1 = explain([3, 1, 4, 1, 5], [1, -1], "convolve", "full")
    # w = k[::-1] = [-1, 1] = [b, a]; y[5] reads (x[4], padding): only b·E remains.
    assert "y[5] = b·E" in e1.text(color=False)


# --------------------------------------------------------------------- Hypothesis


@st.composite
def problems(draw):
    nd = draw(st.integers(1, 3))
    side = {1: 7, 2: 5, 3: 3}[nd]
    x_shape = tuple(draw(st.integers(1, side)) for _ in range(nd))
    mode = draw(st.sampled_from(["full", "same", "valid"]))
    if mode == "valid":
        k_shape = tuple(draw(st.integers(1, s)) for s in x_shape)
        if draw(st.booleans()):  # the kernel is the larger operand: the valid-mode swap
            x_shape, k_shape = k_shape, x_shape
    else:
        k_shape = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dtype = draw(
        st.sampled_from([np.int64, np.uint8, np.bool_, np.float64, np.float32, np.complex128])
    )
    elements = {
        np.int64: st.integers(-50, 50),
        np.uint8: st.integers(0, 255),
        np.bool_: st.booleans(),
        np.float64: st.floats(-10, 10, width=64),
        np.float32: st.floats(-10, 10, width=32),
        np.complex128: st.complex_numbers(max_magnitude=10, allow_nan=False, allow_infinity=False),
    }[dtype]
    x = draw(hnp.arrays(dtype, x_shape, elements=elements))
    k = draw(hnp.arrays(dtype, k_shape, elements=elements))
    op = draw(st.sampled_from(["convolve", "correlate"]))
    boundary = draw(st.sampled_from(BOUNDARIES))
    origin = 0
    if mode == "same":
        origin = tuple(draw(st.integers(-(m // 2), (m - 1) // 2)) for m in k_shape)
    return x, k, op, mode, boundary, origin


@given(problems())
def test_hypothesis_result_equals_the_library(problem):
    x, k, op, mode, boundary, origin = problem
    e = explain(x, k, op, mode, boundary=boundary, origin=origin)
    want = OPS[op](x, k, mode, boundary=boundary, origin=origin)
    assert e.result.shape == want.shape and e.result.dtype == want.dtype
    if want.dtype.kind in "iu":
        np.testing.assert_array_equal(e.result, want)
    else:
        terms = int(np.prod(e.spec.m))
        scale = OPS[op](
            np.abs(x).astype(np.float64),
            np.abs(k).astype(np.float64),
            mode,
            boundary=boundary,
            origin=origin,
        )
        assert_close(
            e.result,
            want.astype(np.complex128 if want.dtype.kind == "c" else np.float64),
            want.dtype,
            terms,
            scale,
        )
    # Each step's value is its terms' products, added.
    for step in e.steps[:5]:
        if want.dtype.kind in "iu":
            assert step.value == sum(int(t.product) for t in step.present)
    assert len(e.steps) == e.result.size


# --------------------------------------------------------------------- refusals


def test_large_problems_are_refused_with_the_limit_in_the_message():
    with pytest.raises(ArgumentError, match=rf"terms, over the limit of {MAX_TERMS}") as info:
        explain(np.zeros((200, 200)), np.ones((3, 3)), "correlate", "same")
    assert "output positions × 9 kernel entries" in str(info.value)
    with pytest.raises(ArgumentError, match="padded input"):
        explain(np.zeros((300, 300)), np.ones((1, 1)), "correlate", "valid", stride=300)


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: explain(np.zeros((2, 2, 2, 2)), np.ones((1, 1, 1, 1))), ArgumentError, "x.ndim=4"),
        (lambda: explain(5, 3), ArgumentError, "x.ndim=0"),
        (lambda: explain([1, 2], [1], "convolv"), ArgumentError, "Did you mean 'convolve'"),
        (lambda: explain([1, 2], [1], mode="vaild"), ArgumentError, "mode='vaild'"),
        (lambda: explain([1, 2], [1], boundary="mirror"), ArgumentError, "boundary='mirror'"),
        (lambda: explain([1, 2], [[1]]), ArgumentError, "as many dimensions"),
        (lambda: explain([1, 2], [1], origin=1), ArgumentError, "only applies to mode='same'"),
        (lambda: explain([1, 2], [1], stride=0), ArgumentError, "stride=0"),
        (lambda: explain(["a"], [1]), ArgumentTypeError, "x.dtype"),
    ],
)
def test_bad_arguments_get_clear_errors(call, error, pattern):
    with pytest.raises(error, match=re.escape(pattern) if "(" not in pattern else pattern):
        call()


# --------------------------------------------------------------------- renderings


def test_text_marks_the_window_plain_and_in_colour():
    e = explain(SEED_X, SEED_K, "correlate", "valid")
    plain = e.text(color=False)
    assert "\x1b[" not in plain
    block = plain.split("step 1/4")[1].split("step 2/4")[0]
    assert "[1][2] 3" in block and "[4][5] 6" in block and "[3]" not in block
    assert "y[0,0] = a·A + b·B + c·D + d·E" in block
    coloured = e.text(color=True)
    assert "\x1b[30;43m" in coloured and "[1]" not in coloured.split("step 1/4")[1]


def test_str_colours_only_a_terminal(monkeypatch):
    e = explain([1, 2, 3], [1, 1], mode="valid")
    plain, coloured = e.text(color=False), e.text(color=True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert str(e) == plain
    monkeypatch.setattr(sys, "stdout", Terminal())
    monkeypatch.setenv("TERM", "xterm")
    assert str(e) == coloured
    monkeypatch.setenv("NO_COLOR", "1")
    assert str(e) == plain
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert str(e) == coloured


def test_step_lookup():
    e = explain(SEED_X, SEED_K, "correlate", "valid")
    assert e.step((1, 0)).value == 4 + 2 * 5 + 3 * 7 + 4 * 8
    assert explain([1, 2, 3], [1, 1], mode="valid").step(1).index == (1,)
    with pytest.raises(ArgumentError, match=r"index=\(2, 0\): is not an output position"):
        e.step((2, 0))


def test_text_frames_the_padding():
    e = explain([1, 2, 3], [1, 1, 1], "correlate", "same", boundary="reflect")
    first = e.text(color=False).split("step 1/3")[1]
    assert "[2]|[1][2] 3 | 2" in first
    assert "x[-1] = x[1] = B (reflect)" in first


def test_markdown_has_latex_formulas_and_boxed_windows():
    md = explain(SEED_X, SEED_K, "convolve", "valid").markdown()
    assert r"$$y_{0,0} = d \cdot A + c \cdot B + b \cdot D + a \cdot E = 4 \cdot 1" in md
    assert r"\boxed{1} & \boxed{2} & 3" in md
    assert md.count("#### Step") == 4
    padded = explain([1, -2], [1, 1], "correlate", "full").markdown()
    assert r"\boxed{\color{gray}{0}}" in padded and r"\left(-2\right)" in padded


def test_frames_and_gif(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    e = explain(SEED_X, SEED_K, "convolve", "full")
    images = e.frames(tmp_path / "frames")
    assert len(images) == len(e.steps) == 16
    files = sorted((tmp_path / "frames").glob("step_*.png"))
    assert [f.name for f in files][:2] == ["step_001.png", "step_002.png"] and len(files) == 16
    first, second = (np.asarray(im.convert("RGB")) for im in images[:2])
    assert first.shape == second.shape and (first != second).any()
    window_yellow = np.array([255, 210, 90])
    assert (first == window_yellow).all(axis=-1).sum() > 100
    gif = e.gif(tmp_path / "slide.gif", seconds_per_step=0.5)
    with PIL.open(gif) as animation:
        assert animation.n_frames == 16
        assert animation.info.get("loop") == 0
    with pytest.raises(ArgumentError, match="seconds_per_step"):
        e.gif(tmp_path / "x.gif", seconds_per_step=0)


def _embedded_data(page: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="convolib-data">(.*?)</script>', page, re.S
    )
    assert match
    return json.loads(match.group(1))


def test_html_is_self_contained_and_carries_the_steps(tmp_path):
    e = explain(SEED_X, SEED_K, "convolve", "same", boundary="wrap")
    page = e.html(tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == page
    assert not re.search(r"https?://|\bsrc=|<link\b|@import", page)
    data = _embedded_data(page)
    assert len(data["steps"]) == len(e.steps) == 9
    for shown, step in zip(data["steps"], e.steps, strict=True):
        assert shown["name"] == step.name
        assert shown["lines"][0] == step.lines()[0]
        windows = {int(np.ravel_multi_index(t.at, e.padded.shape)) for t in step.terms}
        assert set(shown["window"]) == windows
    hostile = explain(np.array([1, 2]), np.array([1]), "correlate").html()
    assert "</script><" not in _embedded_data_raw(hostile)


def _embedded_data_raw(page: str) -> str:
    return page.split('id="convolib-data">', 1)[1].split("</script>", 1)[0]


# --------------------------------------------------------------------- the page in a browser


def _state(dom: str) -> dict:
    match = re.search(r'<pre id="convolib-state" class="state">(.*?)</pre>', dom, re.S)
    assert match, "the page wrote no state"
    return json.loads(html.unescape(match.group(1)))


def _errors(dom: str) -> str:
    match = re.search(r'<pre id="convolib-errors" class="errors"[^>]*>(.*?)</pre>', dom, re.S)
    assert match
    return html.unescape(match.group(1))


def _highlighted(dom: str) -> list[int]:
    signal = dom.split('id="signal"', 1)[1].split('id="kernel"', 1)[0]
    classes = re.findall(r'<td class="([^"]*)"', signal)
    return [i for i, c in enumerate(classes) if "window" in c.split()]


@needs_chromium
def test_html_page_in_headlesschromium(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    e = explain(SEED_X, SEED_K, "convolve", "same", boundary="reflect")
    path = tmp_path / "explain.html"
    e.html(path)
    url = path.as_uri()
    dom1 = chromium(tmp_path, url + "#step=1", "--dump-dom")
    dom3 = chromium(tmp_path, url + "#step=3", "--dump-dom")
    assert _errors(dom1) == "" and _errors(dom3) == ""
    one, three = _state(dom1), _state(dom3)
    assert (one["step"], three["step"], three["steps"]) == (1, 3, 9)
    # Stepping moves the highlighted window and changes the formula, to the steps'.
    assert one["window"] != three["window"]
    assert _highlighted(dom1) == one["window"] and _highlighted(dom3) == three["window"]
    for state, step in ((one, e.steps[0]), (three, e.steps[2])):
        assert state["formula"].splitlines() == [line.strip() for line in step.lines()]
        cells = sorted(int(np.ravel_multi_index(t.at, e.padded.shape)) for t in step.terms)
        assert state["window"] == cells
    shot = tmp_path / "shot.png"
    chromium(tmp_path, url + "#step=3", f"--screenshot={shot}", "--window-size=1000,800")
    with PIL.open(shot) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "the screenshot is blank"
    assert any(c == (255, 210, 90) for _, c in colours), "no highlighted window in the screenshot"


@needs_chromium
def test_html_controls_in_headlesschromium(tmp_path):
    e = explain([3, 1, 4, 1, 5], [1, -1], "convolve", "valid")
    path = tmp_path / "controls.html"
    e.html(path)
    dom = chromium(tmp_path, path.as_uri() + "#step=2&selftest", "--dump-dom")
    assert _errors(dom) == ""
    match = re.search(r'<pre id="convolib-selftest" class="state">(.*?)</pre>', dom, re.S)
    record = json.loads(html.unescape(match.group(1)))
    # From step 2: Step, Step, Back -> 3, 4, 3; Play starts the timer, Pause stops it.
    assert record["steps"] == [3, 4, 3]
    assert record["play"] == ["❚❚ Pause", True, "▶ Play", False]
    state = _state(dom)
    assert state["step"] == 3 and state["formula"].splitlines()[0] == e.steps[2].lines()[0]


@needs_chromium
def test_headless_harness_sees_script_errors(tmp_path):
    page = explain([1, 2, 3], [1, 1]).html()
    broken = page.replace("</body>", "<script>notDefinedAnywhere();</script></body>")
    path = tmp_path / "broken.html"
    path.write_text(broken, encoding="utf-8")
    dom = chromium(tmp_path, path.as_uri(), "--dump-dom")
    assert "notDefinedAnywhere" in _errors(dom)
