// Board page: masonry layout, the lightbox, and for editors drag-and-drop / paste / URL
// uploads with a result per file, reorder by mouse, touch and keyboard, and remove with
// undo. Third-party code (PhotoSwipe, SortableJS) comes from npm via bin/vendor.
import PhotoSwipeLightbox from "../vendor/photoswipe/photoswipe-lightbox.esm.min.js";
import Sortable from "../vendor/sortablejs/sortable.core.esm.js";

const grid = document.getElementById("grid");
const zone = document.getElementById("dropzone");
const csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
const PARALLEL = 3;
const UNDO_SECONDS = 6;

document.querySelectorAll("[data-copy]").forEach((btn) => {
  btn.addEventListener("click", async () => {
    const input = document.querySelector(btn.dataset.copy);
    try { await navigator.clipboard.writeText(input.value); } catch (e) { input.select(); document.execCommand("copy"); }
    btn.textContent = "Copied";
    setTimeout(() => (btn.textContent = "Copy link"), 1500);
  });
});

// --- masonry: each tile spans as many 4 px rows as it is tall ------------------------
function layout() {
  if (!grid) return;
  const tiles = grid.querySelectorAll(".tile");
  if (!tiles.length) { grid.classList.remove("masonry"); return; }
  grid.classList.add("masonry");
  const style = getComputedStyle(grid);
  const row = parseFloat(style.gridAutoRows) || 4;
  const gap = parseFloat(style.getPropertyValue("--gap")) || 12;
  tiles.forEach((tile) => {
    if (tile.hidden) return;
    const h = tile.getBoundingClientRect().height;
    tile.style.gridRowEnd = `span ${Math.max(1, Math.ceil((h + gap) / row))}`;
  });
}
let layoutQueued = false;
function queueLayout() {
  if (layoutQueued) return;
  layoutQueued = true;
  requestAnimationFrame(() => { layoutQueued = false; layout(); });
}
if (grid) {
  grid.addEventListener("load", queueLayout, true); // images, in case a size was off
  new ResizeObserver(queueLayout).observe(grid);
  layout();
}

// --- lightbox: arrows, zoom (click, pinch, wheel, z), swipe, caption ------------------
if (grid) {
  const lightbox = new PhotoSwipeLightbox({
    gallery: "#grid",
    children: "a.tile-open",
    pswpModule: () => import("../vendor/photoswipe/photoswipe.esm.min.js"),
    bgOpacity: 0.94,
    showHideAnimationType: "fade",
    closeTitle: "Close (Esc)",
    zoomTitle: "Zoom (z)",
    arrowPrevTitle: "Previous (←)",
    arrowNextTitle: "Next (→)",
  });
  lightbox.on("uiRegister", () => {
    lightbox.pswp.ui.registerElement({
      name: "custom-caption",
      order: 9,
      isButton: false,
      appendTo: "root",
      onInit: (el, pswp) => {
        el.setAttribute("aria-live", "polite");
        pswp.on("change", () => {
          const link = pswp.currSlide.data.element;
          const tile = link && link.closest(".tile");
          el.replaceChildren();
          if (!tile) return;
          const caption = tile.querySelector("figcaption");
          const text = document.createElement("span");
          text.textContent = (caption ? caption.textContent + " · " : "") + tile.dataset.name;
          const more = document.createElement("a");
          more.href = link.getAttribute("href");
          more.textContent = /\/display\/$/.test(more.getAttribute("href")) ? "Full size" : "Details & note";
          el.append(text, " · ", more);
        });
      },
    });
  });
  lightbox.init();
}

if (zone) editing();

