/* Tarn console: the views other than a function's own page. Each returns the nodes to show. */
"use strict";

/* What ListFunctions leaves out: each function's State (GetFunctionConfiguration) and the
   executor that runs it (Tarn's facts), for the first DETAILED functions. */
const DETAILED = 100;

async function details(name) {
  const path = encodeURIComponent(name);
  try {
    const [config, facts] = await Promise.all([
      getJson(`${LAMBDA}/functions/${path}/configuration`), getJson(`/_tarn/functions/${path}`)]);
    return { state: config.State, executor: facts.Executor };
  } catch {
    return {};
  }
}

async function functionsView() {
  const [functions, summary] = await Promise.all([
    listAll(`${LAMBDA}/functions/`, "Functions"),
    getJson("/_tarn/function-summaries"),
  ]);
  const more = await Promise.all(functions.slice(0, DETAILED).map((f) => details(f.FunctionName)));
  const totals = summary.functions || {};
  const rows = functions.map((f, i) => {
    const seen = totals[f.FunctionName] || {};
    const known = more[i] || {};
    return el("tr", { "data-testid": "function-row", "data-function": f.FunctionName },
      el("td", {}, functionLink(f.FunctionName)),
      el("td", { class: known.state }, known.state || ""),
      el("td", {}, f.Runtime || f.PackageType || ""),
      el("td", {}, known.executor || ""),
      el("td", {}, `${f.MemorySize} MB / ${f.Timeout} s`),
      el("td", {}, (f.Layers || []).length),
      el("td", {}, seen.last_ms ? el("span", { class: seen.last_outcome }, `${when(seen.last_ms)} ${seen.last_outcome}`) : "never"),
      el("td", {}, seen.invocations || 0),
      el("td", {}, seen.errors || 0),
      el("td", {}, seen.throttles || 0));
  });
  return [el("h1", {}, `Functions (${functions.length})`),
    table(["Name", "State", "Runtime", "Executor", "Memory / timeout", "Layers", "Last invocation",
      "Invocations (1 h)", "Errors (1 h)", "Throttles (1 h)"], rows, "functions")];
}

function recordsQuery(filters) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  return query.toString();
}

/* A live invocations table: the newest records, then new ones as the server sends them. */
async function liveRecords(filters, limit) {
  const query = recordsQuery(filters);
  const body = el("tbody", {});
  const found = await getJson(`/_tarn/invocations?${query}&limit=${limit}`);
  body.append(...found.invocations.map(recordRow));
  const source = new EventSource(`/_tarn/invocations/live?${query}`);
  source.onmessage = (message) => {
    body.prepend(recordRow(JSON.parse(message.data)));
    while (body.children.length > limit) body.lastChild.remove();
  };
  onLeave(() => source.close());
  return el("table", { "data-testid": "invocations" },
    el("thead", {}, el("tr", {}, RECORD_HEADERS.map((h) => el("th", {}, h)))), body);
}

async function invocationsView(params) {
  const filters = { function: params.get("function") || "", outcome: params.get("outcome") || "", trigger: params.get("trigger") || "" };
  const fn = el("input", { name: "function", placeholder: "function", value: filters.function, "data-testid": "filter-function" });
  const outcome = el("select", { name: "outcome", "data-testid": "filter-outcome" },
    ["", "success", "error", "timeout", "throttle", "rejected"].map((o) =>
      el("option", { value: o, selected: o === filters.outcome }, o || "any outcome")));
  const trigger = el("input", { name: "trigger", placeholder: "trigger (api, url, async, esm:…)", value: filters.trigger, "data-testid": "filter-trigger" });
  const apply = el("button", { "data-testid": "filter-apply", onclick: () => {
    location.hash = "#/invocations?" + recordsQuery({ function: fn.value, outcome: outcome.value, trigger: trigger.value });
  } }, "Filter");
  return [el("h1", {}, "Invocations"), el("div", { class: "filters panel" }, fn, outcome, trigger, apply),
    await liveRecords(filters, 200)];
}

async function invocationView(requestId) {
  const found = await getJson(`/_tarn/invocations/${encodeURIComponent(requestId)}`);
  const records = found.invocations;
  const items = records.map((r) => r.kind === "AsyncEventSettled" ? endItem(r) : attemptItem(r));
  return [el("h1", {}, "Invocation ", requestId),
    el("ol", { class: "timeline", "data-testid": "timeline" }, items)];
}

