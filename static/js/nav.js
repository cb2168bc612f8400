// Narrow screens: the main navigation folds behind a Menu button. Without this script
// the navigation simply wraps onto more lines.
const bar = document.getElementById("topbar");
const toggle = document.getElementById("menu-toggle");
if (bar && toggle) {
  bar.classList.add("collapsible");
  toggle.hidden = false;
  const set = (open) => {
    bar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => set(!bar.classList.contains("open")));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && bar.classList.contains("open")) {
      set(false);
      toggle.focus();
    }
  });
}
