// Call page (QA workspace): playback follows the transcript word by word, the timeline seeks,
// keyboard shortcuts, one side of a stereo call, and corrections saved in place (fetch, no reload:
// the player keeps playing where it was).
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) return;
  var transcript = document.getElementById("transcript");
  var segments = [].slice.call(document.querySelectorAll("#transcript .seg"));
  var words = [].slice.call(document.querySelectorAll("#transcript .w")).map(function (el) {
    return { el: el, s: parseFloat(el.dataset.s), e: parseFloat(el.dataset.e) };
  });
  var position = document.getElementById("position");
  var timelineEl = document.getElementById("timeline");
  var playheads = [].slice.call(document.querySelectorAll("#timeline .ph"));
  var duration = timelineEl ? parseFloat(timelineEl.dataset.duration) || 0 : 0;
  var currentSeg = null, currentWord = null, userScrolledAt = 0;

  function mss(t) {
    t = Math.max(0, Math.floor(t));
    var m = Math.floor(t / 60), s = t % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function play() {
    var started = player.play();
    if (started && started.catch) started.catch(function () { /* autoplay refused: the position still moved */ });
  }

  function seek(t) {
    player.currentTime = Math.max(0, Math.min(t, player.duration || duration || t));
    update();
  }

  function playFrom(seg) { seek(parseFloat(seg.dataset.start)); play(); }

  function segAt(t) {
    for (var i = 0; i < segments.length; i++) {
      var s = segments[i];
      if (t >= parseFloat(s.dataset.start) && t < parseFloat(s.dataset.end)) return s;
    }
    return null;
  }

  function update() {
    var t = player.currentTime;
    if (position) position.textContent = mss(t);
    var d = player.duration && isFinite(player.duration) ? player.duration : duration;
    if (d) playheads.forEach(function (ph) { ph.style.left = (100 * Math.min(1, t / d)) + "%"; });
    if (timelineEl) timelineEl.setAttribute("aria-valuenow", t.toFixed(1));
    var seg = segAt(t);
    if (seg !== currentSeg) {
      if (currentSeg) { currentSeg.classList.remove("current"); currentSeg.removeAttribute("aria-current"); }
      if (seg) {
        seg.classList.add("current"); seg.setAttribute("aria-current", "true");
        // Keep the line in view, unless the reviewer scrolled away in the last few seconds.
        if (Date.now() - userScrolledAt > 4000 && !player.paused) seg.scrollIntoView({ block: "nearest", behavior: "smooth" });
      }
      currentSeg = seg;
    }
    var w = null;
    for (var i = 0; i < words.length; i++) {
      if (t >= words[i].s && t < words[i].e) { w = words[i].el; break; }
    }
    if (w !== currentWord) {
      if (currentWord) currentWord.classList.remove("now");
      if (w) w.classList.add("now");
      currentWord = w;
    }
  }

  function tick() { update(); if (!player.paused) window.requestAnimationFrame(tick); }
  player.addEventListener("play", function () { window.requestAnimationFrame(tick); });
  ["timeupdate", "seeked", "seeking", "loadedmetadata"].forEach(function (n) { player.addEventListener(n, update); });
  if (transcript) {
    ["wheel", "touchmove"].forEach(function (n) {
      transcript.addEventListener(n, function () { userScrolledAt = Date.now(); }, { passive: true });
    });
  }

  function bindSegments() {
    segments = [].slice.call(document.querySelectorAll("#transcript .seg"));
    words = [].slice.call(document.querySelectorAll("#transcript .w")).map(function (el) {
      return { el: el, s: parseFloat(el.dataset.s), e: parseFloat(el.dataset.e) };
    });
    currentSeg = currentWord = null;
  }

  if (transcript) {
    transcript.addEventListener("click", function (e) {
      if (e.target.closest(".edit, .editor")) return;
      var seg = e.target.closest(".seg");
      if (!seg) return;
      var w = e.target.closest(".w");
      if (w) { seek(parseFloat(w.dataset.s)); play(); } else playFrom(seg);
    });
    transcript.addEventListener("keydown", function (e) {
      var seg = e.target.classList && e.target.classList.contains("seg") ? e.target : null;
      if (seg && (e.key === "Enter")) { e.preventDefault(); playFrom(seg); }
    });
  }

  // Timeline: click or drag to seek; hit ticks jump there.
  if (timelineEl) {
    timelineEl.addEventListener("click", function (e) {
      var track = timelineEl.querySelector(".track");
      var r = track.getBoundingClientRect();
      var d = player.duration && isFinite(player.duration) ? player.duration : duration;
      if (r.width > 0 && d) seek(d * Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)));
    });
  }
  // Categories by rule (issue 30): their moments seek, in the list and on the timeline.
  [].slice.call(document.querySelectorAll("#categories .cat-at, #timeline .cat")).forEach(function (el) {
    el.addEventListener("click", function (e) { e.stopPropagation(); seek(parseFloat(el.dataset.s)); });
  });
  var nextHit = document.getElementById("next-hit");
  if (nextHit) {
    var hits = [].slice.call(document.querySelectorAll("#timeline .hit")).map(function (h) { return parseFloat(h.dataset.s); });
    nextHit.addEventListener("click", function () {
      var t = player.currentTime + 0.05, target = hits[0];
      for (var i = 0; i < hits.length; i++) { if (hits[i] > t) { target = hits[i]; break; } }
      seek(target);
    });
  }

  // Keyboard shortcuts (not while typing in a field).
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var k = e.key;
    var idx = currentSeg ? segments.indexOf(currentSeg) : -1;
    if (k === " " || k === "k") {
      if (tag === "button" || tag === "a") return;
      e.preventDefault(); if (player.paused) play(); else player.pause();
    } else if (k === "ArrowLeft" || k === "j") { e.preventDefault(); seek(player.currentTime - 5); }
    else if (k === "ArrowRight" || k === "l") { e.preventDefault(); seek(player.currentTime + 5); }
    else if (k === "ArrowDown" || k === "n") {
      e.preventDefault();
      var t = player.currentTime, next = null;
      for (var i = 0; i < segments.length; i++) { if (parseFloat(segments[i].dataset.start) > t + 0.01) { next = segments[i]; break; } }
      if (next) { seek(parseFloat(next.dataset.start)); next.focus({ preventScroll: false }); }
    } else if (k === "ArrowUp" || k === "p") {
      e.preventDefault();
      var prev = idx > 0 ? segments[idx - 1] : segments[0];
      if (prev) { seek(parseFloat(prev.dataset.start)); prev.focus(); }
    }
  });

  // Stereo calls: listen to one channel (Web Audio; the <audio> element keeps its controls).
  var side = document.getElementById("side");
  if (side) {
    var graph = null;
    side.addEventListener("change", function () {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      if (!graph) {
        var ctx = new Ctx(), src = ctx.createMediaElementSource(player);
        var split = ctx.createChannelSplitter(2), merge = ctx.createChannelMerger(2);
        var gains = [ctx.createGain(), ctx.createGain()];
        src.connect(split);
        [0, 1].forEach(function (c) { split.connect(gains[c], c); gains[c].connect(merge, 0, 0); gains[c].connect(merge, 0, 1); });
        merge.connect(ctx.destination);
        graph = { ctx: ctx, gains: gains };
      }
      var v = side.value;
      graph.gains[0].gain.value = v === "1" ? 0 : 1;
      graph.gains[1].gain.value = v === "0" ? 0 : 1;
      graph.ctx.resume();
      player.dataset.side = v + ":" + graph.gains[0].gain.value + "," + graph.gains[1].gain.value;
    });
  }

  // In-place corrections: forms marked data-api post with fetch; the side panel is re-rendered.
  var csrf = document.getElementById("csrf");
  var toast = document.getElementById("toast");
  var toastTimer = null;
  function say(text, bad) {
    if (!toast) return;
    toast.textContent = text; toast.hidden = false; toast.classList.toggle("bad", !!bad);
    clearTimeout(toastTimer); toastTimer = setTimeout(function () { toast.hidden = true; }, 4000);
  }
  function post(url, body) {
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { "X-CSRF-Token": csrf ? csrf.value : "", "Accept": "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return { detail: r.statusText }; }).then(function (j) {
          if (!r.ok) throw new Error(j.detail || r.statusText);
          return j;
        });
      });
  }
  function applyAnswer(j) {
    var facts = document.getElementById("facts");
    if (facts && j.facts_html !== undefined) facts.innerHTML = j.facts_html;
    var badges = document.getElementById("head-badges");
    if (badges && j.badges_html !== undefined) badges.innerHTML = j.badges_html;
    var summary = document.querySelector("#summary .text");
    if (summary && j.summary) { summary.textContent = j.summary; summary.parentNode.hidden = false; }
    var reasons = document.getElementById("review-reasons");
    if (reasons && j.reviewed !== undefined) reasons.hidden = !!j.reviewed;
    say(j.message || "OK");
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-api") || !csrf) return;
    e.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var action = form.getAttribute("action");
    // A topic change may move the call's case to another unit: say so and ask first (issue 29).
    var asked = /\/topics$/.test(action)
      ? post(action + "/preview", new FormData(form)).then(function (p) {
          return !p.moves || window.confirm(p.message + "\n" + p.confirm);
        })
      : Promise.resolve(true);
    asked.then(function (ok) {
      if (!ok) return null;
      return post(action, new FormData(form));
    }).then(function (j) {
      if (!j) return;
      if (j.roles) {
        segments.forEach(function (s) {
          var role = j.roles[s.dataset.seq];
          if (!role) return;
          s.className = s.className.replace(/role-\w+/, "role-" + role);
          var who = s.querySelector(".who");
          var label = document.querySelector(".lane-" + role + " .lane-name");
          if (who && label) who.textContent = label.textContent;
        });
      }
      applyAnswer(j);
      if (j.next_url) window.location.assign(j.next_url);
    }).catch(function (err) { say((document.documentElement.lang === "en" ? "Not saved: " : "Chưa lưu được: ") + err.message, true); });
  });

  // Transcript text correction: an editor opens under the sentence.
  if (transcript && csrf) {
    transcript.addEventListener("click", function (e) {
      var btn = e.target.closest(".edit");
      if (!btn) return;
      var seg = btn.closest(".seg");
      if (seg.querySelector(".editor")) return;
      var textEl = seg.querySelector(".text");
      var box = document.createElement("div"); box.className = "editor";
      var area = document.createElement("textarea"); area.value = textEl.textContent.replace(/\s+/g, " ").trim();
      area.rows = 3; area.maxLength = 5000;
      var save = document.createElement("button"); save.type = "button"; save.textContent = btn.dataset.save || "Lưu";
      var cancel = document.createElement("button"); cancel.type = "button"; cancel.textContent = btn.dataset.cancel || "Hủy";
      box.appendChild(area); box.appendChild(save); box.appendChild(cancel);
      seg.appendChild(box); area.focus();
      cancel.addEventListener("click", function () { box.remove(); });
      save.addEventListener("click", function () {
        var body = new FormData(); body.append("text", area.value);
        post("/api/calls/" + document.getElementById("call").dataset.call + "/segments/" + seg.dataset.seq, body)
          .then(function (j) {
            textEl.textContent = "";
            (j.words || []).forEach(function (w) {
              var span = document.createElement("span"); span.className = "w";
              span.dataset.s = w.s; span.dataset.e = w.e; span.textContent = w.w;
              textEl.appendChild(span); textEl.appendChild(document.createTextNode(" "));
            });
            box.remove(); bindSegments(); applyAnswer(j);
          }).catch(function (err) { say(err.message, true); });
      });
    });
  }
  update();
})();

