// the dev phone: send with fetch, then poll the thread once a second (no build step, no library)
"use strict";
(function () {
  const form = document.getElementById("send");
  const list = document.getElementById("thread");
  const problem = document.getElementById("problem");
  const consent = document.getElementById("consent");
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const threadUrl = form.dataset.thread;

  function bubble(item) {
    const li = document.createElement("li");
    // the customer's own texts on the right, everything from the bot on the left
    li.className = "msg " + (item.kind === "in" ? "in" : "bot");
    const box = document.createElement("div");
    box.className = "bubble";
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = item.body;
    const meta = document.createElement("p");
    meta.className = "meta";
    const when = new Date(item.at).toLocaleTimeString();
    if (item.kind === "in") meta.textContent = "you · " + when;
    else if (item.kind === "twiml") meta.textContent = "bot reply (TwiML) · " + when;
    else {
      meta.textContent = "SMS · " + when + " · ";
      const status = document.createElement("span");
      status.className = "status s-" + (item.status || "none");
      status.textContent = item.status || "-";
      meta.appendChild(status);
      if (item.sandbox_accepted) meta.append(" · accepted by the sandbox");
    }
    box.append(body, meta);
    if (item.error) {
      const why = document.createElement("p");
      why.className = "why";
      why.textContent = item.error;
      box.appendChild(why);
    }
    li.appendChild(box);
    return li;
  }

  let last = "";
  async function refresh() {
    const number = document.getElementById("from").value;
    try {
      const resp = await fetch(threadUrl + "?from=" + encodeURIComponent(number), { cache: "no-store" });
      if (!resp.ok) return;
      const data = await resp.json();
      const shape = JSON.stringify(data);
      if (shape === last) return;
      last = shape;
      consent.textContent = data.items.length ? (data.opted_out ? "opted out" : "subscribed") : "";
      list.replaceChildren(...(data.items.length ? data.items.map(bubble) : [Object.assign(document.createElement("li"), { className: "meta", textContent: "No texts yet for this number." })]));
    } catch (err) { /* the server restarts in development: try again next tick */ }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    problem.hidden = true;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const resp = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-CSRFToken": token } });
      const data = await resp.json().catch(() => ({ error: "the server answered " + resp.status }));
      if (!resp.ok) { problem.textContent = data.error; problem.hidden = false; return; }
      document.getElementById("message").value = "";
      await refresh();
    } finally { button.disabled = false; }
  });
  document.getElementById("from").addEventListener("change", function () { last = ""; refresh(); });
  refresh();
  setInterval(refresh, 1000);
})();
