// The demo shop's own script, served as a file (/demo/demo.js): the page's content security
// policy allows no inline script.
(function () {
  var USER = document.body.dataset.user, SURVEY = Number(document.body.dataset.survey);
  function send(path) {
    fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({user: USER})})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var r = body.results && body.results[0];
        document.getElementById("decision").textContent = r ? (r.decision + ": " + r.reason + " — " + r.detail) : "error";
      });
  }
  function refreshScore() {
    fetch("/demo/score?survey=" + SURVEY).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("score").textContent = s.headline == null ? "–" : s.headline.toFixed(1) + " %";
      document.getElementById("n").textContent = s.n;
      document.getElementById("mean").textContent = s.mean == null ? "–" : s.mean.toFixed(2);
    });
  }
  document.getElementById("checkout").onclick = function () { send("/demo/checkout"); };
  document.getElementById("ticket").onclick = function () { send("/demo/ticket"); };
  window.ces = window.ces || function () { (ces.q = ces.q || []).push(arguments); };
  ces("on", "answer", function () { setTimeout(refreshScore, 100); });
  refreshScore();
  setInterval(refreshScore, 5000);
})();
