"""The ``convolib`` command: filter files, convolve arrays, explain and check, and more.

Exit status: 0 success; 1 failure (a bad file or value, a refused output, a wrong
claim for ``check``); 2 a usage error (unknown option, missing argument). Errors print
one line on standard error; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

from . import __version__
from .boundary import RULES, SYNONYMS

_BOUNDARIES = (*RULES, *SYNONYMS)
_SHAPE = re.compile(r"(\d+(?:x\d+)*)(?::(\w+))?")
_PRINT_LIMIT = 1000
"""Results with more values are summarised on the terminal (save them with -o)."""


class _State:
    quiet = False
    verbose = False
    debug = False


STATE = _State()


def _info(message: str) -> None:
    """A note on standard error, unless --quiet."""
    if not STATE.quiet:
        click.echo(message, err=True)


COMPILING_NOTE = (
    "convolib: compiling its loops for this machine, the first time only "
    "(numba keeps them on disk) ..."
)


def _note_compiling() -> None:
    """Say so (unless --quiet) when the first of convolib's loops starts compiling: a
    minute or so of silence otherwise, once per environment."""
    from .compiling import announce_first

    announce_first(lambda name: _info(COMPILING_NOTE))


def _detail(message: str) -> None:
    """A note on standard error with --verbose."""
    if STATE.verbose and not STATE.quiet:
        click.echo(message, err=True)


def _set(name: str) -> Callable:
    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            setattr(STATE, name, True)

    return callback


def _global_options(func: Callable) -> Callable:
    """-q, -v and --debug, accepted before or after the command's name."""
    for flags, name, text in (
        (("--debug",), "debug", "Show tracebacks instead of one-line errors."),
        (("-v", "--verbose"), "verbose", "Also print plans and timings."),
        (("-q", "--quiet"), "quiet", "Print only results and errors."),
    ):
        func = click.option(
            *flags, is_flag=True, expose_value=False, is_eager=True, callback=_set(name), help=text
        )(func)
    return func


class _Command(click.Command):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _global_options(self)


class _Group(click.Group):
    """Turns the library's errors into one line and exit status 1."""

    command_class = _Command

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # the reader went away (| head): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except KeyboardInterrupt:
            click.echo("convolib: interrupted", err=True)
            sys.exit(130)
        except Exception as err:
            from .errors import ConvolibError

            if STATE.debug:
                raise
            expected = isinstance(err, ConvolibError | OSError | ModuleNotFoundError)
            what = "error" if expected else f"internal error ({type(err).__name__})"
            message = str(err) or type(err).__name__
            click.echo(f"convolib: {what}: {message}", err=True)
            if not expected:
                click.echo("convolib: rerun with --debug for the traceback", err=True)
            sys.exit(1)


EXAMPLES = """
\b
Examples:
  convolib filter photo.png blurred.png --kernel gaussian:sigma=2
  convolib filter song.wav low.wav --kernel "[0.25, 0.5, 0.25]"
  convolib correlate "[[1,2,3],[4,5,6],[7,8,9]]" "[[1,2],[3,4]]" --mode valid
  convolib explain "[1,2,3]" "[1,0,-1]" --op convolve --mode same
  convolib check "[[1,2,3],[4,5,6],[7,8,9]]" "[[1,2],[3,4]]" "[[20,26],[38,44]]"
  convolib dice 3d6
  convolib shape --input 1,3,224,224 --weight 64,3,7,7 --stride 2 --padding 3
  convolib plan 2048x2048:float32 gaussian:sigma=3 --mode same
  convolib demo --out demo-output

\b
Exit status: 0 ok, 1 failure, 2 usage error.
Shell completion (bash): eval "$(_CONVOLIB_COMPLETE=bash_source convolib)"
"""


