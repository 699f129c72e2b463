// Shared tablets: every portal tab knows the session it was drawn for (a digest, never the key,
// portal/age.py session_tag) and leaves for the sign-in page as soon as the browser's session is
// another one — a sign-out or "switch user" in another tab, the next child's sign-in:
// - each page announces its session on BroadcastChannel "manabi-session" and in localStorage;
// - a tab that hears another session, or finds another one in localStorage when it becomes
//   visible again (a frozen background tab misses broadcasts), leaves;
// - a page restored from the back-forward cache reloads (the server answers for today's session).
// Sign-out's Clear-Site-Data "storage" empties localStorage, so no tag of the child stays there.
// That emptying reaches every tab while the browser is still taking in the sign-out's answer,
// before its cookies (the deleted language cookie, the ended session) are stored: a tab that
// left at once would ask for the sign-in page with the previous child's cookies and get it in
// the previous child's language — and the tab that signed out would lose its own navigation,
// and with it those cookies. So a tab that is already on its way to the server does nothing,
// and the others hide the page at once and leave when the signed-out page announces itself
// (its cookies are stored by then), or after a second.
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
  var navigating = false; // this tab asked the server for a page already (a form, a link)
  var LATE_MS = 1000;

  function hide() {
    document.documentElement.setAttribute("data-session-ended", "");
    if (document.body) { document.body.textContent = ""; }
  }
  function leave() {
    if (left || !signedIn || navigating) { return; }
    left = true;
    hide();
    window.location.replace(signIn);
  }
  function leaveSoon() {
    if (left || !signedIn || navigating) { return; }
    hide();
    window.setTimeout(leave, LATE_MS);
  }
  window.addEventListener("beforeunload", function () {
    navigating = true;
    // A download, or a navigation that did not happen, leaves the page here: watch again.
    window.setTimeout(function () { navigating = false; }, 2 * LATE_MS);
  });
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
    if (event.key === null) { leaveSoon(); } // emptied: a sign-out's Clear-Site-Data
    else if (event.key === KEY && event.newValue !== tag) { leave(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (storageWorks && document.visibilityState === "visible" && stored() !== tag) { leave(); }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { left = true; window.location.reload(); }
  });
  announce();
})();
