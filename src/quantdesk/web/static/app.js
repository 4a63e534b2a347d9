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

  // An order event adds its row to each live order table (or replaces the row of the same
  // order); each table lists the event fields of its columns in data-fields.
  function showOrder(event) {
    document.querySelectorAll("[data-live='orders']").forEach(function (body) {
      var fields = (body.getAttribute("data-fields") || "").split(",");
      var row = document.createElement("tr");
      row.className = "flash";
      row.setAttribute("data-order", event.client_order_id || "");
      fields.forEach(function (field) {
        var cell = document.createElement("td");
        var value = field ? event[field] : "";
        cell.textContent = value == null ? "–" : String(value);
        row.appendChild(cell);
      });
      var old = event.client_order_id &&
        body.querySelector("tr[data-order='" + CSS.escape(event.client_order_id) + "']");
      if (old) body.replaceChild(row, old);
      else body.insertBefore(row, body.firstChild);
      while (body.rows.length > 50) body.deleteRow(body.rows.length - 1);
    });
  }

  function showJob(box, job) {
    var bar = box.querySelector("progress");
    if (bar && job.progress != null) bar.value = job.progress;
    var status = box.querySelector("[data-job-status]");
    if (status) status.textContent = job.error || job.message || job.status;
    if (job.status === "succeeded" && job.reference) {
      window.location.assign(box.getAttribute("data-result-base") + job.reference);
      return true;
    }
    if (job.status === "failed") { box.classList.add("notice", "bad"); return true; }
    return false;
  }

  // A job page polls the job's status as well, so it moves on even without the event stream.
  function followJobs() {
    document.querySelectorAll("[data-job-url]").forEach(function (box) {
      var url = box.getAttribute("data-job-url");
      function poll() {
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (job) {
            if (job && !showJob(box, job)) setTimeout(poll, 500);
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
      if (kind === "order") showOrder(event);
      if (kind === "job") {
        var box = document.querySelector("[data-job='" + CSS.escape(String(event.id)) + "']");
        if (box) showJob(box, event);
      }
      if (kind === "portfolio" && event.portfolio) {
        if (event.equity != null) setText("[data-equity='" + CSS.escape(event.portfolio) + "']", money(event.equity));
        if (event.cash != null) setText("[data-cash='" + CSS.escape(event.portfolio) + "']", money(event.cash));
      }
      if (kind === "alert") {
        var list = document.querySelector("[data-live='alerts']");
        if (list) {
          var item = document.createElement("li");
          item.className = "flash alert " + (event.severity || "");
          item.setAttribute("data-alert", String(event.id || ""));
          var badge = document.createElement("span");
          badge.className = "badge " + (event.severity || "");
          badge.textContent = event.severity || "alert";
          item.appendChild(badge);
          item.appendChild(document.createTextNode(" " + (event.message || "")));
          list.insertBefore(item, list.firstChild);
          var empty = document.getElementById("no-alerts");
          if (empty) empty.hidden = true;
        }
      }
    }
    ["order", "job", "portfolio", "alert"].forEach(function (kind) {
      source.addEventListener(kind, function (message) { handle(kind, message.data); });
    });
  }

  // Forms that destroy something ask first (data-confirm holds the question).
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    confirmForms();
    drawCharts();
    followJobs();
    listen();
  });
})();
