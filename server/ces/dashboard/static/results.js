// The results page, enhanced: the trend chart (uPlot), and filters that apply as they change
// without a full reload (the server renders the view; this swaps it in and updates the URL, so
// the address bar always holds a shareable view). Without JavaScript every control still works:
// the forms are plain GET forms and the follow-up buttons plain POST forms.
(function () {
  "use strict";
  var OKABE = { blue: "#0072b2", sky: "rgba(86,180,233,0.32)", vermillion: "#d55e00", grey: "#5a6372" };
  var chart = null;
  var observer = null;
  var timer = null;

  function results() { return document.getElementById("results"); }
  function live(text) { var el = document.getElementById("live"); if (el) el.textContent = text; }

  function fmt(kind, v) {
    if (v === null || v === undefined) return "–";
    if (kind === "share") return v.toFixed(1) + " %";
    if (kind === "net") return (v > 0 ? "+" : "") + v.toFixed(1);
    return v.toFixed(2);
  }

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var interval = "week";
  function tickLabel(ts) {
    var d = new Date(ts * 1000);
    var m = MONTHS[d.getUTCMonth()];
    return interval === "month" ? m + " " + d.getUTCFullYear() : m + " " + d.getUTCDate();
  }

  function epoch(day) { return Date.parse(day + "T00:00:00Z") / 1000; }

  function draw() {
    if (chart) { chart.destroy(); chart = null; }
    if (observer) { observer.disconnect(); observer = null; }
    var box = document.getElementById("trend-chart");
    var raw = document.getElementById("trend-data");
    if (!box || !raw) return;
    var d = JSON.parse(raw.textContent);
    box.textContent = "";
    if (!d.x.length) {
      box.innerHTML = '<p class="muted chart-empty">No answers for these filters.</p>';
      return;
    }
    if (typeof window.uPlot !== "function") {
      box.innerHTML = '<p class="muted chart-empty">The chart library is not installed; the numbers are in the table below.</p>';
      return;
    }
    var xs = d.x.map(epoch);
    interval = d.interval;
    var pad = { day: 43200, week: 3.5 * 86400, month: 15 * 86400 }[d.interval] || 86400;
    var low = d.y.map(function (v, i) { return d.low_sample[i] ? v : null; });
    var perLabel = { day: "day", week: "week (from Monday)", month: "month" }[d.interval] || d.interval;
    var phone = box.clientWidth < 520;
    var unitLabel = phone ? d.name + (d.kind === "share" ? " (%)" : d.kind === "net" ? " (points)" : " (mean)") :
      d.kind === "share" ? d.name + " (% of answers agreeing)" :
      d.kind === "net" ? d.name + " (points, −100 to +100)" : d.name + " (mean answer, " + d.min + "–" + d.max + ")";
    function valueOf(u, v, si, i) { return i == null ? "–" : fmt(d.kind, v); }
    var opts = {
      width: Math.max(box.clientWidth, 280),
      height: phone ? 240 : 300,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "UTC"); },
      // Half a period of room on each side: the first and last points are not cut, and a single
      // period is not stretched over years.
      scales: { x: { time: true, range: [xs[0] - pad, xs[xs.length - 1] + pad] }, y: { range: [d.min, d.max] } },
      cursor: { points: { size: 8 } },
      legend: { show: !phone, live: true },
      series: [
        { label: "Period", value: function (u, v) { return v == null ? "–" : new Date(v * 1000).toISOString().slice(0, 10); } },
        { label: d.name, stroke: OKABE.blue, width: 2.5, spanGaps: false,
          points: { show: true, size: 7, fill: OKABE.blue, stroke: OKABE.blue },
          value: function (u, v, si, i) { return i == null || v == null ? "–" : fmt(d.kind, v) + " (n = " + d.n[i] + ")"; } },
        { label: "95 % low", stroke: "rgba(0,114,178,0.35)", width: 1, dash: [4, 4], points: { show: false }, value: valueOf },
        { label: "95 % high", stroke: "rgba(0,114,178,0.35)", width: 1, dash: [4, 4], points: { show: false }, value: valueOf },
        { label: "Under 30 answers", stroke: OKABE.vermillion, width: 0, paths: function () { return null; },
          points: { show: true, size: 11, width: 2.5, fill: "#ffffff", stroke: OKABE.vermillion }, value: valueOf }
      ],
      bands: [{ series: [3, 2], fill: OKABE.sky }],
      axes: [
        { label: "Period start, by " + perLabel, labelSize: 28, stroke: OKABE.grey, grid: { stroke: "#eceef2" }, size: 44,
          // A tick on each period when there are few (months never fall between two ticks).
          splits: xs.length <= (phone ? 6 : 14) ? function () { return xs; } : undefined,
          values: function (u, vals) { return vals.map(tickLabel); } },
        { label: unitLabel, labelSize: 28, stroke: OKABE.grey, grid: { stroke: "#eceef2" }, size: 52,
          values: function (u, vals) { return vals.map(function (v) { return d.kind === "share" ? v + " %" : String(v); }); } }
      ]
    };
    chart = new uPlot(opts, [xs, d.y, d.lo, d.hi, low], box);
    if (window.ResizeObserver) {
      observer = new ResizeObserver(function () {
        if (chart && Math.abs(chart.width - box.clientWidth) > 4) {
          chart.setSize({ width: Math.max(box.clientWidth, 280), height: box.clientWidth < 520 ? 240 : 300 });
        }
      });
      observer.observe(box);
    }
  }

  var latest = 0;

  function load(url, push) {
    var root = results();
    if (root) root.classList.add("loading");
    var ticket = ++latest;
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
      return response.text().then(function (text) {
        if (ticket !== latest) return;  // a newer view was asked for meanwhile: it wins
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("results");
        if (!fresh) { window.location.assign(url); return; }
        // Whatever has focus now (maybe the search box, still being typed in) keeps it, and
        // its text: the view was rendered from what it held when the request left.
        var active = document.activeElement;
        var focused = active && active.id;
        var typed = active && active.type === "search" ? active.value : null;
        var caret = typed !== null ? active.selectionStart : null;
        results().replaceWith(document.adoptNode(fresh));
        if (push) history.pushState({ results: true }, "", response.url);
        document.title = doc.title;
        draw();
        var el = focused && document.getElementById(focused);
        if (el && el.focus) {
          el.focus();
          if (typed !== null && el.value !== typed) {
            el.value = typed;
            el.setSelectionRange(caret, caret);
            clearTimeout(timer);
            timer = setTimeout(submitView, 350);
          }
        }
        live(response.status === 200 ? "Results updated." : "The filters have a problem: see the message.");
      });
    }).catch(function () { window.location.assign(url); });
  }

  function viewUrl(form) {
    var params = new URLSearchParams(new FormData(form));
    return form.getAttribute("action") + "?" + params.toString();
  }

  function submitView() {
    var form = document.getElementById("view");
    if (form) load(viewUrl(form), true);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("view-form")) {
      event.preventDefault();
      load(viewUrl(form), true);
    } else if (form.classList.contains("follow-form")) {
      event.preventDefault();
      var value = form.querySelector('input[name="followed_up"]').value === "true";
      var who = form.closest("li").querySelector(".risk-user").textContent;
      window.CES.post(form.getAttribute("action"), { followed_up: value }).then(function (r) {
        if (r.status !== 200) { form.submit(); return; }
        return load(window.location.href, false).then(function () {
          live(value ? who + " marked as followed up." : "Follow-up of " + who + " undone.");
        });
      });
    }
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.getAttribute("form") !== "view" || el.hasAttribute("data-quiet") || el.type === "search") return;
    submitView();
  });

  document.addEventListener("input", function (event) {
    if (event.target.id !== "c-q") return;
    clearTimeout(timer);
    timer = setTimeout(submitView, 350);
  });

  document.addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest("a[href]");
    var root = results();
    if (!a || !root || !root.contains(a) || a.hasAttribute("download") || event.metaKey || event.ctrlKey) return;
    var target = new URL(a.href, window.location.href);
    if (target.pathname !== window.location.pathname) return;
    event.preventDefault();
    load(target.href, true);
  });

  window.addEventListener("popstate", function () { load(window.location.href, false); });

  draw();
})();
