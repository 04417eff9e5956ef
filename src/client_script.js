/* actix-cookieless script client: keeps the session in this page's own scripts.
 * Adds the session header to same-origin fetch() and XMLHttpRequest calls (htmx uses the
 * latter) and keeps the fresh token each response carries. Never sends the token to another
 * origin. Served from a path (no inline script), so a CSP of `script-src 'self'` allows it. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__cookieless) return;
  var header = me.getAttribute("data-cookieless-header") || "X-Session-ID";
  var token = me.getAttribute("data-cookieless-token") || "";
  // The token stays in this closure; the attribute that brought it is emptied.
  me.removeAttribute("data-cookieless-token");

  function sameOrigin(url) {
    try {
      return new URL(url, document.baseURI).origin === location.origin;
    } catch (e) {
      return false;
    }
  }
  function remember(fresh) {
    if (fresh) token = fresh;
  }
  window.__cookieless = {
    token: function () { return token; },
    header: header
  };

  var realFetch = window.fetch;
  if (realFetch) {
    window.fetch = function (input, init) {
      var url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
      if (!sameOrigin(url)) return realFetch.apply(this, arguments);
      var request = new Request(input, init);
      if (token) request.headers.set(header, token);
      return realFetch.call(this, request).then(function (response) {
        remember(response.headers.get(header));
        return response;
      });
    };
  }

  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__cookielessOwn = sameOrigin(url);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.__cookielessOwn) {
      if (token) this.setRequestHeader(header, token);
      var xhr = this;
      xhr.addEventListener("readystatechange", function () {
        if (xhr.readyState === 2 || xhr.readyState === 4) {
          remember(xhr.getResponseHeader(header));
        }
      });
    }
    return send.apply(this, arguments);
  };
})();
