// The study page of `ravine explore STORE`: it polls the server for the study (numbers from
// ravine.study.summary, figures from ravine.report.interactive) and only draws them.
"use strict";

const POLL_MS = Number(new URLSearchParams(location.search).get("poll") || 1000);
const FRESH = { cache: "no-store" };  // every look asks the server again
const CONFIG = { displaylogo: false, responsive: true, showLink: false };
let studyId = Number(new URLSearchParams(location.search).get("study") || 0);
let version = null, chosen = null, timer = null, updates = 0;

function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (v === "inf") return "never";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function table(el, rows, columns, rowAttrs = () => ({})) {
  el.replaceChildren();
  if (!rows.length) {
    el.innerHTML = "<tbody><tr><td class='l hint'>(none)</td></tr></tbody>";
    return;
  }
  const head = el.createTHead().insertRow();
  for (const [, title] of columns) {
    const th = document.createElement("th");
    th.textContent = title;
    if (head.cells.length === 0) th.className = "l";
    head.appendChild(th);
  }
  const body = el.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const [k, v] of Object.entries(rowAttrs(row))) tr.setAttribute(k, v);
    for (const [key] of columns) {
      const td = tr.insertCell();
      const value = row[key];
      td.textContent = fmt(value);
      if (typeof value !== "number") td.className = "l";
      if (key === "status") td.classList.add(value);
    }
  }
}

function drawCounts(counts) {
  const parts = Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`);
  $("counts").textContent = parts.join(", ") || "no trials yet";
  for (const [k, n] of Object.entries(counts)) document.body.dataset[k] = n;
}

function drawProblems(problems) {
  const holder = $("problems");
  for (const p of problems) {
    let box = holder.querySelector(`section[data-problem="${CSS.escape(p.name)}"]`);
    if (!box) {
      box = document.createElement("section");
      box.className = "problem";
      box.dataset.problem = p.name;
      box.innerHTML = "<h2></h2><div class='plot curves'></div>" +
        "<div class='plot sensitivity'></div><table class='grid sens'></table>";
      holder.appendChild(box);
    }
    box.querySelector("h2").textContent = `${p.name}: ${p.metric} (${p.better} is better)`;
    for (const kind of ["curves", "sensitivity"]) {
      const div = box.querySelector("." + kind), fig = p.figures[kind];
      div.style.display = fig ? "" : "none";
      if (fig) Plotly.react(div, fig.data, fig.layout, CONFIG);
    }
    table(box.querySelector("table.sens"), p.sensitivity, [["optimizer", "optimizer"],
      ["lr", "lr"], ["val_metric_mean", `final val ${p.metric}`], ["val_metric_std", "± std"],
      ["trials", "trials"], ["diverged", "diverged"]]);
  }
}

function draw(s) {
  version = s.version;
  drawCounts(s.counts);
  document.title = `ravine study: ${s.name}`;
  const running = s.trials.filter((t) => t.status === "running");
  const failed = s.trials.filter((t) => t.status === "failed" || t.status === "diverged");
  const id = (t) => ({ "data-trial": t.id });
  table($("running"), running, [["id", "trial"], ["problem", "problem"],
    ["optimizer", "optimizer"], ["setting", "setting"], ["seed", "seed"],
    ["running_for", "seconds"], ["attempts", "attempts"]], id);
  table($("failed"), failed, [["id", "trial"], ["problem", "problem"],
    ["optimizer", "optimizer"], ["setting", "setting"], ["seed", "seed"],
    ["status", "status"], ["reason", "reason"]], id);
  drawProblems(s.problems);
  table($("summary"), s.summary, [["problem", "problem"], ["optimizer", "optimizer"],
    ["best", "best setting"], ["seeds", "seeds"], ["val_metric_mean", "val metric"],
    ["val_metric_std", "± std"], ["val_loss_mean", "val loss"],
    ["train_loss_mean", "train loss"], ["steps_to_target", "steps to target"],
    ["divergence_rate", "divergence rate"], ["trials", "trials"]]);
  table($("trials"), s.trials, [["id", "trial"], ["problem", "problem"],
    ["optimizer", "optimizer"], ["setting", "setting"], ["seed", "seed"], ["stage", "stage"],
    ["status", "status"], ["steps", "steps"], ["wall_time", "seconds"], ["reason", "reason"]],
    (t) => ({ "data-trial": t.id, class: t.id === chosen ? "chosen" : "" }));
  updates += 1;
  document.body.dataset.updates = updates;
  document.body.dataset.version = version;
}

async function showTrial(id) {
  chosen = id;
  for (const tr of $("trials").querySelectorAll("tr[data-trial]")) {
    tr.classList.toggle("chosen", Number(tr.dataset.trial) === id);
  }
  try {
    const t = await getJSON(`/api/studies/${studyId}/trials/${id}`, FRESH);
    Plotly.react($("trial"), t.figure.data, t.figure.layout, CONFIG);
    document.body.dataset.trial = id;
  } catch (e) { status(String(e.message || e), true); }
}

async function poll() {
  clearTimeout(timer);
  try {
    const since = version === null ? "" : `?since=${version}`;
    const s = await getJSON(`/api/studies/${studyId}${since}`, FRESH);
    if (!s.unchanged) draw(s);
    status(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) { status(String(e.message || e), true); }
  timer = setTimeout(poll, POLL_MS);
}

async function init() {
  const { studies } = await getJSON("/api/studies", FRESH);
  const select = $("study");
  for (const s of studies) {
    const o = document.createElement("option");
    o.value = s.id;
    o.textContent = s.error ? `${s.file} (not a store)` : `${s.name} (${s.file})`;
    select.appendChild(o);
  }
  if (!studies.length) { status("no study: give stores to `ravine explore STORE`", true); return; }
  select.value = String(studyId);
  select.addEventListener("change", () => {
    studyId = Number(select.value);
    version = null; chosen = null;
    $("problems").replaceChildren();
    Plotly.purge($("trial"));
    history.replaceState(null, "", `?study=${studyId}`);
    poll();
  });
  $("trials").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-trial]");
    if (tr) showTrial(Number(tr.dataset.trial));
  });
  poll();
}

init().catch((e) => status(String(e.message || e), true));
