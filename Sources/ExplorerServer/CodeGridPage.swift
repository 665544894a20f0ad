/// The explorer's page for a run whose latent is a grid of codes (a VQ-VAE): a test image (or a
/// person's picture, or a grid drawn from the run's code prior) and its h x w grid of code
/// indices, each cell a number field; editing a cell decodes the edited grid on the server
/// (`/api/decode-codes`) and shows it beside the original. An index outside the codebook is
/// marked on its cell and not sent. HTML with its style and script inline; the page holds no model.
///
/// Opened with `#test=N`, the page starts from test image N. Opened with `#selftest`, it checks
/// itself after loading (as the headless-browser test does): no script errors, changing a cell
/// changes the decoded picture, an index outside the codebook is marked and refused by the server
/// with a message naming the cell; it writes "pass …" or "fail: why" into `<body data-selftest>`
/// and the title.
enum CodeGridPage {
    static let html = #"""
\#(ExplorerPage.head)
.picture { width: 224px; height: 224px; image-rendering: pixelated; background: #000; display: block; }
.caption { font-size: 12px; color: #555; text-align: center; margin-top: 4px; }
#grid { border-collapse: collapse; }
#grid td { padding: 1px; }
#grid input { width: 44px; font: 12px ui-monospace, monospace; text-align: right; border: 1px solid #ccc; }
#grid input.edited { background: #fff3c4; }
#grid input.invalid { background: #f8c9c9; border-color: #d62728; }
button { margin: 2px; } .small { font-size: 12px; color: #555; } .error { color: #b00; }
</style>
</head>
<body>
<h1 id="title">vae explore</h1>
<div class="sub" id="subtitle">loading…</div>
<div class="row">
  <div class="box"><img id="original" class="picture" alt="the starting picture"><div class="caption" id="originalCaption">the start</div></div>
  <div class="box"><img id="picture" class="picture" alt="the picture decoded from the grid"><div class="caption">decoded from the grid</div>
    <div class="small" id="status"></div></div>
  <div class="box">
    <div><b>code grid</b> <span class="small" id="gridNote"></span></div>
    <table id="grid"></table>
    <div class="small error" id="gridError"></div>
    <div><button id="reset">back to the start</button></div>
  </div>
</div>
<div class="row" style="margin-top:16px">
  <div class="box">
    <div><b>start from</b></div>
    <div>test image <input id="testIndex" type="number" min="0" value="0" style="width:80px"> <button id="useTest">use</button></div>
    <div>your picture <input id="upload" type="file" accept="image/png,image/jpeg"></div>
    <div class="small" id="conversion"></div>
    <div id="priorBox" hidden>a grid from the code prior <span id="classBox" hidden>of class <select id="label"></select></span>
      <button id="draw">draw</button> <span class="small">seed <span id="seed">1</span></span></div>
    <div class="small" id="noPrior" hidden>no code prior in this run: fit one with <code>vae train-prior RUN</code> to draw grids here</div>
  </div>
</div>
<pre id="selftestLog" class="small"></pre>
<script>
\#(ExplorerPage.errorRecorder)

const $ = id => document.getElementById(id);
let info = null, start = [], cells = [], seed = 1;
let inFlight = false, pending = false, decodes = 0, lastBytes = null, pictureURL = null;

function grid() { return cells.map(c => c.value.trim()); }

// The cell's index, or null when it is not a whole number inside the codebook.
function cellValue(input) {
  const text = input.value.trim();
  if (!/^\d+$/.test(text)) return null;
  const value = parseInt(text, 10);
  return value < info.codebookSize ? value : null;
}

function checkCells() {
  let firstBad = null;
  cells.forEach((input, index) => {
    const bad = cellValue(input) === null;
    input.classList.toggle("invalid", bad);
    input.classList.toggle("edited", !bad && cellValue(input) !== start[index]);
    if (bad && firstBad === null) firstBad = index;
  });
  if (firstBad === null) { $("gridError").textContent = ""; return true; }
  const w = info.grid.width;
  $("gridError").textContent = "cell (" + Math.floor(firstBad / w) + ", " + (firstBad % w) + ") is '" + cells[firstBad].value +
    "': each index must be a whole number 0…" + (info.codebookSize - 1);
  return false;
}

async function redraw() {
  if (!checkCells()) return;
  if (inFlight) { pending = true; return; }
  inFlight = true; pending = false;
  const started = performance.now();
  try {
    const response = await fetch("/api/decode-codes?codes=" + grid().join(","));
    if (!response.ok) { $("status").textContent = "error: " + (await response.text()); return; }
    const bytes = await response.arrayBuffer();
    lastBytes = new Uint8Array(bytes);
    if (pictureURL) URL.revokeObjectURL(pictureURL);
    pictureURL = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
    $("picture").src = pictureURL;
    decodes += 1;
    $("status").textContent = "decoded in " + (performance.now() - started).toFixed(1) + " ms (page to picture)";
  } finally {
    inFlight = false;
    if (pending) redraw();
  }
}

function setGrid(codes) {
  codes.forEach((value, index) => { cells[index].value = value; });
  redraw();
}

function startFrom(codes, originalURL, caption) {
  start = codes.slice();
  if (originalURL) { $("original").src = originalURL; $("original").style.visibility = "visible"; }
  else $("original").style.visibility = "hidden";
  $("originalCaption").textContent = caption;
  setGrid(codes);
}

function makeGrid() {
  const table = $("grid");
  for (let i = 0; i < info.grid.height; i++) {
    const row = table.insertRow();
    for (let j = 0; j < info.grid.width; j++) {
      const input = document.createElement("input");
      Object.assign(input, { type: "text", inputMode: "numeric", value: "0", title: "cell (" + i + ", " + j + ")" });
      input.id = "cell" + (i * info.grid.width + j);
      input.addEventListener("input", redraw);
      input.addEventListener("keydown", event => {
        const step = event.key === "ArrowUp" ? 1 : event.key === "ArrowDown" ? -1 : 0;
        const value = cellValue(input);
        if (!step || value === null) return;
        event.preventDefault();
        input.value = (value + step + info.codebookSize) % info.codebookSize;
        redraw();
      });
      row.insertCell().append(input);
      cells.push(input);
    }
  }
}

async function useTest(index) {
  const response = await fetch("/api/test?index=" + index);
  if (!response.ok) { $("status").textContent = "error: " + (await response.text()); return; }
  const code = await response.json();
  $("testIndex").value = index;
  const label = code.label !== null && info.classNames.length ? " (" + info.classNames[code.label] + ")" : "";
  startFrom(code.codes, "/api/test-image?index=" + index, "test image " + index + label);
}

async function upload() {
  const file = $("upload").files[0];
  if (!file) return;
  const response = await fetch("/api/encode", { method: "POST", body: file });
  if (!response.ok) { $("conversion").textContent = "error: " + (await response.text()); return; }
  const result = await response.json();
  $("conversion").textContent = result.conversion;
  startFrom(result.codes, URL.createObjectURL(file), "your picture");
}

async function draw() {
  const q = new URLSearchParams({ seed: String(seed) });
  if (info.prior && info.prior.classes) q.set("label", $("label").value);
  const response = await fetch("/api/draw?" + q.toString());
  if (!response.ok) { $("status").textContent = "error: " + (await response.text()); return; }
  const result = await response.json();
  startFrom(result.codes, null, "drawn from the prior, seed " + seed);
  seed += 1; $("seed").textContent = seed;
}

async function begin() {
  info = await (await fetch("/api/model")).json();
  $("title").textContent = "vae explore: " + info.run;
  $("subtitle").textContent = info.kind + " model " + info.architecture + ", a " + info.grid.height + "x" + info.grid.width +
    " grid of codes from a codebook of " + info.codebookSize + ", images " + info.image.channels + "x" + info.image.height + "x" +
    info.image.width + ", " + info.testCount + " test images";
  $("gridNote").textContent = "(indices 0…" + (info.codebookSize - 1) + "; type, or ↑ ↓ in a cell)";
  $("testIndex").max = info.testCount - 1;
  makeGrid();
  if (info.prior) {
    $("priorBox").hidden = false;
    if (info.prior.classes) {
      $("classBox").hidden = false;
      for (let k = 0; k < info.prior.classes; k++) {
        const o = document.createElement("option"); o.value = k; o.textContent = info.classNames[k] || String(k); $("label").append(o);
      }
    }
  } else $("noPrior").hidden = false;
  $("useTest").addEventListener("click", () => useTest(+$("testIndex").value));
  $("upload").addEventListener("change", upload);
  $("reset").addEventListener("click", () => setGrid(start));
  $("draw").addEventListener("click", draw);
  const match = location.hash.match(/^#test=(\d+)$/);
  await useTest(match ? Math.min(+match[1], info.testCount - 1) : 0);
}

async function settle() {
  for (let i = 0; i < 400 && (inFlight || pending); i++) await new Promise(r => setTimeout(r, 25));
}

async function selftest() {
  const log = [];
  let verdict;
  try {
    await begin();
    await settle();
    if (decodes < 1 || !lastBytes) throw new Error("the first grid was not decoded");
    const before = lastBytes;
    const first = cellValue(cells[0]);
    // The cell whose change moves the picture: try the first cells with another index.
    let changed = false;
    for (let index = 0; index < Math.min(cells.length, 10) && !changed; index++) {
      const value = cellValue(cells[index]);
      cells[index].value = (value + Math.floor(info.codebookSize / 2)) % info.codebookSize;
      cells[index].dispatchEvent(new Event("input"));
      await settle();
      changed = lastBytes.length !== before.length || lastBytes.some((b, i) => b !== before[i]);
      if (!cells[index].classList.contains("edited")) throw new Error("an edited cell is not marked");
    }
    if (!changed) throw new Error("changing cells did not change the decoded picture");
    log.push("editing a cell changed the picture");
    const decodesBefore = decodes;
    cells[0].value = String(info.codebookSize);
    cells[0].dispatchEvent(new Event("input"));
    await settle();
    if (!cells[0].classList.contains("invalid") || !$("gridError").textContent.includes("cell (0, 0)")) throw new Error("an index outside the codebook is not marked");
    if (decodes !== decodesBefore) throw new Error("a grid with an index outside the codebook was sent");
    const refused = await fetch("/api/decode-codes?codes=" + grid().join(","));
    const message = await refused.text();
    if (refused.status !== 400 || !message.includes("outside the codebook")) throw new Error("the server did not refuse the index: " + refused.status + " " + message);
    log.push("an index outside the codebook is marked and refused (" + refused.status + ")");
    cells[0].value = String(first);
    cells[0].dispatchEvent(new Event("input"));
    await settle();
    if (errors.length) throw new Error(errors.join("; "));
    verdict = "pass: " + log.join("; ");
  } catch (e) {
    verdict = "fail: " + e.message + (errors.length ? " [" + errors.join("; ") + "]" : "");
  }
  document.body.dataset.selftest = verdict; document.title = verdict; $("selftestLog").textContent = verdict;
}

if (location.hash === "#selftest") selftest(); else begin().catch(e => { $("status").textContent = "error: " + e.message; console.error(e); });
</script>
</body>
</html>
"""#
}
