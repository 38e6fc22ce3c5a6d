// Starts the vendored Swagger UI on /api/docs over the URL in #swagger-ui[data-spec-url].
// A file of its own (not an inline script): the pages run under `script-src 'self'`.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No call to the public validator service: the page stays on this host.
    validatorUrl: null,
    // Swagger UI leaves its servers <select> unnamed: name it for screen readers.
    onComplete: function () {
      var servers = document.getElementById("servers");
      if (servers && !servers.getAttribute("aria-label")) {
        servers.setAttribute("aria-label", "Server");
      }
    },
  });
});
