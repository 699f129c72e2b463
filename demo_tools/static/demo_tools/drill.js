// The addition drill: five questions, then the score goes to the portal (AGS) if it may.
(function () {
  "use strict";
  var form = document.getElementById("finish-form");
  var n = 0, right = 0;
  var canScore = form.dataset.canScore === "true";
  function ask() {
    if (n === 5) {
      document.getElementById("score").value = right;
      document.getElementById("result").textContent = "おわり！ " + right + " / 5";
      if (canScore) { form.submit(); }
      return;
    }
    n += 1; document.getElementById("n").textContent = n;
    var a = 1 + Math.floor(Math.random() * 9), b = 1 + Math.floor(Math.random() * 9);
    document.getElementById("q").textContent = a + " + " + b + " = ?";
    var box = document.getElementById("choices"); box.textContent = "";
    [a + b - 1, a + b, a + b + 1].sort(function () { return Math.random() - .5; }).forEach(function (v) {
      var btn = document.createElement("button"); btn.type = "button"; btn.textContent = v;
      btn.dataset.correct = v === a + b ? "1" : "0";
      btn.addEventListener("click", function () {
        if (v === a + b) { right += 1; }
        document.getElementById("result").textContent = v === a + b ? "せいかい！" : "ざんねん";
        ask();
      });
      box.appendChild(btn);
    });
  }
  ask();
})();
