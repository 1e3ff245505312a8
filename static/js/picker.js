// Pickers (routing/pickers.py, templates/routing/_picker.html): htmx fetches the options as the
// person types; picking one puts its code in the hidden input and its path in the box. Typing
// clears the code, so that a text nobody picked is resolved (or refused) by the server.
(function () {
  "use strict";

  function root(element) {
    return element && element.closest("[data-picker]");
  }

  function options(picker) {
    return Array.prototype.slice.call(picker.querySelectorAll("[data-picker-option]"));
  }

  function close(picker) {
    var list = picker.querySelector("[role=listbox]");
    list.innerHTML = "";
    picker.querySelector("[data-picker-text]").setAttribute("aria-expanded", "false");
  }

  function pick(option) {
    var picker = root(option);
    var text = picker.querySelector("[data-picker-text]");
    var code = picker.querySelector("[data-picker-code]");
    code.value = option.getAttribute("data-code");
    text.value = option.getAttribute("data-label");
    close(picker);
    text.focus();
    code.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-picker-text]")) return;
    root(event.target).querySelector("[data-picker-code]").value = "";
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var picker = root(event.target);
    if (!picker || !event.target.matches("[role=listbox]")) return;
    var text = picker.querySelector("[data-picker-text]");
    text.setAttribute("aria-expanded", options(picker).length ? "true" : "false");
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-picker-option]");
    if (option) {
      pick(option);
      return;
    }
    // A click elsewhere closes every open list.
    Array.prototype.forEach.call(document.querySelectorAll("[data-picker]"), function (picker) {
      if (!picker.contains(event.target)) close(picker);
    });
  });

  document.addEventListener("keydown", function (event) {
    var picker = root(event.target);
    if (!picker) return;
    var list = options(picker);
    var at = list.indexOf(event.target);
    if (event.key === "ArrowDown" && list.length) {
      event.preventDefault();
      list[Math.min(at + 1, list.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      if (at === 0) picker.querySelector("[data-picker-text]").focus();
      else list[at - 1].focus();
    } else if (event.key === "Enter" && at >= 0) {
      // Enter on an option picks it rather than submitting the form.
      event.preventDefault();
      pick(list[at]);
    } else if (event.key === "Escape") {
      close(picker);
      picker.querySelector("[data-picker-text]").focus();
    }
  });
})();
