/* memberops console: the segment builder's live count. The page works without it
   (the preview button posts the form). */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setupBuilder(form) {
    var input = form.querySelector("#seg-expression");
    var out = form.querySelector("#seg-result");
    var timer = null;
    var seq = 0;

    function show(text, state) {
      out.textContent = text;
      out.className = "screening" + (state ? " " + state : "");
      out.setAttribute("data-state", state || "ok");
    }

    function count() {
      var text = input.value;
      var mine = ++seq;
      if (!text.trim()) { show("", ""); return; }
      show(form.getAttribute("data-msg-counting"), "busy");
      fetch(form.getAttribute("data-preview"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ expression: text })
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (result) {
        if (mine !== seq) { return; }
        if (result.ok) {
          var n = Number(result.body.count).toLocaleString();
          show(form.getAttribute("data-msg-count").replace("{n}", n), "");
        } else {
          show(result.body.message || form.getAttribute("data-msg-failed"), "error");
        }
      }).catch(function () {
        if (mine === seq) { show(form.getAttribute("data-msg-failed"), "error"); }
      });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(count, 400);
    });
    if (input.value.trim()) { count(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("segment-form");
    if (form) { setupBuilder(form); }
  });
})();