// Rule editor (issue 30): each condition row shows only the fields its kind uses (without script, all show).
(function () {
  "use strict";
  var rows = [].slice.call(document.querySelectorAll("#rf-form .rf-row"));
  rows.forEach(function (row) {
    var kind = row.querySelector(".rf-kind");
    function show() {
      var k = kind.value;
      row.dataset.kind = k;
      [].slice.call(row.querySelectorAll("[data-kinds]")).forEach(function (el) {
        var on = k !== "" && el.dataset.kinds.split(" ").indexOf(k) >= 0;
        el.hidden = !on;
        if (el.tagName === "OPTGROUP") el.disabled = !on;
      });
    }
    kind.addEventListener("change", show);
    show();
  });
})();

// Tables marked "stack" become one card per row on a phone (CSS, max-width 760px): each cell is labelled with
// its column's heading, so a 390 px screen shows every column instead of cutting the table at its right edge.
(function () {
  "use strict";
  [].slice.call(document.querySelectorAll("table.stack")).forEach(function (table) {
    var heads = [].slice.call(table.querySelectorAll("thead th")).map(function (th) { return th.textContent.trim(); });
    [].slice.call(table.querySelectorAll("tbody tr")).forEach(function (tr) {
      [].slice.call(tr.children).forEach(function (td, i) {
        if (heads[i] && !td.hasAttribute("data-label")) td.setAttribute("data-label", heads[i]);
      });
    });
  });
})();
