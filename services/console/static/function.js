/* Tarn console: one function's page: configuration, versions and aliases, the test-event
   editor with saved events (this browser's localStorage), Invoke, graphs, recent invocations. */
"use strict";

async function functionView(name) {
  const path = `${LAMBDA}/functions/${encodeURIComponent(name)}`;
  const [fn, facts, versions, aliases, graph] = await Promise.all([
    getJson(path),
    getJson(`/_tarn/functions/${encodeURIComponent(name)}`),
    listAll(`${path}/versions`, "Versions"),
    listAll(`${path}/aliases`, "Aliases"),
    getJson(`/_tarn/graphs?function=${encodeURIComponent(name)}`),
  ]);
  const c = fn.Configuration;
  return [el("h1", {}, name),
    el("div", { class: "panel" }, kv([
      ["State", el("span", { class: c.State }, `${c.State}${c.StateReason ? " — " + c.StateReason : ""}`)],
      ["Runtime", c.Runtime || c.PackageType], ["Executor", facts.Executor], ["Handler", c.Handler || ""],
      ["Memory", `${c.MemorySize} MB`], ["Timeout", `${c.Timeout} s`], ["Role", c.Role],
      ["Layers", (c.Layers || []).map((l) => l.Arn).join(", ") || "none"],
      ["Dead-letter target", (c.DeadLetterConfig || {}).TargetArn || "none"],
      ["Environment", Object.keys((c.Environment || {}).Variables || {}).join(", ") || "none"],
      ["Last modified", c.LastModified], ["ARN", c.FunctionArn],
    ])),
    testEvents(name),
    el("h2", {}, "Last hour"), functionCharts(graph),
    el("h2", {}, "Versions"),
    table(["Version", "Description", "Last modified", "Code SHA-256"], versions.map((v) =>
      el("tr", {}, el("td", {}, v.Version), el("td", {}, v.Description || ""), el("td", {}, v.LastModified), el("td", {}, v.CodeSha256))), "versions"),
    el("h2", {}, "Aliases"),
    table(["Alias", "Version", "Weights"], aliases.map((a) =>
      el("tr", {}, el("td", {}, a.Name), el("td", {}, a.FunctionVersion),
        el("td", {}, Object.entries((a.RoutingConfig || {}).AdditionalVersionWeights || {}).map(([v, w]) => `${v}: ${w}`).join(", ") || "—"))), "aliases"),
    el("h2", {}, "Recent invocations"), await liveRecords({ function: name }, 20)];
}

function savedEvents(name) {
  try { return JSON.parse(localStorage.getItem(`tarn.events.${name}`) || "{}"); } catch { return {}; }
}

function testEvents(name) {
  const editor = el("textarea", { "data-testid": "event-editor", spellcheck: "false" }, '{\n  "key": "value"\n}');
  const title = el("input", { placeholder: "event name", "data-testid": "event-name" });
  const choose = el("select", { "data-testid": "saved-events" });
  const result = el("div", { "data-testid": "invoke-result" });
  const refresh = () => {
    choose.replaceChildren(el("option", { value: "" }, "saved events…"),
      ...Object.keys(savedEvents(name)).sort().map((k) => el("option", { value: k }, k)));
  };
  choose.onchange = () => { const saved = savedEvents(name)[choose.value]; if (saved !== undefined) { editor.value = saved; title.value = choose.value; } };
  const save = () => {
    if (!title.value) return;
    const events = savedEvents(name);
    events[title.value] = editor.value;
    localStorage.setItem(`tarn.events.${name}`, JSON.stringify(events));
    refresh();
  };
  refresh();
  const run = (type) => invoke(name, editor.value, type).then((node) => result.replaceChildren(node),
    (error) => result.replaceChildren(errorBox(error)));
  return el("div", { class: "panel" }, el("h2", {}, "Test"), choose, " ", title,
    el("button", { onclick: save, "data-testid": "save-event" }, "Save"), editor,
    el("button", { onclick: () => run("RequestResponse"), "data-testid": "invoke" }, "Invoke"),
    el("button", { onclick: () => run("Event"), "data-testid": "invoke-event" }, "Invoke (Event)"),
    result);
}

function decodeLog(base64) {
  if (!base64) return "";
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return readableLog(new TextDecoder().decode(bytes));
}

async function invoke(name, payload, type) {
  const started = performance.now();
  const response = await fetch(`${LAMBDA}/functions/${encodeURIComponent(name)}/invocations`, {
    method: "POST", body: payload,
    headers: { "X-Amz-Invocation-Type": type, "X-Amz-Log-Type": "Tail", "Content-Type": "application/json" },
  });
  const body = await response.text();
  const elapsed = performance.now() - started;
  const log = decodeLog(response.headers.get("X-Amz-Log-Result"));
  const duration = (log.match(/\tDuration: ([\d.]+) ms/) || [])[1];
  const error = response.headers.get("X-Amz-Function-Error");
  const status = `HTTP ${response.status}${error ? " — function error: " + error : ""}`;
  return el("div", { class: "panel" }, kv([
    ["Status", el("span", { class: error || response.status >= 300 ? "error" : "success", "data-testid": "invoke-status" }, status)],
    ["Request id", invocationLink(response.headers.get("X-Amzn-RequestId") || "")],
    ["Duration", duration ? `${duration} ms (round trip ${elapsed.toFixed(1)} ms)` : `round trip ${elapsed.toFixed(1)} ms`],
  ]), el("h2", {}, "Result"), el("pre", { "data-testid": "invoke-payload" }, body),
  el("h2", {}, "Log"), el("pre", { "data-testid": "invoke-log" }, log || (type === "Event" ? "(queued: see Invocations)" : "")));
}
