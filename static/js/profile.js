// Profile page: copy buttons, and the map's previews by pointer or keyboard (the map is
// one tab stop; the arrow keys walk its points, nearest first in that direction).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-text]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const text = document.querySelector(btn.dataset.copyText).textContent.trim();
      const label = btn.textContent;
      try { await navigator.clipboard.writeText(text); btn.textContent = "Copied"; }
      catch (e) { btn.textContent = "Select and copy"; }
      setTimeout(() => (btn.textContent = label), 1500);
    });
  });
  const map = document.getElementById("board-map");
  const tip = document.getElementById("map-tip");
  if (!map || !tip) return;
  const img = tip.querySelector("img");
  const name = tip.querySelector("span");
  const points = Array.from(map.querySelectorAll(".pt"));
  const centre = (pt) => { const b = pt.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; };

  function show(pt) {
    if (pt.dataset.url) { img.src = pt.dataset.url; img.hidden = false; } else { img.hidden = true; }
    name.textContent = pt.dataset.name;
    const box = pt.getBoundingClientRect();
    const wrap = map.parentElement.getBoundingClientRect();
    tip.style.left = Math.max(0, Math.min(box.left - wrap.left + 14, wrap.width - 180)) + "px";
    tip.style.top = (box.top - wrap.top + 14) + "px";
    tip.hidden = false;
  }
  points.forEach((pt) => {
    pt.addEventListener("mouseenter", () => show(pt));
    pt.addEventListener("mouseleave", () => { tip.hidden = true; });
    pt.addEventListener("focus", () => show(pt));
    pt.addEventListener("blur", () => { tip.hidden = true; });
  });

  const DIRS = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
  map.addEventListener("keydown", (e) => {
    const current = e.target.closest(".pt");
    if (!current) return;
    let next = null;
    if (e.key === "Home") next = points[0];
    else if (e.key === "End") next = points[points.length - 1];
    else if (DIRS[e.key]) {
      const [dx, dy] = DIRS[e.key];
      const [cx, cy] = centre(current);
      let best = Infinity;
      points.forEach((pt) => {
        if (pt === current) return;
        const [x, y] = centre(pt);
        const along = (x - cx) * dx + (y - cy) * dy;
        if (along <= 0) return;
        const across = Math.abs((x - cx) * dy) + Math.abs((y - cy) * dx);
        const score = along + 2 * across;
        if (score < best) { best = score; next = pt; }
      });
    } else if (e.key === " " && current.getAttribute("href")) {
      e.preventDefault(); window.location.href = current.getAttribute("href"); return;
    }
    if (!next) return;
    e.preventDefault();
    current.setAttribute("tabindex", "-1");
    next.setAttribute("tabindex", "0");
    next.focus();
  });
})();
