// Small behaviours that would otherwise be inline handlers (the CSP forbids those).
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
    event.target.select();
  }
});