@click.group(cls=_Group, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convolib")
@_global_options
def main() -> None:
    """Convolution and cross-correlation: exact, explained, fast.

    Arrays are given as files (.npy, .csv) or literals ("[[1,2],[3,4]]", "1,2,3");
    kernels also by name (see `convolib kernels`).
    """


# --- shared options -------------------------------------------------------------------


def _choice(*names: str) -> click.Choice:
    return click.Choice(names, case_sensitive=False)


def _layout_options(*, mode: str, modes: tuple[str, ...]) -> Callable:
    """--mode, --boundary and --fill-value, shared by the commands that convolve."""

    def decorate(func: Callable) -> Callable:
        func = click.option(
            "--fill-value",
            default=0.0,
            show_default=True,
            help="Value outside the input (constant boundary).",
        )(func)
        func = click.option(
            "--boundary",
            type=_choice(*_BOUNDARIES),
            default=None,
            help="What lies outside the input (NumPy's np.pad names) [default: constant].",
        )(func)
        return click.option(
            "--mode", type=_choice(*modes), default=mode, show_default=True, help="Output size."
        )(func)

    return decorate


def _op_option(default: str) -> Callable:
    return click.option(
        "--op",
        type=_choice("correlate", "convolve"),
        default=default,
        show_default=True,
        help="correlate slides the kernel as it is; convolve flips it first.",
    )


def _method_option(func: Callable) -> Callable:
    from .planner import methods

    return click.option(
        "--method",
        type=_choice(*methods()),
        default="auto",
        show_default=True,
        help="Algorithm (auto: the planner's choice).",
    )(func)


def _ints(text: str | None, name: str) -> int | tuple[int, ...] | None:
    """An int, or ints separated by commas, from an option."""
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: write an int or ints separated by commas", param_hint=name
        ) from None
    if not values:
        raise click.BadParameter("give at least one int", param_hint=name)
    return values[0] if len(values) == 1 else values


def _fill(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# --- filter ---------------------------------------------------------------------------


@main.command(
    "filter",
    epilog="""
\b
Examples:
  convolib filter photo.png blurred.png --kernel gaussian:sigma=2
  convolib filter photo.png edges.png --kernel sobel:axis=1 --out-dtype uint16
  convolib filter scan.tif sharp.tif --kernel "[[0,-1,0],[-1,5,-1],[0,-1,0]]"
  convolib filter voice.wav smooth.wav --kernel box:size=9,ndim=1
  convolib filter data.npy out.npy --kernel taps.npy --axis 0 --mode full
""",
)
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
@click.option(
    "-k",
    "--kernel",
    required=True,
    help="A named kernel (gaussian:sigma=2), a literal, or a .npy/.csv file.",
)
@_op_option("correlate")
@click.option(
    "--mode",
    type=_choice("same", "full", "valid", "causal"),
    default="same",
    show_default=True,
    help="Output size; causal: the first n samples of full.",
)
@click.option(
    "--boundary",
    type=_choice(*_BOUNDARIES),
    default=None,
    help="What lies outside the input [default: reflect for images, else constant].",
)
@click.option(
    "--fill-value", default=0.0, show_default=True, help="Value outside the input (constant)."
)
@click.option("--axis", type=int, default=None, help="Axis of an array a 1-D kernel filters.")
@_method_option
@click.option(
    "--out-dtype",
    default=None,
    help="Sample type of the result, e.g. uint8, uint16, float32 (integers saturate).",
)
@click.option("-f", "--force", is_flag=True, help="Replace DST if it exists.")
@click.option("--lenient", is_flag=True, help="Read the frames present in a truncated WAV file.")
@click.option(
    "--max-memory",
    default=None,
    help="Refuse work needing more memory, e.g. 2G [default: 80% of what is free].",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse larger images [default: 200000000].",
)
def filter_command(
    src,
    dst,
    kernel,
    op,
    mode,
    boundary,
    fill_value,
    axis,
    method,
    out_dtype,
    force,
    lenient,
    max_memory,
    max_pixels,
) -> None:
    """Filter an image, a WAV file or an array file (.npy, .csv) into DST.

    Images (PNG, JPEG, TIFF, BMP; grey or colour, 8 or 16 bits) are filtered per colour
    channel, the alpha channel kept, and keep their sample type (rounded, saturated).
    WAV files (PCM or float, any channels) are filtered along time; with zero padding
    they stream in bounded memory, as do .npy files filtered along one axis.
    """
    from .files import filter_file, read_kernel
    from .files._images import MAX_PIXELS

    _note_compiling()
    k = read_kernel(kernel)
    bar = _Progress(f"filtering {Path(src).name}")
    start = time.perf_counter()
    with bar:
        done = filter_file(
            src,
            dst,
            k,
            op=op,
            mode=mode,
            boundary=boundary,
            fill_value=_fill(fill_value),
            axis=axis,
            method=method,
            out_dtype=out_dtype,
            overwrite=force,
            lenient=lenient,
            max_memory=max_memory,
            max_pixels=max_pixels or MAX_PIXELS,
            progress=bar.update,
        )
    seconds = time.perf_counter() - start
    _detail(f"input: {done.source}; kernel {k.shape} {k.dtype}")
    if done.plan is not None:
        _detail(str(done.plan))
    shape = "×".join(map(str, done.shape))
    _info(f"wrote {dst} ({shape}, {done.dtype}; {done.how}; {seconds:.3g} s)")


class _Progress:
    """A progress bar on standard error when it is a terminal (and not --quiet)."""

    def __init__(self, label: str) -> None:
        self.label, self.bar, self.done = label, None, 0
        self.shown = sys.stderr.isatty() and not STATE.quiet

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, done: int, total: int) -> None:
        if not self.shown:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done


