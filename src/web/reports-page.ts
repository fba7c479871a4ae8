/**
 * `GET /reports`: the advertiser report page. Plain HTML, CSS and a small script (no framework,
 * no chart library: the chart is hand-drawn SVG, about 60 lines). The key lives in
 * `sessionStorage` and travels only in the Authorization header, never in a URL; the CSV download
 * is fetched with that header and saved from a Blob.
 */

export const REPORTS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sponsored Placements · Campaign reports</title>
<style>
  :root { --ink:#1d1d1f; --muted:#6b6b70; --line:#e3e3e8; --served:#7a7a85; --impressions:#2f6fde; --clicks:#d9480f; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:#fafafb; }
  header { padding:16px 24px; border-bottom:1px solid var(--line); background:#fff; }
  header h1 { margin:0; font-size:18px; }
  main { max-width:1040px; margin:0 auto; padding:24px; }
  form, .panel { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px; margin-bottom:16px; }
  .row { display:flex; flex-wrap:wrap; gap:12px; align-items:end; }
  label { display:flex; flex-direction:column; font-size:13px; color:var(--muted); gap:4px; }
  input, select, button { font:inherit; padding:6px 10px; border:1px solid #c9c9d1; border-radius:6px; background:#fff; }
  button { cursor:pointer; background:var(--ink); color:#fff; border-color:var(--ink); }
  button.secondary { background:#fff; color:var(--ink); }
  #status { color:var(--muted); min-height:1.5em; }
  #status.error { color:#b00020; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  th, td { text-align:right; padding:6px 8px; border-bottom:1px solid var(--line); }
  th:first-child, td:first-child { text-align:left; }
  tfoot td { font-weight:600; }
  .legend { display:flex; gap:16px; font-size:13px; color:var(--muted); margin-bottom:8px; }
  .legend span::before { content:""; display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; background:var(--c); }
  svg { width:100%; height:auto; display:block; }
  .filtered { font-size:13px; color:var(--muted); }
  [hidden] { display:none !important; }
</style>
</head>
<body>
<header><h1>Campaign reports</h1></header>
<main>
  <form id="key-form" autocomplete="off">
    <div class="row">
      <label style="flex:1 1 320px">API key
        <input id="key" type="password" placeholder="spk_…" required spellcheck="false"></label>
      <button type="submit">Use key</button>
      <button type="button" id="forget" class="secondary">Forget key</button>
    </div>
  </form>
  <form id="report-form" hidden>
    <div class="row">
      <label style="flex:1 1 260px">Campaign <select id="campaign" required></select></label>
      <label>From <input id="from" type="date" required></label>
      <label>To <input id="to" type="date" required></label>
      <button type="submit">Show report</button>
      <button type="button" id="csv" class="secondary" disabled>Download CSV</button>
    </div>
  </form>
  <p id="status" role="status" aria-live="polite"></p>
  <section id="report" class="panel" hidden>
    <div class="legend"><span style="--c:var(--served)">Served</span><span style="--c:var(--impressions)">Impressions</span><span style="--c:var(--clicks)">Clicks</span></div>
    <svg id="chart" viewBox="0 0 960 300" role="img" aria-label="Served, impressions and clicks per day"></svg>
    <table id="table">
      <thead><tr><th>Day</th><th>Served</th><th>Impressions</th><th>Viewable</th><th>Clicks</th><th>CTR</th><th>Reach</th></tr></thead>
      <tbody></tbody><tfoot></tfoot>
    </table>
    <p class="filtered" id="filtered"></p>
  </section>
</main>
<script src="/reports/app.js" defer></script>
</body>
</html>`;

export const REPORTS_JS = `"use strict";
(function () {
  var KEY = "sp.reportKey";
  var $ = function (id) { return document.getElementById(id); };
  var status = function (text, isError) { var s = $("status"); s.textContent = text || ""; s.className = isError ? "error" : ""; };
  var key = function () { return sessionStorage.getItem(KEY); };
  var current = null;

  function api(path, accept) {
    return fetch(path, { headers: { Authorization: "Bearer " + key(), Accept: accept || "application/json" } }).then(function (res) {
      if (res.ok) return accept === "text/csv" ? res.text() : res.json();
      return res.json().catch(function () { return {}; }).then(function (body) {
        throw new Error((body && body.error && body.error.message) || ("HTTP " + res.status));
      });
    });
  }

  function isoDay(d) { return d.toISOString().slice(0, 10); }

  function loadCampaigns() {
    status("Loading campaigns…");
    return api("/v1/admin/campaigns?limit=200").then(function (page) {
      var select = $("campaign");
      select.textContent = "";
      page.items.forEach(function (c) {
        var o = document.createElement("option");
        o.value = c.id; o.textContent = c.name + " (" + c.id + ")";
        select.appendChild(o);
      });
      $("key-form").hidden = true;
      $("report-form").hidden = false;
      status(page.items.length ? "" : "No campaigns for this key.");
    }).catch(function (e) { status(e.message, true); });
  }

  var SVGNS = "http://www.w3.org/2000/svg";
  function el(name, attrs, text) {
    var n = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function drawChart(rows) {
    var svg = $("chart"); svg.textContent = "";
    var W = 960, H = 300, L = 56, R = 16, T = 16, B = 40;
    var series = [["served", "var(--served)"], ["impressions", "var(--impressions)"], ["clicks", "var(--clicks)"]];
    var max = 1;
    rows.forEach(function (r) { series.forEach(function (s) { if (r[s[0]] > max) max = r[s[0]]; }); });
    var x = function (i) { return L + (rows.length <= 1 ? (W - L - R) / 2 : i * (W - L - R) / (rows.length - 1)); };
    var y = function (v) { return T + (H - T - B) * (1 - v / max); };
    for (var g = 0; g <= 4; g++) {
      var v = Math.round(max * g / 4);
      svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e3e8" }));
      svg.appendChild(el("text", { x: L - 8, y: y(v) + 4, "text-anchor": "end", "font-size": 12, fill: "#6b6b70" }, String(v)));
    }
    var every = Math.max(1, Math.ceil(rows.length / 10));
    rows.forEach(function (r, i) {
      if (i % every === 0) svg.appendChild(el("text", { x: x(i), y: H - 16, "text-anchor": "middle", "font-size": 12, fill: "#6b6b70" }, r.period.slice(5, 10)));
    });
    series.forEach(function (s) {
      var pts = rows.map(function (r, i) { return x(i) + "," + y(r[s[0]]); }).join(" ");
      svg.appendChild(el("polyline", { points: pts, fill: "none", stroke: s[1], "stroke-width": 2.5, "data-series": s[0] }));
      rows.forEach(function (r, i) { svg.appendChild(el("circle", { cx: x(i), cy: y(r[s[0]]), r: 3, fill: s[1] })); });
    });
  }

  function cells(tr, values) {
    values.forEach(function (v) { var td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
  }
  function pct(x) { return (x * 100).toFixed(2) + "%"; }

  function render(report) {
    drawChart(report.rows);
    var body = $("table").tBodies[0]; body.textContent = "";
    report.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      cells(tr, [r.period, r.served, r.impressions, r.viewable, r.clicks, pct(r.ctr), r.reach]);
      body.appendChild(tr);
    });
    var foot = $("table").tFoot; foot.textContent = "";
    var t = report.totals, tr = document.createElement("tr");
    cells(tr, ["Total", t.served, t.impressions, t.viewable, t.clicks, pct(t.ctr), t.reach]);
    foot.appendChild(tr);
    var f = report.filtered;
    $("filtered").textContent = "Filtered (not counted): " + f.duplicate + " duplicate, " + f.expired + " expired, " + f.bot + " bot, " + f.rate_limited + " rate-limited.";
    $("report").hidden = false;
    $("csv").disabled = false;
  }

  function query() {
    return "/v1/reports/campaigns/" + encodeURIComponent($("campaign").value) + "?from=" + $("from").value + "&to=" + $("to").value;
  }

  $("key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    loadCampaigns();
  });
  $("forget").addEventListener("click", function () { sessionStorage.removeItem(KEY); location.reload(); });
  $("report-form").addEventListener("submit", function (e) {
    e.preventDefault();
    status("Loading report…");
    api(query()).then(function (r) { current = r; render(r); status(""); }).catch(function (err) { status(err.message, true); });
  });
  $("csv").addEventListener("click", function () {
    api(query(), "text/csv").then(function (text) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      a.download = (current ? current.campaignId + "_" + current.from + "_" + current.to : "report") + ".csv";
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(function (err) { status(err.message, true); });
  });

  var today = new Date();
  $("to").value = isoDay(today);
  $("from").value = isoDay(new Date(today.getTime() - 13 * 86400000));
  if (key()) loadCampaigns();
})();
`;
