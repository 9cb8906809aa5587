/* Entity previews: a small card with an entry's title, type and summary, shown when
   a glossary link (a.entity[data-entity]) or a cross-reference (a[data-preview]) is
   hovered or focused. Progressive enhancement only: without this script the links are
   plain links. The data comes from <script type="application/json" id="entity-previews">.
   On touch screens the first tap on a link shows its card, with an explicit "Open" link;
   a second tap on the link (or "Open") follows it, a tap elsewhere closes the card.
   The card lives inside <main> (every part of a page belongs to a landmark).
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
  var openEl = null; // the card's "Open" link (shown for touch)
  var tapped = null; // the link whose card a tap opened: a second tap follows it
  var lastPointer = ""; // "touch", "mouse" or "pen": the pointer of the latest press

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
    openEl = document.createElement("a");
    openEl.className = "entity-preview-open";
    openEl.textContent = "Open";
    openEl.hidden = true;
    card.appendChild(openEl);

    // The pointer may move from the link into the card (WCAG 1.4.13: hoverable).
    card.addEventListener("mouseenter", cancelHide);
    card.addEventListener("mouseleave", scheduleHide);
    (document.getElementById("main") || document.querySelector("main") || document.body).appendChild(card);
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
    var url = typeof item.url === "string" ? item.url : "";
    if (url) {
      openEl.setAttribute("href", url);
    } else {
      openEl.removeAttribute("href");
    }
  }

  // A tap shows the card as a small dialog holding the "Open" link; hover and focus as a tooltip.
  function setTouchMode(on) {
    openEl.hidden = !on || !openEl.hasAttribute("href");
    if (on) {
      card.setAttribute("role", "dialog");
      card.setAttribute("aria-label", titleEl.textContent || "Preview");
      card.classList.add("is-touch");
    } else {
      card.setAttribute("role", "tooltip");
      card.removeAttribute("aria-label");
      card.classList.remove("is-touch");
    }
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
    setTouchMode(tapped === link);
    card.hidden = false;
    position(link);
    addDescribedBy(link);
  }

  function hide() {
    cancelHide();
    tapped = null;
    if (card) {
      card.hidden = true;
      card.removeAttribute("data-placement");
      setTouchMode(false);
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
      if (tapped || document.activeElement === current || isHovered(current) || (card && isHovered(card))) {
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
      if (current && !tapped && !isHovered(current) && !(card && isHovered(card))) {
        hide();
      }
    }, HIDE_DELAY);
  }

  function onPointerDown(event) {
    lastPointer = event.pointerType || "";
    // A tap outside the link and its card closes a card a tap opened.
    if (tapped && card && !card.hidden && !card.contains(event.target) && !tapped.contains(event.target)) {
      hide();
    }
  }

  // First tap: show the card (and keep the page); second tap on the same link: follow it.
  function onClick(event) {
    var link = event.currentTarget;
    if (lastPointer !== "touch" || event.defaultPrevented || event.button !== 0 || event.detail === 0) {
      return;
    }
    if (tapped === link && card && !card.hidden) {
      hide();
      return;
    }
    event.preventDefault();
    tapped = link;
    show(link);
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
      link.addEventListener("click", onClick);
      count++;
    }
    if (!count) {
      return;
    }
    ensureCard();
    document.addEventListener("keydown", onKeydown);
    document.addEventListener("pointerdown", onPointerDown, true);
    openEl.addEventListener("click", function () {
      tapped = null;
    });
    // Back to a page kept in the back/forward cache: no card left open from before.
    window.addEventListener("pagehide", hide);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        hide();
      }
    });
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