# --- convolve / correlate -------------------------------------------------------------


def _two_operand_command(op: str) -> Callable:
    def command(
        a, b, output, mode, boundary, fill_value, axes, origin, method, out_dtype, force
    ) -> None:
        import convolib

        from .files import read_array, write_array

        _note_compiling()
        x, k = read_array("A", a), read_array("B", b)
        options = {
            "mode": mode,
            "boundary": boundary or "constant",
            "fill_value": _fill(fill_value),
            "axes": _ints(axes, "--axes"),
            "origin": _ints(origin, "--origin") or 0,
            "method": method,
            "out_dtype": out_dtype,
        }
        if STATE.verbose:
            _detail(str(convolib.plan(op, x, k, **options)))
        start = time.perf_counter()
        y = getattr(convolib, op)(x, k, **options)
        _detail(f"computed in {time.perf_counter() - start:.3g} s")
        if output is not None:
            write_array(output, y, overwrite=force, inputs=(a, b))
            _info(f"wrote {output} ({'×'.join(map(str, y.shape))}, {y.dtype})")
            return
        _print_array(y)

    command.__doc__ = (
        f"{op.capitalize()} A with B and print the result (or save it with -o).\n\n"
        'A and B are .npy or .csv files or literals such as "[[1,2],[3,4]]".'
    )
    command.__name__ = op
    for decorator in reversed(
        [
            click.argument("a"),
            click.argument("b"),
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False),
                default=None,
                help="Save the result to a .npy or .csv file.",
            ),
            _layout_options(mode="full", modes=("full", "same", "valid")),
            click.option(
                "--axes", default=None, help="Convolved axes, e.g. 0 or 0,1 [default: all]."
            ),
            click.option(
                "--origin", default=None, help="Shift of the window in same mode (per axis)."
            ),
            _method_option,
            click.option(
                "--out-dtype", default=None, help="Narrow the result, e.g. uint8 (saturates)."
            ),
            click.option("-f", "--force", is_flag=True, help="Replace OUTPUT if it exists."),
        ]
    ):
        command = decorator(command)
    return main.command(op)(command)


def _print_array(y: np.ndarray) -> None:
    if y.size > _PRINT_LIMIT:
        _info(f"{y.shape} {y.dtype} result, summarised; save all of it with -o FILE")
    click.echo(np.array2string(y, threshold=_PRINT_LIMIT, max_line_width=100))


_two_operand_command("convolve")
_two_operand_command("correlate")


# --- explain / check ------------------------------------------------------------------


def _teaching_options(func: Callable) -> Callable:
    func = click.option("--origin", default=None, help="Window shift in same mode.")(func)
    func = click.option("--dilation", default=None, help="Spacing of the kernel's taps.")(func)
    func = click.option("--stride", default=None, help="Step of the window.")(func)
    return func


