// Recipe form: one taste row with "add another", sub-style menus per profile, the
// sections each backend uses (prompt, grade sliders, content), a searchable content
// picker, and a live preview that follows the sliders for board images and uploads.
(function () {
  "use strict";
  const form = document.getElementById("recipe");
  if (!form) return;
  const clusters = JSON.parse(document.getElementById("profile-clusters").textContent);
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const img = document.getElementById("preview");
  const note = document.getElementById("preview-note");
  const rows = Array.from(form.querySelectorAll(".ingredient"));
  const addRow = document.getElementById("add-row");

  form.querySelectorAll("input[type=range]").forEach((r) => {
    const out = r.parentElement.querySelector("output");
    r.addEventListener("input", () => { if (out) out.textContent = r.value; });
  });

  // --- taste rows ---------------------------------------------------------------------
  function fillClusters(row) {
    const profile = row.querySelector(".ing-profile").value;
    const select = row.querySelector(".ing-cluster");
    const wanted = select.dataset.selected || "all";
    select.replaceChildren(new Option("whole profile", "all"));
    (clusters[profile] || []).forEach((c) => {
      const o = new Option(`sub-style ${c.index + 1}: ${c.label} (${c.percent}%)`, c.index);
      if (String(c.index) === wanted) o.selected = true;
      select.append(o);
    });
  }
  function syncAddButton() { addRow.hidden = !rows.some((r) => r.hidden); }
  rows.forEach((row) => {
    fillClusters(row);
    row.querySelector(".ing-profile").addEventListener("change", () => { row.querySelector(".ing-cluster").dataset.selected = "all"; fillClusters(row); schedule(); });
    row.querySelector(".ing-cluster").addEventListener("change", schedule);
    row.querySelector(".ing-weight").addEventListener("input", schedule);
    const remove = row.querySelector(".remove-row");
    if (remove) remove.addEventListener("click", () => {
      row.querySelector(".ing-profile").value = "";
      fillClusters(row);
      row.hidden = true;
      syncAddButton();
      addRow.focus();
      schedule();
    });
  });
  addRow.addEventListener("click", () => {
    const next = rows.find((r) => r.hidden);
    if (!next) return;
    next.hidden = false;
    next.querySelector(".ing-profile").focus();
    syncAddButton();
  });
  syncAddButton();

  // --- what the chosen backend uses ---------------------------------------------------
  const sections = {
    prompt: document.getElementById("prompt-section"),
    grade: document.getElementById("grade-sliders"),
    taste: [document.getElementById("taste-section"), document.getElementById("taste-controls"), document.getElementById("preview-section")],
    content: document.getElementById("content-section"),
  };
  function applyBackend() {
    const radio = form.querySelector("[name=backend]:checked");
    if (!radio) return;
    const on = (flag) => radio.dataset[flag] === "1";
    sections.prompt.hidden = !on("prompt");
    sections.grade.hidden = !on("grade");
    sections.taste.forEach((s) => { if (s) s.hidden = !on("taste"); });
    sections.content.hidden = !on("content");
  }
  form.querySelectorAll("[name=backend]").forEach((r) => r.addEventListener("change", applyBackend));
  applyBackend();

  // --- content picker: search by name, note or board ---------------------------------
  const search = document.getElementById("picker-search");
  if (search) {
    search.hidden = false;
    const empty = document.getElementById("picker-empty");
    search.addEventListener("input", () => {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      form.querySelectorAll(".pick-board").forEach((group) => {
        const boardHit = group.dataset.search.includes(q);
        let any = false;
        group.querySelectorAll("label").forEach((label) => {
          const hit = !q || boardHit || label.dataset.search.includes(q);
          label.hidden = !hit;
          any = any || hit;
        });
        group.hidden = !any;
        shown += any ? 1 : 0;
      });
      empty.hidden = shown > 0;
    });
  }

  // --- uploads: thumbnails, and a small copy for the preview ------------------------------
  const files = document.getElementById("content-files");
  const uploads = document.getElementById("uploads-preview");
  let uploadData = null; // a data: URL of the first upload, at most 512 px
  async function shrink(file) {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 512 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas;
  }
  files.addEventListener("change", async () => {
    uploads.replaceChildren();
    uploadData = null;
    const chosen = Array.from(files.files);
    for (const f of chosen.slice(0, 16)) {
      try {
        const small = await shrink(f);
        if (!uploadData) uploadData = small.toDataURL("image/jpeg", 0.88);
        // The canvas itself is the thumbnail: no blob: or data: image URL for the CSP to allow.
        small.setAttribute("role", "img");
        small.setAttribute("aria-label", f.name);
        uploads.append(small);
      } catch (e) {
        const p = document.createElement("span");
        p.className = "muted small";
        p.textContent = `${f.name}: no preview in this browser (it is still uploaded)`;
        uploads.append(p);
      }
    }
    schedule();
  });
  form.querySelectorAll("[name=content_ids]").forEach((c) => c.addEventListener("change", schedule));
  document.getElementById("strength").addEventListener("input", schedule);
  // The grade sliders and the backend choice change the preview too.
  form.querySelectorAll("[name=colour], [name=tone], [name=texture], [name=backend]").forEach(
    (el) => el.addEventListener(el.type === "radio" ? "change" : "input", schedule));

  // --- live preview -----------------------------------------------------------------
  let timer = null, inflight = null, lastUrl = null;
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 80); }
  async function refresh() {
    const content = form.querySelector("[name=content_ids]:checked");
    const ingredients = rows.filter((row) => !row.hidden).map((row) => ({
      profile: row.querySelector(".ing-profile").value,
      cluster: row.querySelector(".ing-cluster").value,
      weight: parseFloat(row.querySelector(".ing-weight").value),
    })).filter((i) => i.profile);
    if ((!content && !uploadData) || !ingredients.length) { note.hidden = false; return; }
    const body = { ingredients, strength: parseFloat(document.getElementById("strength").value) };
    const backend = form.querySelector("[name=backend]:checked");
    if (backend && ["auto", "grade", "stylize"].includes(backend.value)) body.backend = backend.value;
    for (const name of ["colour", "tone", "texture"]) {
      const el = form.querySelector(`[name=${name}]`);
      if (el) body[name] = parseFloat(el.value);
    }
    if (content) body.content = content.value; else body.content_data = uploadData;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const t0 = performance.now();
    try {
      const res = await fetch(form.dataset.previewUrl, {
        method: "POST", credentials: "same-origin", signal: inflight.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
      if (!res.ok) { note.textContent = (await res.json().catch(() => ({}))).error || "No preview."; note.hidden = false; return; }
      const url = URL.createObjectURL(await res.blob());
      img.src = url; img.hidden = false;
      if (lastUrl) URL.revokeObjectURL(lastUrl);
      lastUrl = url;
      note.textContent = `Preview in ${Math.round(performance.now() - t0)} ms`;
      note.hidden = false;
      img.dataset.updated = String(Date.now());
    } catch (e) { if (e.name !== "AbortError") { note.textContent = "Preview failed; try again."; } }
  }
  schedule();
})();
