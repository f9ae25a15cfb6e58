// A small GraphQL explorer with no outside scripts: edit, run, read the
// schema. The query and variables are kept in localStorage, the token only
// for this tab (sessionStorage).
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var endpoint = document.body.dataset.endpoint;
  var keep = { query: localStorage, variables: localStorage, headers: localStorage, token: sessionStorage };
  Object.keys(keep).forEach(function (k) {
    var v = keep[k].getItem("qq-explorer-" + k);
    if (v !== null) $(k).value = v;
    $(k).addEventListener("input", function () { keep[k].setItem("qq-explorer-" + k, $(k).value); });
  });

  function parseJSON(id) {
    var s = $(id).value.trim();
    if (!s) return {};
    try { return JSON.parse(s); } catch (e) { throw new Error(id + ": " + e.message); }
  }

  function post(body) {
    var headers = Object.assign({ "Content-Type": "application/json", "Accept": "application/graphql-response+json, application/json" }, parseJSON("headers"));
    var token = $("token").value.trim();
    if (token) headers.Authorization = /^bearer /i.test(token) ? token : "Bearer " + token;
    return fetch(endpoint, { method: "POST", headers: headers, body: JSON.stringify(body) });
  }

  function run() {
    var started = performance.now();
    $("status").textContent = "…";
    var body;
    try { body = { query: $("query").value, variables: parseJSON("variables") }; } catch (e) { $("response").textContent = e.message; $("status").textContent = ""; return; }
    post(body).then(function (res) {
      return res.text().then(function (text) {
        $("status").textContent = res.status + " · " + Math.round(performance.now() - started) + " ms";
        try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: show as is */ }
        $("response").textContent = text;
      });
    }).catch(function (e) { $("status").textContent = ""; $("response").textContent = String(e); });
  }
  $("run").addEventListener("click", run);
  document.addEventListener("keydown", function (e) { if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); run(); } });

  // Schema browser, from one introspection query.
  var typeRef = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
  var introspection = "query Explorer { __schema { queryType { name } mutationType { name } subscriptionType { name } " +
    "types { kind name description fields(includeDeprecated: true) { name description isDeprecated deprecationReason " +
    "args { name description defaultValue type { " + typeRef + " } } type { " + typeRef + " } } " +
    "inputFields { name description defaultValue type { " + typeRef + " } } enumValues(includeDeprecated: true) { name description } } } }";
  var types = {}, roots = [];

  function el(tag, text, cls) { var e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  function named(t) { while (t.ofType) t = t.ofType; return t.name; }
  function typeName(t) {
    if (t.kind === "NON_NULL") return typeName(t.ofType) + "!";
    if (t.kind === "LIST") return "[" + typeName(t.ofType) + "]";
    return t.name;
  }
  function link(name, label) { var a = el("a", label || name); a.addEventListener("click", function () { show(name); }); return a; }

  function show(name) {
    var t = types[name], box = $("type");
    box.replaceChildren();
    if (!t) return;
    box.appendChild(el("h3", t.name));
    box.appendChild(el("div", t.kind, "kind"));
    if (t.description) box.appendChild(el("div", t.description, "desc"));
    (t.fields || t.inputFields || []).forEach(function (f) {
      var row = el("div", null, "field");
      row.appendChild(document.createTextNode(f.name));
      if (f.args && f.args.length) {
        row.appendChild(document.createTextNode("("));
        f.args.forEach(function (a, i) {
          row.appendChild(document.createTextNode((i ? ", " : "") + a.name + ": "));
          row.appendChild(link(named(a.type), typeName(a.type)));
        });
        row.appendChild(document.createTextNode(")"));
      }
      row.appendChild(document.createTextNode(": "));
      row.appendChild(link(named(f.type), typeName(f.type)));
      if (f.description) row.appendChild(el("div", f.description, "desc"));
      if (f.isDeprecated) row.appendChild(el("div", "deprecated: " + (f.deprecationReason || ""), "desc"));
      box.appendChild(row);
    });
    (t.enumValues || []).forEach(function (v) {
      var row = el("div", v.name, "field");
      if (v.description) row.appendChild(el("div", v.description, "desc"));
      box.appendChild(row);
    });
  }

  function list() {
    var f = $("filter").value.trim().toLowerCase(), nav = $("types");
    nav.replaceChildren();
    var names = Object.keys(types).filter(function (n) { return n.indexOf("__") !== 0 && n.toLowerCase().indexOf(f) >= 0; }).sort();
    roots.concat(names.filter(function (n) { return roots.indexOf(n) < 0; })).forEach(function (n) {
      if (names.indexOf(n) >= 0) nav.appendChild(link(n));
    });
  }
  $("filter").addEventListener("input", list);

  function loadSchema() {
    post({ query: introspection }).then(function (res) { return res.json(); }).then(function (r) {
      if (!r.data) { $("types").textContent = "introspection: " + JSON.stringify(r.errors || r); return; }
      var s = r.data.__schema;
      s.types.forEach(function (t) { types[t.name] = t; });
      roots = [s.queryType, s.mutationType, s.subscriptionType].filter(Boolean).map(function (t) { return t.name; });
      list();
      show(roots[0]);
    }).catch(function (e) { $("types").textContent = String(e); });
  }
  $("token").addEventListener("change", loadSchema);
  loadSchema();
})();