function attemptItem(r) {
  const title = r.trigger.startsWith("async:") ? `Attempt ${r.trigger.slice(6)}` : `Invocation (${r.trigger})`;
  return el("li", { class: `t-${r.outcome}`, "data-testid": "timeline-attempt", "data-outcome": r.outcome },
    el("strong", {}, title), " ", when(r.start_ms), " ", outcomeCell(r),
    el("div", { class: "panel" }, kv([
      ["Function", functionLink(r.function)], ["Version", r.version], ["Qualifier", r.qualifier || "(none)"],
      ["Trigger", r.trigger], ["Duration", ms(r.duration_ms)], ["Init duration", ms(r.init_ms)],
      ["Billed duration", `${r.billed_ms} ms`], ["Memory", `${r.max_memory_mb} of ${r.memory_mb} MB`],
      ["Payload", `${r.payload_bytes} bytes`], ["Response", `${r.response_bytes} bytes`],
    ]), el("h2", {}, "Log"), el("pre", { "data-testid": "record-log" }, readableLog(r.log))));
}

function endItem(r) {
  const ok = r.condition === "Success";
  const where = r.destinations.length ? r.destinations.map(([kind, arn]) => `${kind}: ${arn}`) : ["no destination: dropped"];
  return el("li", { class: ok ? "ended-ok" : "ended-failed", "data-testid": "timeline-end", "data-condition": r.condition },
    el("strong", {}, `Ended: ${r.condition}`), ` after ${r.attempts} attempt(s), ${when(r.at_ms)}`,
    el("ul", {}, where.map((w) => el("li", { "data-testid": "destination" }, w))));
}

async function mappingsView() {
  const mappings = await listAll(`${LAMBDA}/event-source-mappings/`, "EventSourceMappings");
  const sections = await Promise.all(mappings.map(mappingSection));
  return [el("h1", {}, `Event source mappings (${mappings.length})`), ...sections];
}

async function mappingSection(m) {
  const [source, batches] = await Promise.all([
    getJson(`/_tarn/event-source-mappings/${encodeURIComponent(m.UUID)}/source`),
    getJson(`/_tarn/invocations?trigger=${encodeURIComponent("esm:" + m.UUID)}&limit=10`),
  ]);
  const last = batches.invocations.find((r) => r.queued_ms);
  const depth = source.visible !== undefined ? `${source.visible} visible, ${source.in_flight} in flight`
    : last ? `iterator age ${last.start_ms - last.queued_ms} ms (last batch)` : (source.error || "n/a");
  return el("div", { class: "panel", "data-testid": "mapping", "data-uuid": m.UUID },
    el("h2", {}, m.EventSourceArn, " → ", functionLink(m.FunctionArn.split(":")[6])),
    kv([["UUID", m.UUID], ["State", el("span", { class: m.State }, m.State)], ["Batch size", m.BatchSize],
      ["Last processing result", m.LastProcessingResult || "—"], ["Source depth", el("span", { "data-testid": "depth" }, depth)]]),
    el("h2", {}, "Recent batches"),
    table(RECORD_HEADERS, batches.invocations.map(recordRow), "batches"));
}

async function asyncView() {
  const state = await getJson("/_tarn/async");
  const names = [...new Set([...Object.keys(state.in_retry), ...Object.keys(state.ended)])].sort();
  const rows = names.map((name) => {
    const ended = state.ended[name] || {};
    return el("tr", { "data-testid": "async-row" }, el("td", {}, functionLink(name)),
      el("td", {}, state.in_retry[name] || 0), el("td", {}, ended.Success || 0),
      el("td", {}, (ended.RetriesExhausted || 0) + (ended.EventAgeExceeded || 0)),
      el("td", {}, ended.DLQ || 0), el("td", {}, ended.OnFailure || 0), el("td", {}, ended.OnSuccess || 0));
  });
  return [el("h1", {}, "Asynchronous invocation"),
    el("p", { "data-testid": "async-waiting" }, `Events waiting for an attempt: ${state.waiting}`),
    table(["Function", "In retry", "Succeeded (1 h)", "Failed (1 h)", "Dead-lettered (1 h)", "To OnFailure (1 h)", "To OnSuccess (1 h)"], rows, "async")];
}

async function stackView() {
  const [health, stack] = await Promise.all([
    fetch("/_tarn/health").then((r) => r.json()),
    getJson("/_tarn/stack"),
  ]);
  const rows = Object.entries(health.components).map(([name, state]) =>
    el("tr", { "data-testid": "component" }, el("td", {}, name), el("td", { class: state }, state),
      el("td", {}, (stack.instances[name] || []).length || (name === "api" || name === "redis" || name === "companion" ? "" : 0)),
      el("td", {}, (stack.instances[name] || []).join(", "))));
  return [el("h1", {}, "Stack: ", el("span", { class: health.status }, health.status)),
    table(["Component", "State", "Instances", "Consumers"], rows, "stack"),
    el("h2", {}, "Settings"), kv(Object.entries(stack.settings))];
}
