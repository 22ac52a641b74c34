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

  /* Charts are drawn from the accessible table right below them. */
  function setupCharts() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
      var table = document.getElementById(figure.getAttribute("data-table"));
      if (!table) { return; }
      var labels = [];
      var values = [];
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var cells = row.children;
        labels.push(cells[0].textContent);
        values.push(parseFloat(cells[1].textContent.replace(/,/g, "")) || 0);
      });
      var header = table.querySelectorAll("thead th");
      new window.Chart(figure.querySelector("canvas"), {
        type: figure.getAttribute("data-chart") || "bar",
        data: {
          labels: labels,
          datasets: [{ label: header.length > 1 ? header[1].textContent : "", data: values,
                       backgroundColor: "#1f5f99" }]
        },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
                   plugins: { legend: { display: false } } }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("need-form");
    if (form) { setupScreening(form); }
    setupCharts();
  });
})();
