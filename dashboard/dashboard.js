// The usage dashboard: reads /admin/summary (same-origin, session cookie) and draws it
// with uPlot, served by the gateway itself. window.dashboard exposes the chart objects
// and the last data for tests and for poking at in the console.
(function () {
  'use strict';
  var COLORS = ['#3a7bd5', '#d5493a', '#2e9e5b', '#e0a100', '#8e44ad', '#16a2b8', '#c2185b', '#6d7b8d', '#999999'];
  var form = document.getElementById('filters');
  var state = { charts: {}, data: null, loads: 0 };
  window.dashboard = state;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function usd(n) { return '$' + (n < 1 ? n.toFixed(4) : n.toFixed(2)); }
  function int(n) { return Math.round(n).toLocaleString('en-US'); }
  function daySeconds(d) { return Date.parse(d + 'T00:00:00Z') / 1000; }
  // The ledger counts UTC days (and the rejections UTC hours): the charts label them in
  // UTC too, or a browser west of UTC would put each day's point on the day before.
  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); }
  function isoDay(u, v) { return v == null ? '-' : new Date(v * 1e3).toISOString().slice(0, 10); }
  function isoHour(u, v) { return v == null ? '-' : new Date(v * 1e3).toISOString().slice(0, 13).replace('T', ' ') + ':00 UTC'; }

  function chart(id, xs, series, fmt, bars, xfmt) {
    var box = document.getElementById('chart-' + id);
    if (state.charts[id]) state.charts[id].destroy();
    box.textContent = '';
    var opts = {
      width: Math.max(300, box.clientWidth || 500),
      height: 220,
      legend: { show: true },
      tzDate: utc,
      scales: { x: { time: true } },
      // Counts get whole-number ticks only; uPlot would otherwise label 0.2, 0.4… as 0, 0…
      axes: [{}, { size: 70, values: function (u, vals) { return vals.map(function (v) { return bars && !Number.isInteger(v) ? '' : fmt(v); }); } }],
      series: [{ value: xfmt }].concat(series.map(function (s, i) {
        var c = COLORS[i % COLORS.length];
        return { label: s.name, stroke: c, fill: bars ? c + '55' : undefined, width: 2, value: function (u, v) { return v == null ? '-' : fmt(v); }, paths: bars ? uPlot.paths.bars({ size: [0.8] }) : undefined };
      })),
    };
    var data = [xs].concat(series.map(function (s) { return s.values; }));
    state.charts[id] = new uPlot(opts, data, box);
  }

  function fillSelect(name, values) {
    var sel = form.elements[name];
    var keep = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    values.forEach(function (v) { var o = el('option', v); o.value = v; sel.appendChild(o); });
    sel.value = values.indexOf(keep) >= 0 ? keep : '';
  }

  function render(d) {
    var xs = d.days.map(daySeconds);
    var totals = document.getElementById('totals');
    totals.textContent = '';
    [['Requests', int(d.totals.requests)], ['Tokens', int(d.totals.tokens)], ['Spend', usd(d.totals.cost_usd)]].forEach(function (t) {
      var box = el('div', t[0]); box.appendChild(el('b', t[1])); totals.appendChild(box);
    });
    chart('project', xs, d.spend_by_project, usd, false, isoDay);
    chart('user', xs, d.spend_by_user, usd, false, isoDay);
    chart('model', xs, d.tokens_by_model, int, false, isoDay);
    var hours = d.rejections.hours;
    chart('rejections', hours.map(function (h) { return Date.parse(h.hour) / 1000; }), [
      { name: 'rate limit', values: hours.map(function (h) { return h.rate_limit; }) },
      { name: 'budget', values: hours.map(function (h) { return h.budget; }) },
    ], int, true, isoHour);

    var tb = document.querySelector('#budgets tbody');
    tb.textContent = '';
    d.budgets.forEach(function (b) {
      var tr = el('tr');
      tr.appendChild(el('td', (b.scope === 'global' ? 'gateway' : b.scope + ' ' + b.name) + (b.default ? ' (default)' : '')));
      tr.appendChild(el('td', b.period));
      tr.appendChild(el('td', usd(b.spent_usd), 'num'));
      tr.appendChild(el('td', usd(b.limit_usd), 'num'));
      var used = el('td'); var bar = el('span', undefined, 'bar'); var fill = el('i', undefined, b.projected_usd > b.limit_usd ? 'hot' : '');
      fill.style.width = Math.min(100, b.percent) + '%'; bar.appendChild(fill); used.appendChild(bar); used.appendChild(document.createTextNode(' ' + b.percent + '%'));
      tr.appendChild(used);
      tr.appendChild(el('td', usd(b.burn_usd_per_day), 'num'));
      tr.appendChild(el('td', usd(b.projected_usd), 'num'));
      tb.appendChild(tr);
    });
    var wb = document.querySelector('#workspaces tbody');
    wb.textContent = '';
    d.top_workspaces.forEach(function (w) {
      var tr = el('tr');
      [w.workspace, w.users.join(', ')].forEach(function (t) { tr.appendChild(el('td', t)); });
      [int(w.requests), int(w.tokens), usd(w.cost_usd)].forEach(function (t) { tr.appendChild(el('td', t, 'num')); });
      wb.appendChild(tr);
    });
    fillSelect('project', d.options.projects);
    fillSelect('user', d.options.users);
    fillSelect('model', d.options.models);
  }

  function query() {
    var p = new URLSearchParams();
    ['from', 'to', 'project', 'user', 'model'].forEach(function (k) { if (form.elements[k].value) p.set(k, form.elements[k].value); });
    return p;
  }

  // Nothing on the page may belong to another selection than the filters show.
  function clear() {
    state.data = null;
    document.getElementById('totals').textContent = '';
    Object.keys(state.charts).forEach(function (id) {
      state.charts[id].destroy();
      document.getElementById('chart-' + id).textContent = '';
    });
    state.charts = {};
    document.querySelector('#budgets tbody').textContent = '';
    document.querySelector('#workspaces tbody').textContent = '';
  }

  var latest = 0;
  var inFlight = null;

  function load() {
    // Only the last selection's answer is drawn, whatever order the answers arrive in.
    var mine = ++latest;
    if (inFlight) inFlight.abort();
    var ctl = inFlight = new AbortController();
    document.body.dataset.state = 'loading';
    var p = query();
    var csv = new URLSearchParams(p); csv.set('format', 'csv'); csv.set('group_by', 'day,project,user,model');
    document.getElementById('csv').href = '/admin/usage?' + csv;
    return fetch('/admin/summary?' + p, { credentials: 'same-origin', signal: ctl.signal }).then(function (r) {
      if (mine !== latest) return null;
      if (r.status === 401 || r.status === 403) { location.href = '/dashboard'; throw new Error('signed out'); }
      return r.json().then(function (body) { if (!r.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + r.status); return body; });
    }).then(function (d) {
      if (mine !== latest) return;
      inFlight = null;
      state.data = d;
      if (!form.elements.from.value) form.elements.from.value = d.from;
      if (!form.elements.to.value) form.elements.to.value = d.to;
      document.getElementById('error').hidden = true;
      render(d);
      state.loads++;
      document.body.dataset.state = 'ready';
    }).catch(function (e) {
      if (mine !== latest) return;
      inFlight = null;
      clear();
      var box = document.getElementById('error');
      box.textContent = e.message; box.hidden = false;
      document.body.dataset.state = 'error';
    });
  }

  // A POST by fetch(): its Origin header names this page (a form's would say null under
  // the page's no-referrer policy), which the gateway checks. The answer is a redirect
  // that clears the cookie; anything else is a refusal to show.
  document.getElementById('logout').addEventListener('click', function () {
    fetch('/dashboard/logout', { method: 'POST', credentials: 'same-origin', redirect: 'manual' }).then(function (r) {
      if (r.type !== 'opaqueredirect') throw new Error('Log out failed: HTTP ' + r.status);
      location.href = '/dashboard';
    }).catch(function (e) {
      var box = document.getElementById('error');
      box.textContent = e.message; box.hidden = false;
    });
  });

  form.addEventListener('change', load);
  form.addEventListener('submit', function (e) { e.preventDefault(); load(); });
  load();
})();
