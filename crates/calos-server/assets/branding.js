// Brand editor: loads the brand from the JSON API, previews edits live
// (CSS custom properties via the CSSOM and textContent; no inline code,
// so the page's CSP needs no 'unsafe-inline') and saves through the API.
(function () {
  "use strict";
  var root = document.getElementById("branding-editor");
  if (!root) return;
  var api = root.getAttribute("data-api");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var form = document.getElementById("brand-form");
  var fields = ["productName", "primaryColor", "secondaryColor", "logoUrl", "supportEmail", "supportUrl", "footerText"];
  var preview = document.getElementById("brand-preview");
  var uploadedLogo = null;
  var HEX = /^#[0-9a-fA-F]{6}$/;

  function el(id) { return document.getElementById(id); }
  function show(id, text) { var p = el(id); p.textContent = text || ""; p.hidden = !text; }

  function parseVars(text) {
    var out = {};
    text.split("\n").forEach(function (line) {
      var i = line.indexOf(":");
      if (i < 0) return;
      var name = line.slice(0, i).trim(), value = line.slice(i + 1).trim().replace(/;$/, "");
      if (name) out[name] = value;
    });
    return out;
  }

  function body() {
    var b = {};
    fields.forEach(function (f) { var v = el(f).value.trim(); b[f] = v === "" ? null : v; });
    b.productName = b.productName || "";
    b.primaryColor = b.primaryColor || "";
    b.cssVariables = parseVars(el("cssVariables").value);
    return b;
  }

  function render() {
    var b = body();
    var style = preview.style;
    if (HEX.test(b.primaryColor)) style.setProperty("--brand-primary", b.primaryColor);
    style.setProperty("--brand-secondary", HEX.test(b.secondaryColor || "") ? b.secondaryColor : (HEX.test(b.primaryColor) ? b.primaryColor : ""));
    Object.keys(b.cssVariables).forEach(function (name) {
      // The browser's CSSOM refuses what is not a value; the server checks again.
      if (/^--[a-z0-9-]+$/.test(name)) style.setProperty(name, b.cssVariables[name]);
    });
    el("preview-name").textContent = b.productName;
    el("preview-footer").textContent = b.footerText || "";
    el("preview-support").textContent = [b.supportEmail, b.supportUrl].filter(Boolean).join(" · ");
    var logo = el("preview-logo");
    var src = b.logoUrl && /^https?:\/\//.test(b.logoUrl) ? b.logoUrl : uploadedLogo;
    if (src) { logo.src = src; logo.hidden = false; } else { logo.hidden = true; logo.removeAttribute("src"); }
  }

  function fill(stored, fallback) {
    var s = (stored && stored.settings) || fallback || {};
    fields.forEach(function (f) { el(f).value = s[f] || ""; });
    var vars = s.cssVariables || {};
    el("cssVariables").value = Object.keys(vars).map(function (k) { return k + ": " + vars[k]; }).join("\n");
    uploadedLogo = stored && stored.logo ? stored.logoUrl : null;
    el("brand-version").textContent = stored ? "version " + stored.version : "not set yet";
    render();
  }

  function request(method, url, data, type) {
    var headers = { "X-CSRF-Token": csrf };
    if (type) headers["Content-Type"] = type;
    return fetch(url, { method: method, headers: headers, body: data, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("not logged in"); }
        return r.json().then(function (j) { if (!r.ok) throw new Error((j.error && j.error.message) || r.statusText); return j; });
      });
  }

  request("GET", api).then(function (j) {
    fill(j.branding, j.builtin || (j.effective && {
      productName: j.effective.productName, primaryColor: j.effective.primaryColor,
      secondaryColor: j.effective.secondaryColor, cssVariables: {}
    }));
  }).catch(function (e) { show("brand-error", e.message); });

  form.addEventListener("input", render);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    show("brand-error", "");
    request("PUT", api, JSON.stringify(body()), "application/json")
      .then(function (j) { fill(j.branding); })
      .catch(function (e) { show("brand-error", e.message); });
  });
  el("logo-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    show("logo-error", "");
    var file = el("logo-file").files[0];
    if (!file) { show("logo-error", "Choose a file first."); return; }
    request("PUT", api + "/logo", file, file.type || "application/octet-stream")
      .then(function (j) { fill(j.branding); })
      .catch(function (e) { show("logo-error", e.message); });
  });
  el("logo-remove").addEventListener("click", function () {
    request("DELETE", api + "/logo").then(function (j) { if (j.branding) fill(j.branding); })
      .catch(function (e) { show("logo-error", e.message); });
  });
})();