def _teaching(op, mode, boundary, fill_value, stride, dilation, origin) -> dict:
    return {
        "op": op,
        "mode": mode,
        "boundary": boundary or "constant",
        "fill_value": _fill(fill_value),
        "stride": _ints(stride, "--stride") or 1,
        "dilation": _ints(dilation, "--dilation") or 1,
        "origin": _ints(origin, "--origin") or 0,
    }


@main.command(
    epilog="""
\b
Examples:
  convolib explain "[[1,2,3],[4,5,6],[7,8,9]]" "[[1,2],[3,4]]" --mode valid
  convolib explain "[1,2,3,4]" "[1,0,-1]" --op convolve --mode same --boundary reflect
  convolib explain "[[1,2,3],[4,5,6],[7,8,9]]" "[[1,2],[3,4]]" --html steps.html --gif steps.gif
"""
)
@click.argument("x")
@click.argument("k")
@_op_option("correlate")
@_layout_options(mode="full", modes=("full", "same", "valid"))
@_teaching_options
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write a self-contained page with step/play controls.",
)
@click.option(
    "--gif",
    "gif",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write an animation of the sliding window.",
)
@click.option(
    "--markdown",
    "markdown",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write Markdown with LaTeX formulas.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the window [default: on a terminal]."
)
@click.option("-f", "--force", is_flag=True, help="Replace existing output files.")
def explain(
    x,
    k,
    op,
    mode,
    boundary,
    fill_value,
    stride,
    dilation,
    origin,
    html,
    gif,
    markdown,
    color,
    force,
) -> None:
    """Show OP(X, K) step by step: each window, the products and the sum.

    X and K are small arrays (1-D to 3-D): files or literals.
    """
    from .explain import explain as run
    from .files import read_array

    e = run(
        read_array("X", x),
        read_array("K", k),
        **_teaching(op, mode, boundary, fill_value, stride, dilation, origin),
    )
    click.echo(e.text(color=color))
    writers = (
        (html, e.html),
        (gif, e.gif),
        (markdown, lambda temp: Path(temp).write_text(e.markdown() + "\n", encoding="utf-8")),
    )
    for path, write in writers:
        if path is not None:
            _write_file(path, force, write)


def _write_file(path: str, force: bool, write: Callable[[str], object]) -> None:
    """``write(temp)``, then the temporary file renamed to ``path`` (refused if it exists
    unless ``force``)."""
    from .files._safety import atomic_output

    with atomic_output("output", path, overwrite=force) as temp:
        write(temp)
    _info(f"wrote {path}")


@main.command(
    epilog="""
\b
Example (a blog's wrong value for torch's conv2d of 1..9 with [[1,2],[3,4]]):
  convolib check "[[1,2,3],[4,5,6],[7,8,9]]" "[[1,2],[3,4]]" "[[20,26],[38,44]]"
"""
)
@click.argument("x")
@click.argument("k")
@click.argument("claimed")
@_op_option("correlate")
@_layout_options(mode="valid", modes=("full", "same", "valid"))
@_teaching_options
def check(x, k, claimed, op, mode, boundary, fill_value, stride, dilation, origin) -> None:
    """Check a claimed result of OP(X, K): which entries are wrong, and why.

    Exits with 1 when the claim is wrong.
    """
    from .check import check as run
    from .files import read_array

    report = run(
        read_array("X", x),
        read_array("K", k),
        read_array("CLAIMED", claimed),
        **_teaching(op, mode, boundary, fill_value, stride, dilation, origin),
    )
    click.echo(str(report))
    if not report.ok:
        sys.exit(1)


# --- dice, shape, kernels -------------------------------------------------------------


