// The race page of `ravine explore`. All the math is on the server (ravine.race); this file
// keeps the page's state (mirrored in the URL), asks for races, and draws them with plotly.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939"];
const CLIENT = Math.random().toString(36).slice(2);  // a newer race of this page cancels older

const state = {             // everything a link reproduces
  landscape: "rosenbrock", options: {}, steps: 200, starts: null, view: "contour",
  on: ["sgd", "momentum", "adam"], hp: {}, sched: {},
  fan: { on: false, optimizer: "sgd", low: 1e-4, high: 1, n: 8 },
};
let land = null;            // the landscape's facts and grid (GET /api/landscapes/NAME)
let optimizers = [];        // what can race there, with controls
let race = { steps: 0, done: 0, chunks: [], runs: [] };  // done: the steps received
let frame = 0, playing = false, inflight = null, lastTick = 0;

// -- state <-> URL -------------------------------------------------------------------------

function readURL() {
  const text = new URLSearchParams(location.search).get("s");
  if (!text) return;
  try { Object.assign(state, JSON.parse(text)); } catch (e) { status("bad link: " + e, true); }
}

function writeURL() {
  const url = location.pathname + "?s=" + encodeURIComponent(JSON.stringify(state));
  history.replaceState(null, "", url);
}

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

async function getJSON(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// -- the request of the current race -------------------------------------------------------

function body() {
  const entry = (name) => ({
    name, hyperparameters: { ...(state.hp[name] || {}) },
    schedules: state.sched[name] ? { lr: state.sched[name] } : {},
  });
  let list;
  if (state.fan.on) {
    const e = entry(state.fan.optimizer);
    delete e.hyperparameters.lr;
    e.lr_grid = { low: +state.fan.low, high: +state.fan.high, n: +state.fan.n };
    list = [e];
  } else {
    list = state.on.filter((n) => optimizers.some((o) => o.name === n)).map(entry);
  }
  return { landscape: state.landscape, options: state.options, steps: +state.steps,
           starts: state.starts, optimizers: list };
}

async function runRace() {
  writeURL();
  if (inflight) inflight.abort();           // never queue a stale race
  const controller = new AbortController();
  inflight = controller;
  const t0 = performance.now();
  status("racing...");
  try {
    const r = await fetch("/api/race", {
      method: "POST", body: JSON.stringify(body()), signal: controller.signal,
      headers: { "Content-Type": "application/json", "X-Ravine-Client": CLIENT },
    });
    if (!r.ok) { const e = await r.json(); throw new Error(e.error); }
    const reader = r.body.getReader(), decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 1);
        if (msg.type === "error") throw new Error(msg.error);
        if (controller.signal.aborted) return;  // a newer race took over
        if (receive(msg, t0)) draw();           // draw as the steps arrive
      }
    }
    if (inflight === controller) {
      status(`${race.runs.length} optimizer(s), ${race.steps} steps: first frame ` +
             `${race.first.ms} ms, complete ${Math.round(performance.now() - t0)} ms`);
      document.body.dataset.raced = String(Number(document.body.dataset.raced || 0) + 1);
    }
  } catch (e) {
    if (e.name !== "AbortError") status(e.message, true);
  }
}

function receive(msg, t0) {      // one streamed message into `race`; true: redraw
  if (msg.type === "race") {      // the header: empty paths, outcomes still to come
    const grid = (lrs, fill) => lrs.map(() => msg.starts.map(fill));
    race = { steps: msg.steps, done: -1, chunks: [], t0, first: null,
             runs: msg.optimizers.map((o) => ({
      ...o, paths: grid(o.lrs, () => []), losses: grid(o.lrs, () => []),
      outcome: grid(o.lrs, () => "running"), arrival: grid(o.lrs, () => -1) })) };
  } else if (msg.type === "chunk") {  // each optimizer's steps begin..done
    msg.runs.forEach((c, i) => c.paths.forEach((byStart, j) => byStart.forEach((p, k) => {
      race.runs[i].paths[j][k].push(...p);
      race.runs[i].losses[j][k].push(...c.losses[j][k]);
    })));
    race.done = msg.done;
    race.chunks.push(msg.done);
    return true;
  } else if (msg.type === "run") {    // outcomes; positions after a divergence are blanked
    const run = race.runs.find((r) => r.label === msg.label);
    Object.assign(run, { outcome: msg.outcome, arrival: msg.arrival, diverged: msg.diverged });
    msg.diverged.forEach((row, j) => row.forEach((d, k) => {
      if (d < 0) return;
      run.paths[j][k].fill([null, null], d + 1);
      run.losses[j][k].fill(null, d + 1);
    }));
    return run === race.runs[race.runs.length - 1];
  }
  return false;
}

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

