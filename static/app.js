// Small behaviours that would otherwise be inline handlers (the CSP forbids those).
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
    event.target.select();
  }
});

// Durations still growing ("3m 05s so far") tick here, every second, rather than on the server:
// a polled fragment answered 304 Not Modified keeps its text, and this keeps it current. Same
// format as group_pages.duration_text; the page's server time corrects this machine's clock.
const serverNow = document.querySelector("[data-server-now]");
const clockOffset = serverNow ? Date.parse(serverNow.dataset.serverNow) - Date.now() : 0;

function durationText(totalSeconds) {
  const pad = (n) => String(n).padStart(2, "0");
  const all = Math.max(Math.floor(totalSeconds), 0);
  const seconds = all % 60, minutes = Math.floor(all / 60) % 60;
  const hours = Math.floor(all / 3600) % 24, days = Math.floor(all / 86400);
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${pad(minutes)}m`;
  return minutes ? `${minutes}m ${pad(seconds)}s` : `${seconds}s`;
}

setInterval(() => {
  const now = Date.now() + clockOffset;
  for (const element of document.querySelectorAll("[data-since]")) {
    const since = Date.parse(element.dataset.since);
    if (!Number.isNaN(since)) {
      element.textContent = durationText((now - since) / 1000) + (element.dataset.suffix || "");
    }
  }
}, 1000);

// Live updates, said politely: a polled fragment carries data-announce, a sentence of what it
// shows (a status, the counts). After htmx swaps, each sentence that differs from the one that
// fragment had before is put in the page's live region; an unchanged poll (or a 304) says
// nothing, and a fragment seen for the first time is only remembered.
const announcer = document.getElementById("live-announcer");
const announced = new Map();
let announceTimer = null;

function readAnnouncements(say) {
  const changed = [];
  for (const element of document.querySelectorAll("[data-announce][id]")) {
    const before = announced.get(element.id);
    if (say && before !== undefined && before !== element.dataset.announce) {
      changed.push(element.dataset.announce);
    }
    announced.set(element.id, element.dataset.announce);
  }
  if (changed.length && announcer) {
    announcer.textContent = changed.join(". ");
  }
}

// A swap that replaces the focused element (a toggled button, a saved form) would drop the
// keyboard's place to the top of the page: the new element of the same id gets the focus back.
let focusedId = null;
document.addEventListener("htmx:beforeSwap", () => {
  focusedId = document.activeElement && document.activeElement.id;
});

readAnnouncements(false);
document.addEventListener("htmx:afterSettle", () => {
  const active = document.activeElement;
  if (focusedId && (!active || active === document.body)) {
    const again = document.getElementById(focusedId);
    if (again) again.focus();
  }
  focusedId = null;
  // One poll swaps several fragments (out of band too): read them once they have all settled.
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => readAnnouncements(true), 50);
});
