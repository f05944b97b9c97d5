/* The counter's own small script (no inline scripts: the CSP forbids them).
   1. A barcode scanner types a code and Enter, maybe several in a row: the
      product-code box is emptied as soon as htmx has read it, so the next
      scan does not add to the last one (htmx queues the requests in order).
   2. After a swap leaves nothing focused (the tapped button was replaced),
      focus returns to the product-code box, ready for the next scan. */
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-counter-clear]")) {
      // The request's parameters are already collected at this point.
      form.reset();
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var active = document.activeElement;
    if (active && active !== document.body) { return; }
    var box = document.getElementById("counter-sku");
    if (box) { box.focus(); }
  });
})();
