// Live parts of the staff console: an element with data-live="NAME" is refreshed from
// /staff/live/NAME (JSON) every data-every seconds (default 5); each descendant with
// data-field="KEY" shows the feed's KEY. Without JavaScript the page shows what it had.
(function () {
  function refresh(el) {
    var url = "/staff/live/" + el.dataset.live + (el.dataset.params ? "?" + el.dataset.params : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        el.querySelectorAll("[data-field]").forEach(function (f) {
          if (f.dataset.field in data) f.textContent = data[f.dataset.field];
        });
        el.dispatchEvent(new CustomEvent("live", { detail: data }));
      })
      .catch(function () {});
  }
  document.querySelectorAll("[data-live]").forEach(function (el) {
    var every = parseFloat(el.dataset.every || "5") * 1000;
    setInterval(function () { refresh(el); }, every);
  });
})();
