// Live order updates, the storefront's only script. The page is complete
// without it; with it, the status and notifications change as they
// happen. Server-sent events from /shop/orders/{id}/events, written into
// the page with textContent only: nothing the server sends becomes markup.
"use strict";
const order = document.querySelector("[data-events]");
if (order && "EventSource" in window) {
  const status = document.getElementById("status");
  const list = document.getElementById("notifications");
  const source = new EventSource(order.dataset.events);
  source.addEventListener("status", (event) => {
    const update = JSON.parse(event.data);
    status.textContent = update.text;
    status.className = "status " + update.class;
  });
  source.addEventListener("notification", (event) => {
    const note = JSON.parse(event.data);
    if (list.querySelector(`[data-id="${CSS.escape(note.id)}"]`)) {
      return;
    }
    const item = document.createElement("li");
    item.dataset.id = note.id;
    item.textContent = note.message;
    list.append(item);
  });
  // The order is settled and told: nothing more will come.
  source.addEventListener("done", () => source.close());
}
