// Call page: click a transcript segment to play from its start; highlight the segment being played.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) return;
  var segments = Array.prototype.slice.call(document.querySelectorAll("#transcript .seg"));
  var position = document.getElementById("position");

  function playFrom(seg) {
    player.currentTime = parseFloat(seg.dataset.start);
    var started = player.play();
    if (started && started.catch) started.catch(function () { /* autoplay refused: the position still moved */ });
  }

  function highlight() {
    var t = player.currentTime;
    if (position) position.textContent = t.toFixed(1);
    segments.forEach(function (seg) {
      var on = t >= parseFloat(seg.dataset.start) && t < parseFloat(seg.dataset.end);
      seg.classList.toggle("current", on);
      if (on) seg.setAttribute("aria-current", "true"); else seg.removeAttribute("aria-current");
    });
  }

  segments.forEach(function (seg) {
    seg.addEventListener("click", function () { playFrom(seg); });
    seg.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); playFrom(seg); }
    });
  });
  ["timeupdate", "seeked", "seeking"].forEach(function (name) { player.addEventListener(name, highlight); });
})();
