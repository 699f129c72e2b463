// The drill: the unit the teacher assigned (data-unit), then the score goes to the portal (AGS)
// and each sum (key, question, correct answer, the child's choice, how long ago) to the tool's
// study log (xAPI statements, sent by the tool's server).
(function () {
  "use strict";
  var form = document.getElementById("finish-form");
  var total = parseInt(form.dataset.questions, 10) || 5;
  var unit = form.dataset.unit;
  var canScore = form.dataset.canScore === "true";
  var n = 0, right = 0, answers = [];
  var KANJI = [["山", "やま"], ["川", "かわ"], ["木", "き"], ["花", "はな"], ["空", "そら"],
    ["雨", "あめ"], ["火", "ひ"], ["水", "みず"]];
  function digit() { return 1 + Math.floor(Math.random() * 9); }
  function shuffle(list) { return list.sort(function () { return Math.random() - 0.5; }); }
  function question() {
    var a = digit(), b = digit();
    if (unit === "subtraction") {
      if (a < b) { var t = a; a = b; b = t; }
      return { key: a + "-" + b, text: a + " − " + b + " = ?", answer: String(a - b), others: [a - b + 1, a - b + 2] };
    }
    if (unit === "multiplication") {
      return { key: a + "x" + b, text: a + " × " + b + " = ?", answer: String(a * b), others: [a * b + b, a * b - b] };
    }
    if (unit === "kanji") {
      var pick = shuffle(KANJI.slice());
      return { key: pick[0][0], text: "「" + pick[0][0] + "」の よみかたは？", answer: pick[0][1], others: [pick[1][1], pick[2][1]] };
    }
    return { key: a + "+" + b, text: a + " + " + b + " = ?", answer: String(a + b), others: [a + b - 1, a + b + 1] };
  }
  function ask() {
    if (n === total) {
      var now = Date.now();
      document.getElementById("score").value = right;
      document.getElementById("answers").value = JSON.stringify(answers.map(function (a) {
        return { key: a.key, question: a.question, correct: a.correct, response: a.response,
          ago_ms: Math.max(0, now - a.at) };
      }));
      document.getElementById("result").textContent = "おわり！ " + right + " / " + total;
      if (canScore) { form.submit(); }
      return;
    }
    n += 1; document.getElementById("n").textContent = n;
    var q = question();
    document.getElementById("q").textContent = q.text;
    var box = document.getElementById("choices"); box.textContent = "";
    shuffle([q.answer].concat(q.others.map(String))).forEach(function (v) {
      var btn = document.createElement("button"); btn.type = "button"; btn.textContent = v;
      btn.dataset.correct = v === q.answer ? "1" : "0";
      btn.addEventListener("click", function () {
        if (v === q.answer) { right += 1; }
        answers.push({ key: q.key, question: q.text, correct: q.answer, response: v, at: Date.now() });
        document.getElementById("result").textContent = v === q.answer ? "せいかい！" : "ざんねん";
        ask();
      });
      box.appendChild(btn);
    });
  }
  ask();
})();
