// "/" focuses the global search, unless the person is already typing somewhere.
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  var tag = target && target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
  var search = document.getElementById("global-search");
  if (!search) return;
  event.preventDefault();
  search.focus();
  search.select();
});

// Customer 360 tabs: after htmx swaps a tab in, mark the tab that is now shown.
document.addEventListener("htmx:afterSettle", function (event) {
  var panel = document.getElementById("tab-panel");
  if (!panel || event.target !== panel) return;
  var path = window.location.pathname;
  document.querySelectorAll(".tabs a[data-tab]").forEach(function (link) {
    if (new URL(link.href, window.location.origin).pathname === path) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  });
});

// The customer list's export links take the filters in the address when clicked:
// htmx updates the address as one filters, without drawing the links again.
document.addEventListener("click", function (event) {
  var link = event.target instanceof Element && event.target.closest("a[data-export-format]");
  if (!link) return;
  var params = new URLSearchParams(window.location.search);
  params.set("format", link.getAttribute("data-export-format"));
  link.search = params.toString();
});
