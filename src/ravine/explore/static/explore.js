// The race page, 3 of 3: the controls (generated from each optimizer's constraints), the
// starts placed and dragged on the contours, and the page's wiring. explore-race.js asks for
// races and explore-draw.js draws them; page.js holds what the study page shares.
"use strict";

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

async function main() {
  readURL();
  const listed = await getJSON("/api/landscapes");
  wirePage(listed.landscapes);
  await loadLandscape(false);
}

main().catch((e) => status(e.message, true));
