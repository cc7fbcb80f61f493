// Shared helpers for every page: DOM building without innerHTML, JSON calls, the nav bar, and a
// polling loop (every page refreshes at most every 2 s, one request at a time).

export const POLL_MILLIS = 2000;

/** Builds an element: h('td', {class: 'num'}, 'text', childNode, ...). */
export function h(tag, attrs = {}, ...children) {
  const svg = ['svg', 'path', 'polyline', 'line', 'rect', 'text', 'g', 'title'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.substring(2), value);
    } else if (key === 'checked') {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function $(selector) {
  return document.querySelector(selector);
}

/** GET a JSON API path; throws an Error with the server's message on failure. */
export async function getJson(path) {
  const response = await fetch(path, {cache: 'no-store'});
  const body = await response.json().catch(() => ({error: response.statusText}));
  if (!response.ok) {
    const error = new Error(body.error || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** POST an action (pause, resume, trigger) the same way the CLI calls the API. */
export async function postAction(verb, names) {
  const query = names.map((name) => 'name=' + encodeURIComponent(name)).join('&');
  const response = await fetch('/api/job/' + verb + '?' + query, {
    method: 'POST',
    headers: {'X-Paxcron-Action': '1'},
  });
  const body = await response.json().catch(() => ({error: response.statusText}));
  return {ok: response.ok, status: response.status, body};
}

export function badge(text, kind) {
  return h('span', {class: 'badge b-' + (kind || text)}, text);
}

export function outcomeBadge(record) {
  if (!record || !record.outcome) return badge('none', 'none');
  const label = record.outcome === 'SKIPPED' && record.reason ? 'SKIPPED(' + record.reason + ')'
    : record.outcome === 'FAILED' && record.exitCode ? 'FAILED(' + record.exitCode + ')' : record.outcome;
  return badge(label, record.outcome);
}

/** "12:03:04" today, "Dec 1 12:03" otherwise; the full instant in the title. */
export function when(iso) {
  if (!iso) return h('span', {class: 'muted'}, '—');
  const date = new Date(iso);
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  const text = sameDay
    ? date.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'})
    : date.toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
  return h('span', {class: 'nowrap', title: iso}, text);
}

export function ago(iso) {
  if (!iso) return '—';
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 2) return 'just now';
  if (seconds < 120) return seconds + ' s ago';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}

export function duration(millis) {
  if (millis === null || millis === undefined) return '—';
  if (millis < 1000) return millis + ' ms';
  if (millis < 120000) return (millis / 1000).toFixed(1) + ' s';
  return (millis / 60000).toFixed(1) + ' min';
}

/** The page's URL parameters, and a way to change them without reloading. */
export function params() {
  return new URLSearchParams(location.search);
}

export function setParams(values) {
  const next = params();
  for (const [key, value] of Object.entries(values)) {
    if (value === '' || value === null || value === undefined) next.delete(key);
    else next.set(key, value);
  }
  const query = next.toString();
  history.replaceState(null, '', location.pathname + (query ? '?' + query : ''));
}

const PAGES = [
  ['overview.html', 'Overview'],
  ['jobs.html', 'Jobs'],
  ['runs.html', 'Runs'],
  ['density.html', 'Launch density'],
  ['audit.html', 'Audit'],
];

/** Puts the header and nav bar at the top of the page. */
export function chrome(active) {
  const nav = h('nav', {}, PAGES.map(([href, label]) =>
    h('a', {href, class: href === active ? 'active' : null}, label)));
  const replica = h('span', {class: 'replica', id: 'replica'}, '');
  document.body.prepend(h('header', {class: 'top'},
    h('div', {class: 'brand'}, 'Pax', h('span', {}, 'cron')), nav, replica));
}

/** Calls refresh() now and then every POLL_MILLIS after each answer; errors go to #message. */
export function poll(refresh) {
  let stopped = false;
  const message = $('#message');
  async function tick() {
    if (stopped) return;
    try {
      await refresh();
      if (message && message.dataset.kind === 'poll') {
        message.textContent = '';
        message.className = 'message';
        delete message.dataset.kind;
      }
    } catch (error) {
      if (message) {
        message.textContent = 'Cannot load: ' + error.message + ' (retrying)';
        message.className = 'message error';
        message.dataset.kind = 'poll';
      }
    }
    setTimeout(tick, POLL_MILLIS);
  }
  tick();
  return () => { stopped = true; };
}

export function show(kind, text) {
  const message = $('#message');
  message.textContent = text;
  message.className = 'message ' + kind;
  delete message.dataset.kind;
}

export function replace(container, ...children) {
  container.replaceChildren(...children.flat());
}
