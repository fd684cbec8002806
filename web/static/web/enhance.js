/* Optional enhancement: every page works without this script.
   When the session's end passes, leave the page for the sign-in page, so what it showed does
   not stay on an unattended screen (the server has ended the session by then anyway). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var body = document.body;
  var end = body && Number(body.getAttribute("data-session-end"));
  var url = body && body.getAttribute("data-session-end-url");
  if (!end || !url) { return; }
  var check = function () {
    if (Date.now() / 1000 >= end + 1) { window.location.replace(url); }
    else { window.setTimeout(check, 1000); }
  };
  window.setTimeout(check, 1000);
})();
