/* The glossary index's filter box. Without this script the index is a plain A–Z list
   (the box stays hidden). Typing hides the entries whose title, other names and type do
   not contain the text (accents and case ignored), and the letters left empty; the
   count is announced politely. No innerHTML, no inline styles (CSP-safe). */
(function () {
  "use strict";

  var box = document.getElementById("glossary-filter");
  var input = document.getElementById("glossary-filter-input");
  var count = document.getElementById("glossary-filter-count");
  var empty = document.getElementById("glossary-filter-empty");
  if (!box || !input || !count) {
    return;
  }
  var items = Array.prototype.slice.call(document.querySelectorAll(".glossary-item[data-filter]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll(".glossary-letter"));
  var total = items.length;

  function fold(text) {
    // Phones type curly quotes (’), the index holds straight ones: both fold to straight.
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim()
      .replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"');
  }

  function apply() {
    var query = fold(input.value);
    var shown = 0;
    items.forEach(function (item) {
      var match = !query || item.getAttribute("data-filter").indexOf(query) !== -1;
      item.hidden = !match;
      if (match) {
        shown++;
      }
    });
    sections.forEach(function (section) {
      section.hidden = !section.querySelector(".glossary-item:not([hidden])");
      var jump = document.querySelector('.az-nav a[href="#' + section.id + '"]');
      if (jump) {
        jump.parentNode.classList.toggle("is-filtered-out", section.hidden);
      }
    });
    if (empty) {
      empty.hidden = shown !== 0;
    }
    count.textContent = query ? shown + " of " + total + (total === 1 ? " entry" : " entries") : "";
  }

  box.hidden = false;
  input.addEventListener("input", apply);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && input.value) {
      input.value = "";
      apply();
    }
  });
  if (input.value) {
    apply(); // a value the browser restored (Back)
  }
})();
