// The callback form asks only what counts for the answers given so far: the verdict once the
// resident is reached, what to do when they are not content, and the exemption's reason and note
// when the case is closed that way. Without this script every question shows and the server
// ignores the ones that do not apply.
(function () {
  "use strict";
  var form = document.getElementById("callback-form");
  if (!form) return;

  function chosen(name) {
    var input = form.querySelector("input[name=" + name + "]:checked");
    return input ? input.value : "";
  }

  function show(part, on) {
    form.querySelectorAll("[data-part=" + part + "]").forEach(function (element) {
      element.hidden = !on;
    });
  }

  function update() {
    var reached = chosen("reached") === "1";
    var negative = chosen("resolved") === "0" || chosen("satisfaction") === "unsatisfied";
    show("verdict", reached);
    show("negative", reached && negative);
    show("exemption", reached && negative && chosen("outcome") === "exempt");
  }

  form.addEventListener("change", update);
  update();
})();
