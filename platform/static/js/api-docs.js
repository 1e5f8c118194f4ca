/* Start Swagger UI on the API docs page; calls carry the session's CSRF token. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  window.SwaggerUIBundle({
    url: el.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    requestInterceptor: function (req) { req.headers["X-CSRFToken"] = token; return req; }
  });
});
