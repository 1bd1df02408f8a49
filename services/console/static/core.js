/* Tarn console: shared helpers. Every value is shown as a text node (function output is
   untrusted): el() never parses markup. */
"use strict";

const LAMBDA = "/2015-03-31";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "onclick" || name === "onchange" || name === "oninput") node[name] = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.text();
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${body.slice(0, 300)}`);
  return body ? JSON.parse(body) : {};
}

/* Every page of a Lambda List operation: items under `key`, following NextMarker. */
async function listAll(path, key) {
  const items = [];
  let marker = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await getJson(marker ? `${path}${sep}Marker=${encodeURIComponent(marker)}` : path);
    items.push(...(page[key] || []));
    marker = page.NextMarker;
  } while (marker);
  return items;
}

function when(ms) {
  if (!ms) return "";
  const date = new Date(ms);
  return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

function ms(value) {
  return value === null || value === undefined ? "" : `${Number(value).toFixed(2)} ms`;
}

function table(headers, rows, testid) {
  return el("table", { "data-testid": testid },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows));
}

function kv(pairs) {
  return el("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function link(href, text) {
  return el("a", { href }, text);
}

function functionLink(name) {
  return link(`#/function/${encodeURIComponent(name)}`, name);
}

function invocationLink(requestId) {
  return link(`#/invocation/${encodeURIComponent(requestId)}`, requestId);
}

function outcomeCell(record) {
  if (record.kind === "AsyncEventSettled") {
    const where = record.destinations.map((d) => d[0]).join(", ") || "nowhere";
    return el("span", { class: record.condition }, `${record.condition} → ${where}`);
  }
  const text = record.error_type ? `${record.outcome} (${record.error_type})` : record.outcome;
  return el("span", { class: record.outcome }, text);
}

/* A record as one row of an invocations table. */
function recordRow(record) {
  const settled = record.kind === "AsyncEventSettled";
  return el("tr", { "data-testid": "record-row", "data-outcome": record.outcome || record.condition },
    el("td", {}, when(settled ? record.at_ms : record.start_ms)),
    el("td", {}, functionLink(record.function)),
    el("td", {}, settled ? record.qualifier : `${record.version}${record.qualifier ? " (" + record.qualifier + ")" : ""}`),
    el("td", {}, settled ? "async (end)" : record.trigger),
    el("td", {}, outcomeCell(record)),
    el("td", {}, settled ? `${record.attempts} attempt(s)` : ms(record.duration_ms)),
    el("td", {}, invocationLink(record.request_id)));
}

const RECORD_HEADERS = ["Start", "Function", "Version", "Trigger", "Outcome", "Duration", "Request id"];

/* Runtimes write a multi-line message as one log event, its lines joined by CR. */
function readableLog(text) {
  return text.replace(/\r/g, "\n");
}

function errorBox(error) {
  return el("div", { class: "panel error", "data-testid": "error" }, String(error));
}
