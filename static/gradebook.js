// Live gradebook: scores posted by tools appear without reloading the page.
(function () {
  "use strict";
  var table = document.querySelector("table[data-ws]");
  if (!table) { return; }
  var status = document.getElementById("live-status");
  var labels = { Initialized: "開始前", Started: "開始", InProgress: "取り組み中", Submitted: "提出", Completed: "完了" };
  if (document.documentElement.lang === "en") {
    labels = { Initialized: "Initialized", Started: "Started", InProgress: "In progress", Submitted: "Submitted", Completed: "Completed" };
  }
  function fmt(n) { return n === null || n === undefined ? "–" : String(Math.round(n * 100) / 100); }
  function ensureColumn(ev) {
    if (table.querySelector('th[data-item="' + ev.line_item + '"]')) { return; }
    var th = document.createElement("th");
    th.scope = "col"; th.dataset.item = ev.line_item; th.textContent = ev.label;
    table.tHead.rows[0].appendChild(th);
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var td = document.createElement("td");
      td.dataset.cell = row.dataset.student + "-" + ev.line_item;
      td.innerHTML = '<span class="none">–</span>';
      row.appendChild(td);
    });
    var empty = document.querySelector('[data-testid="no-items"]');
    if (empty) { empty.remove(); }
  }
  function update(ev) {
    ensureColumn(ev);
    var td = table.querySelector('td[data-cell="' + ev.student + "-" + ev.line_item + '"]');
    if (!td) { return; }
    var review = td.querySelector("a.review"); // the submission-review link stays (server-made)
    td.textContent = "";
    var score = document.createElement("span"); score.className = "score";
    score.textContent = ev.score_given === null ? "–" : fmt(ev.score_given);
    if (ev.score_given !== null) {
      var max = document.createElement("small"); max.textContent = "/" + fmt(ev.score_maximum); score.appendChild(max);
    }
    var progress = document.createElement("span");
    progress.className = "progress progress-" + ev.activity_progress.toLowerCase();
    progress.textContent = labels[ev.activity_progress] || ev.activity_progress;
    var time = document.createElement("time"); time.dateTime = ev.timestamp;
    time.textContent = new Date(ev.timestamp).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    td.append(score, " ", progress, " ", time);
    if (review) { td.append(" ", review); }
    td.classList.add("flash");
    setTimeout(function () { td.classList.remove("flash"); }, 2000);
  }
  var retry = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + table.dataset.ws);
    ws.onopen = function () { retry = 1000; status.textContent = status.dataset.live || "● ライブ更新中"; status.dataset.state = "live"; };
    ws.onmessage = function (msg) { update(JSON.parse(msg.data)); };
    ws.onclose = function (ev) {
      // 4401: the session ended (signed out, expired); 4403: no longer allowed to see the class
      // (portal/consumers.py). Reconnecting could not help: say so and stop.
      if (ev.code === 4401 || ev.code === 4403) {
        status.textContent = ev.code === 4401 ? status.dataset.ended : status.dataset.forbidden;
        status.dataset.state = "ended";
        return;
      }
      status.textContent = "再接続しています…"; status.dataset.state = "offline";
      setTimeout(connect, retry); retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
