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
