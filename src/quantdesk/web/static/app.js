// quantdesk pages: draw the Plotly figures, and follow live updates when the server streams them.
// Progressive enhancement only: every page is complete without this file.
(function () {
  "use strict";

  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll(".chart[data-figure]").forEach(function (element) {
      var figure = JSON.parse(element.getAttribute("data-figure"));
      figure.layout = figure.layout || {};
      figure.layout.autosize = true;
      Plotly.newPlot(element, figure.data, figure.layout, { responsive: true, displaylogo: false });
    });
  }

  function setText(selector, text) {
    document.querySelectorAll(selector).forEach(function (element) {
      element.textContent = text;
      element.classList.remove("flash");
      void element.offsetWidth; // restart the highlight animation
      element.classList.add("flash");
    });
  }

  function money(value) {
    var number = Number(value);
    if (!isFinite(number)) return String(value);
    return number.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  // One table row per order or fill event, newest first, at most 20 rows kept.
  function prependOrder(event) {
    var body = document.querySelector("[data-live='orders']");
    if (!body) return;
    var row = document.createElement("tr");
    row.className = "flash";
    [event.created_at || event.at || "", event.portfolio || "", event.symbol || "", event.side || "",
     event.quantity || "", event.status || event.type || "", event.average_fill_price || event.price || ""]
      .forEach(function (value) {
        var cell = document.createElement("td");
        cell.textContent = value;
        row.appendChild(cell);
      });
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 20) body.deleteRow(body.rows.length - 1);
  }

  function onJob(event) {
    var box = document.querySelector("[data-job='" + event.id + "']");
    if (!box) return;
    showJob(box, event);
  }

  function showJob(box, job) {
    var bar = box.querySelector("progress");
    if (bar && job.progress != null) bar.value = job.progress;
    var status = box.querySelector("[data-job-status]");
    if (status) status.textContent = job.message || job.status;
    if (job.status === "done" && job.result_url) window.location.assign(job.result_url);
    if (job.status === "failed") box.classList.add("bad");
  }

  // A job page polls its own status URL as well, so progress shows without the event stream.
  function pollJobs() {
    document.querySelectorAll("[data-job-url]").forEach(function (box) {
      var url = box.getAttribute("data-job-url");
      function poll() {
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (job) {
            showJob(box, job);
            if (job.status !== "done" && job.status !== "failed") setTimeout(poll, 400);
          });
      }
      poll();
    });
  }

  function listen() {
    var url = document.body.getAttribute("data-events");
    var status = document.getElementById("live-status");
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    source.onopen = function () { if (status) status.textContent = "live updates on"; };
    source.onerror = function () { if (status) status.textContent = "live updates reconnecting…"; };
    function handle(kind, raw) {
      var event;
      try { event = JSON.parse(raw); } catch (error) { return; }
      kind = event.type || kind;
      if (kind.indexOf("order") === 0 || kind.indexOf("fill") === 0) prependOrder(event);
      if (kind.indexOf("job") === 0) onJob(event);
      if (kind.indexOf("portfolio") === 0 && event.portfolio) {
        if (event.equity != null) setText("[data-equity='" + event.portfolio + "']", money(event.equity));
        if (event.cash != null) setText("[data-cash='" + event.portfolio + "']", money(event.cash));
      }
      if (kind.indexOf("alert") === 0) {
        var list = document.querySelector("[data-live='alerts']");
        if (list) {
          var item = document.createElement("li");
          item.className = "flash";
          item.textContent = event.message || JSON.stringify(event);
          list.insertBefore(item, list.firstChild);
        }
      }
    }
    source.onmessage = function (message) { handle("message", message.data); };
    ["order", "fill", "job", "portfolio", "portfolio_value", "alert"].forEach(function (kind) {
      source.addEventListener(kind, function (message) { handle(kind, message.data); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    pollJobs();
    listen();
  });
})();
