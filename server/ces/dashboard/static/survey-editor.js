// The survey editor: languages added and removed in place, fields shown for the chosen scale,
// and the live preview: on every change the form goes to the server, which answers the `prompt`
// message a user would get (a GET: it changes nothing); the real widget draws it in the preview
// frame (preview-frame.js).
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) return;
  var frame = document.getElementById("preview-frame");
  var localeSelect = document.getElementById("f-preview-locale");
  var status = document.getElementById("preview-status");
  var template = document.getElementById("locale-template");
  var locales = document.getElementById("locales");
  var ready = false, timer = null, asked = 0, followup = false;

  function frameWindow() { return frame && frame.contentWindow; }

  function render() {
    clearTimeout(timer);
    timer = setTimeout(fetchPreview, 120);
  }

  function fetchPreview() {
    if (!ready) return;
    var mine = ++asked;
    var query = new URLSearchParams(new FormData(form));
    query.delete("csrf_token");
    status.textContent = "updating…";
    fetch(form.getAttribute("data-preview") + "?" + query.toString(), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== asked || !data || !data.message) return;  // a newer change is on its way
      frameWindow().postMessage({ type: "ces-preview", message: data.message, followup: followup }, "*");
    }).catch(function () { status.textContent = "preview unavailable"; });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== frameWindow()) return;
    var data = event.data || {};
    if (data.type === "ces-preview-ready") { ready = true; fetchPreview(); }
    if (data.type === "ces-preview-shown") {
      status.textContent = "up to date";
      frame.setAttribute("data-shown", data.id || "");
    }
  });

  // Fields that only apply to some choices.
  var metric = document.getElementById("f-metric");
  var placement = document.getElementById("f-appearance-placement");
  function toggles() {
    var option = metric.options[metric.selectedIndex];
    var labelled = option && option.getAttribute("data-labelled") === "1";
    form.querySelectorAll(".scale-labelled").forEach(function (el) { el.hidden = !labelled; });
    form.querySelectorAll(".scale-numeric").forEach(function (el) { el.hidden = labelled; });
    var target = document.getElementById("f-appearance-target");
    if (target && placement) target.closest(".field").hidden = placement.value !== "inline";
  }

  form.addEventListener("input", render);
  form.addEventListener("change", function (event) {
    if (event.target === metric || event.target === placement) toggles();
    render();
  });

  // Languages: added from the <template> the server rendered (the same fields as the others).
  function addLocale(code) {
    if (!code || form.querySelector('fieldset.locale[data-locale="' + CSS.escape(code) + '"]')) return false;
    var html = template.innerHTML.split("__LOC__").join(code.replace(/[&<>"']/g, ""));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fieldset = holder.firstElementChild;
    locales.appendChild(fieldset);
    var option = document.createElement("option");
    option.value = option.textContent = code;
    localeSelect.appendChild(option);
    localeSelect.value = code;
    toggles();
    var question = fieldset.querySelector("textarea");
    if (question) question.focus();
    return true;
  }
  document.getElementById("add-locale").addEventListener("click", function (event) {
    var input = document.getElementById("f-add-locale");
    var code = input.value.trim();
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(code)) return;  // the server explains the others
    event.preventDefault();
    if (addLocale(code)) { input.value = ""; render(); }
  });
  locales.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-locale]");
    if (!button) return;
    event.preventDefault();
    var fieldset = button.closest("fieldset.locale");
    var code = fieldset.getAttribute("data-locale");
    if (locales.querySelectorAll("fieldset.locale").length < 2) return;  // a survey keeps one language
    fieldset.remove();
    Array.prototype.forEach.call(localeSelect.options, function (o) { if (o.value === code) o.remove(); });
    render();
  });

  // The frame says when it is ready; it may have said so before this script ran, so ask it.
  function ping() { if (!ready && frameWindow()) frameWindow().postMessage({ type: "ces-preview-ping" }, "*"); }
  frame.addEventListener("load", ping);
  ping();

  document.getElementById("preview-followup").addEventListener("click", function () { followup = true; fetchPreview(); });
  document.getElementById("preview-again").addEventListener("click", function () { followup = false; fetchPreview(); });
  toggles();
})();
