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

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // "1 Dec 04:55" from the ISO time in the site's zone (as the server writes it: same text).
  function shortTime(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
    return m ? (+m[3]) + " " + MONTHS[+m[2] - 1] + " " + m[4] + ":" + m[5] : iso;
  }

  function item(a) {
    var li = el("li");
    li.setAttribute("data-answer-id", a.id);
    var score = el("span", "feed-score", a.score);
    score.title = "Score " + a.score + " of " + a.scale_max;
    li.appendChild(score);
    li.appendChild(el("span", "feed-user", a.user_id));
    var time = el("time", null, shortTime(a.created_at || ""));
    time.setAttribute("datetime", a.created_at || "");
    li.appendChild(time);
    li.appendChild(el("span", "feed-survey", a.survey_name));
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
