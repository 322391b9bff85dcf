// Kept out of the page: the Content-Security-Policy allows no inline scripts.
window.SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api-docs', deepLinking: true, persistAuthorization: true });
