// The race page, 2 of 3: drawing `race` at the current frame with plotly (the landscape,
// the paths, the loss and coordinate curves, the outcome table) and playing it.
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939"];
let frame = 0, playing = false, lastTick = 0;  // frame: the step drawn (Infinity: the last)

// -- drawing ---------------------------------------------------------------------------------

function traces() {             // one per optimizer, lr and start: [label, color, path, loss]
  const out = [];
  race.runs.forEach((run, i) => {
    run.paths.forEach((byStart, j) => byStart.forEach((path, k) => {
      const fan = run.lrs.length > 1;
      const color = fan ? COLORS[j % COLORS.length] : COLORS[i % COLORS.length];
      const name = fan ? `${run.label} lr=${fmt(run.lrs[j])}` : run.label;
      out.push({ name, color, path, loss: run.losses[j][k], group: name, first: k === 0,
                 outcome: run.outcome[j][k], arrival: run.arrival[j][k], lr: run.lrs[j], k });
    }));
  });
  return out;
}

function fmt(v) { return v === null ? "-" : String(Number(Number(v).toPrecision(3))); }

function zOf(loss) {            // a loss on the drawn (log or linear) z scale
  if (loss === null) return null;
  return land.log ? Math.log10(Math.max(loss - land.floor, 10 ** land.zmin)) : loss;
}

function drawLandscape() {
  const gd = $("contour");
  const zs = land.z.flat().filter((v) => v !== null);
  land.zmin = Math.min(...zs);
  const points = (list, symbol, name) => ({
    x: list.map((p) => p.location[0]), y: list.map((p) => p.location[1]),
    mode: "markers", type: "scatter", name, hoverinfo: "name+x+y",
    marker: { symbol, size: 11, color: "white", line: { width: 2, color: "black" } },
  });
  const base = state.view === "surface"
    ? [{ type: "surface", x: land.x, y: land.y, z: land.z, colorscale: "Viridis",
         showscale: false, opacity: 0.85, name: land.name, hoverinfo: "x+y" }]
    : [{ type: "contour", x: land.x, y: land.y, z: land.z, colorscale: "Viridis",
         ncontours: 30, showscale: false, hoverinfo: "x+y", name: land.name,
         contours: { coloring: "lines" }, line: { width: 1 } },
       points(land.minima, "star", "minima"), points(land.saddles, "x", "saddles"),
       { x: [], y: [], mode: "markers", type: "scatter", name: "starts",
         marker: { size: 13, color: "black", symbol: "circle-open", line: { width: 3 } } }];
  const layout = state.view === "surface"
    ? { margin: { l: 0, r: 0, t: 30, b: 0 }, title: { text: land.settings },
        scene: { zaxis: { title: { text: land.log ? "log10(f - f*)" : "f" } } } }
    : { margin: { l: 50, r: 10, t: 30, b: 40 }, dragmode: false, hovermode: "closest",
        title: { text: land.settings }, xaxis: { range: land.domain[0] },
        yaxis: { range: land.domain[1] }, legend: { orientation: "h" } };
  Plotly.react(gd, base, layout, { displaylogo: false, responsive: true });
  gd.dataset.base = String(base.length);
}

