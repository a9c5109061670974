// The charts drawn by pygal (tendero/insights/charts.py) carry their stylesheet in a
// data-style attribute: the Content-Security-Policy refuses inline <style>, not
// stylesheets built through the CSSOM. Each sheet is scoped to its chart's id; the
// sheets follow the charts as htmx swaps them in and out.
(function () {
  "use strict";
  if (!("adoptedStyleSheets" in document) || typeof CSSStyleSheet === "undefined") return;
  var sheets = new Map(); // chart id -> its stylesheet

  function apply() {
    var current = new Map();
    document.querySelectorAll("svg[data-style]").forEach(function (svg) {
      var sheet = sheets.get(svg.id);
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(svg.getAttribute("data-style"));
      }
      current.set(svg.id, sheet);
    });
    var ours = new Set(sheets.values());
    var others = document.adoptedStyleSheets.filter(function (sheet) {
      return !ours.has(sheet);
    });
    sheets = current;
    document.adoptedStyleSheets = others.concat(Array.from(current.values()));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", apply);
  } else {
    apply();
  }
  // On the swap itself, so a chart htmx has just put in is never shown unstyled;
  // and again once settled, for content htmx settles in late.
  document.addEventListener("htmx:afterSwap", apply);
  document.addEventListener("htmx:afterSettle", apply);
})();
