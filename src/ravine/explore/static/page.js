// What both pages of `ravine explore` share: finding elements, the status line, and asking
// the server for JSON (an error reply becomes an Error carrying the server's message).
"use strict";

const $ = (id) => document.getElementById(id);

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

async function getJSON(url, init = {}) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}
