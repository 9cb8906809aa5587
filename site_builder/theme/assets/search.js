/* Search: the "/" key focuses the search box on every page; on /search/ this script runs
   the query with Pagefind's JavaScript API (the index in <root>pagefind/, made by
   site-builder at build time) and shows the results in a plain list.

   Ranking: Pagefind's relevance, then a glossary entry that the query names (its title or
   one of its aliases) goes first, and the articles that mention that entry come next.
   Keyboard: "/" focuses the box, ArrowDown moves into the results, ArrowUp/ArrowDown move
   through them, Enter opens one (they are links). The result count is announced through
   a role=status element. Without JavaScript the page says so and links the glossary and
   tags. No inline scripts or styles (CSP), no innerHTML for anything from the index. */
(function () {
  "use strict";

  var PAGE = 10; // results shown at a time
  var LOOKAHEAD = PAGE; // results whose data are loaded first: a named entry and its articles go first among them
  var ENTRY_LOOKAHEAD = 3; // glossary results looked at for the entry the query names
  var DEBOUNCE = 200; // ms after the last keystroke

  function typing(el) {
    if (!el || !el.tagName) {
      return false;
    }
    return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
  }

  function searchBox() {
    return document.getElementById("search-query") || document.getElementById("site-search-box");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var box = searchBox();
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  var root = document.getElementById("search");
  if (!root) {
    return;
  }
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var filtersBox = document.getElementById("search-filters");
  var selects = Array.prototype.slice.call(filtersBox.querySelectorAll("select[data-filter]"));
  var siteRoot = root.getAttribute("data-root") || "/";
  var bundle = root.getAttribute("data-bundle") || siteRoot + "pagefind/";
  var SHARD_OPTIONS = { baseUrl: siteRoot, excerptLength: 24 }; // every shard's results, as the first one's

  var pagefind = null;
  var generation = 0;
  var ordered = []; // results in the order shown (Pagefind result objects)
  var shown = 0;
  var timer = null;

  function fold(text) {
    // Titles are typeset (’ “ ”) and people type straight quotes: both fold to straight ones.
    return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"')
      .replace(/\s+/g, " ").trim();
  }

  function currentFilters() {
    var filters = {};
    selects.forEach(function (select) {
      if (select.value) {
        filters[select.getAttribute("data-filter")] = select.value;
      }
    });
    return filters;
  }

  function updateUrl(query) {
    var params = new URLSearchParams();
    if (query) {
      params.set("q", query);
    }
    selects.forEach(function (select) {
      if (select.value) {
        params.set(select.name, select.value);
      }
    });
    var text = params.toString();
    history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
  }

  function names(data) {
    var meta = data.meta || {};
    var all = [meta.title || ""];
    (meta.aliases || "").split("|").forEach(function (alias) {
      if (alias) {
        all.push(alias);
      }
    });
    return all.map(fold);
  }

  function date(data) {
    return (data.meta && data.meta.date) || "";
  }

  // The entry the query names (its title or an alias), among the first glossary results
  // (a search of entries only: in an index of several shards, Pagefind's scores are each
  // shard's own, so the entry need not be among the first results of all pages).
  async function namedEntry(entries, query) {
    var wanted = fold(query);
    var datas = await Promise.all(entries.slice(0, ENTRY_LOOKAHEAD).map(function (r) {
      return r.data();
    }));
    for (var i = 0; i < datas.length; i++) {
      if (names(datas[i]).indexOf(wanted) !== -1) {
        return { result: entries[i], data: datas[i] };
      }
    }
    return null;
  }

  // The named entry first; then the articles that mention it (Pagefind's order, which
  // counts how often they name it; newer first when it scores them equal); then the rest.
  function rank(results, datas, named) {
    var items = results.slice(0, datas.length).map(function (result, i) {
      var data = datas[i];
      var group = 2;
      if (named !== null && (" " + ((data.meta && data.meta.entities) || "") + " ")
        .indexOf(" " + named.data.meta.slug + " ") !== -1) {
        group = 1;
      }
      return { result: result, data: data, group: group, order: i };
    });
    var rest = results.slice(datas.length).map(function (result, i) {
      return { result: result, data: null, group: 3, order: datas.length + i };
    });
    if (named !== null) {
      var other = function (item) {
        return item.result.id !== named.result.id;
      };
      items = [{ result: named.result, data: named.data, group: 0, order: -1 }].concat(items.filter(other));
      rest = rest.filter(other);
    }
    items.sort(function (a, b) {
      if (a.group !== b.group) {
        return a.group - b.group;
      }
      if (a.group === 1 && a.result.score === b.result.score && date(a.data) !== date(b.data)) {
        return date(a.data) < date(b.data) ? 1 : -1;
      }
      return a.order - b.order;
    });
    return items.concat(rest);
  }

  function excerpt(html) {
    // Pagefind's excerpt: text with <mark> around the matches. Parsed in an inert
    // document; only text and <mark> are kept.
    var out = document.createElement("p");
    out.className = "search-excerpt";
    var doc = new DOMParser().parseFromString("<body>" + (html || ""), "text/html");
    doc.body.childNodes.forEach(function (node) {
      if (node.nodeType === 1 && node.tagName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.appendChild(mark);
      } else {
        out.appendChild(document.createTextNode(node.textContent || ""));
      }
    });
    return out;
  }

  function item(data) {
    var meta = data.meta || {};
    var li = document.createElement("li");
    li.className = "search-result search-result-" + (meta.kind === "entry" ? "entry" : "article");
    var link = document.createElement("a");
    link.className = "search-result-link";
    link.href = data.url;
    link.textContent = meta.title || data.url;
    var heading = document.createElement("h2");
    heading.className = "search-result-title";
    heading.appendChild(link);
    li.appendChild(heading);
    var line = document.createElement("p");
    line.className = "search-result-meta";
    if (meta.kind === "entry") {
      line.textContent = "Glossary · " + (meta.type || "");
    } else if (meta.date) {
      var time = document.createElement("time");
      time.dateTime = meta.date;
      time.textContent = meta.date;
      line.appendChild(document.createTextNode("Article · "));
      line.appendChild(time);
    } else {
      line.textContent = "Article";
    }
    li.appendChild(line);
    if (meta.summary) {
      var summary = document.createElement("p");
      summary.className = "search-result-summary";
      summary.textContent = meta.summary;
      li.appendChild(summary);
    }
    li.appendChild(excerpt(data.excerpt));
    return li;
  }

  async function showMore(mine) {
    var next = ordered.slice(shown, shown + PAGE);
    var datas = await Promise.all(next.map(function (entry) {
      return entry.data ? entry.data : entry.result.data();
    }));
    if (mine !== generation) {
      return;
    }
    datas.forEach(function (data) {
      list.appendChild(item(data));
    });
    shown += next.length;
    more.hidden = shown >= ordered.length;
  }

  function say(text) {
    status.textContent = text;
  }

  async function run() {
    var mine = ++generation;
    var query = input.value.trim();
    var filters = currentFilters();
    updateUrl(query);
    if (!query && !Object.keys(filters).length) {
      list.replaceChildren();
      more.hidden = true;
      say("");
      return;
    }
    var onlyEntries = Object.assign({}, filters, { kind: "entry" });
    var responses = await Promise.all([pagefind.search(query || null, { filters: filters }),
      query ? pagefind.search(query, { filters: onlyEntries }) : null]);
    var response = responses[0];
    if (mine !== generation || !response) {
      return;
    }
    var results = response.results;
    var found = await Promise.all([Promise.all(results.slice(0, LOOKAHEAD).map(function (r) {
      return r.data();
    })), responses[1] ? namedEntry(responses[1].results, query) : null]);
    if (mine !== generation) {
      return;
    }
    ordered = rank(results, found[0], found[1]);
    shown = 0;
    list.replaceChildren();
    var count = results.length;
    var what = query ? " for \u201c" + query + "\u201d" : "";
    say(count === 0 ? "No results" + what + "." : count + (count === 1 ? " result" : " results") + what + ".");
    await showMore(mine);
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE);
  }

  function links() {
    return Array.prototype.slice.call(list.querySelectorAll("a.search-result-link"));
  }

  function move(event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") {
      return;
    }
    var all = links();
    var at = all.indexOf(document.activeElement);
    if (document.activeElement === input) {
      if (event.key === "ArrowDown" && all.length) {
        event.preventDefault();
        all[0].focus();
      }
      return;
    }
    if (at === -1) {
      return;
    }
    event.preventDefault();
    if (event.key === "ArrowDown") {
      all[Math.min(at + 1, all.length - 1)].focus();
    } else if (at === 0) {
      input.focus();
    } else {
      all[at - 1].focus();
    }
  }

  // The index comes in shards (site-builder indexes the pages in a few groups, so that an
  // edit indexes one group again): <bundle> holds the first, and shards.json lists the
  // folders of the others, which Pagefind merges into it.
  async function mergeShards() {
    var response = await fetch(bundle + "shards.json");
    if (!response.ok) {
      throw new Error("no shards.json");
    }
    var state = await response.json();
    for (var i = 0; i < (state.shards || []).length; i++) {
      await pagefind.mergeIndex(bundle + state.shards[i], SHARD_OPTIONS);
    }
  }

  async function start() {
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    selects.forEach(function (select) {
      var value = params.get(select.name);
      if (value && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
        select.value = value;
      }
    });
    pagefind = await import(bundle + "pagefind.js");
    await pagefind.options(SHARD_OPTIONS);
    await pagefind.init();
    await mergeShards();
    document.getElementById("search-nojs").hidden = true;
    filtersBox.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      run();
    });
    input.addEventListener("input", later);
    selects.forEach(function (select) {
      select.addEventListener("change", run);
    });
    more.addEventListener("click", function () {
      var first = shown;
      showMore(generation).then(function () {
        var all = links();
        if (all[first]) {
          all[first].focus();
        }
      });
    });
    root.addEventListener("keydown", move);
    if (input.value || Object.keys(currentFilters()).length) {
      await run();
    }
  }

  start().catch(function () {
    say("Search is not available: its index could not be loaded.");
  });
})();
