// The top bar's search box as an ARIA combobox: htmx fills the listbox with
// suggestions as one types; ↑/↓ move through them, Enter opens the one chosen
// (or, with none chosen, submits the form to the customer list), Escape closes.
(function () {
  "use strict";

  function setUp() {
    var input = document.getElementById("global-search");
    var listbox = document.getElementById("global-search-listbox");
    if (!input || !listbox) return;
    var active = -1;

    function options() {
      return Array.prototype.slice.call(
        listbox.querySelectorAll('[role="option"]:not([aria-disabled="true"])')
      );
    }

    function setActive(index) {
      var all = options();
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      var hasOptions = listbox.querySelector('[role="option"]') !== null;
      listbox.hidden = !hasOptions;
      input.setAttribute("aria-expanded", hasOptions ? "true" : "false");
      setActive(-1);
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== listbox) return;
      if (input.value.trim() && document.activeElement === input) {
        open();
      } else {
        close();
      }
    });

    input.addEventListener("keydown", function (event) {
      var all = options();
      if (event.key === "ArrowDown") {
        if (!all.length) return;
        event.preventDefault();
        if (listbox.hidden) open();
        setActive(Math.min(active + 1, all.length - 1));
      } else if (event.key === "ArrowUp") {
        if (listbox.hidden || !all.length) return;
        event.preventDefault();
        setActive(active - 1);
      } else if (event.key === "Enter") {
        if (listbox.hidden || active < 0 || !all[active]) return; // the form goes to the list
        event.preventDefault();
        go(all[active]);
      } else if (event.key === "Escape") {
        if (listbox.hidden) return;
        event.preventDefault();
        close();
      }
    });

    // Options are not links (a link inside an option is a nested control for screen
    // readers): they carry their address and open it when chosen.
    function go(option) {
      var href = option.getAttribute("data-href");
      if (href) window.location.assign(href);
    }

    // Keep the focus in the box while clicking a suggestion.
    listbox.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option && option.getAttribute("aria-disabled") !== "true") go(option);
    });
    input.addEventListener("blur", close);
    input.addEventListener("focus", function () {
      if (input.value.trim() && listbox.querySelector('[role="option"]')) open();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
