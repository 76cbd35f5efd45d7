/// The dashboard served at `GET /dashboard`: one self-contained page (markup, style and script
/// here, nothing fetched from elsewhere) that reads the monitoring and registry JSON APIs every
/// few seconds and draws its own charts as inline SVG.
///
/// The page takes `?refresh=SECONDS` (default 2) and `?token=TOKEN` (the management API's bearer
/// token; it can also be entered on the page and is then kept in the browser's localStorage). It
/// keeps the last five minutes of `/wharf/status` samples and charts, per model version, the
/// request rate, the latency percentiles and the error rate of the first monitoring window.
///
/// After each refresh it writes what it rendered into `<script id="wharf-data"
/// type="application/json">`: the versions and their first-window numbers, each chart's series,
/// point count and plot box on the page (CSS pixels), the active alerts, the registry's state,
/// aliases and versions, and the pipeline section's state. Table rows and charts carry the same
/// facts as `data-*` attributes, so a headless browser's DOM dump can be checked against the APIs.
enum DashboardPage {
    /// The whole page.
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Wharf dashboard</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body)
        <script>
        \(script)
        </script>
        </body>
        </html>

        """

    /// The style sheet: dark on light, system fonts.
    static let style = #"""
:root {
  --ink: #1f2933; --muted: #616e7c; --faint: #9aa5b1; --line: #e4e7eb; --paper: #ffffff; --ground: #f5f7fa;
  --accent: #1d4ed8; --ok: #15803d; --ok-bg: #e7f6ec; --warn: #b45309; --warn-bg: #fdf3e1; --bad: #b91c1c; --bad-bg: #fdecec;
}
* { box-sizing: border-box; }
html { background: var(--ground); color: var(--ink); }
body {
  margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-variant-numeric: tabular-nums;
}
header.top {
  display: flex; align-items: center; gap: 28px; padding: 12px 24px; background: var(--paper);
  border-bottom: 1px solid var(--line); height: 64px;
}
header.top h1 { margin: 0; font-size: 20px; letter-spacing: 0.02em; }
header.top h1 span { color: var(--muted); font-weight: 400; }
dl.facts { display: flex; gap: 24px; margin: 0; }
dl.facts div { display: flex; flex-direction: column; }
dl.facts dt { font-size: 11px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
.pill { margin-left: auto; padding: 3px 10px; border-radius: 999px; font-size: 12px; background: var(--line); color: var(--muted); }
.pill.ok { background: var(--ok-bg); color: var(--ok); }
.pill.bad { background: var(--bad-bg); color: var(--bad); }
.banner {
  height: 40px; line-height: 40px; padding: 0 24px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis;
  border-bottom: 1px solid var(--line); background: var(--ok-bg); color: var(--ok);
}
.banner.pending { background: var(--warn-bg); color: var(--warn); }
.banner.firing { background: var(--bad-bg); color: var(--bad); font-weight: 600; }
.banner.unknown { background: var(--ground); color: var(--muted); }
main { padding: 8px 24px 40px; max-width: 1400px; }
section { margin-top: 18px; }
h2 { font-size: 15px; margin: 0 0 8px; }
h2 .hint, .hint { font-weight: 400; color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; background: var(--paper); border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; background: #fafbfc; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.time { white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
tr.firing td { background: var(--bad-bg); }
tr.firing td:first-child { box-shadow: inset 3px 0 0 var(--bad); }
tr.pending td { background: var(--warn-bg); }
tr.pending td:first-child { box-shadow: inset 3px 0 0 var(--warn); }
.empty { color: var(--muted); font-style: italic; padding: 8px 0; }
.notice { padding: 8px 12px; border: 1px solid var(--line); background: var(--paper); color: var(--muted); }
.notice.bad { border-color: #f5c2c2; background: var(--bad-bg); color: var(--bad); white-space: pre-wrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 4px; font-size: 12px; font-weight: 600; background: var(--line); color: var(--muted); }
.badge.READY, .badge.firing, .badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.firing { background: var(--bad-bg); color: var(--bad); }
.badge.LOADING, .badge.UNLOADING, .badge.pending { background: var(--warn-bg); color: var(--warn); }
.badge.error, .badge.resolved { background: var(--bad-bg); color: var(--bad); }
.badge.resolved { background: var(--ok-bg); color: var(--ok); }
.chip { display: inline-block; margin: 0 4px 2px 0; padding: 0 7px; border: 1px solid #c3d0e6; border-radius: 10px; font-size: 12px; color: var(--accent); background: #f1f5fd; }
.error-text { color: var(--bad); font-size: 12px; }
#charts { display: flex; flex-direction: column; gap: 12px; }
.version-card { background: var(--paper); border: 1px solid var(--line); padding: 10px 12px 6px; }
.version-card h3 { margin: 0 0 4px; font-size: 14px; }
.version-card h3 .badge, .version-card h3 .hint { margin-left: 8px; }
.chart-row { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; }
figcaption { font-size: 12px; font-weight: 600; color: var(--muted); }
svg.chart { display: block; }
svg.chart text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--muted); }
svg.chart .plot { fill: #ffffff; }
svg.chart .grid { stroke: #eef0f3; stroke-width: 1; }
svg.chart .axis { stroke: #7b8794; stroke-width: 1; }
svg.chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .nodata { font-style: italic; }
.registry-model { background: var(--paper); border: 1px solid var(--line); padding: 10px 12px; margin-bottom: 10px; }
.registry-model h3 { margin: 0 0 6px; font-size: 14px; }
.registry-model .columns { display: grid; grid-template-columns: 1fr 1.25fr; gap: 12px; }
.registry-model h4 { margin: 6px 0 4px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
form.token { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
form.token input { width: 320px; padding: 4px 8px; border: 1px solid #cbd2d9; border-radius: 4px; font: inherit; }
form.token button { padding: 4px 12px; border: 1px solid #cbd2d9; border-radius: 4px; background: var(--paper); font: inherit; cursor: pointer; }
form.token button:hover { border-color: var(--accent); color: var(--accent); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
"""#

    /// The markup inside `<body>`; the script fills it in.
    static let body = #"""
<header class="top">
  <h1>Wharf <span>dashboard</span></h1>
  <dl class="facts">
    <div><dt>uptime</dt><dd id="uptime">–</dd></div>
    <div><dt>memory (RSS)</dt><dd id="memory">–</dd></div>
    <div><dt>model versions</dt><dd id="version-count">–</dd></div>
    <div><dt>updated</dt><dd id="updated">–</dd></div>
    <div><dt>refresh</dt><dd id="refresh-interval">–</dd></div>
  </dl>
  <span id="connection" class="pill">connecting…</span>
</header>
<div id="alert-banner" class="banner unknown">alerts: not read yet</div>
<main>
  <section id="models-section">
    <h2>Models <span class="hint" id="models-hint"></span></h2>
    <div id="models"><p class="empty">loading…</p></div>
  </section>
  <section id="charts-section">
    <h2>Live charts <span class="hint" id="charts-hint"></span></h2>
    <div id="charts"><p class="empty">loading…</p></div>
  </section>
  <section id="alerts-section">
    <h2>Alerts <span class="hint">firing and pending</span></h2>
    <div id="rule-error"></div>
    <div id="alerts"><p class="empty">loading…</p></div>
  </section>
  <section id="registry-section">
    <h2>Registry <span class="hint">aliases, versions and alias moves</span></h2>
    <form class="token" id="token-form" autocomplete="off">
      <label for="token-input" class="hint">management API token</label>
      <input id="token-input" type="password" placeholder="Bearer token">
      <button type="submit">Use token</button>
      <button type="button" id="token-forget">Forget</button>
    </form>
    <div id="registry"><p class="empty">loading…</p></div>
  </section>
  <section id="history-section">
    <h2>Alert history <span class="hint">most recent first</span></h2>
    <div id="alert-history"><p class="empty">loading…</p></div>
  </section>
  <section id="pipeline-section">
    <h2>Recent pipeline runs</h2>
    <div id="pipeline"><p class="empty">loading…</p></div>
  </section>
</main>
<script id="wharf-data" type="application/json">{}</script>
"""#

    /// The script: reads the APIs, renders the sections and charts, keeps the history, refreshes.
    static let script = #"""
'use strict';
(function () {
  // Settings: ?refresh=SECONDS (default 2) and ?token=TOKEN (else the token saved in this browser).
  const HISTORY_MS = 5 * 60 * 1000;
  const TOKEN_KEY = 'wharf.dashboard.token';
  const params = new URLSearchParams(location.search);
  const refreshParam = Number(params.get('refresh'));
  const refreshSeconds = Number.isFinite(refreshParam) && refreshParam > 0 ? Math.min(Math.max(refreshParam, 0.25), 3600) : 2;
  const tokenFromURL = params.get('token') || '';
  let token = tokenFromURL || savedToken() || '';

  const samples = new Map();  // "model\u0000version" -> [{t, rate, p50, p95, p99, err}], the last five minutes
  let refreshes = 0;
  let busy = false;
  let again = false;
  let timer = null;

  function savedToken() {
    try { return localStorage.getItem(TOKEN_KEY); } catch (error) { return null; }
  }

  function saveToken(value) {
    try {
      if (value) localStorage.setItem(TOKEN_KEY, value); else localStorage.removeItem(TOKEN_KEY);
    } catch (error) { /* storage off: the token lasts as long as the page */ }
  }

  // ---- DOM helpers: text always goes in as text, never as markup.

  const byId = (id) => document.getElementById(id);

  function build(node, attributes, children) {
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(name === 'className' ? 'class' : name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const h = (tag, attributes, ...children) => build(document.createElement(tag), attributes, children);
  const s = (tag, attributes, ...children) => build(document.createElementNS('http://www.w3.org/2000/svg', tag), attributes, children);

  function replace(id, ...children) {
    byId(id).replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined));
  }

  function table(headers, rows) {
    return h('table', null,
      h('thead', null, h('tr', null, headers.map((header) => {
        const numeric = header.startsWith('#');
        return h('th', { className: numeric ? 'num' : null }, numeric ? header.slice(1) : header);
      }))),
      h('tbody', null, rows));
  }

  const cell = (value, className) => h('td', { className }, value);
  const num = (value) => h('td', { className: 'num' }, value);
  const empty = (text) => h('p', { className: 'empty' }, text);

  // ---- Formatting.

  const pad = (value) => String(value).padStart(2, '0');

  function clock(time) {
    const date = new Date(time);
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }

  function when(iso) {
    if (!iso) return '–';
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock(date)}`;
  }

  function duration(seconds) {
    if (!Number.isFinite(seconds)) return '–';
    const total = Math.floor(seconds);
    const days = Math.floor(total / 86400), hours = Math.floor(total % 86400 / 3600);
    const minutes = Math.floor(total % 3600 / 60), rest = total % 60;
    if (days) return `${days}d ${hours}h`;
    if (hours) return `${hours}h ${pad(minutes)}m`;
    if (minutes) return `${minutes}m ${pad(rest)}s`;
    return `${rest}s`;
  }

  function bytes(count) {
    if (!Number.isFinite(count) || count <= 0) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = count, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
  }

  function significant(value) {
    if (!Number.isFinite(value)) return '–';
    const magnitude = Math.abs(value);
    if (Number.isInteger(value) || magnitude >= 100) return value.toFixed(0);
    if (magnitude >= 10) return value.toFixed(1);
    if (magnitude >= 1) return value.toFixed(2);
    return value.toPrecision(2);
  }

  const milliseconds = (seconds) => (seconds === null || seconds === undefined ? '–' : `${significant(seconds * 1000)} ms`);
  const rate = (value) => (Number.isFinite(value) ? `${significant(value)}/s` : '–');
  const percent = (fraction) => (Number.isFinite(fraction) ? `${fraction === 0 ? '0' : significant(fraction * 100)}%` : '–');

  // ---- Charts: inline SVG, one line per series, drawn here.

  const CHART = { width: 420, height: 200, left: 54, right: 26, top: 26, bottom: 24 };

  function niceStep(span, count) {
    const raw = span / Math.max(count, 1);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const fraction = raw / power;
    return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
  }

  function tickLabel(value, step) {
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    return value.toFixed(Math.min(decimals, 6));
  }

  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300].map((seconds) => seconds * 1000);

  /**
   * A line chart as an SVG element.
   * options: id, label, series [{name, color, points: [[time, value or null]]}], xDomain [from, to]
   * (ms), minSpan (the smallest y range), format (a value for the legend).
   */
  function lineChart(options) {
    const { width, height, left, right, top, bottom } = CHART;
    const plotWidth = width - left - right, plotHeight = height - top - bottom;
    const values = options.series.flatMap((series) => series.points.map((point) => point[1]).filter(Number.isFinite));
    const largest = values.length ? Math.max(...values) : 0;
    const step = niceStep(Math.max(largest * 1.1, options.minSpan), 4);
    const yMax = Math.max(step, Math.ceil(Math.max(largest * 1.1, options.minSpan) / step - 1e-9) * step);
    const [from, to] = options.xDomain;
    const x = (time) => left + (time - from) / (to - from) * plotWidth;
    const y = (value) => top + plotHeight - value / yMax * plotHeight;
    const points = Math.max(0, ...options.series.map((series) => series.points.filter((point) => Number.isFinite(point[1])).length));

    const chart = s('svg', {
      className: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': options.label,
      'data-chart': options.id, 'data-series': options.series.map((series) => series.name).join(','),
      'data-colors': options.series.map((series) => series.color).join(','), 'data-points': points,
      'data-y-max': yMax,
    });
    chart.append(s('rect', { className: 'plot', x: left, y: top, width: plotWidth, height: plotHeight }));

    for (let index = 0; index * step <= yMax + step * 1e-6; index += 1) {
      const value = index * step, position = y(value);
      if (index > 0) chart.append(s('line', { className: 'grid', x1: left, x2: left + plotWidth, y1: position, y2: position }));
      chart.append(s('line', { className: 'axis', x1: left - 4, x2: left, y1: position, y2: position }));
      chart.append(s('text', { x: left - 7, y: position + 4, 'text-anchor': 'end' }, tickLabel(value, step)));
    }
    const timeStep = TIME_STEPS.find((candidate) => (to - from) / candidate <= 5) || TIME_STEPS[TIME_STEPS.length - 1];
    for (let time = Math.ceil(from / timeStep) * timeStep; time <= to; time += timeStep) {
      const position = x(time);
      chart.append(s('line', { className: 'grid', x1: position, x2: position, y1: top, y2: top + plotHeight }));
      chart.append(s('line', { className: 'axis', x1: position, x2: position, y1: top + plotHeight, y2: top + plotHeight + 4 }));
      chart.append(s('text', { x: position, y: height - 6, 'text-anchor': 'middle' }, clock(time)));
    }
    chart.append(s('line', { className: 'axis', x1: left, x2: left, y1: top, y2: top + plotHeight }));
    chart.append(s('line', { className: 'axis', x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight }));

    for (const series of options.series) {
      const segments = [];
      let current = [];
      for (const [time, value] of series.points) {
        if (Number.isFinite(value)) current.push([x(time), y(value)]);
        else if (current.length) { segments.push(current); current = []; }
      }
      if (current.length) segments.push(current);
      for (const segment of segments) {
        if (segment.length === 1) {
          chart.append(s('circle', { cx: segment[0][0].toFixed(1), cy: segment[0][1].toFixed(1), r: 2.5, fill: series.color }));
        } else {
          const path = segment.map(([px, py], index) => `${index ? 'L' : 'M'}${px.toFixed(1)} ${py.toFixed(1)}`).join(' ');
          chart.append(s('path', { className: 'series', d: path, stroke: series.color, 'data-name': series.name }));
        }
      }
    }
    if (!points) {
      chart.append(s('text', { className: 'nodata', x: left + plotWidth / 2, y: top + plotHeight / 2, 'text-anchor': 'middle' }, 'no requests yet'));
    }

    // The legend, above the plot: a swatch, the series' name and its latest value.
    let position = left;
    for (const series of options.series) {
      const latest = [...series.points].reverse().find((point) => Number.isFinite(point[1]));
      const text = `${series.name} ${latest ? options.format(latest[1]) : '–'}`;
      chart.append(s('line', { x1: position, x2: position + 14, y1: 12, y2: 12, stroke: series.color, 'stroke-width': 3 }));
      chart.append(s('text', { x: position + 19, y: 16 }, text));
      position += 19 + text.length * 6.2 + 16;
    }
    return chart;
  }

  // ---- Reading the APIs.

  async function getJSON(path, withToken) {
    const headers = { Accept: 'application/json' };
    if (withToken && token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await fetch(path, { headers, cache: 'no-store' });
      const text = await response.text();
      let body = null;
      try { body = text ? JSON.parse(text) : null; } catch (error) { body = null; }
      const error = response.ok ? null : (body && body.error) || `HTTP ${response.status}`;
      return { status: response.status, ok: response.ok, body, error };
    } catch (error) {
      return { status: 0, ok: false, body: null, error: String((error && error.message) || error) };
    }
  }

  async function readRegistry() {
    const list = await getJSON('/registry/models', true);
    if (list.status === 404) {
      return { state: 'unavailable', message: 'registry: not available (this server serves no model registry)', models: [] };
    }
    if (list.status === 401) {
      const message = token
        ? 'the management API refused this token: enter the management API token'
        : 'enter the management API token to see the registry';
      return { state: 'unauthorized', message, models: [] };
    }
    if (!list.ok || !Array.isArray(list.body)) {
      return { state: 'error', message: `registry: ${list.error || 'unexpected answer'}`, models: [] };
    }
    const models = await Promise.all(list.body.slice(0, 50).map(async (model) => {
      const name = encodeURIComponent(model.name);
      const [detail, history] = await Promise.all([getJSON(`/registry/models/${name}`, true), getJSON(`/registry/models/${name}/history`, true)]);
      const moves = Array.isArray(history.body)
        ? history.body.filter((event) => ['alias_set', 'rollback', 'alias_removed'].includes(event.action)).reverse()
        : [];
      return {
        name: model.name, description: model.description || '', lastVersion: model.last_version,
        aliases: detail.ok && detail.body ? detail.body.aliases || [] : [],
        versions: detail.ok && detail.body ? detail.body.versions || [] : [],
        moves, error: detail.ok ? (history.ok ? null : history.error) : detail.error,
      };
    }));
    return { state: 'ok', message: null, models };
  }

  // ---- Rendering.

  function render(answers) {
    const { status, alerts, alertHistory, registry, pipeline } = answers;
    const data = { refreshes, refresh_seconds: refreshSeconds, rendered_at: new Date().toISOString() };
    data.status = renderStatus(status);
    data.charts = renderCharts(status);
    data.alerts = renderAlerts(alerts);
    data.alert_history = renderAlertHistory(alertHistory);
    data.registry = renderRegistry(registry);
    data.pipeline = renderPipeline(pipeline);
    // Where each chart's plot area is on the page (CSS pixels), for screenshot checks.
    for (const chart of data.charts) {
      const node = document.querySelector(`svg.chart[data-chart="${CSS.escape(chart.id)}"]`);
      if (!node) continue;
      const rect = node.getBoundingClientRect();
      const scale = rect.width / CHART.width;
      chart.box = [
        rect.left + window.scrollX + CHART.left * scale, rect.top + window.scrollY + CHART.top * scale,
        (CHART.width - CHART.left - CHART.right) * scale, (CHART.height - CHART.top - CHART.bottom) * scale,
      ].map((value) => Math.round(value));
      node.setAttribute('data-plot-box', chart.box.join(','));
    }
    data.viewport = { width: window.innerWidth, height: window.innerHeight, device_pixel_ratio: window.devicePixelRatio };
    byId('wharf-data').textContent = JSON.stringify(data).replace(/</g, '\\u003c');
    document.body.setAttribute('data-refreshes', String(refreshes));
  }

  function firstWindow(status) {
    return status && Array.isArray(status.windows) && status.windows.length ? status.windows[0] : null;
  }

  function renderStatus(answer) {
    const status = answer.body;
    if (!answer.ok || !status) {
      setConnection(false, `cannot read /wharf/status: ${answer.error}`);
      return { ok: false, error: answer.error, versions: [] };
    }
    setConnection(true, 'live');
    const windowName = firstWindow(status);
    byId('uptime').textContent = duration(status.uptime_seconds);
    byId('memory').textContent = bytes(status.resident_memory_bytes);
    byId('version-count').textContent = String(status.models.length);
    byId('updated').textContent = clock(Date.now());
    byId('models-hint').textContent = windowName ? `rates, latency and errors over the last ${windowName}` : '';
    const versions = status.models.map((entry) => {
      const stats = (windowName && entry.windows && entry.windows[windowName]) || {};
      return {
        model: entry.model, version: entry.version, state: entry.state, error: entry.error || null, labels: entry.labels || [],
        requests: stats.requests ?? 0, errors: stats.errors ?? 0, request_rate: stats.request_rate ?? 0,
        error_rate: stats.error_rate ?? 0, latency_p50_seconds: stats.latency_p50_seconds ?? null,
        latency_p95_seconds: stats.latency_p95_seconds ?? null, latency_p99_seconds: stats.latency_p99_seconds ?? null,
      };
    });
    const rows = versions.map((version) => h('tr', {
      className: 'version', 'data-model': version.model, 'data-version': version.version, 'data-state': version.state,
      'data-labels': version.labels.join(','), 'data-requests': version.requests,
    },
    cell(version.model), num(String(version.version)),
    h('td', null, h('span', { className: `badge ${version.state}` }, version.state),
      version.error ? h('div', { className: 'error-text' }, version.error) : null),
    h('td', null, version.labels.length ? version.labels.map((label) => h('span', { className: 'chip' }, label)) : '–'),
    num(rate(version.request_rate)), num(String(version.requests)),
    num(milliseconds(version.latency_p50_seconds)), num(milliseconds(version.latency_p95_seconds)),
    num(milliseconds(version.latency_p99_seconds)), num(percent(version.error_rate))));
    replace('models', versions.length
      ? table(['model', '#version', 'state', 'labels / aliases', '#req/s', '#requests', '#p50', '#p95', '#p99', '#error rate'], rows)
      : empty('no models are being served'));

    // Keep the rolling history.
    const now = Date.now();
    for (const version of versions) {
      const key = `${version.model}\u0000${version.version}`;
      const list = samples.get(key) || [];
      list.push({
        t: now, rate: version.request_rate, err: version.error_rate * 100,
        p50: version.latency_p50_seconds === null ? null : version.latency_p50_seconds * 1000,
        p95: version.latency_p95_seconds === null ? null : version.latency_p95_seconds * 1000,
        p99: version.latency_p99_seconds === null ? null : version.latency_p99_seconds * 1000,
      });
      while (list.length && list[0].t < now - HISTORY_MS) list.shift();
      samples.set(key, list);
    }
    return {
      ok: true, window: windowName, uptime_seconds: status.uptime_seconds, resident_memory_bytes: status.resident_memory_bytes,
      versions,
    };
  }

  function renderCharts(answer) {
    if (!answer.ok || !answer.body) return [];
    const rendered = [];
    const now = Date.now();
    const cards = answer.body.models.map((entry) => {
      const list = samples.get(`${entry.model}\u0000${entry.version}`) || [];
      const oldest = list.length ? list[0].t : now;
      const xDomain = [Math.min(oldest, now - Math.max(4 * refreshSeconds * 1000, 4000)), now];
      const pick = (field) => list.map((sample) => [sample.t, sample[field]]);
      const base = `${entry.model}/${entry.version}`;
      const charts = [
        { kind: 'rate', label: 'requests per second', minSpan: 1, format: (value) => `${significant(value)}/s`,
          series: [{ name: 'req/s', color: '#1d4ed8', points: pick('rate') }] },
        { kind: 'latency', label: 'latency (ms)', minSpan: 1, format: (value) => `${significant(value)} ms`,
          series: [
            { name: 'p50', color: '#0f766e', points: pick('p50') },
            { name: 'p95', color: '#d97706', points: pick('p95') },
            { name: 'p99', color: '#c026d3', points: pick('p99') },
          ] },
        { kind: 'errors', label: 'error rate (%)', minSpan: 1, format: (value) => `${significant(value)}%`,
          series: [{ name: 'errors', color: '#dc2626', points: pick('err') }] },
      ].map((chart) => {
        const id = `${base}/${chart.kind}`;
        const svg = lineChart({ ...chart, id, xDomain });
        rendered.push({
          id, model: entry.model, version: entry.version, kind: chart.kind, series: chart.series.map((series) => series.name),
          colors: chart.series.map((series) => series.color), points: Number(svg.getAttribute('data-points')), box: null,
        });
        return h('figure', null, h('figcaption', null, chart.label), svg);
      });
      return h('div', { className: 'version-card', 'data-model': entry.model, 'data-version': entry.version },
        h('h3', null, `${entry.model} v${entry.version}`, h('span', { className: `badge ${entry.state}` }, entry.state),
          entry.labels && entry.labels.length ? h('span', { className: 'hint' }, entry.labels.join(', ')) : null),
        h('div', { className: 'chart-row' }, charts));
    });
    byId('charts-hint').textContent = `the last ${HISTORY_MS / 60000} minutes, sampled every ${refreshSeconds} s by this page`;
    replace('charts', cards.length ? cards : empty('no model versions to chart'));
    return rendered;
  }

  function alertTarget(alert) {
    if (!alert.model) return 'process';
    return alert.version === null || alert.version === undefined ? alert.model : `${alert.model} v${alert.version}`;
  }

  function renderAlerts(answer) {
    const banner = byId('alert-banner');
    if (!answer.ok || !answer.body) {
      banner.className = 'banner unknown';
      banner.textContent = `alerts: ${answer.status === 404 ? 'not available (monitoring is off)' : answer.error}`;
      replace('alerts', h('p', { className: 'notice' }, `cannot read /wharf/alerts: ${answer.error}`));
      replace('rule-error');
      return { ok: false, error: answer.error, active: [], rule_error: null };
    }
    const body = answer.body;
    const active = (body.active || []).filter((alert) => alert.state === 'firing' || alert.state === 'pending');
    const order = { firing: 0, pending: 1 };
    active.sort((a, b) => order[a.state] - order[b.state] || a.rule.localeCompare(b.rule));
    const firing = active.filter((alert) => alert.state === 'firing').length;
    const pending = active.length - firing;
    const ruleCount = (body.rules || []).length;
    if (active.length) {
      banner.className = `banner ${firing ? 'firing' : 'pending'}`;
      const names = active.slice(0, 4).map((alert) => `${alert.rule} on ${alertTarget(alert)} (${alert.state})`).join(', ');
      banner.textContent = `${firing} firing, ${pending} pending: ${names}${active.length > 4 ? ', …' : ''}`;
    } else {
      banner.className = `banner ${body.rule_error ? 'pending' : ''}`;
      const every = body.evaluation_interval_seconds ? `, evaluated every ${significant(body.evaluation_interval_seconds)} s` : '';
      banner.textContent = body.rule_error
        ? 'No active alerts, but the alert rule file was refused (see Alerts below)'
        : `No active alerts (${ruleCount} rule${ruleCount === 1 ? '' : 's'} in force${every})`;
    }
    replace('rule-error', body.rule_error
      ? h('p', { className: 'notice bad', 'data-rule-error': 'true' }, `The alert rule file was refused; the previous rules stay in force.\n${body.rule_error}`)
      : null);
    const rows = active.map((alert) => h('tr', { className: alert.state, 'data-rule': alert.rule, 'data-state': alert.state },
      cell(h('span', { className: `badge ${alert.state}` }, alert.state)), cell(alert.rule), cell(alertTarget(alert)),
      cell(alert.severity), cell(alert.metric), num(significant(alert.value)), num(significant(alert.threshold)),
      cell(when(alert.firing_since || alert.active_since), 'time'), cell((alert.annotations && alert.annotations.summary) || '')));
    replace('alerts', rows.length
      ? table(['state', 'rule', 'on', 'severity', 'metric', '#value', '#threshold', 'since', 'summary'], rows)
      : empty(`no alert is firing or pending (${ruleCount} rule${ruleCount === 1 ? '' : 's'})`));
    return {
      ok: true, active: active.map((alert) => ({ rule: alert.rule, state: alert.state, model: alert.model ?? null, version: alert.version ?? null })),
      rule_error: body.rule_error ?? null,
    };
  }

  function renderAlertHistory(answer) {
    if (!answer.ok || !Array.isArray(answer.body)) {
      replace('alert-history', h('p', { className: 'notice' }, `cannot read /wharf/alerts/history: ${answer.error}`));
      return { ok: false, error: answer.error, events: 0 };
    }
    const events = [...answer.body].sort((a, b) => String(b.at).localeCompare(String(a.at)) || (b.id || 0) - (a.id || 0)).slice(0, 25);
    const rows = events.map((event) => h('tr', { className: event.kind === 'firing' ? 'firing' : null, 'data-kind': event.kind },
      cell(when(event.at), 'time'), cell(h('span', { className: `badge ${event.kind}` }, event.kind)), cell(event.rule),
      cell(alertTarget(event)), num(significant(event.value)), num(significant(event.threshold)),
      cell(event.detail || (event.annotations && event.annotations.summary) || '')));
    replace('alert-history', rows.length
      ? table(['at', 'event', 'rule', 'on', '#value', '#threshold', 'detail'], rows)
      : empty('no alert has fired yet'));
    return { ok: true, events: answer.body.length };
  }

  function renderRegistry(registry) {
    byId('token-input').placeholder = token ? 'a token is set; enter another to replace it' : 'Bearer token';
    if (registry.state !== 'ok') {
      replace('registry', h('p', { className: 'notice', 'data-registry-state': registry.state }, registry.message));
      return { state: registry.state, message: registry.message, models: [] };
    }
    if (!registry.models.length) {
      replace('registry', h('p', { className: 'notice', 'data-registry-state': 'ok' }, 'the registry holds no model yet'));
      return { state: 'ok', message: null, models: [] };
    }
    const blocks = registry.models.map((model) => {
      const aliasesOf = (version) => model.aliases.filter((alias) => alias.version === version.version).map((alias) => alias.alias);
      const versions = [...model.versions].sort((a, b) => b.version - a.version).slice(0, 15);
      return h('div', { className: 'registry-model', 'data-model': model.name },
        h('h3', null, model.name, model.description ? h('span', { className: 'hint' }, ` ${model.description}`) : null),
        model.error ? h('p', { className: 'notice bad' }, model.error) : null,
        h('div', { className: 'aliases' }, model.aliases.length
          ? model.aliases.map((alias) => h('span', { className: 'chip', 'data-alias': alias.alias, 'data-version': alias.version },
            `${alias.alias} → v${alias.version}`))
          : h('span', { className: 'hint' }, 'no aliases')),
        h('div', { className: 'columns' },
          h('div', null, h('h4', null, 'versions (READY)'), versions.length
            ? table(['#version', 'created', 'author', 'formats', '#size', 'aliases'], versions.map((version) => h('tr', { 'data-version': version.version },
              num(String(version.version)), cell(when(version.created_at), 'time'), cell(version.author || ''),
              cell((version.formats || []).join(', ')), num(bytes(version.size_bytes)),
              cell(aliasesOf(version).map((alias) => h('span', { className: 'chip' }, alias))))))
            : empty('no READY version')),
          h('div', null, h('h4', null, 'alias moves'), model.moves.length
            ? table(['at', 'alias', 'move', 'by', 'reason'], model.moves.slice(0, 10).map((event) => h('tr', { 'data-action': event.action },
              cell(when(event.at), 'time'), cell(event.alias || ''),
              cell(`${event.action === 'rollback' ? 'rollback ' : event.action === 'alias_removed' ? 'removed ' : ''}${event.from_version ?? '–'} → ${event.to_version ?? '–'}`),
              cell(event.actor), cell(event.reason || ''))))
            : empty('no alias moves'))));
    });
    replace('registry', blocks);
    return {
      state: 'ok', message: null,
      models: registry.models.map((model) => ({
        name: model.name, aliases: model.aliases.map((alias) => ({ alias: alias.alias, version: alias.version })),
        versions: model.versions.map((version) => version.version), moves: model.moves.length,
      })),
    };
  }

  const RUN_COLUMNS = ['id', 'run', 'model', 'version', 'status', 'state', 'stage', 'decision', 'started_at', 'created_at', 'finished_at', 'updated_at', 'duration_seconds'];

  function renderPipeline(answer) {
    if (answer.status === 404) {
      replace('pipeline', h('p', { className: 'empty', 'data-pipeline-state': 'none' }, 'no pipeline runs yet'));
      return { state: 'none', runs: 0 };
    }
    const runs = answer.ok ? (Array.isArray(answer.body) ? answer.body : answer.body && Array.isArray(answer.body.runs) ? answer.body.runs : null) : null;
    if (!runs) {
      const message = `cannot read /pipeline/runs: ${answer.ok ? 'not a JSON list' : answer.error}`;
      replace('pipeline', h('p', { className: 'notice', 'data-pipeline-state': 'error' }, message));
      return { state: 'error', message, runs: 0 };
    }
    if (!runs.length) {
      replace('pipeline', h('p', { className: 'empty', 'data-pipeline-state': 'ok' }, 'the pipeline has recorded no run'));
      return { state: 'ok', runs: 0 };
    }
    const keys = new Set();
    for (const run of runs.slice(0, 20)) for (const key of Object.keys(run || {})) keys.add(key);
    const columns = [...RUN_COLUMNS.filter((key) => keys.has(key)), ...[...keys].filter((key) => !RUN_COLUMNS.includes(key))].slice(0, 8);
    const show = (value) => (value === null || value === undefined ? '–' : typeof value === 'object' ? JSON.stringify(value) : String(value));
    const rows = runs.slice(0, 20).map((run) => h('tr', { 'data-pipeline-run': run && (run.id ?? run.run ?? '') },
      columns.map((key) => (/_at$/.test(key) ? cell(when(run[key]), 'time') : cell(show(run[key]))))));
    replace('pipeline', h('div', { 'data-pipeline-state': 'ok' }, table(columns.map((key) => key.replace(/_/g, ' ')), rows)));
    return { state: 'ok', runs: runs.length };
  }

  function setConnection(ok, text) {
    const pill = byId('connection');
    pill.className = `pill ${ok ? 'ok' : 'bad'}`;
    pill.textContent = text;
  }

  // ---- The refresh loop.

  async function update() {
    const [status, alerts, alertHistory, pipeline, registry] = await Promise.all([
      getJSON('/wharf/status'), getJSON('/wharf/alerts'), getJSON('/wharf/alerts/history?limit=50'), getJSON('/pipeline/runs'),
      readRegistry(),
    ]);
    refreshes += 1;
    render({ status, alerts, alertHistory, registry, pipeline });
  }

  async function refresh() {
    clearTimeout(timer);
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        await update();
      } while (again);
    } catch (error) {
      setConnection(false, `dashboard error: ${(error && error.message) || error}`);
    } finally {
      busy = false;
      timer = setTimeout(refresh, refreshSeconds * 1000);
    }
  }

  byId('refresh-interval').textContent = `${refreshSeconds} s`;
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('token-input');
    token = input.value.trim();
    input.value = '';
    saveToken(token);
    refresh();
  });
  byId('token-forget').addEventListener('click', () => {
    token = '';
    saveToken('');
    refresh();
  });
  refresh();
})();
"""#
}
