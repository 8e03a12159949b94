// The race page of `ravine explore`, 1 of 3: the page's state (mirrored in the URL), the
// race it asks for, and the streamed answer gathered into `race`. All the math is on the
// server (ravine.race); explore-draw.js draws `race`, explore.js wires the controls.
"use strict";

const CLIENT = Math.random().toString(36).slice(2);  // a newer race of this page cancels older

const state = {             // everything a link reproduces
  landscape: "rosenbrock", options: {}, steps: 200, starts: null, view: "contour",
  on: ["sgd", "momentum", "adam"], hp: {}, sched: {},
  fan: { on: false, optimizer: "sgd", low: 1e-4, high: 1, n: 8 },
};
let land = null;            // the landscape's facts and grid (GET /api/landscapes/NAME)
let optimizers = [];        // what can race there, with controls
let race = { steps: 0, done: 0, chunks: [], runs: [] };  // done: the steps received
let inflight = null;        // the race being streamed (its AbortController)

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

// -- a download of the current race, drawn by the server ------------------------------------

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
