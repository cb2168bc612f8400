// Analysis page: poll the run's status and move the progress bar until it is done.
(function () {
  "use strict";
  const box = document.getElementById("analysis");
  if (!box) return;
  const bar = document.getElementById("analysis-bar");
  const stage = document.getElementById("analysis-stage");
  const error = document.getElementById("analysis-error");
  const eta = document.getElementById("analysis-eta");
  const duration = (s) => (s < 90 ? `${Math.max(1, Math.round(s))} s` : `${Math.round(s / 60)} min`);
  const LABELS = {
    embedding: (s) => `Embedding images: ${s.done} of ${s.total}`,
    clustering: () => "Finding sub-styles…",
    keywords: () => "Choosing keywords…",
    "sub-styles": () => "Describing each sub-style…",
    palette: () => "Measuring the palette…",
    summary: () => "Writing the summary…",
    grade: () => "Recovering the colour grade…",
  };
  async function poll() {
    let s;
    try {
      const res = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      s = await res.json();
    } catch (e) {
      setTimeout(poll, 2000);
      return;
    }
    bar.value = s.percent;
    // Through the analysis page: it shows the run's notes on the profile it lands on.
    if (s.status === "done") { window.location.href = s.done_url || s.profile_url; return; }
    if (s.status === "failed") {
      stage.textContent = "The analysis stopped.";
      error.textContent = s.error; error.hidden = false; return;
    }
    stage.textContent = s.status === "queued" ? "Waiting for a worker…" : (LABELS[s.stage] || (() => s.stage))(s);
    eta.textContent = s.eta_seconds == null ? "" : `About ${duration(s.eta_seconds)} left`;
    setTimeout(poll, 700);
  }
  poll();
})();
