// Profile page: copy buttons and the map's hover previews.
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
  map.querySelectorAll(".pt").forEach((pt) => {
    pt.addEventListener("mouseenter", () => {
      if (pt.dataset.url) { img.src = pt.dataset.url; img.hidden = false; } else { img.hidden = true; }
      name.textContent = pt.dataset.name;
      const box = pt.getBoundingClientRect();
      const wrap = map.parentElement.getBoundingClientRect();
      tip.style.left = Math.min(box.left - wrap.left + 14, wrap.width - 180) + "px";
      tip.style.top = (box.top - wrap.top + 14) + "px";
      tip.hidden = false;
    });
    pt.addEventListener("mouseleave", () => { tip.hidden = true; });
  });
})();
