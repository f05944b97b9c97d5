/* Ladder CRM: the site's own small script (no inline scripts: the CSP forbids them).
   1. Load htmx once, unless the page loaded it itself.
   2. "/" focuses the global customer search; Escape closes its dropdown. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!window.htmx && me && me.dataset.htmx) {
    var script = document.createElement("script");
    script.src = me.dataset.htmx;
    // Loaded after DOMContentLoaded, htmx would wait for an event that has
    // already fired: process the page once it arrives (idempotent).
    script.onload = function () {
      if (document.readyState !== "loading" && window.htmx) {
        window.htmx.process(document.body);
      }
    };
    document.head.appendChild(script);
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" ||
      (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("global-search");
    if (!box) { return; }
    if (event.key === "/" && !typing(event.target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && (event.target === box || box.form.contains(event.target))) {
      var results = document.getElementById("global-search-results");
      if (results) { results.innerHTML = ""; }
      box.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var results = document.getElementById("global-search-results");
    if (results && !results.parentNode.contains(event.target)) { results.innerHTML = ""; }
  });
})();
