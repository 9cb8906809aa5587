/* Entity previews: a small card with an entry's title, type and summary, shown when
   a glossary link (a.entity[data-entity]) or a cross-reference (a[data-preview]) is
   hovered or focused. Progressive enhancement only: without this script the links are
   plain links. The data comes from <script type="application/json" id="entity-previews">.
   No dependencies, no innerHTML, no inline styles in markup (CSP-safe). */
(function () {
  "use strict";

  var CARD_ID = "entity-preview";
  var HIDE_DELAY = 250; // ms: time for the pointer to travel from the link into the card
  var MARGIN = 8; // px kept free between the card and the viewport's edges
  var GAP = 6; // px between the link and the card

  var source = document.getElementById("entity-previews");
  if (!source) {
    return;
  }
  var data;
  try {
    data = JSON.parse(source.textContent || "{}");
  } catch (err) {
    return;
  }
  if (!data || typeof data !== "object") {
    return;
  }

  var has = Object.prototype.hasOwnProperty;
  var card = null;
  var titleEl = null;
  var typeEl = null;
  var summaryEl = null;
  var current = null; // the link the card currently describes
  var hideTimer = 0;

  function slugOf(link) {
    var slug = null;
    if (link.classList.contains("entity") && link.hasAttribute("data-entity")) {
      slug = link.getAttribute("data-entity");
    } else if (link.hasAttribute("data-preview")) {
      slug = link.getAttribute("data-preview");
    }
    if (slug && has.call(data, slug) && data[slug] && typeof data[slug] === "object") {
      return slug;
    }
    return null;
  }

  function ensureCard() {
    if (card) {
      return card;
    }
    card = document.createElement("div");
    card.id = CARD_ID;
    card.className = "entity-preview";
    card.setAttribute("role", "tooltip");
    card.hidden = true;

    titleEl = document.createElement("strong");
    titleEl.className = "entity-preview-title";
    typeEl = document.createElement("span");
    typeEl.className = "entity-preview-type";
    summaryEl = document.createElement("span");
    summaryEl.className = "entity-preview-summary";
    card.appendChild(titleEl);
    card.appendChild(document.createTextNode(" "));
    card.appendChild(typeEl);
    card.appendChild(document.createTextNode(" "));
    card.appendChild(summaryEl);

    // The pointer may move from the link into the card (WCAG 1.4.13: hoverable).
    card.addEventListener("mouseenter", cancelHide);
    card.addEventListener("mouseleave", scheduleHide);
    document.body.appendChild(card);
    return card;
  }

  // aria-describedby may already hold other ids: add and remove only ours.
  function addDescribedBy(link) {
    var ids = (link.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (ids.indexOf(CARD_ID) === -1) {
      ids.push(CARD_ID);
      link.setAttribute("aria-describedby", ids.join(" "));
    }
  }

  function removeDescribedBy(link) {
    var ids = (link.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== CARD_ID;
    });
    if (ids.length) {
      link.setAttribute("aria-describedby", ids.join(" "));
    } else {
      link.removeAttribute("aria-describedby");
    }
  }

  function fill(item) {
    titleEl.textContent = typeof item.title === "string" ? item.title : "";
    typeEl.textContent = typeof item.type === "string" ? item.type : "";
    typeEl.hidden = !typeEl.textContent;
    summaryEl.textContent = typeof item.summary === "string" ? item.summary : "";
    summaryEl.hidden = !summaryEl.textContent;
  }

  function position(link) {
    var rects = link.getClientRects();
    if (!rects.length) {
      return;
    }
    // A link broken over two lines: sit below its last line or above its first.
    var first = rects[0];
    var last = rects[rects.length - 1];
    var root = document.documentElement;
    var viewW = root.clientWidth || window.innerWidth;
    var viewH = window.innerHeight || root.clientHeight;

    card.style.left = "0px";
    card.style.top = "0px";
    var width = card.offsetWidth;
    var height = card.offsetHeight;

    var left = last.left;
    if (left + width > viewW - MARGIN) {
      left = viewW - MARGIN - width;
    }
    if (left < MARGIN) {
      left = MARGIN;
    }

    var spaceBelow = viewH - last.bottom - GAP - MARGIN;
    var spaceAbove = first.top - GAP - MARGIN;
    var top;
    if (height <= spaceBelow || spaceBelow >= spaceAbove) {
      top = last.bottom + GAP;
      card.setAttribute("data-placement", "below");
    } else {
      top = first.top - GAP - height;
      card.setAttribute("data-placement", "above");
    }

    card.style.left = Math.round(left + window.pageXOffset) + "px";
    card.style.top = Math.round(top + window.pageYOffset) + "px";
  }

  function show(link) {
    var slug = slugOf(link);
    if (!slug) {
      return;
    }
    cancelHide();
    ensureCard();
    if (current && current !== link) {
      removeDescribedBy(current);
    }
    current = link;
    fill(data[slug]);
    card.hidden = false;
    position(link);
    addDescribedBy(link);
  }

  function hide() {
    cancelHide();
    if (card) {
      card.hidden = true;
      card.removeAttribute("data-placement");
    }
    if (current) {
      removeDescribedBy(current);
      current = null;
    }
  }

  function cancelHide() {
    if (hideTimer) {
      window.clearTimeout(hideTimer);
      hideTimer = 0;
    }
  }

  function isHovered(el) {
    try {
      return el.matches(":hover");
    } catch (err) {
      return false;
    }
  }

  // Hide unless the link is still focused or the pointer is on the link or the card.
  function scheduleHide() {
    cancelHide();
    hideTimer = window.setTimeout(function () {
      hideTimer = 0;
      if (!current) {
        return;
      }
      if (document.activeElement === current || isHovered(current) || (card && isHovered(card))) {
        return;
      }
      hide();
    }, HIDE_DELAY);
  }

  function onEnter(event) {
    show(event.currentTarget);
  }

  function onFocus(event) {
    show(event.currentTarget);
  }

  function onLeave(event) {
    if (event.currentTarget === current) {
      scheduleHide();
    }
  }

  function onBlur(event) {
    if (event.currentTarget !== current) {
      return;
    }
    // Focus left the link: keep the card only while the pointer rests on it.
    cancelHide();
    hideTimer = window.setTimeout(function () {
      hideTimer = 0;
      if (current && !isHovered(current) && !(card && isHovered(card))) {
        hide();
      }
    }, HIDE_DELAY);
  }

  function onKeydown(event) {
    if ((event.key === "Escape" || event.key === "Esc") && card && !card.hidden) {
      // Dismiss without moving focus (WCAG 1.4.13: dismissible).
      hide();
      event.stopPropagation();
    }
  }

  function init() {
    var links = document.querySelectorAll("a.entity[data-entity], a[data-preview]");
    var count = 0;
    for (var i = 0; i < links.length; i++) {
      var link = links[i];
      if (!slugOf(link)) {
        continue;
      }
      link.addEventListener("mouseenter", onEnter);
      link.addEventListener("mouseleave", onLeave);
      link.addEventListener("focusin", onFocus);
      link.addEventListener("focusout", onBlur);
      count++;
    }
    if (!count) {
      return;
    }
    ensureCard();
    document.addEventListener("keydown", onKeydown);
    window.addEventListener("resize", function () {
      if (current && card && !card.hidden) {
        position(current);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
