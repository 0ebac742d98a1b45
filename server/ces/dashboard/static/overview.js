// The Overview's live parts: widgets connected now and the latest answers, polled from
// live.json every few seconds (paused while the tab is hidden). Text goes in with
// textContent only: a comment is never parsed as HTML.
(function () {
  "use strict";
  var counter = document.getElementById("connected");
  var feed = document.getElementById("feed");
  if (!counter || !feed) return;
  var url = counter.getAttribute("data-live-url");
  var empty = document.getElementById("feed-empty");
  var dot = document.getElementById("live-dot");
  var status = document.getElementById("live-status");
  var EVERY = 2000;
  var timer = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function item(a) {
    var li = el("li");
    li.setAttribute("data-answer-id", a.id);
    var score = el("span", "feed-score", a.score);
    score.title = "Score " + a.score + " of " + a.scale_max;
    li.appendChild(score);
    var meta = el("span", "feed-meta");
    meta.appendChild(el("span", "feed-survey", a.survey_name));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "feed-user", a.user_id));
    meta.appendChild(document.createTextNode(" · "));
    var time = el("time", null, (a.created_at || "").slice(0, 16).replace("T", " "));
    time.setAttribute("datetime", a.created_at || "");
    meta.appendChild(time);
    li.appendChild(meta);
    if (a.comment) li.appendChild(el("span", "feed-comment", a.comment));
    return li;
  }

  function render(data) {
    counter.textContent = String(data.connected);
    var shown = Array.prototype.map.call(feed.children, function (li) { return li.getAttribute("data-answer-id") + ":" + li.textContent; });
    var next = data.answers.map(item);
    var same = next.length === shown.length && next.every(function (li, i) {
      return li.getAttribute("data-answer-id") + ":" + li.textContent === shown[i];
    });
    if (!same) {
      while (feed.firstChild) feed.removeChild(feed.firstChild);
      next.forEach(function (li) { feed.appendChild(li); });
    }
    if (empty) empty.hidden = data.answers.length > 0;
  }

  function online(ok) {
    if (dot) dot.classList.toggle("off", !ok);
    if (status) status.textContent = ok ? "Updates live" : "Reconnecting…";
  }

  function poll() {
    timer = null;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (data) { if (data) { render(data); online(true); } })
      .catch(function () { online(false); })
      .then(schedule);
  }

  function schedule() {
    if (timer === null && !document.hidden) timer = window.setTimeout(poll, EVERY);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
    } else {
      poll();
    }
  });
  schedule();
})();
