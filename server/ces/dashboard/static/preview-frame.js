// Inside the survey editor's preview frame (sandboxed: scripts only, no same-origin): the real
// widget (/widget.js, loaded after this file) draws the prompts the editor sends. The widget
// talks to a socket; here the socket is a stand-in that answers `hello` with `welcome` and
// hands the widget each `prompt` message the editor posts. Nothing reaches the server.
(function () {
  "use strict";
  var sock = null, welcomed = false, pending = null;

  // The preview must never take the focus from the field being typed in the editor.
  // While the editor has the focus, the widget's focus() calls and its dialog's opening steps
  // (show() and showModal() focus inside the dialog) are held back; once someone clicks into the
  // preview to try it, the widget behaves exactly as on a site.
  var focus = HTMLElement.prototype.focus;
  HTMLElement.prototype.focus = function (options) {
    if (document.hasFocus()) focus.call(this, options);
  };
  var dialog = HTMLDialogElement.prototype, open = dialog.show, openModal = dialog.showModal;
  dialog.show = function () {
    if (document.hasFocus()) return open.call(this);
    this.setAttribute("open", "");
  };
  dialog.showModal = function () {
    if (document.hasFocus()) return openModal.call(this);
    this.setAttribute("open", "");
    // Drawn where the modal would be, without taking the page's focus.
    var style = document.createElement("style");
    style.textContent = ".w{position:fixed;inset:0;margin:auto;width:420px;max-width:calc(100% - 24px);" +
      "height:fit-content;box-shadow:0 0 0 100vmax #0009}";
    this.getRootNode().appendChild(style);
  };

  function FakeSocket() {
    var me = this;
    sock = me;
    me.readyState = 1;
    setTimeout(function () { if (me.onopen) me.onopen(); }, 0);
  }
  FakeSocket.prototype.deliver = function (message) {
    if (this.onmessage) this.onmessage({ data: JSON.stringify(message) });
  };
  FakeSocket.prototype.send = function (text) {
    var m;
    try { m = JSON.parse(text); } catch (e) { return; }
    if (m.type === "hello") {
      this.deliver({ type: "welcome", user: m.user, session: "preview" });
      welcomed = true;
      if (pending) { var p = pending; pending = null; show(p.message, p.followup); }
    }
  };
  FakeSocket.prototype.close = function () {};
  window.WebSocket = FakeSocket;

  function host() { return document.querySelector("[data-ces]"); }

  function clear() {
    var h = host(), card = h && h.shadowRoot && h.shadowRoot.querySelector(".w");
    // Escape is the widget's own way out, answered or not.
    if (card) card.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  }

  function show(message, followup) {
    if (!sock || !welcomed) { pending = { message: message, followup: followup }; return; }
    clear();
    sock.deliver(message);
    var h = host(), first = h && h.shadowRoot && h.shadowRoot.querySelector("[data-s]");
    if (followup && first) first.click();
    parent.postMessage({ type: "ces-preview-shown", id: message.prompt && message.prompt.id }, "*");
  }

  window.addEventListener("message", function (event) {
    if (event.source !== parent) return;
    var data = event.data || {};
    if (data.type === "ces-preview" && data.message) show(data.message, !!data.followup);
    // The editor's script may start after this frame: it asks, and is told again.
    if (data.type === "ces-preview-ping") parent.postMessage({ type: "ces-preview-ready" }, "*");
  });
  parent.postMessage({ type: "ces-preview-ready" }, "*");
})();
