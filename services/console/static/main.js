/* Tarn console: the router. The URL's fragment names the view; it is drawn again on change. */
"use strict";

let leaving = [];

function onLeave(callback) {
  leaving.push(callback);
}

function route(hash) {
  const [path, query] = hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "function": return () => functionView(parts[1]);
    case "invocations": return () => invocationsView(params);
    case "invocation": return () => invocationView(parts[1]);
    case "mappings": return mappingsView;
    case "async": return asyncView;
    case "stack": return stackView;
    default: return functionsView;
  }
}

async function show() {
  for (const callback of leaving) callback();
  leaving = [];
  const view = document.getElementById("view");
  view.setAttribute("data-loading", "true");
  const hash = location.hash;
  let nodes;
  try {
    nodes = await route(hash)();
  } catch (error) {
    nodes = [errorBox(error)];
  }
  if (location.hash !== hash) return; // the user moved on meanwhile
  view.replaceChildren(...nodes);
  view.setAttribute("data-loading", "false");
}

window.addEventListener("hashchange", show);
window.addEventListener("DOMContentLoaded", show);
