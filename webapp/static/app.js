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

// Chat page: send the form with fetch and append the streamed reply (server-sent events) as text.
(function () {
  var form = document.getElementById("chat");
  if (!form) return;
  var box = document.getElementById("conversation");
  var input = form.elements["message"];
  function turn(kind) {
    var div = document.createElement("div");
    div.className = "turn " + kind;
    var pre = document.createElement("pre");
    pre.className = "text";
    div.appendChild(pre);
    box.appendChild(div);
    return pre;
  }
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var message = input.value.trim();
    if (!message) return;
    var data = new FormData(form);
    input.value = "";
    turn("user").textContent = message;
    var out = turn("model");
    out.classList.add("streaming");
    var response = await fetch(form.action, {method: "POST", body: new URLSearchParams(data), credentials: "same-origin"});
    if (!response.ok) { out.textContent = "(" + response.status + ") " + await response.text(); return; }
    var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, {stream: true});
      var events = buffer.split("\n\n");
      buffer = events.pop();
      events.forEach(function (block) {
        var name = "message", payload = "";
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event: ") === 0) name = line.slice(7);
          if (line.indexOf("data: ") === 0) payload += line.slice(6);
        });
        var obj = payload ? JSON.parse(payload) : {};
        if (name === "message") out.textContent += obj.text;
        if (name === "error") out.textContent += " [error: " + obj.error + "]";
      });
    }
    out.classList.remove("streaming");
    out.classList.add("done");
  });
  document.getElementById("reset").addEventListener("click", async function () {
    var data = new URLSearchParams({csrf_token: form.elements["csrf_token"].value});
    await fetch("/chat/reset", {method: "POST", body: data, credentials: "same-origin"});
    box.textContent = "";
  });
})();