// -- starts: click to place, drag to move ----------------------------------------------------

function toData(evt) {
  const gd = $("contour"), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const rect = gd.getBoundingClientRect();
  const px = evt.clientX - rect.left - xa._offset, py = evt.clientY - rect.top - ya._offset;
  if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
  return [xa.p2c(px), ya.p2c(py)];
}

function nearStart(evt) {
  const gd = $("contour"), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const rect = gd.getBoundingClientRect();
  return (state.starts || []).findIndex((p) => Math.hypot(
    xa.c2p(p[0]) + xa._offset - (evt.clientX - rect.left),
    ya.c2p(p[1]) + ya._offset - (evt.clientY - rect.top)) < 10);
}

function wireStarts() {
  const gd = $("contour");
  let dragging = -1, moved = false, pending = false;
  gd.addEventListener("mousedown", (evt) => {
    if (state.view !== "contour") return;
    dragging = nearStart(evt);
    moved = false;
  }, true);
  window.addEventListener("mousemove", (evt) => {
    if (dragging < 0) return;
    const p = toData(evt);
    if (!p) return;
    moved = true;
    state.starts[dragging] = p.map((v) => +v.toFixed(4));
    if (!pending) {             // at most one race per animation frame; each aborts the last
      pending = true;
      requestAnimationFrame(() => { pending = false; frame = Infinity; runRace(); });
    }
  });
  window.addEventListener("mouseup", () => { dragging = -1; });
  gd.addEventListener("click", (evt) => {
    if (state.view !== "contour" || moved) { moved = false; return; }
    const p = toData(evt);
    if (!p || nearStart(evt) >= 0) return;
    state.starts = [...(state.starts || []), p.map((v) => +v.toFixed(4))].slice(-8);
    frame = 0;
    runRace().then(() => setPlaying(true));
  });
}

// -- controls ---------------------------------------------------------------------------------

function controlInput(opt, c) {  // one hyperparameter's input, generated from its constraint
  const hp = (state.hp[opt.name] = state.hp[opt.name] || {});
  const value = c.name in hp ? hp[c.name] : c.default;
  const wrap = document.createElement("div");
  wrap.className = "control";
  const set = (v) => { hp[c.name] = v; runRace(); };
  const label = `<span title="${c.kind}">${c.name}</span>`;
  if (c.kind === "switch") {
    wrap.innerHTML = `${label}<input type="checkbox" ${value ? "checked" : ""}><span></span>`;
    wrap.querySelector("input").onchange = (e) => set(e.target.checked);
  } else if (c.kind === "choice") {
    const opts = c.options.map((o) => `<option ${o === value ? "selected" : ""}>${o}</option>`);
    wrap.innerHTML = `${label}<select>${opts.join("")}</select><span></span>`;
    wrap.querySelector("select").onchange = (e) =>
      set(c.options[e.target.selectedIndex]);
  } else if (c.kind === "log" || c.kind === "linear") {
    const log = c.kind === "log";
    const [lo, hi] = log ? [Math.log10(c.low), Math.log10(c.high)] : [c.low, c.high];
    const pos = log ? Math.log10(Math.max(value, c.low)) : value;
    wrap.innerHTML = `${label}<input type="range" min="${lo}" max="${hi}" step="${(hi - lo) / 300}"` +
      ` value="${pos}" data-hp="${opt.name}.${c.name}"><output>${fmt(value)}</output>`;
    const input = wrap.querySelector("input"), out = wrap.querySelector("output");
    input.oninput = () => {
      const v = log ? 10 ** Number(input.value) : Number(input.value);
      out.textContent = fmt(v);
      set(Number(v.toPrecision(4)));
    };
  } else if (c.kind === "betas") {
    wrap.innerHTML = `${label}<input type="text" value="${value.join(", ")}"><span></span>`;
    wrap.querySelector("input").onchange = (e) =>
      set(e.target.value.split(",").map(Number));
  } else {
    const step = c.kind === "integer" ? "1" : "any";
    wrap.innerHTML = `${label}<input type="number" step="${step}" value="${value}"><span></span>`;
    wrap.querySelector("input").onchange = (e) => set(Number(e.target.value));
  }
  return wrap;
}

