// hookd portal: optional enhancements. Every page works without this file.
(function () {
  "use strict";
  // Show times in the viewer's local time; the UTC instant stays in the
  // title (hover, long-press).
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  } catch (e) { return; }
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) { el.textContent = fmt.format(d); }
  });
  // Select a revealed secret in one tap.
  var secret = document.getElementById("secret-value");
  if (secret) { secret.addEventListener("focus", function () { secret.select(); }); }
})();
