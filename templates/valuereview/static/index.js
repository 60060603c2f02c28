/* The batch index: filter the accounts table by text, segment, CSM and status, and sort it by
   any column (numbers by their raw value, missing values last). Inlined into index.html. */
(function () {
  "use strict";
  var table = document.getElementById("vr-accounts");
  var form = document.querySelector(".vr-filters");
  if (!table || !form) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var count = form.querySelector("output");

  function apply() {
    var text = form.querySelector("[data-filter=text]").value.trim().toLowerCase();
    var wanted = {};
    form.querySelectorAll("select[data-filter]").forEach(function (select) {
      wanted[select.getAttribute("data-filter")] = select.value;
    });
    var shown = 0;
    rows.forEach(function (row) {
      var ok = !text || row.getAttribute("data-text").indexOf(text) >= 0;
      Object.keys(wanted).forEach(function (key) {
        if (wanted[key] && row.getAttribute("data-" + key) !== wanted[key]) { ok = false; }
      });
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = count.getAttribute("data-template")
      .replace("{shown}", String(shown)).replace("{total}", String(rows.length));
  }

  function key(row, column, numeric) {
    var value = row.cells[column].getAttribute("data-sort") || "";
    return numeric ? (value === "" ? NaN : Number(value)) : value;
  }

  function sortBy(button) {
    var header = button.parentNode;
    var column = Number(button.getAttribute("data-col"));
    var numeric = button.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    table.tHead.querySelectorAll("th[aria-sort]").forEach(function (th) {
      th.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (x, y) {
      var a = key(x, column, numeric);
      var b = key(y, column, numeric);
      if (numeric) {
        if (isNaN(a) || isNaN(b)) { return isNaN(a) ? (isNaN(b) ? 0 : 1) : -1; }
        return ascending ? a - b : b - a;
      }
      return ascending ? a.localeCompare(b) : b.localeCompare(a);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  table.tHead.querySelectorAll("button[data-col]").forEach(function (button) {
    button.addEventListener("click", function () { sortBy(button); });
  });
  apply();
}());
