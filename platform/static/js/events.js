// Event check-in page: scan a registration's QR code with the phone camera where the
// browser has BarcodeDetector; otherwise staff type the code (the form works without JS).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-check-in-form]");
    if (!form || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    var button = form.querySelector("[data-scan]");
    var video = document.querySelector("[data-scan-video]");
    var input = form.querySelector("input[name=code]");
    if (!button || !video || !input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        var tick = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              stream.getTracks().forEach(function (t) { t.stop(); });
              input.value = codes[0].rawValue;
              form.submit();
            } else {
              window.requestAnimationFrame(tick);
            }
          }).catch(function () { window.requestAnimationFrame(tick); });
        };
        tick();
      }).catch(function () { button.hidden = true; });
    });
  });
}());
