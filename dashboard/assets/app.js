// Rampart dashboard. Plain JavaScript, no build step, no dependencies.
//
// Every value that comes from the admin API is put into the page with
// textContent or as an attribute value, never parsed as HTML: an event's
// reason, user or route is chosen by whoever sent the request.
'use strict';

(() => {
  const POLICIES = ['access', 'cors', 'csrf', 'ratelimit', 'login_protection', 'auth', 'validation',
    'shield', 'headers', 'canonical', 'routes', 'limits', 'method', 'csp-report', 'request'];
  const WINDOWS = ['1m', '15m', '1h', '24h'];
  const MAX_EVENTS = 200;       // events kept and listed
  const SERIES_BUCKETS = 60;    // buckets drawn in the charts
  const STATS_EVERY = 10000;    // ms between /stats refreshes
  const LOCKS_EVERY = 30000;    // ms between lockout refreshes
  const MAX_LOCK_USERS = 25;    // accounts asked about per refresh
  const RETRY_STREAM = 5000;    // ms before reopening a closed stream
  // Fields shown first in an event's details, in this order; any other
  // field follows.
  const DETAIL_ORDER = ['id', 'time', 'policy', 'rule', 'decision', 'status', 'method', 'route',
    'client_ip', 'network', 'user', 'reason', 'instance', 'seq'];

  const $ = (id) => document.getElementById(id);
  const SVGNS = 'http://www.w3.org/2000/svg';

  class AuthError extends Error {}

  const state = {
    filters: { policy: '', client_ip: '' },
    events: [],          // newest first
    seen: new Set(),     // keys of the events in state.events
    selected: '',        // key of the event shown in the details
    step: 60,            // seconds per bucket
    buckets: new Map(),  // bucket start (ms) → counts
    seedTime: 0,         // time of the /stats the buckets came from (ms)
    ticks: [],           // ticks newer than seedTime, to re-apply after a refresh
    lastTick: null,
    stats: null,
    source: null,
    streamRetry: 0,
    authNeeded: false,
    lockLookups: [],     // accounts the operator looked up
    eventUsers: [],      // users named by recent login-protection events
    timers: {},
  };

  // ---- small utilities -----------------------------------------------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function num(v) {
    return typeof v === 'number' && isFinite(v) ? v : 0;
  }

  function fmtNum(v) {
    return num(v).toLocaleString('en-US');
  }

  function fmtRate(refused, requests) {
    if (!num(requests)) return '–';
    return (100 * num(refused) / num(requests)).toFixed(1) + '%';
  }

  function fmtTime(s) {
    const t = Date.parse(s);
    if (isNaN(t)) return String(s || '');
    return new Date(t).toLocaleTimeString('en-GB', { hour12: false });
  }

  function fmtDateTime(s) {
    const t = Date.parse(s);
    if (isNaN(t)) return String(s || '');
    return new Date(t).toLocaleString('en-GB', { hour12: false });
  }

  function fmtAgo(s) {
    const t = Date.parse(s);
    if (isNaN(t)) return '';
    let d = Math.round((Date.now() - t) / 1000);
    const future = d < 0;
    d = Math.abs(d);
    let v;
    if (d < 60) v = d + ' s';
    else if (d < 3600) v = Math.round(d / 60) + ' min';
    else if (d < 172800) v = Math.round(d / 3600) + ' h';
    else v = Math.round(d / 86400) + ' days';
    return future ? 'in ' + v : v + ' ago';
  }

  function policyClass(p) {
    return POLICIES.includes(p) ? 'p-' + p : 'p-other';
  }

  function showError(msg) {
    const e = $('error');
    if (!msg) {
      e.hidden = true;
      e.textContent = '';
      return;
    }
    e.textContent = msg;
    e.hidden = false;
  }

  function setConn(text, cls) {
    const c = $('conn');
    c.textContent = text;
    c.className = 'conn ' + (cls || '');
  }

  // ---- the admin API -------------------------------------------------

  // api fetches a path of the admin API (relative to the page) and returns
  // its JSON. A 401 switches the page to the token form, unless soft is
  // set: on loopback the read endpoints are open while the lock endpoints
  // still want the token, and the panel that uses them says so instead.
  async function api(path, opts, soft) {
    const res = await fetch(path, Object.assign({
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' },
    }, opts || {}));
    if (res.status === 401) {
      if (!soft) needAuth();
      throw new AuthError('admin token required');
    }
    let body = null;
    if ((res.headers.get('Content-Type') || '').includes('json')) {
      try {
        body = await res.json();
      } catch (_) {
        body = null;
      }
    }
    if (!res.ok) {
      const why = body && typeof body.error === 'string' && body.error ? body.error : res.status + ' ' + res.statusText;
      throw new Error(path.split('?')[0] + ': ' + why);
    }
    return body || {};
  }

  function query(extra) {
    const q = new URLSearchParams();
    if (state.filters.policy) q.set('policy', state.filters.policy);
    if (state.filters.client_ip) q.set('client_ip', state.filters.client_ip);
    for (const k of Object.keys(extra || {})) q.set(k, extra[k]);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  // ---- sign-in -------------------------------------------------------

  function showLogin() {
    $('login').hidden = false;
    $('token').focus();
  }

  function needAuth() {
    if (state.authNeeded) return;
    state.authNeeded = true;
    closeStream();
    for (const k of Object.keys(state.timers)) clearInterval(state.timers[k]);
    state.timers = {};
    $('app').hidden = true;
    $('detail').hidden = true;
    $('logout').hidden = true;
    showError('');
    setConn('signed out', 'bad');
    $('login').hidden = false;
    $('token').focus();
  }

  async function signIn(ev) {
    ev.preventDefault();
    const input = $('token');
    const msg = $('login-error');
    msg.hidden = true;
    let res;
    try {
      res = await fetch('session', {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        body: new URLSearchParams({ token: input.value }),
      });
    } catch (e) {
      msg.textContent = 'The admin listener did not answer: ' + e.message;
      msg.hidden = false;
      return;
    }
    if (res.ok) {
      input.value = '';
      location.reload();
      return;
    }
    msg.textContent = res.status === 401 ? 'That token was refused.' : 'Sign-in failed: ' + res.status + ' ' + res.statusText;
    msg.hidden = false;
    input.select();
  }

  async function signOut() {
    try {
      await fetch('session/logout', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
    } finally {
      location.reload();
    }
  }

  // ---- statistics ----------------------------------------------------

  async function refreshStats() {
    const s = await api('stats');
    state.stats = s;
    renderStats(s);
    seedSeries(s.series, s.time);
    return s;
  }

  function renderStats(s) {
    $('instance').textContent = s.instance ? s.instance : '';
    renderSummary(s.windows || {});
    renderWindows(s.windows || {});
    renderTop(s.top || {});
    renderConfig(s.config || {});
    renderUpstream(s.upstream || {}, s.upstreams);
  }

  function renderSummary(windows) {
    const dl = $('summary');
    clear(dl);
    for (const w of WINDOWS) {
      const c = windows[w] || {};
      const d = el('div', 'stat');
      d.appendChild(el('dt', null, 'last ' + w));
      const dd = el('dd');
      dd.appendChild(el('span', 'big', fmtNum(c.requests)));
      dd.appendChild(el('span', 'muted', ' requests, '));
      dd.appendChild(el('span', 'big refused', fmtNum(c.refused)));
      dd.appendChild(el('span', 'muted', ' refused (' + fmtRate(c.refused, c.requests) + ')'));
      d.appendChild(dd);
      dl.appendChild(d);
    }
  }

  function orderedPolicies(names) {
    const set = new Set(names);
    const out = POLICIES.filter((p) => set.has(p));
    for (const p of [...set].sort()) if (!POLICIES.includes(p)) out.push(p);
    return out;
  }

  function renderWindows(windows) {
    const body = $('windows').tBodies[0];
    clear(body);
    const names = [];
    for (const w of WINDOWS) {
      const bp = (windows[w] && windows[w].by_policy) || {};
      for (const p of Object.keys(bp)) if (num(bp[p]) > 0) names.push(p);
    }
    const list = orderedPolicies(names).filter((p) => !state.filters.policy || p === state.filters.policy);
    for (const p of list) {
      const tr = el('tr');
      const th = el('th');
      th.scope = 'row';
      th.appendChild(el('span', 'badge ' + policyClass(p), p));
      tr.appendChild(th);
      for (const w of WINDOWS) {
        const bp = (windows[w] && windows[w].by_policy) || {};
        tr.appendChild(el('td', null, fmtNum(bp[p])));
      }
      body.appendChild(tr);
    }
    $('windows').hidden = list.length === 0;
    $('windows-empty').hidden = list.length !== 0;
  }

  function renderTop(top) {
    for (const kind of ['client_ip', 'route', 'user']) {
      const ol = $('top-' + kind);
      clear(ol);
      const rows = Array.isArray(top[kind]) ? top[kind] : [];
      for (const r of rows.slice(0, 10)) {
        const li = el('li');
        if (kind === 'client_ip') {
          const b = el('button', 'link key', r.key);
          b.type = 'button';
          b.title = 'Show only ' + r.key;
          b.addEventListener('click', () => setFilters({ policy: state.filters.policy, client_ip: String(r.key) }));
          li.appendChild(b);
        } else {
          li.appendChild(el('span', 'key', r.key));
        }
        li.appendChild(el('span', 'count', fmtNum(r.count)));
        ol.appendChild(li);
      }
      if (!rows.length) ol.appendChild(el('li', 'muted', 'none'));
    }
  }

  function fact(dl, name, value, cls) {
    const d = el('div');
    d.appendChild(el('dt', null, name));
    const dd = el('dd', cls || null);
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value === undefined || value === null || value === '' ? '–' : String(value);
    d.appendChild(dd);
    dl.appendChild(d);
  }

  function renderConfig(c) {
    const dl = $('config');
    clear(dl);
    if (c.last_reload) {
      fact(dl, 'last reload', fmtDateTime(c.last_reload) + ' (' + fmtAgo(c.last_reload) + ')');
    } else {
      fact(dl, 'last reload', 'not since start');
    }
    if (typeof c.reload_ok === 'boolean') {
      fact(dl, 'reload', el('span', 'badge ' + (c.reload_ok ? 'ok' : 'bad'), c.reload_ok ? 'applied' : 'failed — the previous configuration still serves'));
    }
    const ul = $('findings');
    clear(ul);
    const findings = Array.isArray(c.findings) ? c.findings : [];
    for (const f of findings) {
      const li = el('li');
      li.appendChild(el('span', 'badge sev-' + String(f.severity || '').toLowerCase().replace(/[^a-z]/g, ''), f.severity || 'info'));
      li.appendChild(el('span', null, ' ' + (f.title || '')));
      if (f.id) li.appendChild(el('code', 'muted', ' ' + f.id));
      ul.appendChild(li);
    }
    if (!findings.length) ul.appendChild(el('li', 'muted', 'No findings.'));
  }

  // renderUpstream shows the upstream, or each of them when there are
  // several (upstreams).
  function renderUpstream(u, list) {
    const dl = $('upstream');
    clear(dl);
    const all = Array.isArray(list) && list.length ? list : [u];
    for (const one of all) {
      fact(dl, 'URL', (one && one.url) || 'in-process handler');
      if (one && typeof one.healthy === 'boolean') {
        fact(dl, 'health', el('span', 'badge ' + (one.healthy ? 'ok' : 'bad'), one.healthy ? 'healthy' : 'unhealthy'));
      }
      if (one && one.last_error) fact(dl, 'last error', one.last_error, 'wrap');
    }
  }

  // ---- time series ---------------------------------------------------

  function bucketOf(t) {
    const step = state.step * 1000;
    return Math.floor(t / step) * step;
  }

  function counts(src) {
    const c = { requests: num(src && src.requests), refused: num(src && src.refused), by_policy: {} };
    const bp = (src && src.by_policy) || {};
    for (const p of Object.keys(bp)) c.by_policy[p] = num(bp[p]);
    return c;
  }

  function addToBucket(tick) {
    const k = bucketOf(tick.t);
    const b = state.buckets.get(k) || counts(null);
    b.requests += tick.requests;
    b.refused += tick.refused;
    for (const p of Object.keys(tick.by_policy)) b.by_policy[p] = (b.by_policy[p] || 0) + tick.by_policy[p];
    state.buckets.set(k, b);
  }

  // seedSeries replaces the buckets with the server's series, then adds the
  // ticks that arrived after it was taken.
  function seedSeries(series, time) {
    const step = series && num(series.step_seconds) > 0 ? num(series.step_seconds) : 60;
    state.step = step;
    state.buckets = new Map();
    const points = (series && Array.isArray(series.points)) ? series.points : [];
    for (const p of points) {
      const t = Date.parse(p.time);
      if (!isNaN(t)) state.buckets.set(bucketOf(t), counts(p));
    }
    const seed = Date.parse(time);
    state.seedTime = isNaN(seed) ? Date.now() : seed;
    state.ticks = state.ticks.filter((k) => k.t > state.seedTime);
    for (const k of state.ticks) addToBucket(k);
    scheduleCharts();
  }

  function onTick(msg) {
    let d;
    try {
      d = JSON.parse(msg.data);
    } catch (_) {
      return;
    }
    const t = Date.parse(d.time);
    const tick = Object.assign(counts(d), { t: isNaN(t) ? Date.now() : t });
    state.lastTick = tick;
    // The charts are of all traffic, as /stats is. A filtered stream's
    // ticks may count only what matches, so under a filter the charts move
    // with each /stats refresh instead.
    const filtered = !!(state.filters.policy || state.filters.client_ip);
    if (!filtered && tick.t > state.seedTime) {
      state.ticks.push(tick);
      if (state.ticks.length > 4000) state.ticks.shift();
      addToBucket(tick);
    }
    $('live').textContent = 'Live, last interval' + (filtered ? ' (this filter)' : '') + ': ' + fmtNum(tick.requests) +
      ' requests, ' + fmtNum(tick.refused) + ' refused (' + fmtRate(tick.refused, tick.requests) + ').';
    scheduleCharts();
  }

  function scheduleCharts() {
    if (state.timers.charts) return;
    state.timers.charts = setTimeout(() => {
      delete state.timers.charts;
      drawCharts();
    }, 150);
  }

  function drawCharts() {
    const stepMs = state.step * 1000;
    const last = bucketOf(Math.max(Date.now(), state.seedTime));
    const rows = [];
    for (let i = SERIES_BUCKETS - 1; i >= 0; i--) {
      const t = last - i * stepMs;
      rows.push({ t, c: state.buckets.get(t) || counts(null) });
    }
    const span = Math.round(SERIES_BUCKETS * state.step / 60);
    const range = 'last ' + span + ' min, ' + state.step + ' s per point';
    $('traffic-range').textContent = range;
    $('policy-range').textContent = range;
    drawTraffic(rows);
    drawPolicies(rows);
  }

  const W = 600;
  const H = 120;

  function frame(label) {
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
    for (const f of [0.25, 0.5, 0.75]) {
      s.appendChild(svg('line', { x1: 0, x2: W, y1: H * f, y2: H * f, class: 'grid', 'vector-effect': 'non-scaling-stroke' }));
    }
    return s;
  }

  function drawTraffic(rows) {
    const host = $('chart-traffic');
    const max = Math.max(1, ...rows.map((r) => r.c.requests), ...rows.map((r) => r.c.refused));
    const x = (i) => (i * W) / (rows.length - 1);
    const y = (v) => H - (v * (H - 4)) / max;
    const s = frame('requests and refusals per ' + state.step + ' s');
    let area = 'M0,' + H;
    rows.forEach((r, i) => { area += ' L' + x(i).toFixed(1) + ',' + y(r.c.requests).toFixed(1); });
    area += ' L' + W + ',' + H + ' Z';
    s.appendChild(svg('path', { d: area, class: 'area requests' }));
    const line = rows.map((r, i) => x(i).toFixed(1) + ',' + y(r.c.refused).toFixed(1)).join(' ');
    s.appendChild(svg('polyline', { points: line, class: 'line refused', 'vector-effect': 'non-scaling-stroke' }));
    rows.forEach((r, i) => {
      const hit = svg('rect', { x: Math.max(0, x(i) - W / rows.length / 2), y: 0, width: W / rows.length, height: H, class: 'hit' });
      const title = svg('title', {});
      title.textContent = new Date(r.t).toLocaleTimeString('en-GB', { hour12: false }) + ': ' + fmtNum(r.c.requests) + ' requests, ' + fmtNum(r.c.refused) + ' refused';
      hit.appendChild(title);
      s.appendChild(hit);
    });
    clear(host);
    host.appendChild(el('span', 'ymax muted', 'max ' + fmtNum(max)));
    host.appendChild(s);
  }

  function drawPolicies(rows) {
    const host = $('chart-policy');
    const names = new Set();
    for (const r of rows) for (const p of Object.keys(r.c.by_policy)) if (r.c.by_policy[p] > 0) names.add(p);
    let list = orderedPolicies([...names]);
    if (state.filters.policy) list = list.filter((p) => p === state.filters.policy);
    const total = (r) => list.reduce((a, p) => a + (r.c.by_policy[p] || 0), 0);
    const max = Math.max(1, ...rows.map(total));
    const bw = W / rows.length;
    const s = frame('refusals per policy per ' + state.step + ' s');
    rows.forEach((r, i) => {
      let y0 = H;
      for (const p of list) {
        const v = r.c.by_policy[p] || 0;
        if (!v) continue;
        const h = (v * (H - 4)) / max;
        y0 -= h;
        const rect = svg('rect', { x: (i * bw + bw * 0.1).toFixed(1), y: y0.toFixed(1), width: (bw * 0.8).toFixed(1), height: h.toFixed(1), class: 'bar ' + policyClass(p) });
        const title = svg('title', {});
        title.textContent = new Date(r.t).toLocaleTimeString('en-GB', { hour12: false }) + ' ' + p + ': ' + fmtNum(v);
        rect.appendChild(title);
        s.appendChild(rect);
      }
    });
    clear(host);
    host.appendChild(el('span', 'ymax muted', 'max ' + fmtNum(max)));
    host.appendChild(s);
    const legend = $('legend');
    clear(legend);
    for (const p of list) {
      const li = el('li');
      li.appendChild(el('span', 'swatch ' + policyClass(p)));
      li.appendChild(el('span', null, p + ' ' + fmtNum(rows.reduce((a, r) => a + (r.c.by_policy[p] || 0), 0))));
      legend.appendChild(li);
    }
    if (!list.length) legend.appendChild(el('li', 'muted', 'No refusals in this period.'));
  }

  // ---- events --------------------------------------------------------

  function eventKey(ev) {
    return String(ev.instance || '') + '|' + String(ev.seq === undefined ? '' : ev.seq) + '|' + String(ev.id || '');
  }

  function matches(ev) {
    if (state.filters.policy && ev.policy !== state.filters.policy) return false;
    if (state.filters.client_ip && ev.client_ip !== state.filters.client_ip) return false;
    return true;
  }

  function addEvent(ev, live) {
    if (!ev || typeof ev !== 'object' || !matches(ev)) return;
    const key = eventKey(ev);
    if (state.seen.has(key)) return;
    state.seen.add(key);
    if (live) state.events.unshift(ev);
    else state.events.push(ev);
    while (state.events.length > MAX_EVENTS) state.seen.delete(eventKey(state.events.pop()));
    if (ev.user && (ev.policy === 'login_protection' || ev.policy === 'auth')) noteLockUser(String(ev.user), live);
  }

  // loadEvents merges the newest events from /events into the list. It
  // runs at start and each time the stream (re)opens, so that what
  // happened while the stream was not connected is not missed; events seen
  // on both are shown once.
  async function loadEvents() {
    const res = await api('events' + query({ limit: String(MAX_EVENTS) }));
    for (const ev of Array.isArray(res.events) ? res.events : []) addEvent(ev, false);
    state.events.sort((a, b) => (Date.parse(b.time) || 0) - (Date.parse(a.time) || 0) || num(b.seq) - num(a.seq));
    while (state.events.length > MAX_EVENTS) state.seen.delete(eventKey(state.events.pop()));
    renderEvents();
  }

  function resetEvents() {
    state.events = [];
    state.seen = new Set();
    renderEvents();
  }

  function scheduleEvents() {
    if (state.timers.events) return;
    state.timers.events = setTimeout(() => {
      delete state.timers.events;
      renderEvents();
    }, 100);
  }

  function renderEvents() {
    const ol = $('events');
    clear(ol);
    const f = [];
    if (state.filters.policy) f.push('policy ' + state.filters.policy);
    if (state.filters.client_ip) f.push('client IP ' + state.filters.client_ip);
    $('events-note').textContent = (f.length ? 'Showing ' + f.join(' and ') + '. ' : '') +
      (state.events.length ? 'Newest first; select one for every field.' : 'No events yet.');
    for (const ev of state.events) {
      const key = eventKey(ev);
      const li = el('li');
      const b = el('button', 'ev' + (key === state.selected ? ' selected' : ''));
      b.type = 'button';
      b.dataset.key = key;
      b.appendChild(el('time', 'when', fmtTime(ev.time)));
      b.appendChild(el('span', 'badge ' + policyClass(ev.policy), ev.policy || '?'));
      if (ev.status) b.appendChild(el('span', 'status', ev.status));
      b.appendChild(el('span', 'route', [ev.method && !(ev.route || '').startsWith(ev.method + ' ') ? ev.method : '', ev.route || ''].join(' ').trim() || '–'));
      if (ev.client_ip) b.appendChild(el('span', 'ip', ev.client_ip));
      // Events of the whole fleet arrive on one stream: name the instance
      // when it is not the one answering.
      if (ev.instance && state.stats && state.stats.instance && ev.instance !== state.stats.instance) {
        b.appendChild(el('span', 'instance', ev.instance));
      }
      if (ev.user) b.appendChild(el('span', 'user', ev.user));
      if (ev.reason) b.appendChild(el('span', 'reason', ev.reason));
      b.appendChild(el('code', 'incident', ev.id || ''));
      b.addEventListener('click', () => showDetail(key));
      li.appendChild(b);
      ol.appendChild(li);
    }
  }

  function showDetail(key) {
    const ev = state.events.find((e) => eventKey(e) === key);
    if (!ev) return;
    state.selected = key;
    for (const b of document.querySelectorAll('#events .ev')) b.classList.toggle('selected', b.dataset.key === key);
    const dl = $('detail-fields');
    clear(dl);
    const names = DETAIL_ORDER.filter((k) => k in ev).concat(Object.keys(ev).filter((k) => !DETAIL_ORDER.includes(k) && k !== 'fields'));
    for (const k of names) {
      let v = ev[k];
      if (v !== null && typeof v === 'object') v = JSON.stringify(v);
      if (k === 'time') v = String(v) + ' (' + fmtDateTime(v) + ')';
      fact(dl, k === 'id' ? 'incident id' : k, v, 'wrap');
    }
    const fields = ev.fields && typeof ev.fields === 'object' ? ev.fields : {};
    for (const k of Object.keys(fields).sort()) {
      const v = fields[k];
      fact(dl, 'fields.' + k, v !== null && typeof v === 'object' ? JSON.stringify(v) : v, 'wrap');
    }
    $('detail-h').textContent = 'Event ' + (ev.id || '');
    const fb = $('detail-filter');
    fb.hidden = !ev.client_ip;
    fb.dataset.ip = ev.client_ip || '';
    const d = $('detail');
    d.hidden = false;
    d.focus();
  }

  function hideDetail() {
    $('detail').hidden = true;
    state.selected = '';
    for (const b of document.querySelectorAll('#events .ev.selected')) b.classList.remove('selected');
  }

  // ---- the live stream -----------------------------------------------

  function closeStream() {
    if (state.source) {
      state.source.close();
      state.source = null;
    }
    clearTimeout(state.streamRetry);
  }

  function openStream() {
    closeStream();
    const src = new EventSource('events/stream' + query());
    state.source = src;
    setConn('connecting…', '');
    src.addEventListener('open', () => {
      setConn('live', 'ok');
      loadEvents().catch((e) => {
        if (!(e instanceof AuthError)) showError(e.message);
      });
    });
    src.addEventListener('event', (msg) => {
      let ev;
      try {
        ev = JSON.parse(msg.data);
      } catch (_) {
        return;
      }
      addEvent(ev, true);
      scheduleEvents();
    });
    src.addEventListener('tick', onTick);
    src.addEventListener('error', () => {
      if (src !== state.source) return;
      if (src.readyState === EventSource.CONNECTING) {
        setConn('reconnecting…', 'warn');
        return;
      }
      // Closed: the server refused the stream. Ask /stats why (a 401
      // shows the token form); otherwise try again later.
      setConn('disconnected', 'bad');
      state.source = null;
      api('stats').then(() => {
        state.streamRetry = setTimeout(openStream, RETRY_STREAM);
      }, (e) => {
        if (e instanceof AuthError) return;
        showError('The event stream stopped: ' + e.message);
        state.streamRetry = setTimeout(openStream, RETRY_STREAM);
      });
    });
  }

  // ---- login lockouts ------------------------------------------------

  function noteLockUser(user, live) {
    if (!user || user.length > 256) return;
    const i = state.eventUsers.indexOf(user);
    if (i >= 0) state.eventUsers.splice(i, 1);
    state.eventUsers.unshift(user);
    state.eventUsers.length = Math.min(state.eventUsers.length, MAX_LOCK_USERS);
    if (live && !state.timers.lockSoon) {
      state.timers.lockSoon = setTimeout(() => {
        delete state.timers.lockSoon;
        refreshLocks();
      }, 1000);
    }
  }

  function lockCandidates() {
    const out = [];
    const add = (u) => {
      u = String(u || '');
      if (u && u.length <= 256 && !out.includes(u) && out.length < MAX_LOCK_USERS) out.push(u);
    };
    state.lockLookups.forEach(add);
    state.eventUsers.forEach(add);
    const top = state.stats && state.stats.top && Array.isArray(state.stats.top.user) ? state.stats.top.user : [];
    top.forEach((r) => add(r.key));
    return out;
  }

  async function refreshLocks() {
    if (state.authNeeded) return;
    const users = lockCandidates();
    const status = $('locks-status');
    const results = await Promise.all(users.map((u) =>
      api('login-locks?user=' + encodeURIComponent(u), null, true).then((r) => ({ user: u, locks: Array.isArray(r.locks) ? r.locks : [] }),
        (e) => ({ user: u, error: e }))));
    if (state.authNeeded) return;
    const failed = results.find((r) => r.error && !(r.error instanceof AuthError));
    const needsToken = results.some((r) => r.error instanceof AuthError);
    $('locks-signin').hidden = !needsToken;
    renderLocks(results.filter((r) => r.locks && r.locks.length));
    if (needsToken) status.textContent = 'Reading login locks needs the admin token.';
    else if (failed) status.textContent = 'Could not read every lock: ' + failed.error.message;
    else if (!users.length) status.textContent = 'No account to ask about yet.';
    else status.textContent = 'Checked ' + users.length + (users.length === 1 ? ' account' : ' accounts') + ' at ' + new Date().toLocaleTimeString('en-GB', { hour12: false }) + '.';
    return results;
  }

  function renderLocks(rows) {
    const ul = $('locks');
    clear(ul);
    for (const r of rows) {
      const li = el('li', 'lock');
      const head = el('div', 'lock-head');
      head.appendChild(el('strong', 'user', r.user));
      const b = el('button', 'unlock', 'Unlock');
      b.type = 'button';
      b.dataset.user = r.user;
      b.setAttribute('aria-label', 'Unlock ' + r.user);
      b.addEventListener('click', () => unlock(r.user, b));
      head.appendChild(b);
      li.appendChild(head);
      const sub = el('ul', 'lock-list');
      for (const l of r.locks) {
        const where = l.client ? String(l.client) : 'every address it does not know';
        const kind = l.lockout ? 'locked' : 'delayed';
        sub.appendChild(el('li', null, kind + ' for ' + where + ' until ' + fmtTime(l.until) + ' (' + fmtAgo(l.until) + '), ' + fmtNum(l.failures) + ' failures'));
      }
      li.appendChild(sub);
      ul.appendChild(li);
    }
    if (!rows.length) ul.appendChild(el('li', 'muted', 'No account is locked.'));
  }

  async function unlock(user, button) {
    button.disabled = true;
    const status = $('locks-status');
    try {
      const r = await api('login-locks/unlock?user=' + encodeURIComponent(user), { method: 'POST' }, true);
      const left = Array.isArray(r.locks) ? r.locks.length : 0;
      status.textContent = 'Unlocked ' + user + (left ? ' (' + left + ' locks left)' : '') + '.';
    } catch (e) {
      status.textContent = e instanceof AuthError ? 'Unlocking needs the admin token.' : 'Unlocking ' + user + ' failed: ' + e.message;
      $('locks-signin').hidden = !(e instanceof AuthError);
      button.disabled = false;
      return;
    }
    const msg = status.textContent;
    await refreshLocks();
    status.textContent = msg;
  }

  async function lookUp(ev) {
    ev.preventDefault();
    const input = $('lock-user');
    const user = input.value.trim();
    if (!user) return;
    state.lockLookups = [user].concat(state.lockLookups.filter((u) => u !== user)).slice(0, 5);
    input.value = '';
    const results = await refreshLocks();
    const r = (results || []).find((x) => x.user === user);
    if (r && r.locks && !r.locks.length) $('locks-status').textContent = user + ' has no login locks.';
  }

  // ---- filters -------------------------------------------------------

  function readFilters() {
    const q = new URLSearchParams(location.search);
    const policy = q.get('policy') || '';
    state.filters.policy = POLICIES.includes(policy) ? policy : '';
    state.filters.client_ip = (q.get('client_ip') || '').trim().slice(0, 64);
    $('f-policy').value = state.filters.policy;
    $('f-ip').value = state.filters.client_ip;
  }

  async function setFilters(f) {
    state.filters = { policy: POLICIES.includes(f.policy) ? f.policy : '', client_ip: String(f.client_ip || '').trim().slice(0, 64) };
    $('f-policy').value = state.filters.policy;
    $('f-ip').value = state.filters.client_ip;
    history.replaceState(null, '', location.pathname + query());
    hideDetail();
    if (state.stats) renderWindows(state.stats.windows || {});
    scheduleCharts();
    resetEvents();
    openStream();
    try {
      await loadEvents();
      showError('');
    } catch (e) {
      if (!(e instanceof AuthError)) showError(e.message);
    }
  }

  // ---- start ---------------------------------------------------------

  async function start() {
    const sel = $('f-policy');
    for (const p of POLICIES) {
      const o = el('option', null, p);
      o.value = p;
      sel.appendChild(o);
    }
    readFilters();
    $('login-form').addEventListener('submit', signIn);
    $('logout').addEventListener('click', signOut);
    $('filters').addEventListener('submit', (ev) => {
      ev.preventDefault();
      setFilters({ policy: $('f-policy').value, client_ip: $('f-ip').value });
    });
    $('f-clear').addEventListener('click', () => setFilters({ policy: '', client_ip: '' }));
    $('detail-close').addEventListener('click', hideDetail);
    $('detail-filter').addEventListener('click', (ev) => setFilters({ policy: state.filters.policy, client_ip: ev.currentTarget.dataset.ip }));
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !$('detail').hidden) hideDetail();
    });
    $('lock-lookup').addEventListener('submit', lookUp);
    $('locks-signin').addEventListener('click', showLogin);

    try {
      await refreshStats();
    } catch (e) {
      if (e instanceof AuthError) return;
      showError(e.message);
    }
    $('app').hidden = false;
    $('logout').hidden = false;
    openStream();
    try {
      await loadEvents();
    } catch (e) {
      if (e instanceof AuthError) return;
      showError(e.message);
    }
    refreshLocks();
    state.timers.stats = setInterval(() => {
      refreshStats().then(() => showError(''), (e) => {
        if (!(e instanceof AuthError)) showError(e.message);
      });
    }, STATS_EVERY);
    state.timers.locks = setInterval(refreshLocks, LOCKS_EVERY);
    state.timers.clock = setInterval(scheduleCharts, 15000);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
