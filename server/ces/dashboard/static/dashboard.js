// Shared by every dashboard page (served as a file: the CSP forbids inline script).
// CES.post(url, body) / CES.send(method, url, body): fetch() with the session's CSRF token and
// JSON in and out; resolves to {status, body}.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function send(method, url, body) {
    var init = { method: method, credentials: "same-origin",
                 headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = text; }
        return { status: response.status, body: parsed };
      });
    });
  }

  // Close the site switcher when a click lands elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });

  window.CES = { csrf: csrf, send: send, post: function (url, body) { return send("POST", url, body); } };
})();