function buildOptimizers() {
  const box = $("optimizers");
  box.innerHTML = "";
  for (const opt of optimizers) {
    const d = document.createElement("details");
    d.className = "opt";
    const on = state.on.includes(opt.name);
    d.innerHTML = `<summary><label><input type="checkbox" data-optimizer="${opt.name}"` +
      `${on ? " checked" : ""}> ${opt.name}</label></summary>`;
    d.querySelector("input").onchange = (e) => {
      state.on = e.target.checked ? [...state.on, opt.name] : state.on.filter((n) => n !== opt.name);
      runRace();
    };
    const info = document.createElement("p");
    info.className = "hint";
    info.textContent = opt.description + (opt.batched ? "" : " (runs one trajectory at a time)");
    d.appendChild(info);
    opt.controls.forEach((c) => d.appendChild(controlInput(opt, c)));
    const sched = document.createElement("div");
    sched.className = "control";
    sched.innerHTML = `<span>lr schedule</span><input type="text" placeholder="e.g. cosine:200"` +
      ` value="${state.sched[opt.name] || ""}"><span></span>`;
    sched.querySelector("input").onchange = (e) => {
      if (e.target.value.trim()) state.sched[opt.name] = e.target.value.trim();
      else delete state.sched[opt.name];
      runRace();
    };
    d.appendChild(sched);
    box.appendChild(d);
  }
  $("fan-optimizer").innerHTML = optimizers.filter((o) => o.lr !== null)
    .map((o) => `<option ${o.name === state.fan.optimizer ? "selected" : ""}>${o.name}</option>`)
    .join("");
}

function buildLandscapeOptions() {
  const box = $("landscape-options");
  box.innerHTML = "";
  const names = Object.keys(land.options).filter((k) => k !== "dim");
  if (!names.length) return;
  box.innerHTML = "<h2>Landscape options</h2>" + (land.stochastic
    ? '<p class="hint">mini-batch noise: every step sees batch_size examples</p>' : "");
  for (const key of names) {
    const wrap = document.createElement("div");
    wrap.className = "control";
    const value = key in state.options ? state.options[key] : land.options[key];
    wrap.innerHTML = `<span>${key}</span><input type="number" step="any" value="${value}"` +
      ` data-option="${key}"><span></span>`;
    wrap.querySelector("input").onchange = (e) => {
      state.options[key] = Number(e.target.value);
      loadLandscape(false);
    };
    box.appendChild(wrap);
  }
}

async function loadLandscape(resetStarts) {
  const query = new URLSearchParams(state.options).toString();
  try {
    land = await getJSON(`/api/landscapes/${state.landscape}` + (query ? "?" + query : ""));
    optimizers = (await getJSON(`/api/optimizers/${state.landscape}`)).optimizers;
  } catch (e) { status(e.message, true); return; }
  if (resetStarts || !state.starts) state.starts = [land.start];
  buildLandscapeOptions();
  buildOptimizers();
  drawLandscape();
  frame = 0;
  await runRace();
  setPlaying(true);
}

function wirePage(landscapes) {
  $("landscape").innerHTML = landscapes.map((l) =>
    `<option ${l.name === state.landscape ? "selected" : ""}>${l.name}</option>`).join("");
  $("landscape").onchange = (e) => {
    Object.assign(state, { landscape: e.target.value, options: {}, hp: {}, sched: {} });
    loadLandscape(true);
  };
  $("steps").value = state.steps;
  $("steps").onchange = (e) => { state.steps = Number(e.target.value); runRace(); };
  $("view").value = state.view;
  $("view").onchange = (e) => { state.view = e.target.value; writeURL(); drawLandscape(); draw(); };
  $("play").onclick = () => setPlaying(!playing);
  $("step").onclick = () => { setPlaying(false); frame = Math.min(race.done, frame + 1); draw(); };
  $("scrub").oninput = (e) => { setPlaying(false); frame = Number(e.target.value); draw(); };
  $("clear-starts").onclick = () => { state.starts = [land.start]; frame = 0; runRace(); };
  $("fan").checked = state.fan.on;
  for (const key of ["low", "high", "n"]) $("fan-" + key).value = state.fan[key];
  const fanChanged = () => {
    Object.assign(state.fan, { on: $("fan").checked, optimizer: $("fan-optimizer").value,
      low: Number($("fan-low").value), high: Number($("fan-high").value),
      n: Number($("fan-n").value) });
    runRace();
  };
  for (const id of ["fan", "fan-optimizer", "fan-low", "fan-high", "fan-n"]) $(id).onchange = fanChanged;
  document.querySelectorAll("button.download").forEach((b) => { b.onclick = () => download(b.dataset.format); });
  wireStarts();
}

async function download(format) {
  status(`drawing ${format}...`);
  const r = await fetch(`/api/download/${format}`, {
    method: "POST", body: JSON.stringify(body()), headers: { "Content-Type": "application/json" },
  });
  if (!r.ok) { status((await r.json()).error, true); return; }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await r.blob());
  a.download = `ravine-${state.landscape}.${format}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  status(`downloaded ${a.download}`);
}

async function main() {
  readURL();
  const listed = await getJSON("/api/landscapes");
  wirePage(listed.landscapes);
  await loadLandscape(false);
}

main().catch((e) => status(e.message, true));
