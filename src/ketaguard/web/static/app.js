// ketaguard's own page script. No inline scripts: the pages' Content-Security-Policy refuses them.
(function () {
  "use strict";

  // A form that came back with errors: move focus to the summary so it is read out first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }

  // Idle time-out. The server ends a login session after the organisation's idle time-out, and
  // every request counts as activity, so asking the server how long is left would itself keep
  // the session alive. The countdown therefore runs here; only "Stay signed in" (or any other
  // request the page makes) tells the server the person is still there.
  var body = document.body;
  var timeoutSeconds = Number(body.dataset.idleTimeoutSeconds);
  var warningSeconds = Number(body.dataset.idleWarningSeconds);
  var dialog = document.getElementById("idle-warning");
  if (!timeoutSeconds || !dialog) {
    return;
  }
  var countdown = dialog.querySelector("[data-idle-countdown]");
  var keepalive = dialog.querySelector("[data-idle-keepalive]");
  var deadline = 0;
  var returnFocusTo = null;

  function minutesAndSeconds(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    var text = rest + (rest === 1 ? " second" : " seconds");
    return minutes ? minutes + (minutes === 1 ? " minute " : " minutes ") + text : text;
  }

  function restart() {
    deadline = Date.now() + timeoutSeconds * 1000;
    if (!dialog.hidden) {
      dialog.hidden = true;
      if (returnFocusTo && document.contains(returnFocusTo)) {
        returnFocusTo.focus();
      }
    }
  }

  function tick() {
    var left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) {
      window.clearInterval(timer);
      // The home page asks the server, which ends the session (and shows the login page) if it
      // has really been idle, or simply shows home if another tab kept it alive.
      window.location.assign("/");
      return;
    }
    if (left <= warningSeconds) {
      countdown.textContent = minutesAndSeconds(left);
      if (dialog.hidden) {
        returnFocusTo = document.activeElement;
        dialog.hidden = false;
        keepalive.focus();
      }
    }
  }

  // Any successful request from the page (the keep-alive included) resets the server's clock,
  // except a page's automatic refresh (X-Auto-Refresh), which the server does not count either.
  document.addEventListener("htmx:after:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var automatic = ctx && ctx.request && ctx.request.headers["X-Auto-Refresh"] === "true";
    if (ctx && ctx.response && ctx.response.status < 400 && !automatic) {
      restart();
    }
  });

  restart();
  var timer = window.setInterval(tick, 1000);
})();

// A secret shown only once (a new API token): a button copies it and focusing the field selects
// it, so nobody retypes it. Without the clipboard (or script) the field can be selected by hand.
(function () {
  "use strict";

  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyFrom);
    var status = button.parentElement.querySelector("[data-copy-status]");
    if (!field || !status || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          status.textContent = "Copied";
        },
        function () {
          field.select();
          status.textContent = "Could not copy: the token is selected, so press Ctrl+C";
        }
      );
    });
  });

  document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
    field.addEventListener("focus", function () {
      field.select();
    });
  });
})();
