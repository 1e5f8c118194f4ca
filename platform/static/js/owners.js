/* Owner pages: the advisor reassignment form (no inline scripts: the CSP forbids them). */
(function () {
  "use strict";

  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches("[data-autosubmit-on-change]")) {
      el.form.submit();
    }
    if (el.matches("[data-owner-tick]")) {
      // ticking or unticking an owner means "only the owners ticked"
      var selected = document.querySelector('input[name="scope"][value="selected"]');
      if (selected) { selected.checked = true; }
    }
  });

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-tick]");
    if (!btn) { return; }
    var on = btn.getAttribute("data-tick") === "all";
    document.querySelectorAll("[data-owner-tick]").forEach(function (box) { box.checked = on; });
    var scope = document.querySelector('input[name="scope"][value="' + (on ? "all" : "selected") + '"]');
    if (scope) { scope.checked = true; }
  });
})();