function editing() {
  const list = document.getElementById("upload-list");
  const input = document.getElementById("file-input");
  const urlForm = document.getElementById("url-form");
  const status = document.getElementById("reorder-status");
  const queue = [];
  let active = 0;

  function row(label) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = label;
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
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = "  " + r.name;
      const res = document.createElement("span");
      res.className = "result " + r.status;
      res.textContent = r.status + (r.message ? " — " + r.message : "");
      li.append(name, document.createElement("span"), res);
      ui.li.after(li);
    });
  }

  function upload(file) {
    const ui = row(file.name);
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
    // Images waiting for their undo window stay hidden.
    pending.forEach((_, id) => { const t = tileById(id); if (t) t.hidden = true; });
    layout();
    const processing = parseInt(res.headers.get("X-Processing") || "0", 10);
    clearTimeout(polling);
    if (processing > 0) polling = setTimeout(refreshGrid, 1200);
  }

  // Drop anywhere on the page, not only on the zone: a missed drop must not navigate away.
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
  document.addEventListener("dragover", (e) => { if (e.dataTransfer.types.includes("Files")) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    if (e.dataTransfer.files.length && !zone.contains(e.target)) {
      e.preventDefault(); Array.from(e.dataTransfer.files).forEach(upload);
    }
  });
  input.addEventListener("change", () => { Array.from(input.files).forEach(upload); input.value = ""; });

  // --- paste: images from the clipboard, or a copied image address -------------------
  document.addEventListener("paste", (e) => {
    const target = e.target;
    const typing = target && (target.isContentEditable || ["INPUT", "TEXTAREA"].includes(target.tagName));
    const files = Array.from(e.clipboardData ? e.clipboardData.files : []).filter((f) => f.type.startsWith("image/"));
    if (files.length) {
      e.preventDefault();
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      files.forEach((f, i) => {
        const ext = (f.type.split("/")[1] || "png").replace("jpeg", "jpg");
        const named = f.name && f.name !== "image.png" ? f.name : `pasted-${stamp}${files.length > 1 ? "-" + (i + 1) : ""}.${ext}`;
        upload(new File([f], named, { type: f.type }));
      });
      return;
    }
    if (typing) return; // pasting text into a field is just typing
    const text = (e.clipboardData && e.clipboardData.getData("text/plain") || "").trim();
    if (/^https?:\/\/\S+$/i.test(text)) { e.preventDefault(); importUrl(text); }
  });

  // --- add by URL ------------------------------------------------------------------
  async function importUrl(url) {
    const ui = row(url);
    ui.result.textContent = "fetching";
    ui.bar.removeAttribute("value"); // indeterminate while the server fetches it
    const form = new FormData();
    form.append("url", url);
    try {
      const res = await fetch(zone.dataset.importUrl, {
        method: "POST", credentials: "same-origin", body: form,
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      });
      const body = await res.json().catch(() => null);
      ui.bar.value = 100;
      if (res.ok && body) show(ui, body.results);
      else show(ui, [{ status: "rejected", message: (body && body.error) || "server error " + res.status }]);
    } catch (e) {
      ui.bar.value = 100;
      show(ui, [{ status: "rejected", message: "network error; try again" }]);
    }
    refreshGrid();
  }
  urlForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const field = urlForm.querySelector("[name=url]");
    const url = field.value.trim();
    if (!url) return;
    field.value = "";
    importUrl(url);
  });

  // --- reorder ---------------------------------------------------------------------
  const order = () => Array.from(grid.querySelectorAll(".tile")).map((t) => parseInt(t.dataset.id, 10));
  const tileById = (id) => grid.querySelector(`.tile[data-id="${id}"]`);
  async function saveOrder() {
    const res = await fetch(zone.dataset.reorderUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ order: order() }),
    });
    if (!res.ok) { say("The new order could not be saved; reload the page."); }
    grid.dataset.saved = String(Date.now());
  }
  function say(text) { status.textContent = ""; setTimeout(() => (status.textContent = text), 30); }

  // Mouse and touch (a short press first on touch screens, so the page still scrolls).
  Sortable.create(grid, {
    draggable: ".tile",
    filter: ".tile-remove, .empty-grid",
    preventOnFilter: false,
    delayOnTouchOnly: true,
    delay: 180,
    animation: 120,
    ghostClass: "sortable-ghost",
    chosenClass: "sortable-chosen",
    onEnd: (evt) => { layout(); if (evt.oldIndex !== evt.newIndex) saveOrder(); },
  });

  // Keyboard: Enter/Space on a tile's ⠿ button picks it up, arrows move it, Enter/Space
  // drops it (and saves), Escape puts it back where it was.
  let lifted = null; // { tile, from }
  const position = (tile) => Array.from(grid.querySelectorAll(".tile")).indexOf(tile);
  const count = () => grid.querySelectorAll(".tile").length;
  function drop(save) {
    if (!lifted) return;
    const { tile, from } = lifted;
    lifted = null;
    tile.classList.remove("lifted");
    const button = tile.querySelector(".tile-move");
    button.setAttribute("aria-pressed", "false");
    if (!save) {
      const tiles = Array.from(grid.querySelectorAll(".tile")).filter((t) => t !== tile);
      if (from >= tiles.length) grid.append(tile); else tiles[from].before(tile);
      layout();
      button.focus();
      say(`${tile.dataset.name} put back at position ${from + 1}.`);
      return;
    }
    say(`${tile.dataset.name} dropped at position ${position(tile) + 1} of ${count()}.`);
    if (position(tile) !== from) saveOrder();
  }
  grid.addEventListener("click", (e) => {
    const button = e.target.closest(".tile-move");
    if (!button) return;
    e.preventDefault();
    const tile = button.closest(".tile");
    if (lifted && lifted.tile === tile) { drop(true); return; }
    if (lifted) drop(true);
    lifted = { tile, from: position(tile) };
    tile.classList.add("lifted");
    button.setAttribute("aria-pressed", "true");
    say(`${tile.dataset.name} picked up, position ${lifted.from + 1} of ${count()}. Arrow keys move it, Enter drops it, Escape cancels.`);
  });
  grid.addEventListener("keydown", (e) => {
    if (!lifted || !e.target.closest(".tile-move")) return;
    const { tile } = lifted;
    const tiles = Array.from(grid.querySelectorAll(".tile"));
    const i = tiles.indexOf(tile);
    let moved = true;
    if (["ArrowLeft", "ArrowUp"].includes(e.key) && i > 0) tiles[i - 1].before(tile);
    else if (["ArrowRight", "ArrowDown"].includes(e.key) && i < tiles.length - 1) tiles[i + 1].after(tile);
    else if (e.key === "Home" && i > 0) tiles[0].before(tile);
    else if (e.key === "End" && i < tiles.length - 1) tiles[tiles.length - 1].after(tile);
    else if (e.key === "Escape") { e.preventDefault(); drop(false); return; }
    else moved = false;
    if (!moved) return;
    e.preventDefault();
    layout();
    tile.querySelector(".tile-move").focus();
    tile.scrollIntoView({ block: "nearest" });
    say(`Position ${position(tile) + 1} of ${count()}.`);
  });
  grid.addEventListener("focusout", (e) => {
    if (lifted && !lifted.tile.contains(e.relatedTarget) && e.relatedTarget) drop(true);
  });

  // --- remove, with a few seconds to undo ----------------------------------------------
  const pending = new Map(); // image id -> { tile, form, timer }
  const toast = document.getElementById("undo-toast");
  const toastText = document.getElementById("undo-text");
  let lastRemoved = null;
  grid.addEventListener("submit", (e) => {
    const form = e.target.closest(".tile-remove");
    if (!form) return;
    e.preventDefault();
    const tile = form.closest(".tile");
    const id = tile.dataset.id;
    tile.hidden = true;
    layout();
    const timer = setTimeout(() => commitRemove(id), UNDO_SECONDS * 1000);
    pending.set(id, { tile, form, timer });
    lastRemoved = id;
    toastText.textContent = `Removed “${tile.dataset.name}”.`;
    toast.hidden = false;
    document.getElementById("undo-button").focus(); // one key away from undoing it
  });
  document.getElementById("undo-button").addEventListener("click", () => {
    const item = pending.get(lastRemoved);
    toast.hidden = true;
    if (!item) return;
    clearTimeout(item.timer);
    pending.delete(lastRemoved);
    item.tile.hidden = false;
    layout();
    const back = item.tile.querySelector(".tile-open, .tile-move");
    if (back) back.focus();
    say(`${item.tile.dataset.name} is back on the board.`);
  });
  async function commitRemove(id) {
    const item = pending.get(id);
    if (!item) return;
    pending.delete(id);
    if (lastRemoved === id) toast.hidden = true;
    try {
      const res = await fetch(item.form.action, {
        method: "POST", credentials: "same-origin", body: new FormData(item.form),
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      });
      if (!res.ok) throw new Error(String(res.status));
      item.tile.remove();
      layout();
    } catch (err) {
      item.tile.hidden = false;
      layout();
      say(`${item.tile.dataset.name} could not be removed; try again.`);
    }
  }
  // Leaving the page ends the undo window: send what is still pending.
  window.addEventListener("pagehide", () => {
    pending.forEach((item) => { clearTimeout(item.timer); navigator.sendBeacon(item.form.action, new FormData(item.form)); });
    pending.clear();
  });

  if (grid.querySelector(".tile.processing")) refreshGrid();
}
