// The trigger editor's rows (conditions, variants, occurrences): added from the <template> the
// server rendered, removed in place. Without script the form still works with the rows shown.
(function () {
  "use strict";
  var form = document.getElementById("trigger-form");
  if (!form) return;

  function rowsOf(kind) { return document.getElementById(kind + "-rows"); }

  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var kind = add.getAttribute("data-add-row"), rows = rowsOf(kind);
      var next = parseInt(rows.getAttribute("data-next") || "0", 10);
      rows.setAttribute("data-next", String(next + 1));
      var holder = document.createElement("div");
      holder.innerHTML = document.getElementById("tpl-" + kind).innerHTML.split("__I__").join(String(next));
      var row = holder.firstElementChild;
      rows.appendChild(row);
      var first = row.querySelector("input, select");
      if (first) first.focus();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var gone = remove.closest(".row"), list = gone.parentNode;
      gone.remove();
      var focusable = list.parentNode.querySelector("[data-add-row]");
      if (focusable) focusable.focus();
    }
  });

  // A value makes no sense for "is set" / "is not set".
  function valueState(select) {
    var row = select.closest(".row");
    var value = row && row.querySelector('input[name$=".value"]');
    if (value) value.disabled = /^(exists|not_exists)$/.test(select.value);
  }
  form.addEventListener("change", function (event) {
    if (event.target.matches('select[name$=".op"]')) valueState(event.target);
  });
  form.querySelectorAll('select[name$=".op"]').forEach(valueState);
})();
