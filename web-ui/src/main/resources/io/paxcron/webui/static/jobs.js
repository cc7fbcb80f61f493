import {h, $, getJson, postAction, chrome, poll, badge, when, params, setParams, show, replace} from './app.js';

chrome('jobs.html');

const selected = new Set();
let lastRows = [];
let searchTimer = null;

function current() {
  const p = params();
  return {q: p.get('q') || '', state: p.get('state') || 'all', outcome: p.get('outcome') || '',
    page: Number(p.get('page') || 0), size: Number(p.get('size') || 50)};
}

function toolbar() {
  const f = current();
  const search = h('input', {type: 'search', id: 'search', placeholder: 'Search name, schedule or zone', value: f.q,
    oninput: (e) => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => { setParams({q: e.target.value, page: ''}); refresh(); }, 250);
    }});
  const state = h('select', {id: 'state', onchange: (e) => { setParams({state: e.target.value === 'all' ? '' : e.target.value, page: ''}); refresh(); }},
    [['all', 'All jobs'], ['active', 'Active'], ['paused', 'Paused'], ['qm', 'With ? resolved']].map(([v, l]) =>
      h('option', {value: v, selected: v === f.state ? 'selected' : null}, l)));
  const outcome = h('select', {id: 'outcome', onchange: (e) => { setParams({outcome: e.target.value, page: ''}); refresh(); }},
    [['', 'Any last outcome'], ['SUCCEEDED', 'Last SUCCEEDED'], ['FAILED', 'Last FAILED'], ['TIMED_OUT', 'Last TIMED_OUT'],
      ['SKIPPED', 'Last SKIPPED'], ['LOST', 'Last LOST'], ['NONE', 'Never ran']].map(([v, l]) =>
      h('option', {value: v, selected: v === f.outcome ? 'selected' : null}, l)));
  const pause = h('button', {id: 'pause-selected', onclick: () => act('pause')}, 'Pause selected');
  const resume = h('button', {id: 'resume-selected', onclick: () => act('resume')}, 'Resume selected');
  return h('div', {class: 'toolbar'}, search, state, outcome, h('span', {class: 'spacer'}),
    h('span', {id: 'selection', class: 'muted small'}, ''), pause, resume);
}

async function act(verb) {
  const names = [...selected];
  if (names.length === 0) {
    show('error', 'Select one or more jobs first.');
    return;
  }
  const result = await postAction(verb, names);
  const failed = (result.body.results || []).filter((r) => !r.ok);
  if (failed.length === 0 && result.ok) {
    const changed = result.body.results.filter((r) => r.changed).length;
    show('info', (verb === 'pause' ? 'Paused ' : 'Resumed ') + changed + ' of ' + names.length + ' job(s)'
      + (changed < names.length ? ' (the others already were).' : '.'));
    selected.clear();
  } else {
    show('error', result.body.error || failed.map((r) => r.name + ': ' + r.error).join('; '));
  }
  await refresh();
}

function nextList(next) {
  return h('div', {class: 'next'}, next.length === 0 ? '—' : next.map((iso) =>
    h('div', {title: iso}, new Date(iso).toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'}))));
}

function row(job) {
  const box = h('input', {type: 'checkbox', 'data-job': job.name, checked: selected.has(job.name),
    onchange: (e) => { if (e.target.checked) selected.add(job.name); else selected.delete(job.name); updateSelection(); }});
  const chosen = Object.entries(job.chosen);
  return h('tr', {'data-job': job.name},
    h('td', {class: 'select'}, box),
    h('td', {}, h('a', {href: 'job.html?name=' + encodeURIComponent(job.name)}, job.name)),
    h('td', {},
      h('div', {class: 'mono'}, job.schedule),
      job.resolved !== job.schedule ? h('div', {class: 'mono small resolved', title: chosen.map(([k, v]) => k + '=' + v).join(', ')},
        '→ ' + job.resolved) : null),
    h('td', {class: 'small'}, job.description || h('span', {class: 'muted'}, '—')),
    h('td', {class: 'small'}, job.zone),
    h('td', {}, nextList(job.next)),
    h('td', {}, job.lastOutcome ? [badge(job.lastOutcome === 'SKIPPED' && job.lastReason ? 'SKIPPED(' + job.lastReason + ')' : job.lastOutcome, job.lastOutcome),
      h('div', {class: 'small muted'}, when(job.lastAt))] : h('span', {class: 'muted small'}, 'no runs yet')),
    h('td', {}, job.paused ? badge('paused') : badge('active')));
}

function updateSelection() {
  const el = $('#selection');
  if (el) el.textContent = selected.size === 0 ? '' : selected.size + ' selected';
}

function pager(data) {
  const go = (page) => { setParams({page: page === 0 ? '' : page}); refresh(); };
  return h('div', {class: 'pager'},
    h('button', {disabled: data.page === 0 ? true : null, onclick: () => go(data.page - 1)}, '‹ Previous'),
    h('span', {class: 'muted'}, 'Page ' + (data.pages === 0 ? 0 : data.page + 1) + ' of ' + data.pages),
    h('button', {disabled: data.page + 1 >= data.pages ? true : null, onclick: () => go(data.page + 1)}, 'Next ›'));
}

async function refresh() {
  const f = current();
  const query = new URLSearchParams({q: f.q, state: f.state, page: f.page, size: f.size});
  if (f.outcome) query.set('outcome', f.outcome);
  const data = await getJson('/api/jobs?' + query);
  lastRows = data.rows;
  const all = h('input', {type: 'checkbox', id: 'select-page', title: 'Select this page',
    checked: lastRows.length > 0 && lastRows.every((j) => selected.has(j.name)),
    onchange: (e) => { for (const j of lastRows) { if (e.target.checked) selected.add(j.name); else selected.delete(j.name); } render(data); }});
  render(data, all);
}

function render(data, all) {
  const head = all || h('input', {type: 'checkbox', id: 'select-page', checked: lastRows.length > 0 && lastRows.every((j) => selected.has(j.name)),
    onchange: (e) => { for (const j of lastRows) { if (e.target.checked) selected.add(j.name); else selected.delete(j.name); } render(data); }});
  replace($('#table'),
    h('div', {class: 'small muted', id: 'summary'}, data.matched + ' of ' + data.total + ' jobs'),
    h('table', {id: 'jobs'},
      h('thead', {}, h('tr', {},
        h('th', {class: 'select'}, head), h('th', {}, 'Name'), h('th', {}, 'Schedule (written → resolved)'),
        h('th', {}, 'Description'), h('th', {}, 'Zone'), h('th', {}, 'Next 3'), h('th', {}, 'Last outcome'), h('th', {}, 'State'))),
      h('tbody', {}, data.rows.length === 0 ? h('tr', {}, h('td', {colspan: 8, class: 'empty'}, 'No jobs match.')) : data.rows.map(row))),
    pager(data));
  updateSelection();
}

replace($('#page'), h('h1', {}, 'Jobs'), toolbar(), h('div', {class: 'panel', id: 'table'}, h('div', {class: 'empty'}, 'Loading…')));
poll(refresh);
