// Recipe form: sub-style menus per profile, slider read-outs, and a live preview that
// follows the strength and blend sliders without reloading the page.
(function () {
  "use strict";
  const form = document.getElementById("recipe");
  if (!form) return;
  const clusters = JSON.parse(document.getElementById("profile-clusters").textContent);
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const img = document.getElementById("preview");
  const note = document.getElementById("preview-note");

  form.querySelectorAll("input[type=range]").forEach((r) => {
    const out = r.parentElement.querySelector("output");
    r.addEventListener("input", () => { if (out) out.textContent = r.value; });
  });

  function fillClusters(row) {
    const profile = row.querySelector(".ing-profile").value;
    const select = row.querySelector(".ing-cluster");
    const wanted = select.dataset.selected || "all";
    select.innerHTML = '<option value="all">whole profile</option>';
    (clusters[profile] || []).forEach((c) => {
      const o = document.createElement("option");
      o.value = c.index;
      o.textContent = `sub-style ${c.index + 1}: ${c.label} (${c.percent}%)`;
      if (String(c.index) === wanted) o.selected = true;
      select.append(o);
    });
  }
  form.querySelectorAll(".ingredient").forEach((row) => {
    fillClusters(row);
    row.querySelector(".ing-profile").addEventListener("change", () => { row.querySelector(".ing-cluster").dataset.selected = "all"; fillClusters(row); schedule(); });
    row.querySelector(".ing-cluster").addEventListener("change", schedule);
    row.querySelector(".ing-weight").addEventListener("input", schedule);
  });
  document.getElementById("strength").addEventListener("input", schedule);
  form.querySelectorAll("[name=content_ids]").forEach((c) => c.addEventListener("change", schedule));

  let timer = null, inflight = null, lastUrl = null;
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 80); }
  async function refresh() {
    const content = form.querySelector("[name=content_ids]:checked");
    const ingredients = Array.from(form.querySelectorAll(".ingredient")).map((row) => ({
      profile: row.querySelector(".ing-profile").value,
      cluster: row.querySelector(".ing-cluster").value,
      weight: parseFloat(row.querySelector(".ing-weight").value),
    })).filter((i) => i.profile);
    if (!content || !ingredients.length) { note.hidden = false; return; }
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const t0 = performance.now();
    try {
      const res = await fetch(form.dataset.previewUrl, {
        method: "POST", credentials: "same-origin", signal: inflight.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ content: content.value, ingredients, strength: parseFloat(document.getElementById("strength").value) }),
      });
      if (!res.ok) { note.textContent = (await res.json()).error || "No preview."; note.hidden = false; return; }
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
