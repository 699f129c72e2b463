// The card sign-in page: the camera's frames go to jsQR (vendor/jsqr-1.4.0, bundled); the
// first QR code that is a sign-in card (its text starts with data-prefix) is posted once.
// After a refusal the page waits for a tap before it looks again, so a revoked card held up
// to the camera is not sent over and over.
(function () {
  "use strict";
  var root = document.getElementById("card-scan");
  if (!root || typeof window.jsQR !== "function") { return; }
  var video = root.querySelector("video");
  var statusLine = document.getElementById("scan-status");
  var startButton = document.getElementById("scan-start");
  var form = document.getElementById("card-form");
  var input = form.querySelector("input[name=secret]");
  var prefix = root.getAttribute("data-prefix");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  var sent = false;
  var MAX_SIDE = 720; // frames are scaled down to this before decoding (tablets' CPUs)

  function say(name) { statusLine.textContent = root.getAttribute("data-msg-" + name) || ""; }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function tick() {
    if (sent || !stream) { return; }
    if (video.readyState >= 2 && video.videoWidth > 0) {
      var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      var w = Math.round(video.videoWidth * scale);
      var h = Math.round(video.videoHeight * scale);
      canvas.width = w;
      canvas.height = h;
      context.drawImage(video, 0, 0, w, h);
      // Printed cards are dark on light: skip jsQR's second, inverted pass (half the work).
      var code = window.jsQR(context.getImageData(0, 0, w, h).data, w, h, {
        inversionAttempts: "dontInvert"
      });
      if (code && code.data.indexOf(prefix) === 0) {
        sent = true;
        say("found");
        input.value = code.data;
        stop();
        form.submit();
        return;
      }
      if (code && code.data) { say("other"); }
    }
    window.setTimeout(tick, 120);
  }

  function start() {
    startButton.hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("nocamera");
      return;
    }
    say("starting");
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        return video.play();
      })
      .then(function () { say("looking"); tick(); })
      .catch(function () { stop(); say("nocamera"); startButton.hidden = false; });
  }

  startButton.addEventListener("click", start);
  window.addEventListener("pagehide", stop);
  if (root.getAttribute("data-autostart") === "1") { start(); } else { startButton.hidden = false; }
})();
