/// The explorer's one page: HTML with its style and script inline, so the server reads no
/// files. The script asks the server for every picture (`/api/decode`); it holds no model. While
/// a slider or the pad moves, one decode is in flight at a time and the newest position is sent
/// next, so the picture follows the hand without a queue building up.
///
/// Opened with `#test=N`, the page starts from test image N's code. Opened with `#selftest`, the
/// page checks itself after loading (as the headless-browser test does): it records script
/// errors, moves the first slider, waits for the new picture, and writes "pass" or "fail: why"
/// into `<body data-selftest>` and the title.
enum ExplorerPage {
    /// The start of both explorer pages: the document's head up to the shared style rules (the
    /// page adds its own rules and closes the style).
    static let head = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vae explore</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; background: #fafafa; }
h1 { font-size: 18px; margin: 0 0 4px; } .sub { color: #666; margin-bottom: 12px; }
.row { display: flex; gap: 20px; flex-wrap: wrap; align-items: flex-start; }
.box { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px; }
"""#

    /// The first lines of both pages' scripts: script errors, rejected promises and
    /// `console.error` calls are recorded in `errors`, which the self-tests report.
    static let errorRecorder = #"""
"use strict";
const errors = [];
window.addEventListener("error", e => errors.push("error: " + e.message));
window.addEventListener("unhandledrejection", e => errors.push("rejection: " + (e.reason && e.reason.message || e.reason)));
const originalConsoleError = console.error;
console.error = (...args) => { errors.push("console: " + args.join(" ")); originalConsoleError(...args); };
"""#

    static let html = #"""
\#(ExplorerPage.head)
#picture { width: 224px; height: 224px; image-rendering: pixelated; background: #000; display: block; }
.slider { display: grid; grid-template-columns: 110px 180px 50px; align-items: center; gap: 6px; font-size: 12px; }
#pad, #scatter { cursor: crosshair; border: 1px solid #ccc; display: block; }
button { margin: 2px; } label { margin-right: 8px; } .small { font-size: 12px; color: #555; }
#thumb { width: 56px; height: 56px; image-rendering: pixelated; vertical-align: middle; background: #000; }
</style>
</head>
<body>
<h1 id="title">vae explore</h1>
<div class="sub" id="subtitle">loading…</div>
<div class="row">
  <div class="box">
    <img id="picture" alt="the decoded picture" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='112' height='112'%3E%3Crect width='112' height='112' fill='%23eee'/%3E%3Ctext x='56' y='60' font-size='12' text-anchor='middle' fill='%23888' font-family='sans-serif'%3Edecoding…%3C/text%3E%3C/svg%3E">
    <div id="conditionBox" hidden><label>class <select id="label"></select></label></div>
    <div id="renderingBox" hidden>
      <label id="transformLabel" hidden><input type="checkbox" id="transform" checked> learned transform</label>
      <label>size <select id="size"></select></label>
    </div>
    <div class="small" id="status"></div>
    <div><button id="zero">z = 0</button><button id="random">random z</button></div>
  </div>
  <div class="box">
    <div>pad: x <select id="padX"></select> y <select id="padY"></select></div>
    <canvas id="pad" width="220" height="220"></canvas>
    <div class="small">drag to move two dimensions at once (±3)</div>
  </div>
  <div class="box">
    <div class="small" id="projection"></div>
    <canvas id="scatter" width="320" height="320"></canvas>
    <div class="small" id="legend"></div>
    <div class="small">click a point to start from that test image's code</div>
  </div>
</div>
<div class="row" style="margin-top:16px">
  <div class="box">
    <div><b>dimensions</b> <span class="small">(most informative first: KL of q(z<sub>d</sub>|x) from the prior over the test set)</span></div>
    <div id="sliders"></div>
    <details id="moreBox" hidden><summary>more dimensions</summary><div id="moreSliders"></div></details>
  </div>
  <div class="box">
    <div><b>start from an image</b></div>
    <div>test image <input id="testIndex" type="number" min="0" value="0" style="width:80px"> <button id="useTest">use</button>
      <img id="thumb" alt="" hidden></div>
    <div>your picture <input id="upload" type="file" accept="image/png,image/jpeg"></div>
    <div class="small" id="conversion"></div>
    <hr>
    <div><b>interpolate</b> <button id="setA">A = current</button><button id="setB">B = current</button></div>
    <div class="slider"><span>A → B</span><input id="t" type="range" min="0" max="1" step="0.01" value="0" disabled><span id="tValue">0</span></div>
  </div>
</div>
<pre id="selftestLog" class="small"></pre>
<script>
\#(ExplorerPage.errorRecorder)

const $ = id => document.getElementById(id);
const colours = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
let info = null, z = [], sliders = [], pointA = null, pointB = null;
let inFlight = false, pending = false, decodes = 0, lastBytes = null, pictureURL = null, roundTrips = [];
const placeholderAtLoad = $("picture").getAttribute("src").startsWith("data:image/svg");

function decodeURLFor(vector) {
  const q = new URLSearchParams({ z: vector.map(v => v.toFixed(4)).join(",") });
  if (info.condition) q.set("label", $("label").value);
  if (info.rendering) {
    if (info.rendering.switchableTransform) q.set("transform", $("transform").checked ? "on" : "off");
    q.set("size", $("size").value);
  }
  return "/api/decode?" + q.toString();
}

async function redraw() {
  if (inFlight) { pending = true; return; }
  inFlight = true; pending = false;
  const started = performance.now();
  try {
    const response = await fetch(decodeURLFor(z));
    if (!response.ok) { $("status").textContent = "error: " + (await response.text()); return; }
    const bytes = await response.arrayBuffer();
    lastBytes = new Uint8Array(bytes);
    if (pictureURL) URL.revokeObjectURL(pictureURL);
    pictureURL = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
    $("picture").src = pictureURL;
    decodes += 1;
    const milliseconds = performance.now() - started;
    roundTrips.push(milliseconds);
    $("status").textContent = "decoded in " + milliseconds.toFixed(1) + " ms (page to picture)";
  } finally {
    inFlight = false;
    if (pending) redraw();
  }
}

function setZ(vector) {
  z = vector.slice();
  for (const s of sliders) { s.input.value = z[s.dimension]; s.value.textContent = z[s.dimension].toFixed(2); }
  drawPad();
  redraw();
}

function makeSlider(dimension, parent) {
  const row = document.createElement("div"); row.className = "slider";
  const name = document.createElement("span"); name.textContent = "z" + dimension + " (KL " + info.kl[dimension].toFixed(2) + ")";
  const input = document.createElement("input");
  Object.assign(input, { type: "range", min: -3, max: 3, step: 0.01, value: 0 });
  input.id = "slider" + dimension;
  const value = document.createElement("span"); value.textContent = "0.00";
  input.addEventListener("input", () => { z[dimension] = parseFloat(input.value); value.textContent = z[dimension].toFixed(2); drawPad(); redraw(); });
  row.append(name, input, value); parent.append(row);
  sliders.push({ dimension, input, value });
}

function padScale() { return { size: $("pad").width, range: 3 }; }
function drawPad() {
  const c = $("pad"), g = c.getContext("2d"), { size, range } = padScale();
  g.fillStyle = "#fff"; g.fillRect(0, 0, size, size);
  g.strokeStyle = "#ddd"; g.beginPath(); g.moveTo(size / 2, 0); g.lineTo(size / 2, size); g.moveTo(0, size / 2); g.lineTo(size, size / 2); g.stroke();
  const dx = +$("padX").value, dy = +$("padY").value;
  if (info.latentSize < 2) return;
  const clamp = v => Math.min(Math.max(v, -range), range);  // a point beyond ±3 sits on the edge
  const px = (clamp(z[dx]) / range + 1) / 2 * size, py = (1 - (clamp(z[dy]) / range + 1) / 2) * size;
  g.fillStyle = "#d62728"; g.beginPath(); g.arc(px, py, 5, 0, 2 * Math.PI); g.fill();
}
function padMove(event) {
  if (info.latentSize < 2) return;
  const c = $("pad"), r = c.getBoundingClientRect(), { size, range } = padScale();
  const x = Math.min(Math.max((event.clientX - r.left) / r.width, 0), 1), y = Math.min(Math.max((event.clientY - r.top) / r.height, 0), 1);
  const next = z.slice();
  next[+$("padX").value] = (x * 2 - 1) * range; next[+$("padY").value] = (1 - y * 2) * range;
  setZ(next);
}

let scatterBounds = null;
function drawScatter() {
  const c = $("scatter"), g = c.getContext("2d"), points = info.scatter.points;
  g.fillStyle = "#fff"; g.fillRect(0, 0, c.width, c.height);
  if (!points.length) return;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of points) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const pad = 8, w = c.width - 2 * pad, h = c.height - 2 * pad;
  scatterBounds = { x0, x1: x1 > x0 ? x1 : x0 + 1, y0, y1: y1 > y0 ? y1 : y0 + 1, pad, w, h };
  g.globalAlpha = 0.6;
  points.forEach(([x, y, label]) => {
    const [px, py] = toScatter(x, y);
    g.fillStyle = colours[label % colours.length]; g.fillRect(px - 1.5, py - 1.5, 3, 3);
  });
  g.globalAlpha = 1;
}
function toScatter(x, y) {
  const b = scatterBounds;
  return [b.pad + (x - b.x0) / (b.x1 - b.x0) * b.w, b.pad + (1 - (y - b.y0) / (b.y1 - b.y0)) * b.h];
}
async function scatterClick(event) {
  if (!scatterBounds) return;
  const r = $("scatter").getBoundingClientRect();
  const mx = (event.clientX - r.left) * $("scatter").width / r.width, my = (event.clientY - r.top) * $("scatter").height / r.height;
  let best = -1, bestDistance = Infinity;
  info.scatter.points.forEach(([x, y], index) => {
    const [px, py] = toScatter(x, y), d = (px - mx) ** 2 + (py - my) ** 2;
    if (d < bestDistance) { best = index; bestDistance = d; }
  });
  if (best >= 0) await useTest(best);
}

async function useTest(index) {
  const response = await fetch("/api/test?index=" + index);
  if (!response.ok) { $("status").textContent = "error: " + (await response.text()); return; }
  const code = await response.json();
  $("testIndex").value = index;
  $("thumb").src = "/api/test-image?index=" + index; $("thumb").hidden = false;
  if (info.condition && code.label !== null) $("label").value = code.label;
  setZ(code.z);
}

async function upload() {
  const file = $("upload").files[0];
  if (!file) return;
  const q = info.condition ? "?label=" + $("label").value : "";
  const response = await fetch("/api/encode" + q, { method: "POST", body: file });
  if (!response.ok) { $("conversion").textContent = "error: " + (await response.text()); return; }
  const result = await response.json();
  $("conversion").textContent = result.conversion;
  setZ(result.z);
}

function interpolate() {
  if (!pointA || !pointB) return;
  const t = parseFloat($("t").value);
  $("tValue").textContent = t.toFixed(2);
  setZ(pointA.map((a, i) => (1 - t) * a + t * pointB[i]));
}

function option(select, value, text) { const o = document.createElement("option"); o.value = value; o.textContent = text; select.append(o); }

async function start() {
  info = await (await fetch("/api/model")).json();
  $("title").textContent = "vae explore: " + info.run;
  $("subtitle").textContent = info.kind + " model " + info.architecture + ", " + info.latentSize + "-d latent, images " +
    info.image.channels + "x" + info.image.height + "x" + info.image.width + ", " + info.testCount + " test images";
  z = new Array(info.latentSize).fill(0);
  const shown = info.order.slice(0, 16), rest = info.order.slice(16);
  shown.forEach(d => makeSlider(d, $("sliders")));
  if (rest.length) { $("moreBox").hidden = false; rest.forEach(d => makeSlider(d, $("moreSliders"))); }
  info.order.forEach(d => { option($("padX"), d, "z" + d); option($("padY"), d, "z" + d); });
  // The pad takes the scatter plot's axes where it plots dimensions as they are (x = z0, y = z1);
  // otherwise the two most informative dimensions.
  const padAxes = info.scatter.axes && info.scatter.axes.length ? info.scatter.axes : info.order.slice(0, 2);
  $("padX").value = padAxes[0];
  if (padAxes.length > 1) $("padY").value = padAxes[1];
  if (info.condition) {
    $("conditionBox").hidden = false;
    // A class named by its own index (MNIST's "0" ... "9") is shown once, not as "0 0".
    info.condition.names.forEach((name, k) => option($("label"), k, name === String(k) ? name : k + " " + name));
    $("label").addEventListener("change", redraw);
  }
  if (info.rendering) {
    $("renderingBox").hidden = false;
    $("transformLabel").hidden = !info.rendering.switchableTransform;
    for (const s of [info.rendering.trainingSize, 56, 84, 112, 168, 224]) if (s >= info.rendering.sizes[0] && s <= info.rendering.sizes[1]) option($("size"), s, s + " px");
    $("transform").addEventListener("change", redraw); $("size").addEventListener("change", redraw);
  }
  $("projection").textContent = "test set's latent means: " + info.scatter.projection;
  info.classNames.forEach((name, k) => {
    const key = document.createElement("span");
    key.innerHTML = '<span style="color:' + colours[k % colours.length] + '">&#9632;</span> ';
    key.append(name + "  "); $("legend").append(key);
  });
  drawScatter(); drawPad();
  let dragging = false;
  $("pad").addEventListener("pointerdown", e => { dragging = true; padMove(e); });
  window.addEventListener("pointerup", () => { dragging = false; });
  $("pad").addEventListener("pointermove", e => { if (dragging) padMove(e); });
  $("padX").addEventListener("change", drawPad); $("padY").addEventListener("change", drawPad);
  $("scatter").addEventListener("click", scatterClick);
  $("useTest").addEventListener("click", () => useTest(Math.min(Math.max(parseInt($("testIndex").value) || 0, 0), info.testCount - 1)));
  $("upload").addEventListener("change", upload);
  $("zero").addEventListener("click", () => setZ(new Array(info.latentSize).fill(0)));
  $("random").textContent = info.sampler === "prior" ? "random z" : "random z (" + info.sampler + ")";
  $("random").addEventListener("click", async () => {
    const response = await fetch("/api/draw?seed=" + Math.floor(Math.random() * 2 ** 31));
    if (response.ok) setZ((await response.json()).z);
  });
  const enableT = () => { $("t").disabled = !(pointA && pointB); };
  $("setA").addEventListener("click", () => { pointA = z.slice(); enableT(); });
  $("setB").addEventListener("click", () => { pointB = z.slice(); enableT(); });
  $("t").addEventListener("input", interpolate);
  const start = /^#test=(\d+)$/.exec(location.hash);
  if (start) await useTest(Math.min(parseInt(start[1]), info.testCount - 1)); else await redraw();
}

function checksum(bytes) { let h = 0; for (const b of bytes) h = (h * 31 + b) >>> 0; return h; }
async function selftest() {
  const waitFor = async (condition, ms) => { const end = performance.now() + ms; while (!condition() && performance.now() < end) await new Promise(r => setTimeout(r, 20)); return condition(); };
  try {
    await start();
    if (!placeholderAtLoad) throw new Error("the picture had no placeholder before the first decode");
    if (info.condition && [...$("label").options].some(o => /^(\S+) \1$/.test(o.textContent))) throw new Error("a class is named twice in the class menu");
    const axes = info.scatter.axes || [];
    if (axes.length === 2 && (+$("padX").value !== axes[0] || +$("padY").value !== axes[1])) throw new Error("the pad's axes are not the scatter plot's");
    if (!(await waitFor(() => decodes >= 1 && !inFlight, 5000))) throw new Error("the first picture never arrived");
    const before = checksum(lastBytes), decodedBefore = decodes;
    const slider = sliders[0].input;
    slider.value = 2.5; slider.dispatchEvent(new Event("input"));
    if (!(await waitFor(() => decodes > decodedBefore && !inFlight && !pending, 5000))) throw new Error("moving a slider brought no new picture");
    const after = checksum(lastBytes);
    if (after === before) throw new Error("moving slider z" + sliders[0].dimension + " left the picture unchanged");
    // "random z" asks the server's sampler for a code, and its picture follows.
    const drawn = decodes;
    $("random").click();
    if (!(await waitFor(() => decodes > drawn && !inFlight && !pending, 5000))) throw new Error("random z (" + info.sampler + ") brought no new picture");
    // The round trip of one decode, page to picture: 50 slider positions, one at a time.
    roundTrips = [];
    for (let step = 0; step < 50; step++) {
      const count = decodes;
      slider.value = -2.5 + step * 0.1; slider.dispatchEvent(new Event("input"));
      if (!(await waitFor(() => decodes > count && !inFlight && !pending, 5000))) throw new Error("slider step " + step + " brought no picture");
    }
    const sorted = roundTrips.slice().sort((a, b) => a - b), at = q => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const timing = "page-to-picture ms over " + sorted.length + " decodes: median " + at(0.5).toFixed(1) + ", p90 " + at(0.9).toFixed(1) + ", max " + sorted[sorted.length - 1].toFixed(1);
    const verdict = errors.length ? "fail: " + errors.join("; ") : "pass: the picture changed when slider z" + sliders[0].dimension + " moved; random z drew from the " + info.sampler + "; " + timing;
    document.body.dataset.selftest = verdict; document.title = verdict; $("selftestLog").textContent = verdict;
  } catch (e) {
    const verdict = "fail: " + e.message + (errors.length ? "; " + errors.join("; ") : "");
    document.body.dataset.selftest = verdict; document.title = verdict; $("selftestLog").textContent = verdict;
  }
}
if (location.hash === "#selftest") selftest(); else start().catch(e => { $("status").textContent = "error: " + e.message; console.error(e); });
</script>
</body>
</html>
"""#
}
