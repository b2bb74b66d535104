// The admin console's little script: copy buttons, the one-time secret
// dialog, confirmations, the catalog filter and the callback URL preview.
// The pages work without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var field = document.querySelector(b.getAttribute("data-copy"));
      field.select();
      var done = function () { b.textContent = "Copied"; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
  var tab = document.querySelector("nav.tabs a.on");
  var showTab = function () {
    if (tab && tab.scrollIntoView) {
      tab.scrollIntoView({block: "nearest", inline: "center"});
    }
  };
  showTab();
  window.addEventListener("resize", showTab);
  var dialog = document.querySelector("dialog[data-open]");
  if (dialog && dialog.showModal) {
    dialog.showModal();
  } else if (dialog) {
    dialog.setAttribute("open", "");
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) {
        e.preventDefault();
      }
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.querySelector(input.getAttribute("data-filter"));
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      list.querySelectorAll("li[data-name]").forEach(function (li) {
        li.hidden = q !== "" && li.getAttribute("data-name").toLowerCase().indexOf(q) < 0;
      });
    });
  });
  document.querySelectorAll("input[data-callback]").forEach(function (input) {
    var out = document.querySelector(input.getAttribute("data-callback"));
    input.addEventListener("input", function () {
      out.value = out.getAttribute("data-base") + encodeURIComponent(input.value.trim());
    });
  });
  // Says the handlers above are in place (for styles, and for tests that
  // type into the page).
  document.documentElement.setAttribute("data-js", "ready");
});
