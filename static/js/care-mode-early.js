// 关怀模式 (care mode): remembered per browser; applied before the page is painted.
try {
  if (window.localStorage.getItem("suqu-care-mode") === "on") {
    document.documentElement.classList.add("care-mode");
  }
} catch (e) { /* storage disabled: the page stays in normal mode */ }
