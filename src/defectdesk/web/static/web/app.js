// DefectDesk Seller Center: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Report the viewer's time zone so the server shows dates in it (cookie read by middleware).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: dates stay in UTC */ }

  // Live character count for fields that carry data-counter (min and max from the field).
  function counters() {
    var fields = document.querySelectorAll("textarea[data-counter]");
    Array.prototype.forEach.call(fields, function (field) {
      var out = document.getElementById(field.getAttribute("data-counter"));
      if (!out) { return; }
      var min = parseInt(field.getAttribute("data-min") || "0", 10);
      var max = parseInt(field.getAttribute("data-max") || field.getAttribute("maxlength") || "0", 10);
      var template = out.getAttribute("data-template") || "{n} / {max}";
      function update() {
        // Characters as the server counts them (code points): an emoji or a rare Chinese
        // character is one, not the two UTF-16 units of String.length.
        var n = Array.from(field.value.replace(/\r\n/g, "\n").trim()).length;
        out.textContent = template.replace("{n}", n.toLocaleString()).replace("{max}", max.toLocaleString())
          .replace("{min}", min.toLocaleString());
        out.classList.toggle("over", (max && n > max) || (n > 0 && n < min));
      }
      field.addEventListener("input", update);
      update();
    });
  }

  // One submission per form: a double click must not send the same request twice.
  function singleSubmit() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-once]"), function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-sent") === "1") {
          event.preventDefault();
          return;
        }
        form.setAttribute("data-sent", "1");
        var submitter = event.submitter;
        if (submitter && submitter.name) {
          var keep = document.createElement("input");
          keep.type = "hidden";
          keep.name = submitter.name;
          keep.value = submitter.value;
          form.appendChild(keep);
        }
        Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) {
          b.setAttribute("aria-disabled", "true");
        });
      });
    });
  }

  // The appeal form: show the chosen reason's guidance and suggestion; insert it on request.
  function reasons() {
    var select = document.getElementById("id_reason");
    var data = document.getElementById("reason-data");
    if (!select || !data) { return; }
    var catalogue = JSON.parse(data.textContent || "{}");
    var guidance = document.getElementById("reason-guidance");
    var suggestion = document.getElementById("suggested-text");
    var insert = document.getElementById("insert-suggestion");
    var explanation = document.getElementById("id_explanation");
    var emptyGuidance = guidance ? guidance.getAttribute("data-empty") || "" : "";
    var emptySuggestion = suggestion ? suggestion.getAttribute("data-empty") || "" : "";
    function show() {
      var entry = catalogue[select.value] || {};
      if (guidance) { guidance.textContent = entry.guidance || emptyGuidance; }
      if (suggestion) {
        suggestion.textContent = entry.suggestion || emptySuggestion;
        // The suggestion is in the marketplace's language; the prompt in the page's.
        suggestion.lang = entry.suggestion ? suggestion.getAttribute("data-lang") || "" :
          suggestion.getAttribute("data-page-lang") || "";
      }
      var reading = document.getElementById("suggested-reading");
      if (reading) { reading.textContent = entry.reading || "—"; }
    }
    select.addEventListener("change", show);
    if (insert && explanation) {
      insert.addEventListener("click", function (event) {
        event.preventDefault();
        var entry = catalogue[select.value] || {};
        if (entry.suggestion) {
          explanation.value = entry.suggestion;
          explanation.dispatchEvent(new Event("input"));
          explanation.focus();
        }
      });
    }
    show();
  }

  // Switch seller as soon as one is picked (the form also has a button for no-script use).
  function sellerSwitch() {
    var select = document.getElementById("seller-switch");
    if (!select) { return; }
    select.addEventListener("change", function () { select.form.submit(); });
    var button = document.getElementById("seller-switch-go");
    if (button) { button.hidden = true; }
  }

  // A box whose content carries data-poll (the policy replay's progress) is fetched again every
  // few seconds until the answer no longer asks for it; the rest of the page, and whatever is
  // typed in its form, stays as it is.
  function poll() {
    var box = document.getElementById("replay-status");
    if (!box || !window.fetch) { return; }
    function again() {
      var live = box.querySelector("[data-poll]");
      if (!live) { return; }
      window.setTimeout(function () {
        fetch(live.getAttribute("data-poll"), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) { box.innerHTML = html; } again(); })
          .catch(again);
      }, 5000);
    }
    again();
  }

  document.addEventListener("DOMContentLoaded", function () {
    counters();
    singleSubmit();
    reasons();
    sellerSwitch();
    poll();
  });
})();
