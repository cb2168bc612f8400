// Analysis page: poll the run's status and move the progress bar until it is done.
(function () {
  "use strict";
  const box = document.getElementById("analysis");
  if (!box) return;
  const bar = document.getElementById("analysis-bar");
  const stage = document.getElementById("analysis-stage");
  const error = document.getElementById("analysis-error");
  const LABELS = {
    embedding: (s) => `Embedding images: ${s.done} of ${s.total}`,
    clustering: () => "Finding sub-styles…",
    keywords: () => "Choosing keywords…",
    "sub-styles": () => "Describing each sub-style…",
    palette: () => "Measuring the palette…",
    summary: () => "Writing the summary…",
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
    if (s.status === "done" && s.profile_url) { window.location.href = s.profile_url; return; }
    if (s.status === "failed") {
      stage.textContent = "The analysis stopped.";
      error.textContent = s.error; error.hidden = false; return;
    }
    stage.textContent = s.status === "queued" ? "Waiting for a worker…" : (LABELS[s.stage] || (() => s.stage))(s);
    setTimeout(poll, 700);
  }
  poll();
})();
