/* Behaviour for every page: no inline scripts (the CSP forbids them). */
(function () {
  "use strict";

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  window.clubCsrfToken = csrfToken;

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
  });

  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter || ev.target.querySelector("[data-confirm]");
    var msg = btn && btn.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

  /* Job progress: elements with data-job-status-url poll it until the job ends. */
  function pollJob(el) {
    var url = el.getAttribute("data-job-status-url");
    var bar = el.querySelector("[data-job-progress]");
    var label = el.querySelector("[data-job-label]");
    var pct = el.querySelector("[data-job-percent]");
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (bar) { bar.value = data.progress; }
          if (pct) { pct.textContent = data.progress + "%"; }
          if (label) { label.textContent = data.status_label; }
          if (data.status === "finished" || data.status === "failed") {
            window.location.reload();
          } else {
            window.setTimeout(tick, 1000);
          }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-status-url]").forEach(pollJob);
  });
})();
