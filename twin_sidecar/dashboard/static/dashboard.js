// twinric twin dashboard: plain SVG and DOM, no library, no build step. Everything it draws comes from
// the sidecar: one snapshot per server-sent event (/dashboard/v1/events), the twin's time travel
// (/v1/state/at) for the slider, and the policy and trust routes when they answer.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const CELL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#17becf"];
const SLICE_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948"];
const MARKER_KINDS = {
  handover: { colour: "#1f77b4", label: "handovers" },
  slice_quota: { colour: "#9467bd", label: "quota changes" },
  cell_offset: { colour: "#17becf", label: "cell offsets" },
  shield: { colour: "#ff7f0e", label: "shield interventions" },
  denial: { colour: "#d62728", label: "PDP denials" },
};
const OPTIONAL_POLL_MS = 5000;
const LIVE_EDGE_S = 0.05;  // the slider within this of the newest round is "live" (float slack at Unix-time scale)

const view = {
  snapshot: null,   // the newest snapshot
  past: null,       // the state shown by the time slider (null: live)
  hidden: new Set(),
  cursor: null,     // Unix s marked on the charts while the slider shows the past
};

// --- small helpers -------------------------------------------------------------------------------
function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function html(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function fmt(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  return Number(x).toFixed(digits === undefined ? 3 : digits);
}

function clock(t) {
  if (t === null || t === undefined) return "-";
  const d = new Date(t * 1000);
  return d.toISOString().substring(11, 23);
}

function loadColour(load) {
  // green (idle) -> amber (busy) -> red (overloaded), on the PRB load 0..1
  const x = Math.max(0, Math.min(1, load));
  const stops = [[0, [58, 154, 91]], [0.6, [224, 177, 47]], [0.9, [210, 69, 47]], [1, [160, 30, 30]]];
  for (let i = 1; i < stops.length; i++) {
    if (x <= stops[i][0]) {
      const [a, ca] = stops[i - 1], [b, cb] = stops[i];
      const f = (x - a) / (b - a);
      const c = ca.map((v, j) => Math.round(v + f * (cb[j] - v)));
      return `rgb(${c[0]},${c[1]},${c[2]})`;
    }
  }
  return "rgb(160,30,30)";
}

function sliceName(s) { return s.sd === null || s.sd === undefined ? `${s.sst}` : `${s.sst}-${s.sd}`; }

// the view of a cell both /v1/state(/at) and the snapshot give: PRB load 0..1, slice shares 0..1
function cellLoad(cell) { return (cell.kpm && cell.kpm.prb_tot_dl_pct !== undefined) ? cell.kpm.prb_tot_dl_pct / 100 : 0; }
function sliceShares(cell) {
  const avail = cell.kpm && cell.kpm.prb_avail_dl > 0 ? cell.kpm.prb_avail_dl : 0;
  return cell.slices.map((s) => ({ name: sliceName(s), share: avail ? (s.kpm.slice_prb_used_dl || 0) / avail : 0,
    quota: s.quota }));
}

// --- the cell graph ------------------------------------------------------------------------------
function layout(cells) {
  // cells on a circle, grouped by their E2 node (a node's cells side by side)
  const order = cells.map((c) => c.index).sort((a, b) => {
    const ma = cells[a].meid, mb = cells[b].meid;
    return ma === mb ? a - b : (ma < mb ? -1 : 1);
  });
  const pos = {};
  const n = order.length, cx = 260, cy = 205, r = n > 1 ? 150 : 0;
  order.forEach((idx, k) => {
    const a = -Math.PI / 2 + 2 * Math.PI * k / Math.max(n, 1);
    pos[idx] = [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
  return pos;
}

function drawGraph(ran, edges) {
  const svg = $("cell-graph");
  clear(svg);
  const pos = layout(ran.cells);
  const lost = new Set(ran.nodes.filter((n) => n.status !== "connected").map((n) => n.meid));
  for (const [i, j] of edges) {
    if (!pos[i] || !pos[j]) continue;
    svg.appendChild(el("line", { x1: pos[i][0], y1: pos[i][1], x2: pos[j][0], y2: pos[j][1],
      stroke: "#9aa3af", "stroke-width": 1.5 }));
  }
  for (const cell of ran.cells) {
    const [x, y] = pos[cell.index];
    const load = cellLoad(cell);
    const g = el("g", { class: "cell", "data-cell": cell.index, "data-load": load.toFixed(4) });
    const circle = el("circle", { cx: x, cy: y, r: 26, fill: loadColour(load),
      stroke: lost.has(cell.meid) ? "#000" : "#fff", "stroke-width": lost.has(cell.meid) ? 3 : 2,
      "stroke-dasharray": lost.has(cell.meid) ? "4 3" : "none" });
    circle.appendChild(el("title", {}, `cell ${cell.nr_cell_id} (${cell.meid}): PRB load ${(load * 100).toFixed(1)} %`));
    g.appendChild(circle);
    g.appendChild(el("text", { x: x, y: y - 2, "text-anchor": "middle", fill: "#fff" }, `${(load * 100).toFixed(0)}%`));
    g.appendChild(el("text", { x: x, y: y + 10, "text-anchor": "middle", fill: "#fff" }, `#${cell.index}`));
    // the slices' PRB shares as a stacked bar under the cell
    let off = 0;
    for (const [k, s] of sliceShares(cell).entries()) {
      const w = Math.max(0, Math.min(1, s.share)) * 60;
      const rect = el("rect", { x: x - 30 + off, y: y + 31, width: w, height: 7, fill: SLICE_COLOURS[k % SLICE_COLOURS.length] });
      rect.appendChild(el("title", {}, `slice ${s.name}: ${(s.share * 100).toFixed(1)} % of PRBs (quota max ${s.quota.max} %)`));
      g.appendChild(rect);
      off += w;
    }
    g.appendChild(el("rect", { x: x - 30, y: y + 31, width: 60, height: 7, fill: "none", stroke: "#999" }));
    svg.appendChild(g);
  }
}

function drawCellTable(ran) {
  const body = $("cell-table").tBodies[0];
  clear(body);
  for (const cell of ran.cells) {
    const tr = html("tr");
    tr.dataset.cell = cell.index;
    tr.dataset.nrCellId = cell.nr_cell_id;
    const load = cellLoad(cell);
    tr.appendChild(html("td", `#${cell.index} ${cell.nr_cell_id}`));
    tr.appendChild(html("td", cell.meid));
    const td = html("td", `${(load * 100).toFixed(2)} %`, "load");
    td.dataset.pct = cell.kpm && cell.kpm.prb_tot_dl_pct !== undefined ? cell.kpm.prb_tot_dl_pct : "";
    tr.appendChild(td);
    const shares = html("td");
    const bar = html("span", null, "bar");
    const parts = sliceShares(cell);
    parts.forEach((s, k) => {
      const seg = html("span");
      seg.style.width = `${Math.max(0, Math.min(1, s.share)) * 100}%`;
      seg.style.background = SLICE_COLOURS[k % SLICE_COLOURS.length];
      seg.title = `slice ${s.name}`;
      bar.appendChild(seg);
    });
    shares.appendChild(bar);
    shares.appendChild(document.createTextNode(" " + parts.map((s) => `${s.name}: ${(s.share * 100).toFixed(0)}%`).join(" · ")));
    tr.appendChild(shares);
    tr.appendChild(html("td", cell.kpm && cell.kpm.conn_mean !== undefined ? fmt(cell.kpm.conn_mean, 1) : "-"));
    tr.appendChild(html("td", `${cell.handovers_in} / ${cell.handovers_out}`));
    body.appendChild(tr);
  }
  const nodes = $("node-list");
  nodes.textContent = "E2 nodes: " + ran.nodes.map((n) => `${n.meid} (${n.status})`).join(", ");
}

function drawRan() {
  const snap = view.snapshot;
  if (view.past) {
    drawGraph(view.past, snap && snap.ran ? snap.ran.edges : []);
    drawCellTable(view.past);
    return;
  }
  if (!snap || !snap.ran) {
    $("node-list").textContent = snap ? snap.unavailable.ran || "no state yet" : "no state yet";
    return;
  }
  drawGraph(snap.ran, snap.ran.edges);
  drawCellTable(snap.ran);
}

// --- charts --------------------------------------------------------------------------------------
// lines: [{t:[], v:[], colour, name, dash}], bands: [{t:[], lo:[], hi:[], colour}], markers: [{t, kind, text}]
function chart(svg, opts) {
  clear(svg);
  const box = svg.viewBox.baseVal;
  const W = box.width, H = box.height, L = 46, R = 8, T = 6, B = 18;
  const t0 = opts.t0, t1 = opts.t1 > opts.t0 ? opts.t1 : opts.t0 + 1;
  let lo = opts.yMin, hi = opts.yMax;
  if (lo === undefined || hi === undefined) {
    const vals = [];
    for (const l of opts.lines || []) for (const v of l.v) if (v !== null) vals.push(v);
    for (const b of opts.bands || []) { for (const v of b.lo) if (v !== null) vals.push(v); for (const v of b.hi) if (v !== null) vals.push(v); }
    if (lo === undefined) lo = vals.length ? Math.min(...vals) : 0;
    if (hi === undefined) hi = vals.length ? Math.max(...vals) : 1;
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const pad = (hi - lo) * 0.05;
    if (opts.yMin === undefined) lo -= pad;
    if (opts.yMax === undefined) hi += pad;
  }
  const x = (t) => L + (t - t0) / (t1 - t0) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  for (let k = 0; k <= 4; k++) {
    const v = lo + (hi - lo) * k / 4;
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.appendChild(el("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end" }, Math.abs(hi - lo) > 50 ? v.toFixed(0) : v.toFixed(2)));
  }
  svg.appendChild(el("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
  svg.appendChild(el("text", { x: L, y: H - 4 }, clock(t0)));
  svg.appendChild(el("text", { x: W - R, y: H - 4, "text-anchor": "end" }, clock(t1)));
  for (const b of opts.bands || []) {
    const up = [], down = [];
    b.t.forEach((t, i) => { if (b.lo[i] !== null && b.hi[i] !== null) { up.push(`${x(t)},${y(b.hi[i])}`); down.unshift(`${x(t)},${y(b.lo[i])}`); } });
    if (up.length) svg.appendChild(el("polygon", { points: up.concat(down).join(" "), fill: b.colour, "fill-opacity": 0.25, stroke: "none" }));
  }
  for (const l of opts.lines || []) {
    const pts = [];
    l.t.forEach((t, i) => { if (l.v[i] !== null && t >= t0 - 1e-9) pts.push(`${x(t).toFixed(1)},${y(l.v[i]).toFixed(1)}`); });
    if (!pts.length) continue;
    const line = el("polyline", { points: pts.join(" "), fill: "none", stroke: l.colour, "stroke-width": l.width || 1.5,
      "stroke-dasharray": l.dash || "none", "data-series": l.name });
    line.appendChild(el("title", {}, l.name));
    svg.appendChild(line);
    if (l.dots) l.t.forEach((t, i) => { if (l.v[i] !== null) svg.appendChild(el("circle", { cx: x(t), cy: y(l.v[i]), r: 2, fill: l.colour })); });
  }
  for (const m of opts.markers || []) {
    if (view.hidden.has(m.kind) || m.t < t0 || m.t > t1) continue;
    const kind = MARKER_KINDS[m.kind] || { colour: "#555" };
    const tick = el("line", { x1: x(m.t), x2: x(m.t), y1: T, y2: T + 10, stroke: kind.colour, "stroke-width": 2,
      class: `marker marker-${m.kind}` });
    tick.appendChild(el("title", {}, `${clock(m.t)} ${m.text}`));
    svg.appendChild(tick);
  }
  if (opts.cursor !== null && opts.cursor !== undefined && opts.cursor >= t0 && opts.cursor <= t1) {
    svg.appendChild(el("line", { x1: x(opts.cursor), x2: x(opts.cursor), y1: T, y2: H - B, stroke: "#b70", "stroke-width": 2, class: "cursor" }));
  }
  if (opts.legend) {
    let lx = L + 6;
    for (const l of opts.lines || []) {
      svg.appendChild(el("rect", { x: lx, y: H - B - 11, width: 10, height: 3, fill: l.colour }));
      const label = el("text", { x: lx + 13, y: H - B - 7 }, l.name);
      svg.appendChild(label);
      lx += 18 + 6 * l.name.length;
    }
  }
}

function drawSeries() {
  const snap = view.snapshot;
  if (!snap) return;
  const s = snap.series;
  const t1 = snap.t || snap.server_time;
  const t0 = t1 - Number($("window-s").textContent);
  const markers = snap.markers;
  const cells = snap.ran ? snap.ran.cells : s.load.map((_, i) => ({ index: i, nr_cell_id: i }));
  chart($("chart-load"), {
    t0, t1, yMin: 0, yMax: 1, markers, cursor: view.cursor, legend: true,
    lines: s.load.map((v, i) => ({ t: s.t, v, colour: CELL_COLOURS[i % CELL_COLOURS.length], name: `#${i} ${cells[i] ? cells[i].nr_cell_id : ""}` })),
  });
  chart($("chart-thp"), {
    t0, t1, yMin: 0, markers, cursor: view.cursor, legend: true,
    lines: [{ t: s.t, v: s.thp_mean_kbps, colour: "#1f77b4", name: "mean" },
            { t: s.t, v: s.thp_p5_kbps, colour: "#d62728", name: "5th percentile" }],
  });
  chart($("chart-reward"), {
    t0, t1, markers, cursor: view.cursor,
    lines: [{ t: snap.reward.t, v: snap.reward.v, colour: "#2ca02c", name: "reward" }],
  });
  $("policy-versions").textContent = snap.policy_versions.length ? `policy: ${snap.policy_versions.join(", ")}` : "";
  const recent = markers.slice(-6).reverse();
  $("last-markers").textContent = recent.length ? "latest: " + recent.map((m) => `${clock(m.t)} ${m.text}`).join(" · ") : "no controls in the window";
}

function drawMarkerLegend() {
  const box = $("marker-legend");
  clear(box);
  for (const [kind, info] of Object.entries(MARKER_KINDS)) {
    const label = html("label");
    const box_ = document.createElement("input");
    box_.type = "checkbox";
    box_.checked = !view.hidden.has(kind);
    box_.dataset.kind = kind;
    box_.addEventListener("change", () => {
      if (box_.checked) view.hidden.delete(kind); else view.hidden.add(kind);
      drawSeries();
    });
    const sw = html("span", null, "swatch");
    sw.style.background = info.colour;
    label.appendChild(box_);
    label.appendChild(sw);
    label.appendChild(document.createTextNode(info.label));
    box.appendChild(label);
  }
}

// --- the twin ------------------------------------------------------------------------------------
function drawTwin() {
  const snap = view.snapshot;
  if (!snap) return;
  const tw = snap.twin;
  const f = tw.fidelity || {};
  const rows = [
    ["model version", tw.model_version],
    ["lag (records)", Object.entries(tw.lag_records).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["lag (s since the newest round)", fmt(tw.lag_s, 2)],
    ["PRB RMSE 1-step: model / persistence", tw.fidelity ? `${fmt(f.prb_rmse_1, 4)} / ${fmt(f.prb_persistence_rmse_1, 4)}` : "not measured yet"],
    ["fidelity ratio 1-step / k-step", tw.fidelity ? `${fmt(f.prb_ratio_1)} / ${fmt(f.prb_ratio_k)} (k=${f.k})` : "-"],
    ["90 % interval coverage", tw.fidelity ? fmt(f.coverage_90) : "-"],
    ["forecaster", tw.forecast ? tw.forecast.model : "-"],
    ["drift events (recent)", tw.drift_events.length],
  ];
  const body = $("twin-table").tBodies[0];
  clear(body);
  for (const [k, v] of rows) {
    const tr = html("tr");
    tr.appendChild(html("td", k));
    const td = html("td", String(v));
    td.dataset.key = k;
    tr.appendChild(td);
    body.appendChild(tr);
  }
  const vs = tw.versions.filter((v) => v.prb_ratio_1 !== null);
  const svg = $("chart-versions");
  if (vs.length) {
    chart(svg, {
      t0: vs[0].published_at, t1: vs[vs.length - 1].published_at + 1, yMin: 0,
      lines: [{ t: vs.map((v) => v.published_at), v: vs.map((v) => v.prb_ratio_1), colour: "#1f77b4", name: "1-step", dots: true },
              { t: vs.map((v) => v.published_at), v: vs.map((v) => 1), colour: "#999", name: "persistence", dash: "4 3" }],
      legend: true,
    });
  } else {
    clear(svg);
    svg.appendChild(el("text", { x: 10, y: 20 }, "no version measured on fresh data yet"));
  }
  const fc = tw.forecast;
  const fsvg = $("chart-forecast");
  if (!fc) { clear(fsvg); return; }
  $("forecast-cell").textContent = `cell ${fc.nr_cell_id} (#${fc.cell}, the busiest), ${fc.steps_ahead} periods ahead`;
  $("forecast-coverage").textContent = fc.coverage_90 === null ? "n/a (no interval: persistence has no spread)" : `${(fc.coverage_90 * 100).toFixed(0)} %`;
  const p = fc.past, a = fc.ahead;
  const all = p.map((x) => x.t).concat(a.map((x) => x.t));
  chart(fsvg, {
    t0: all.length ? Math.min(...all) : 0, t1: all.length ? Math.max(...all) : 1, yMin: 0, yMax: 1, legend: true,
    bands: [{ t: p.map((x) => x.t), lo: p.map((x) => x.lo), hi: p.map((x) => x.hi), colour: "#ff7f0e" },
            { t: a.map((x) => x.t), lo: a.map((x) => x.lo), hi: a.map((x) => x.hi), colour: "#9467bd" }],
    lines: [{ t: p.map((x) => x.t), v: p.map((x) => x.actual), colour: "#1d2430", name: "happened" },
            { t: p.map((x) => x.t), v: p.map((x) => x.mean), colour: "#ff7f0e", name: "forecast", dash: "4 2" },
            { t: a.map((x) => x.t), v: a.map((x) => x.mean), colour: "#9467bd", name: "ahead", dash: "4 2" }],
  });
}

// --- PDP decisions, trust ------------------------------------------------------------------------
function drawDecisions() {
  const snap = view.snapshot;
  if (!snap) return;
  const body = $("decision-table").tBodies[0];
  clear(body);
  if (snap.unavailable.decisions) {
    const tr = html("tr"); const td = html("td", `not available: ${snap.unavailable.decisions}`, "na");
    td.colSpan = 6; tr.appendChild(td); body.appendChild(tr);
  }
  for (const d of snap.decisions) {
    const tr = html("tr");
    tr.dataset.decision = d.decision_id;
    tr.dataset.result = d.result;
    tr.appendChild(html("td", d.seq));
    tr.appendChild(html("td", d.ts ? d.ts.substring(11, 23) : "-"));
    tr.appendChild(html("td", d.result, `result-${d.result}`));
    const why = html("td", d.code, "why");
    why.title = d.reason || "";
    tr.appendChild(why);
    tr.appendChild(html("td", d.request.subject || "-"));
    tr.appendChild(html("td", d.request.action || "-"));
    body.appendChild(tr);
  }
  const list = $("denied-steps");
  clear(list);
  for (const s of snap.denied_steps.slice().reverse()) {
    const li = html("li", `${clock(s.t)} step ${s.step}, action ${s.action}: ${s.deny_reason || "denied"}`);
    li.dataset.step = s.step;
    list.appendChild(li);
  }
  if (!snap.denied_steps.length) list.appendChild(html("li", "none in the window", "dim"));
  const tbody = $("trust-table").tBodies[0];
  clear(tbody);
  for (const r of snap.trust) {
    const tr = html("tr");
    tr.dataset.subject = r.subject;
    tr.appendChild(html("td", r.subject));
    tr.appendChild(html("td", fmt(r.score, 2) + (r.stale ? " (stale)" : ""), r.score < 0.5 ? "result-DENY" : ""));
    tr.appendChild(html("td", r.source));
    tr.appendChild(html("td", `${fmt(r.age_s, 0)} s`));
    const why = html("td", r.explanation || "", "why");
    why.title = r.explanation || "";
    tr.appendChild(why);
    tbody.appendChild(tr);
  }
}

// the views of routes other parts of the twin serve: "not available yet" while they answer 404
function renderJson(box, value, depth) {
  if (value === null || typeof value !== "object") { box.appendChild(document.createTextNode(String(value))); return; }
  const dl = html("table", null, "kv");
  const entries = Array.isArray(value) ? value.slice(-20).map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    const tr = html("tr");
    tr.appendChild(html("td", String(k)));
    const td = html("td", null, "why");
    if (v !== null && typeof v === "object" && depth < 2) renderJson(td, v, depth + 1);
    else td.textContent = typeof v === "object" ? JSON.stringify(v) : String(v);
    tr.appendChild(td);
    dl.appendChild(tr);
  }
  box.appendChild(dl);
}

async function pollOptional(url, boxId, what) {
  const box = $(boxId);
  if (!url) {  // the sidecar does not serve it (yet): asking would only log a 404
    clear(box);
    box.appendChild(html("span", `${what}: not available yet`, "na"));
    box.dataset.state = "unavailable";
    return;
  }
  try {
    const resp = await fetch(url, { headers: { Accept: "application/json" } });
    clear(box);
    if (resp.status === 404) {
      box.appendChild(html("span", `${what}: not available yet (${url} answers 404)`, "na"));
      box.dataset.state = "unavailable";
      return;
    }
    if (!resp.ok) {
      box.appendChild(html("span", `${what}: ${url} answered ${resp.status}`, "na"));
      box.dataset.state = "error";
      return;
    }
    box.dataset.state = "ok";
    renderJson(box, await resp.json(), 0);
  } catch (err) {
    clear(box);
    box.appendChild(html("span", `${what}: ${err}`, "na"));
    box.dataset.state = "error";
  }
}

function pollOptionalViews() {
  const routes = view.snapshot ? view.snapshot.routes : null;
  if (!routes) return;  // the first snapshot says which routes the sidecar serves
  pollOptional(routes.policy, "policy-body", "target policy (versions, gate evidence, rollbacks)");
  pollOptional(routes.trust, "trust-api", "the twin's trust scores and alerts");
}

// --- the time slider -----------------------------------------------------------------------------
function updateSlider() {
  const snap = view.snapshot;
  const slider = $("time-slider");
  if (!snap || snap.history.oldest === null) return;
  slider.disabled = false;
  const atEnd = Number(slider.value) >= Number(slider.max) - LIVE_EDGE_S;
  slider.min = snap.history.oldest;
  slider.max = snap.history.latest;
  if (!view.past && atEnd) slider.value = slider.max;
}

let sliderTimer = null;
function onSlider() {
  clearTimeout(sliderTimer);
  sliderTimer = setTimeout(showPast, 150);
}

async function showPast() {
  const slider = $("time-slider");
  if (Number(slider.value) >= Number(slider.max) - LIVE_EDGE_S) { goLive(); return; }
  const t = Number(slider.value);
  const resp = await fetch(`/v1/state/at?t=${t}`);
  if (!resp.ok) {
    $("slider-label").textContent = `no state at ${clock(t)} (${resp.status})`;
    return;
  }
  view.past = await resp.json();
  view.cursor = view.past.t_ns / 1e9;
  $("ran-mode").textContent = `at ${clock(view.cursor)} (round ${view.past.seq})`;
  $("ran-mode").className = "badge past";
  $("ran-mode").dataset.seq = view.past.seq;
  $("slider-label").textContent = `${clock(view.cursor)}`;
  $("live-button").disabled = false;
  drawRan();
  drawSeries();
}

function goLive() {
  view.past = null;
  view.cursor = null;
  const slider = $("time-slider");
  slider.value = slider.max;
  $("ran-mode").textContent = "live";
  $("ran-mode").className = "badge";
  delete $("ran-mode").dataset.seq;
  $("slider-label").textContent = "live";
  $("live-button").disabled = true;
  drawRan();
  drawSeries();
}

// --- live updates --------------------------------------------------------------------------------
function onSnapshot(snap) {
  const first = view.snapshot === null;
  view.snapshot = snap;
  if (first) pollOptionalViews();
  $("tick").textContent = snap.tick;
  $("seq").textContent = snap.ran ? snap.ran.seq : "-";
  $("round-time").textContent = clock(snap.t);
  document.body.dataset.tick = snap.tick;
  document.body.dataset.seq = snap.ran ? snap.ran.seq : "";
  document.body.dataset.t = snap.t === null ? "" : snap.t;
  updateSlider();
  drawRan();
  drawSeries();
  drawTwin();
  drawDecisions();
}

function connect() {
  const source = new EventSource("/dashboard/v1/events");
  source.addEventListener("open", () => { $("conn").textContent = "live"; $("conn").className = "badge"; });
  source.addEventListener("error", () => { $("conn").textContent = "reconnecting…"; $("conn").className = "badge off"; });
  source.addEventListener("snapshot", (ev) => onSnapshot(JSON.parse(ev.data)));
}

document.addEventListener("DOMContentLoaded", () => {
  drawMarkerLegend();
  $("time-slider").addEventListener("input", onSlider);
  $("live-button").addEventListener("click", goLive);
  connect();
  setInterval(pollOptionalViews, OPTIONAL_POLL_MS);
});
