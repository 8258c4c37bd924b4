"""The HTML rendering: one self-contained page (inline CSS and JavaScript, the data as
embedded JSON, no network) that steps the window over the grids.

The page records script errors (``error`` events, unhandled rejections and
``console.error``) in ``#convolib-errors``, and after every step writes its state as
JSON into ``#convolib-state``; ``#step=N`` in the URL opens step N, and ``#selftest``
presses Step, Step, Back, Play, Pause and records the steps and the Play button's
states in ``#convolib-selftest``. Headless browsers can so check it with
``--dump-dom``.
"""

from __future__ import annotations

import html
import json

import numpy as np

from ._core import Model
from ._grids import (
    Grid,
    kernel_grid,
    kernel_short,
    output_grid,
    padded_grid,
    padding_words,
    window_words,
)

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em; color: #141414; background: #fff; }
h1 { font-size: 1.15em; font-family: ui-monospace, monospace; }
ul.notes { max-width: 60em; padding-left: 1.2em; }
.controls { margin: 1em 0; display: flex; gap: .5em; align-items: center; }
button { font: inherit; padding: .25em .8em; }
.panels { display: flex; flex-wrap: wrap; gap: 2.5em; align-items: flex-start; }
.panel h2 { font-size: 1em; font-weight: 600; margin: 0 0 .4em; }
.planes { display: flex; gap: 1em; }
.plane-label { font-size: .75em; color: #555; }
table.grid { border-collapse: collapse; }
table.grid td { border: 1px solid #999; min-width: 2.6em; height: 2.4em; text-align: center;
  position: relative; font-family: ui-monospace, monospace; padding: 0 .35em; }
table.grid td .sym { position: absolute; left: 2px; top: 0; font-size: .6em; color: #55a; }
td.padding { background: #e4e4e4; color: #666; }
table.grid td.inner-top { border-top: 3px solid #2828c8; }
table.grid td.inner-bottom { border-bottom: 3px solid #2828c8; }
table.grid td.inner-left { border-left: 3px solid #2828c8; }
table.grid td.inner-right { border-right: 3px solid #2828c8; }
td.window { background: #ffd25a; color: #141414; }
td.window.padding { background: #f0be6e; }
td.kernel { background: #cde1ff; }
td.current { background: #78c878; font-weight: 700; }
td.pending { color: transparent; }
pre.formula { font-size: 1.05em; background: #f6f6f6; padding: .6em .8em; min-height: 4em; }
pre.errors { display: none; color: #b00000; border: 1px solid #b00000; padding: .5em; }
pre.state { display: none; }
"""

ERRORS = """
(function () {
  var box = document.getElementById("convolib-errors");
  function note(message) {
    box.textContent += message + "\\n";
    box.style.display = "block";
  }
  window.addEventListener("error", function (e) {
    var where = e.filename ? " at " + e.filename + ":" + e.lineno : "";
    note("error: " + (e.message || e.type) + where);
  });
  window.addEventListener("unhandledrejection", function (e) {
    note("unhandled rejection: " + e.reason);
  });
  var original = console.error;
  console.error = function () {
    note("console.error: " + Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
})();
"""

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("convolib-data").textContent);
  var steps = data.steps;

  function planesOf(shape) {
    // [planeCount, rows, cols] of a 1-D, 2-D or 3-D shape
    if (shape.length === 1) return [1, 1, shape[0]];
    if (shape.length === 2) return [1, shape[0], shape[1]];
    return [shape[0], shape[1], shape[2]];
  }

  function build(container, grid, base) {
    var dims = planesOf(grid.shape), cells = [];
    var holder = document.createElement("div");
    holder.className = "planes";
    for (var p = 0; p < dims[0]; p++) {
      var wrap = document.createElement("div");
      if (grid.shape.length === 3) {
        var label = document.createElement("div");
        label.className = "plane-label";
        label.textContent = "[" + (p - grid.offsets[0]) + ", :, :]";
        wrap.appendChild(label);
      }
      var table = document.createElement("table");
      table.className = "grid";
      for (var r = 0; r < dims[1]; r++) {
        var tr = document.createElement("tr");
        for (var c = 0; c < dims[2]; c++) {
          var flat = (p * dims[1] + r) * dims[2] + c;
          var td = document.createElement("td");
          td.className = base;
          if (grid.padding && grid.padding[flat]) td.classList.add("padding");
          if (grid.inner) frame(td, grid, p, r, c);
          if (grid.symbols) {
            var sym = document.createElement("span");
            sym.className = "sym";
            sym.textContent = grid.symbols[flat];
            td.appendChild(sym);
          }
          td.appendChild(document.createTextNode(grid.cells[flat]));
          tr.appendChild(td);
          cells.push(td);
        }
        table.appendChild(tr);
      }
      wrap.appendChild(table);
      holder.appendChild(wrap);
    }
    container.appendChild(holder);
    return cells;
  }

  function frame(td, grid, p, r, c) {
    var inner = grid.inner, n = grid.shape.length;
    var rows = n === 1 ? [0, 1] : inner[n - 2], cols = inner[n - 1];
    if (n === 3 && (p < inner[0][0] || p >= inner[0][1])) return;
    var inRows = r >= rows[0] && r < rows[1], inCols = c >= cols[0] && c < cols[1];
    if (inCols && r === rows[0]) td.classList.add("inner-top");
    if (inCols && r === rows[1] - 1) td.classList.add("inner-bottom");
    if (inRows && c === cols[0]) td.classList.add("inner-left");
    if (inRows && c === cols[1] - 1) td.classList.add("inner-right");
  }

  var signalCells = build(document.getElementById("signal"), data.signal, "");
  build(document.getElementById("kernel"), data.kernel, "kernel");
  var outputCells = build(document.getElementById("output"), data.output, "");
  var formula = document.getElementById("formula");
  var where = document.getElementById("where");
  var counter = document.getElementById("counter");
  var slider = document.getElementById("slider");
  var play = document.getElementById("play");
  var state = document.getElementById("convolib-state");
  var current = 0, timer = null;
  slider.max = Math.max(steps.length, 1);

  function show(i) {
    if (!steps.length) {
      counter.textContent = "no output positions";
      state.textContent = JSON.stringify({ step: 0, steps: 0, window: [], formula: "" });
      return;
    }
    current = Math.max(0, Math.min(steps.length - 1, i));
    var step = steps[current];
    signalCells.forEach(function (td) { td.classList.remove("window"); });
    step.window.forEach(function (flat) { signalCells[flat].classList.add("window"); });
    steps.forEach(function (s, j) {
      var td = outputCells[s.out];
      td.classList.toggle("current", j === current);
      td.classList.toggle("pending", j > current);
    });
    formula.textContent = step.lines.join("\\n");
    var padding = step.padding ? "; from the padding: " + step.padding : "";
    where.textContent = step.name + ", window " + step.where + padding;
    counter.textContent = "step " + (current + 1) + " / " + steps.length;
    slider.value = current + 1;
    document.title = data.title + " \\u2014 step " + (current + 1) + "/" + steps.length;
    state.textContent = JSON.stringify({
      step: current + 1, steps: steps.length, name: step.name,
      window: step.window, output: step.out, formula: step.lines.join("\\n")
    });
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "\\u25b6 Play";
  }

  function fromHash() {
    var match = /(?:^#|&)step=(\\d+)/.exec(window.location.hash);
    if (!match) return false;
    show(parseInt(match[1], 10) - 1);
    return true;
  }

  function move(by) { stop(); show(current + by); }
  document.getElementById("back").addEventListener("click", function () { move(-1); });
  document.getElementById("step").addEventListener("click", function () { move(1); });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10) - 1); });
  play.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (current >= steps.length - 1) show(0);
    play.textContent = "\\u275a\\u275a Pause";
    timer = setInterval(function () {
      if (current >= steps.length - 1) { stop(); return; }
      show(current + 1);
    }, 1000);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") move(1);
    if (e.key === "ArrowLeft") move(-1);
  });
  window.addEventListener("hashchange", fromHash);
  if (!fromHash()) show(0);

  if (/(?:^#|&)selftest(?:&|$)/.test(window.location.hash)) {
    // Press the controls as a user would and record what they did.
    var record = { steps: [], play: [] };
    var press = function (id) {
      document.getElementById(id).click();
      record.steps.push(current + 1);
    };
    press("step"); press("step"); press("back");
    play.click(); record.play.push(play.textContent, timer !== null);
    play.click(); record.play.push(play.textContent, timer !== null);
    document.getElementById("convolib-selftest").textContent = JSON.stringify(record);
  }
})();
"""


def _flat(shape: tuple[int, ...], index: tuple[int, ...]) -> int:
    return int(np.ravel_multi_index(index, shape)) if shape else 0


def _grid(grid: Grid) -> dict:
    out: dict = {
        "title": grid.title,
        "shape": list(grid.cells.shape),
        "cells": [str(c) for c in grid.cells.flat],
        "offsets": list(grid.offsets or (0,) * grid.cells.ndim),
    }
    if grid.symbols is not None:
        out["symbols"] = [str(s) for s in grid.symbols.flat]
    if grid.inner is not None:
        out["inner"] = [list(span) for span in grid.inner]
    return out


def page_data(model: Model, title: str) -> dict:
    signal = padded_grid(model, None)
    data_signal = _grid(signal)
    data_signal["padding"] = [bool(b) for b in model.padded_boundary.flat]
    shape = model.padded.shape
    out_shape = model.result.shape
    steps = [
        {
            "name": step.name,
            "out": _flat(out_shape, step.index),
            "window": sorted({_flat(shape, t.at) for t in step.terms}),
            "where": window_words(model, step),
            "padding": "; ".join(padding_words(model, step)),
            "lines": [line.strip() if i else line for i, line in enumerate(step.lines())],
        }
        for step in model.steps
    ]
    return {
        "title": title,
        "signal": data_signal,
        "kernel": _grid(kernel_grid(model)),
        "output": _grid(output_grid(model, None)),
        "steps": steps,
    }


def _json_for_script(data: dict) -> str:
    """JSON that cannot end the ``<script>`` element it sits in."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(model: Model, notes: tuple[str, ...], title: str) -> str:
    data = page_data(model, title)
    notes_html = "\n".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<pre id="convolib-errors" class="errors"></pre>
<script>{ERRORS}</script>
<h1>{html.escape(title)}</h1>
<ul class="notes">
{notes_html}
</ul>
<div class="controls">
<button id="back" type="button">&#9664; Back</button>
<button id="play" type="button">&#9654; Play</button>
<button id="step" type="button">Step &#9654;</button>
<input id="slider" type="range" min="1" max="1" value="1" aria-label="step">
<span id="counter"></span>
</div>
<div class="panels">
<div class="panel"><h2>{html.escape(data["signal"]["title"])}</h2><div id="signal"></div></div>
<div class="panel"><h2>{html.escape(kernel_short(model))}, the kernel as applied</h2>
<div id="kernel"></div></div>
<div class="panel"><h2>y</h2><div id="output"></div></div>
</div>
<p id="where"></p>
<pre id="formula" class="formula"></pre>
<pre id="convolib-state" class="state"></pre>
<pre id="convolib-selftest" class="state"></pre>
<script type="application/json" id="convolib-data">{_json_for_script(data)}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