function draw() {               // the whole race at the current frame
  const gd = $("contour"), base = Number(gd.dataset.base || 0);
  const all = traces();
  const at = Math.max(0, Math.min(frame, race.done));  // frame: Infinity follows the race
  $("scrub").max = String(race.steps);
  const surface = state.view === "surface";
  const paths = all.map((t) => {
    const upto = t.path.slice(0, at + 1);
    const tr = { x: upto.map((p) => p[0]), y: upto.map((p) => p[1]), name: t.name,
                 legendgroup: t.group, showlegend: t.first, mode: "lines+markers",
                 line: { color: t.color, width: 2 }, marker: { size: 3, color: t.color } };
    if (surface) return { ...tr, type: "scatter3d", z: t.loss.slice(0, at + 1).map(zOf),
                          marker: { size: 2, color: t.color } };
    return { ...tr, type: "scatter" };
  });
  const data = gd.data.slice(0, base);
  if (!surface) data[3] = { ...data[3], x: (state.starts || []).map((p) => p[0]),
                            y: (state.starts || []).map((p) => p[1]) };
  Plotly.react(gd, [...data, ...paths], gd.layout);
  race.first = race.first || { done: race.done, paths: paths.length,
                               ms: Math.round(performance.now() - race.t0) };
  drawLoss(all, at);
  drawCoords(all);
  drawOutcomes(all, at);
  $("scrub").value = String(at);
  $("frame").textContent = `step ${at} / ${race.steps}`;
  document.body.dataset.frame = String(at);
}

function drawLoss(all, at) {
  const data = all.map((t) => ({
    x: t.loss.map((_, s) => s), y: t.loss.map((v) => (land.log && v !== null ? v - land.floor : v)),
    name: t.name, legendgroup: t.group, showlegend: t.first, type: "scatter", mode: "lines",
    line: { color: t.color, width: 1.5 },
  }));
  const layout = { margin: { l: 60, r: 10, t: 10, b: 35 }, showlegend: true,
                   xaxis: { title: { text: "step" } },
                   yaxis: { type: land.log ? "log" : "linear",
                            title: { text: land.log ? "f - f*" : "loss" } },
                   shapes: [{ type: "line", x0: at, x1: at, yref: "paper", y0: 0, y1: 1,
                              line: { color: "#888", dash: "dot" } }] };
  Plotly.react($("loss"), data, layout, { displaylogo: false, responsive: true });
}

function drawCoords(all) {      // x(t) and y(t), as the tutorials' lr-fan figures
  const box = $("coords");
  box.style.display = state.fan.on ? "" : "none";
  if (!state.fan.on) return;
  const data = [];
  all.filter((t) => t.k === 0).forEach((t) => [0, 1].forEach((c) => data.push({
    x: t.path.map((_, s) => s), y: t.path.map((p) => (p[c] === null ? null : p[c])),
    name: t.name, legendgroup: t.group, showlegend: c === 0, type: "scatter", mode: "lines",
    line: { color: t.color, width: 1.5, dash: c ? "dash" : "solid" },
  })));
  const layout = { margin: { l: 50, r: 10, t: 10, b: 35 },
                   xaxis: { title: { text: "step (x solid, y dashed)" } } };
  Plotly.react(box, data, layout, { displaylogo: false, responsive: true });
}

function drawOutcomes(all, at) {
  const rows = all.map((t) => {
    const last = t.loss[Math.min(at, t.loss.length - 1)];
    return `<tr><td>${t.name}</td><td>${t.k + 1}</td><td class="${t.outcome}">${t.outcome}</td>` +
           `<td>${fmt(last)}</td><td>${t.arrival >= 0 ? t.arrival : "-"}</td></tr>`;
  });
  $("outcomes").innerHTML = "<tr><th>optimizer</th><th>start</th><th>outcome</th>" +
    "<th>loss at this step</th><th>arrived at step</th></tr>" + rows.join("");
}

// -- animation -------------------------------------------------------------------------------

function tick(now) {
  if (!playing) return;
  const speed = Number($("speed").value);
  const advance = Math.floor(((now - lastTick) / 1000) * speed);
  if (advance >= 1) {
    lastTick = now;
    frame = Math.min(race.done, frame + advance);  // waits there for the next chunk
    draw();
    if (frame >= race.steps) { setPlaying(false); return; }
  }
  requestAnimationFrame(tick);
}

function setPlaying(on) {
  playing = on;
  $("play").textContent = on ? "pause" : "play";
  if (on) {
    if (frame >= race.steps) frame = 0;  // also Infinity (after a drag)
    lastTick = performance.now();
    requestAnimationFrame(tick);
  }
}
