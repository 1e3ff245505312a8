// Behaviour shared by every page. No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var KEY = "suqu-care-mode";
  var root = document.documentElement;
  var toggle = document.getElementById("care-mode-toggle");

  function show() {
    if (toggle) toggle.setAttribute("aria-pressed", root.classList.contains("care-mode") ? "true" : "false");
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      var on = root.classList.toggle("care-mode");
      try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* not remembered */ }
      show();
    });
  }
  show();
})();

// A <select data-submit-on-change> submits its form when changed (the queue's unit switch).
document.addEventListener("change", function (event) {
  if (event.target.matches("[data-submit-on-change]")) event.target.form.submit();
});

// The queue refreshes itself every 30 seconds; not while someone is ticking cases in it.
document.addEventListener("htmx:beforeRequest", function (event) {
  var list = document.getElementById("queue-list");
  if (list && event.detail.elt === list && list.querySelector("input[type=checkbox]:checked")) {
    event.preventDefault();
  }
});

// Tables that become cards on a phone (table.table-cards, static/css/suqu.css): each cell is
// labelled with its column's heading and takes the heading's data-card (title, badge, long, hide),
// so a template says once, in its <thead>, how each column shows on a phone. Run on each page and
// on each piece htmx brings in.
function labelCardTables(root) {
  var inside = root.closest && root.closest("table.table-cards");
  var tables = inside ? [inside] : root.querySelectorAll("table.table-cards");
  Array.prototype.forEach.call(tables, function (table) {
    var headings = [];
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) return;
    Array.prototype.forEach.call(headRow.cells, function (th) {
      for (var i = 0; i < th.colSpan; i++) headings.push(th);
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var th = headings[column];
          column += cell.colSpan;
          if (!th || cell.colSpan > 1) return;
          var label = th.textContent.trim();
          if (label && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", label);
          if (th.dataset.card && !cell.dataset.card) cell.dataset.card = th.dataset.card;
        });
      });
    });
  });
}
labelCardTables(document);
document.addEventListener("htmx:load", function (event) { labelCardTables(event.target); });

// A table wider than the screen scrolls inside its .table-responsive box; a keyboard can scroll it
// only if the box takes focus (axe: scrollable-region-focusable), so an overflowing box does.
function focusableScrollers() {
  Array.prototype.forEach.call(document.querySelectorAll(".table-responsive"), function (box) {
    if (box.scrollWidth > box.clientWidth) box.setAttribute("tabindex", "0");
    else if (box.getAttribute("tabindex") === "0") box.removeAttribute("tabindex");
  });
}
focusableScrollers();
window.addEventListener("resize", focusableScrollers);
document.addEventListener("htmx:afterSettle", focusableScrollers);
