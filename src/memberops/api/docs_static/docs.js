// Starts Swagger UI on the API's own OpenAPI document. validatorUrl is null so the page
// never calls the public validator: nothing leaves this server.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    displayRequestDuration: true,
    tryItOutEnabled: false,
  });
});