@main.command(
    epilog="""
\b
Examples:
  convolib dice 2d6
  convolib dice "3d6+2" --at 10
  convolib dice 100d20 --plot d20.png
"""
)
@click.argument("spec")
@click.option("--at", "at", type=int, default=None, help="Also print P(sum = v) and P(sum <= v).")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save a bar chart of the distribution (PNG).",
)
@click.option("-f", "--force", is_flag=True, help="Replace the plot file if it exists.")
def dice(spec, at, plot, force) -> None:
    """The exact distribution of a dice sum, such as 2d6, 3d6+2 or d6+d8."""
    from .prob import dice as distribution

    _note_compiling()
    d = distribution(spec)
    click.echo(f"{spec}: {d}")
    if at is not None:
        p, c = d.p(at), d.cdf(at)
        click.echo(f"P(sum = {at}) = {p} ≈ {float(p):.6g}")
        click.echo(f"P(sum <= {at}) = {c} ≈ {float(c):.6g}")
    if plot is not None:
        _write_file(plot, force, lambda temp: _plot_distribution(d, spec, temp))


def _plot_distribution(d, spec: str, temp: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    d.plot(ax)
    ax.set_title(f"sum of {spec}: mean {float(d.mean):.4g}, variance {float(d.var):.4g}")
    fig.tight_layout()
    fig.savefig(temp, format="png", dpi=110)
    plt.close(fig)


@main.command(
    epilog="""
\b
Examples:
  convolib shape --input 1,3,32,32 --weight 16,3,5,5 --padding 2
  convolib shape --input 8,64,56,56 --weight 128,64,3,3 --stride 2 --padding 1
  convolib shape --input 1,16,16,16 --weight 16,8,4,4 --stride 2 --padding 1 --transposed
"""
)
@click.option(
    "--input", "input_shape", required=True, help="Input shape N,C,spatial... (e.g. 1,3,224,224)."
)
@click.option(
    "--weight",
    "weight_shape",
    required=True,
    help="Weight shape K,C/groups,kernel... (for --transposed: C,K/groups,kernel...).",
)
@click.option("--stride", default="1", show_default=True, help="Per axis, or one for all.")
@click.option("--padding", default="0", show_default=True, help="Per axis, or one for all.")
@click.option("--dilation", default="1", show_default=True, help="Per axis, or one for all.")
@click.option("--groups", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--transposed", is_flag=True, help="A transposed convolution.")
@click.option("--output-padding", default="0", show_default=True, help="For --transposed.")
@click.option("--bias/--no-bias", default=True, show_default=True, help="Count a bias per filter.")
def shape(
    input_shape, weight_shape, stride, padding, dilation, groups, transposed, output_padding, bias
) -> None:
    """A neural-network layer's output shape and parameter count.

    Per axis, Wout = (Win + 2p - d(w - 1) - 1) // s + 1 (the textbook (W - w + 2p)/s + 1
    with dilation 1); parameters = (w·h·Cin/groups + 1)·K.
    """
    from .nn import output_shape, parameter_count

    x, w = _ints(input_shape, "--input"), _ints(weight_shape, "--weight")
    x = x if isinstance(x, tuple) else (x,)
    w = w if isinstance(w, tuple) else (w,)
    s, p, d = (
        _ints(v, name)
        for v, name in ((stride, "--stride"), (padding, "--padding"), (dilation, "--dilation"))
    )
    out = output_shape(
        x,
        w,
        stride=s,
        padding=p,
        dilation=d,
        groups=groups,
        transposed=transposed,
        output_padding=_ints(output_padding, "--output-padding"),
    )
    click.echo(f"output shape: {out}")
    dims = len(w) - 2
    per = [v if isinstance(v, tuple) else (v,) * dims for v in (s, p, d)]
    for axis in range(dims):
        n, k = x[2 + axis], w[2 + axis]
        si, pi, di = (v[axis] for v in per)
        if transposed:
            click.echo(
                f"  axis {axis}: ({n} - 1)·{si} - 2·{pi} + {di}·({k} - 1) + "
                f"output_padding + 1 = {out[2 + axis]}"
            )
        else:
            click.echo(
                f"  axis {axis}: ({n} + 2·{pi} - {di}·({k} - 1) - 1) // {si} + 1 = {out[2 + axis]}"
            )
    taps = " · ".join(map(str, w[1:]))
    count = parameter_count(w, bias)
    click.echo(
        f"parameters: ({taps}{' + 1' if bias else ''}) · {w[0]} = {count:,}"
        if not transposed
        else f"parameters: {count:,}"
    )


@main.command("kernels")
def kernel_names() -> None:
    """List the named kernels --kernel accepts, with their parameters."""
    import inspect

    from . import kernels

    for name in kernels.names():
        func = kernels._REGISTRY[name]
        params = ", ".join(
            p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
            for p in inspect.signature(func).parameters.values()
        )
        summary = (inspect.getdoc(func) or "").split("\n")[0]
        click.echo(f"{name}:{params}" if params else name)
        if summary:
            click.echo(f"    {summary}")


# --- plan, bench, calibrate, demo -----------------------------------------------------


@main.command(
    epilog="""
\b
Examples:
  convolib plan 2048x2048:float32 gaussian:sigma=3 --mode same
  convolib plan 1000000:float64 "[1,2,3,4]"
  convolib plan image.npy box:size=5 --boundary reflect --mode same
"""
)
@click.argument("x")
@click.argument("k")
@_op_option("convolve")
@_layout_options(mode="full", modes=("full", "same", "valid"))
@click.option("--axes", default=None, help="Convolved axes, e.g. 0 or 0,1 [default: all].")
@_method_option
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Threads.")
def plan(x, k, op, mode, boundary, fill_value, axes, method, workers) -> None:
    """What method=auto would do for OP(X, K), and why, without computing it.

    X is a file, a literal, or a shape and dtype such as 2048x2048:float32; K a file,
    a literal or a named kernel.
    """
    import convolib

    from .files import read_array, read_kernel

    match = _SHAPE.fullmatch(x)
    if match:
        try:
            dtype = np.dtype(match[2] or "float64")
        except TypeError:
            raise click.BadParameter(f"{match[2]!r} is not a NumPy dtype", param_hint="X") from None
        shape = tuple(int(n) for n in match[1].split("x"))
        signal = np.broadcast_to(np.zeros((), dtype), shape)
    else:
        signal = read_array("X", x)
    p = convolib.plan(
        op,
        signal,
        read_kernel(k),
        mode,
        axes=_ints(axes, "--axes"),
        boundary=boundary or "constant",
        fill_value=_fill(fill_value),
        method=method,
        workers=workers,
    )
    click.echo(str(p))


@main.command()
@click.option("--cases", default=None, help="Comma-separated case ids (default: all), e.g. s1,i1.")
@click.option("--quick", is_flag=True, help="Small sizes, few rounds.")
@click.option("--repeats", type=click.IntRange(min=1), default=None, help="Rounds per case.")
@click.option(
    "--out", default="bench-output", show_default=True, help="Folder for bench.json and bench.png."
)
@click.option("--dask", is_flag=True, help="Also the out-of-core Dask case.")
def bench(cases, quick, repeats, out, dask) -> None:
    """Run the benchmark suite (BENCHMARKS.md) against the peers installed.

    The peers come with the bench extra: pip install "convolib[bench]".
    """
    from . import bench as suite

    argv = ["--out", out]
    argv += ["--cases", cases] if cases else []
    argv += ["--quick"] if quick else []
    argv += ["--repeats", str(repeats)] if repeats else []
    argv += ["--dask"] if dask else []
    sys.exit(suite.main(argv))


@main.command()
def calibrate() -> None:
    """Measure this machine's speed per algorithm and keep it for the planner."""
    from . import calibration

    _note_compiling()
    _info("timing each algorithm on a few small problems ...")
    with _Progress("calibrating") as bar:
        factors = calibration.calibrate(progress=bar.update)
    click.echo("algorithm     measured / modelled time")
    for name, value in sorted(factors.items()):
        click.echo(f"  {name:<12}{value:8.2f}")
    click.echo(f"kept in {calibration.cache_path()}")


@main.command()
@click.option(
    "--out", default="demo-output", show_default=True, help="Folder for report.html and its images."
)
def demo(out) -> None:
    """Run the tour: write a self-contained HTML report with pictures to OUT."""
    from . import demo as tour

    _note_compiling()
    sys.exit(tour.main(["--out", out]))
