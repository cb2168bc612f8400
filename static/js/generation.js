// Generation page: progress that moves (finished images, and an upscale's tiles), the
// status badge, and an estimate of the time left. Reloads when an output lands, so
// outputs (with their fidelity scores) appear as each one is made.
(function () {
  "use strict";
  const box = document.getElementById("batch");
  if (!box || box.dataset.active !== "1") return;
  const bar = document.getElementById("gen-bar");
  const badge = document.getElementById("gen-status");
  const eta = document.getElementById("gen-eta");
  const duration = (s) => (s < 90 ? `${Math.max(1, Math.round(s))} s` : `${Math.round(s / 60)} min`);
  let seen = document.querySelectorAll(".output img, .output .error").length;
  async function poll() {
    try {
      const res = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      const s = await res.json();
      bar.value = s.percent;
      badge.textContent = s.status_label || s.status;
      const parts = [];
      if (s.status === "queued") parts.push("Waiting for a worker…");
      if (s.step) parts.push(s.step.charAt(0).toUpperCase() + s.step.slice(1));
      if (s.status === "running") parts.push(`${s.percent}%`);
      if (s.eta_seconds != null) parts.push(`about ${duration(s.eta_seconds)} left`);
      eta.textContent = parts.join(" · ");
      if (s.outputs.length !== seen || !["queued", "running"].includes(s.status)) {
        window.location.reload();
        return;
      }
    } catch (e) { /* try again */ }
    setTimeout(poll, 1000);
  }
  poll();
})();
