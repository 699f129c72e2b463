// Shared tablets: every portal tab knows the session it was drawn for (a digest, never the key,
// portal/age.py session_tag) and leaves for the sign-in page as soon as the browser's session is
// another one — a sign-out or "switch user" in another tab, the next child's sign-in:
// - each page announces its session on BroadcastChannel "manabi-session" and in localStorage;
// - a tab that hears another session, or finds another one in localStorage when it becomes
//   visible again (a frozen background tab misses broadcasts), leaves;
// - a page restored from the back-forward cache reloads (the server answers for today's session).
// Sign-out's Clear-Site-Data "storage" empties localStorage, so no tag of the child stays there.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var tag = script.getAttribute("data-session");
  var signIn = script.getAttribute("data-sign-in");
  var KEY = "manabi.session";
  var signedIn = tag !== "signed-out";
  var left = false;
  var storageWorks = false;

  function leave() {
    if (left || !signedIn) { return; }
    left = true;
    document.documentElement.setAttribute("data-session-ended", "");
    if (document.body) { document.body.textContent = ""; }
    window.location.replace(signIn);
  }
  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function announce() {
    try {
      window.localStorage.setItem(KEY, tag);
      storageWorks = true;
    } catch (e) { /* storage off: broadcast only */ }
    if (channel) { channel.postMessage({ session: tag }); }
  }

  var channel = "BroadcastChannel" in window ? new window.BroadcastChannel("manabi-session") : null;
  if (channel) {
    channel.onmessage = function (event) {
      if (event.data && typeof event.data.session === "string" && event.data.session !== tag) {
        leave();
      }
    };
  }
  window.addEventListener("storage", function (event) {
    if ((event.key === KEY || event.key === null) && event.newValue !== tag) { leave(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (storageWorks && document.visibilityState === "visible" && stored() !== tag) { leave(); }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { left = true; window.location.reload(); }
  });
  announce();
})();
