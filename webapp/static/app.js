// Keyboard shortcuts on a rating page: 1, 2, t vote; left and right arrows move between items.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var keys = {"1": "vote-1", "2": "vote-2", "t": "vote-tie", "T": "vote-tie"};
  if (keys[event.key]) {
    var button = document.getElementById(keys[event.key]);
    if (button) { event.preventDefault(); button.click(); }
    return;
  }
  var links = {"ArrowLeft": "prev", "ArrowRight": "next"};
  if (links[event.key]) {
    var link = document.getElementById(links[event.key]);
    if (link) { event.preventDefault(); window.location.href = link.href; }
  }
});
