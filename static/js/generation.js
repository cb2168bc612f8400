// Generation page: per-image progress. Reloads the page when the batch changes, so
// outputs (with their fidelity scores) appear as each one lands.
(function () {
  "use strict";
  const box = document.getElementById("batch");
  if (!box || box.dataset.active !== "1") return;
  const bar = document.getElementById("gen-bar");
  let seen = document.querySelectorAll(".output img, .output .error").length;
  async function poll() {
    try {
      const res = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      const s = await res.json();
      bar.value = s.percent;
      if (s.outputs.length !== seen || !["queued", "running"].includes(s.status)) {
        window.location.reload();
        return;
      }
    } catch (e) { /* try again */ }
    setTimeout(poll, 1000);
  }
  poll();
})();
