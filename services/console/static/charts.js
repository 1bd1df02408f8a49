/* Tarn console: small SVG line charts of per-minute series (no library, no CDN). */
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#2563eb", "#b42318", "#a15c07", "#11763b"];

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/* series: [{name, values: [number|null], colour: index in COLOURS}], one value per minute
   from startMs. */
function lineChart(title, series, startMs, minuteMs, unit) {
  const width = 600, height = 140, left = 44, bottom = 18, top = 8;
  const all = series.flatMap((s) => s.values).filter((v) => v !== null);
  const max = Math.max(1, ...all);
  const count = Math.max(1, ...series.map((s) => s.values.length));
  const x = (i) => left + (i / Math.max(1, count - 1)) * (width - left - 6);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-testid": "chart" });
  svg.append(svgEl("title", {}, title));
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    svg.append(svgEl("line", { x1: left, x2: width - 6, y1: y(value), y2: y(value), stroke: "#e3e6ea" }));
    svg.append(svgEl("text", { x: 2, y: y(value) + 4, "font-size": 10, fill: "#5a6570" },
      Number.isInteger(value) ? String(value) : value.toFixed(1)));
  }
  const labels = [0, Math.floor((count - 1) / 2), count - 1];
  for (const i of labels) {
    const stamp = new Date(startMs + i * minuteMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
    svg.append(svgEl("text", { x: Math.min(x(i) - 14, width - 34), y: height - 4, "font-size": 10, fill: "#5a6570" }, stamp));
  }
  series.forEach((s) => {
    const colour = COLOURS[s.colour];
    const points = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
    const path = points.filter((p) => p !== null).map((p, i) => (i ? "L" : "M") + p).join(" ");
    if (path) svg.append(svgEl("path", { d: path, class: "line", stroke: colour, "data-series": s.name }));
    s.values.forEach((v, i) => {  // a dot where there is something: a lone minute shows too
      if (v) svg.append(svgEl("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: colour }));
    });
  });
  const legend = series.map((s) => el("span", { class: `legend c${s.colour}` }, `■ ${s.name}`));
  return el("div", { class: "chart" }, el("div", {}, el("strong", {}, title), " ", unit ? `(${unit}) ` : "", legend), svg);
}

function functionCharts(graph) {
  const pick = (name) => graph.points.map((p) => p[name]);
  return el("div", { class: "charts", "data-testid": "charts" },
    lineChart("Invocations", [{ name: "invocations", values: pick("invocations"), colour: 0 }], graph.start_ms, graph.minute_ms),
    lineChart("Errors", [{ name: "errors", values: pick("errors"), colour: 1 }], graph.start_ms, graph.minute_ms),
    lineChart("Throttles", [{ name: "throttles", values: pick("throttles"), colour: 2 }], graph.start_ms, graph.minute_ms),
    lineChart("Duration", [{ name: "p50", values: pick("p50"), colour: 0 }, { name: "p99", values: pick("p99"), colour: 1 }],
      graph.start_ms, graph.minute_ms, "ms"));
}
