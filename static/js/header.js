// The header is one line when everything in it fits, and a menu button otherwise. Whether it fits
// depends on the person's pages (a community clerk has eighteen), the language, care mode's larger
// type and the window, so it is measured rather than guessed from a breakpoint: laid out as one
// line, does the bar overflow? Loaded right after the header, before the rest of the page is laid
// out, so the page is first painted with the header it keeps.
(function () {
  "use strict";
  var header = document.getElementById("site-header");
  if (!header) return;
  var bar = header.firstElementChild;

  function fit() {
    // header-measuring lays the menu out whole even while it is opening or closing (Bootstrap
    // animates its height with overflow hidden, which would let it shrink and seem to fit).
    header.classList.add("navbar-expand", "header-measuring");
    header.classList.remove("header-folded");
    var overflows = bar.scrollWidth > bar.clientWidth;
    header.classList.remove("header-measuring");
    if (overflows) {
      header.classList.remove("navbar-expand");
      header.classList.add("header-folded");
    }
  }

  var queued = false;
  function refit() {
    if (queued) return;
    queued = true;
    window.requestAnimationFrame(function () {
      queued = false;
      fit();
    });
  }

  fit();
  window.addEventListener("resize", refit);
  // Care mode and the language change the type: the care-mode button toggles <html>'s class.
  new MutationObserver(refit).observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  // The inbox badge is refreshed by htmx and may grow by a count.
  document.addEventListener("htmx:afterSettle", refit);
  header.addEventListener("shown.bs.collapse", refit);
  header.addEventListener("hidden.bs.collapse", refit);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(refit);
})();
