/* memberops console: small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Live screening of a dining need by the label guard, while staff type. */
  function setupScreening(form) {
    var input = form.querySelector("#need-text");
    var out = form.querySelector("#screening");
    var submit = form.querySelector("#need-submit");
    var lang = document.body.getAttribute("data-lang") || "zh";
    var other = lang === "zh" ? "en" : "zh";
    var timer = null;
    var last = null;
    var seq = 0;

    function show(result) {
      last = result;
      out.textContent = "";
      out.className = "screening";
      if (!result || result.verdict === "allow") {
        submit.disabled = false;
        return;
      }
      var p = document.createElement("p");
      var key = result.verdict === "reject" ? "data-msg-reject" : "data-msg-sensitive";
      p.textContent = form.getAttribute(key) || result.verdict;
      out.appendChild(p);
      var ul = document.createElement("ul");
      result.messages.forEach(function (m) {
        var li = document.createElement("li");
        li.textContent = m[lang] + " ";
        var span = document.createElement("span");
        span.className = "other-lang";
        span.setAttribute("lang", other === "zh" ? "zh-Hans" : "en");
        span.textContent = "(" + m[other] + ")";
        li.appendChild(span);
        ul.appendChild(li);
      });
      out.appendChild(ul);
      out.className = "screening " + (result.verdict === "reject" ? "error" : "warn");
      out.setAttribute("data-verdict", result.verdict);
      submit.disabled = result.verdict === "reject";
    }

    function check() {
      var text = input.value;
      var mine = ++seq;
      if (!text.trim()) { show(null); return; }
      fetch(form.getAttribute("data-screen"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ text: text })
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (result) { if (mine === seq) { show(result); } })
        .catch(function () { /* the server screens again on submit */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 150);
    });
    form.addEventListener("submit", function (event) {
      if (last && last.verdict === "reject") { event.preventDefault(); input.focus(); }
    });
  }

  /* Charts are drawn from the accessible table right below them: the text columns
     label the rows, every numeric column is one series. */
  var PALETTE = ["#1f5f99", "#c05600", "#2e7d32", "#7b1fa2", "#8d6e00", "#00695c"];

  function number(text) {
    var cleaned = text.replace(/[,\s¥%+]/g, "");
    return cleaned !== "" && !isNaN(cleaned) ? parseFloat(cleaned) : null;
  }

  function setupCharts() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
      var table = document.getElementById(figure.getAttribute("data-table"));
      if (!table) { return; }
      var header = Array.prototype.map.call(table.querySelectorAll("thead th"),
        function (th) { return th.textContent; });
      var rows = Array.prototype.map.call(table.querySelectorAll("tbody tr"), function (row) {
        return Array.prototype.map.call(row.children, function (cell) { return cell.textContent; });
      });
      var numeric = header.map(function (_h, i) {
        return i > 0 && rows.length > 0 && rows.every(function (r) { return number(r[i] || "") !== null; });
      });
      var labels = rows.map(function (r) {
        return r.filter(function (_c, i) { return !numeric[i]; }).join(" → ");
      });
      var kind = figure.getAttribute("data-chart") || "bar";
      var stacked = kind === "stacked";
      var datasets = [];
      header.forEach(function (h, i) {
        if (!numeric[i] || (kind === "doughnut" && datasets.length)) { return; }
        var colour = PALETTE[datasets.length % PALETTE.length];
        datasets.push({ label: h, data: rows.map(function (r) { return number(r[i]); }),
                        backgroundColor: kind === "doughnut" ? PALETTE : colour, borderColor: colour });
      });
      new window.Chart(figure.querySelector("canvas"), {
        type: stacked ? "bar" : kind,
        data: { labels: labels, datasets: datasets },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
                   scales: kind === "doughnut" ? {} : { x: { stacked: stacked }, y: { stacked: stacked } },
                   plugins: { legend: { display: datasets.length > 1 } } }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("need-form");
    if (form) { setupScreening(form); }
    setupCharts();
  });
})();
