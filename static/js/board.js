// Board page: drag-and-drop uploads with a progress bar and a result per file,
// live refresh of the grid while thumbnails are made, and drag-to-reorder.
(function () {
  "use strict";
  const zone = document.getElementById("dropzone");
  const grid = document.getElementById("grid");
  const csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  const PARALLEL = 3;

  document.querySelectorAll("[data-copy]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const input = document.querySelector(btn.dataset.copy);
      try { await navigator.clipboard.writeText(input.value); } catch (e) { input.select(); document.execCommand("copy"); }
      btn.textContent = "Copied";
      setTimeout(() => (btn.textContent = "Copy link"), 1500);
    });
  });

  if (!zone) return;
  const list = document.getElementById("upload-list");
  const input = document.getElementById("file-input");
  const queue = [];
  let active = 0;

  function row(file) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    const result = document.createElement("span");
    result.className = "result";
    result.textContent = "waiting";
    li.append(name, bar, result);
    list.prepend(li);
    return { li, bar, result };
  }

  function show(ui, results) {
    // A ZIP gives one result per image inside it: list them under the archive.
    if (results.length === 1) {
      const r = results[0];
      ui.result.className = "result " + r.status;
      ui.result.textContent = r.status + (r.message ? " — " + r.message : "");
      return;
    }
    const counts = {};
    results.forEach((r) => (counts[r.status] = (counts[r.status] || 0) + 1));
    ui.result.textContent = Object.entries(counts).map(([k, v]) => v + " " + k).join(", ");
    results.forEach((r) => {
      const li = document.createElement("li");
      li.innerHTML = '<span class="name"></span><span></span><span class="result"></span>';
      li.querySelector(".name").textContent = "  " + r.name;
      const res = li.querySelector(".result");
      res.className = "result " + r.status;
      res.textContent = r.status + (r.message ? " — " + r.message : "");
      ui.li.after(li);
    });
  }

  function upload(file) {
    const ui = row(file);
    queue.push({ file, ui });
    pump();
  }

  function pump() {
    while (active < PARALLEL && queue.length) {
      const { file, ui } = queue.shift();
      active++;
      const form = new FormData();
      form.append("files", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", zone.dataset.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) ui.bar.value = (e.loaded / e.total) * 95; };
      ui.result.textContent = "uploading";
      xhr.onload = () => {
        ui.bar.value = 100;
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 200 && body) show(ui, body.results);
        else if (xhr.status === 413) show(ui, [{ status: "rejected", message: "too large for the server" }]);
        else if (xhr.status === 403) show(ui, [{ status: "rejected", message: "your role can't add images" }]);
        else show(ui, [{ status: "rejected", message: (body && body.error) || "server error " + xhr.status }]);
        done();
      };
      xhr.onerror = () => { show(ui, [{ status: "rejected", message: "network error; try again" }]); done(); };
      xhr.send(form);
    }
  }

  function done() {
    active--;
    pump();
    if (active === 0 && queue.length === 0) refreshGrid();
  }

  let polling = null;
  async function refreshGrid() {
    const res = await fetch(zone.dataset.gridUrl, { credentials: "same-origin" });
    if (!res.ok) return;
    grid.innerHTML = await res.text();
    bindTiles();
    const processing = parseInt(res.headers.get("X-Processing") || "0", 10);
    clearTimeout(polling);
    if (processing > 0) polling = setTimeout(refreshGrid, 1200);
  }

  zone.addEventListener("dragover", (e) => {
    if (!e.dataTransfer.types.includes("Files")) return;
    e.preventDefault(); zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    if (!e.dataTransfer.files.length) return;
    e.preventDefault(); zone.classList.remove("over");
    Array.from(e.dataTransfer.files).forEach(upload);
  });
  // Dropping files anywhere on the page should add them, not navigate away.
  document.addEventListener("dragover", (e) => { if (e.dataTransfer.types.includes("Files")) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    if (e.dataTransfer.files.length && !zone.contains(e.target)) {
      e.preventDefault(); Array.from(e.dataTransfer.files).forEach(upload);
    }
  });
  input.addEventListener("change", () => { Array.from(input.files).forEach(upload); input.value = ""; });

  // Reorder: drag a tile onto another to put it before that one.
  let dragged = null;
  function bindTiles() {
    grid.querySelectorAll(".tile[draggable=true]").forEach((tile) => {
      tile.addEventListener("dragstart", (e) => { dragged = tile; tile.classList.add("dragging"); e.dataTransfer.effectAllowed = "move"; });
      tile.addEventListener("dragend", () => { tile.classList.remove("dragging"); dragged = null; });
      tile.addEventListener("dragover", (e) => { if (dragged && dragged !== tile) { e.preventDefault(); tile.classList.add("drop-before"); } });
      tile.addEventListener("dragleave", () => tile.classList.remove("drop-before"));
      tile.addEventListener("drop", (e) => {
        if (!dragged || dragged === tile) return;
        e.preventDefault(); e.stopPropagation();
        tile.classList.remove("drop-before");
        tile.before(dragged);
        const order = Array.from(grid.querySelectorAll(".tile")).map((t) => parseInt(t.dataset.id, 10));
        fetch(zone.dataset.reorderUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
          body: JSON.stringify({ order }),
        });
      });
    });
  }
  bindTiles();
  if (grid.querySelector(".tile.processing")) refreshGrid();
})();
