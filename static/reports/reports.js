// The reports page: each file still being written polls its status and shows its progress;
// a finished one gets its download link (no inline script: the CSP allows none).
(function () {
  "use strict";
  var items = document.querySelectorAll("[data-status-url]");
  function poll(item) {
    var status = item.getAttribute("data-status");
    if (status === "done" || status === "failed") { return; }
    fetch(item.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        item.setAttribute("data-status", data.status);
        var label = item.querySelector("[data-role=label]");
        if (label) { label.textContent = data.label; }
        var bar = item.querySelector("[data-role=bar]");
        if (bar && data.progress !== null) { bar.value = data.progress; }
        var rows = item.querySelector("[data-role=rows]");
        if (rows) { rows.textContent = String(data.rows); }
        if (data.url && bar) {
          var link = document.createElement("a");
          link.href = data.url;
          link.textContent = item.getAttribute("data-download") || "⬇";
          bar.replaceWith(link);
          if (rows) { rows.remove(); }
        }
        if (data.status !== "done" && data.status !== "failed") {
          window.setTimeout(function () { poll(item); }, 2000);
        }
      });
  }
  Array.prototype.forEach.call(items, function (item) { window.setTimeout(function () { poll(item); }, 1000); });
})();
