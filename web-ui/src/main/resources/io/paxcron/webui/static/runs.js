import {h, $, getJson, chrome, poll, params, setParams, replace} from './app.js';
import {runRow, runHead} from './ledger.js';

chrome('runs.html');

function current() {
  const p = params();
  return {outcome: p.get('outcome') || '', reason: p.get('reason') || '', job: p.get('job') || ''};
}

function select(id, options, value, key) {
  return h('select', {id, onchange: (e) => { setParams({[key]: e.target.value}); refresh(); }},
    options.map(([v, l]) => h('option', {value: v, selected: v === value ? 'selected' : null}, l)));
}

function toolbar() {
  const f = current();
  return h('div', {class: 'toolbar'},
    select('outcome', [['', 'Any outcome'], ['SUCCEEDED', 'SUCCEEDED'], ['FAILED', 'FAILED'], ['TIMED_OUT', 'TIMED_OUT'],
      ['SKIPPED', 'SKIPPED'], ['LOST', 'LOST']], f.outcome, 'outcome'),
    select('reason', [['', 'Any skip reason'], ['OVERLAP', 'OVERLAP'], ['MISFIRE', 'MISFIRE'], ['PAUSED', 'PAUSED'],
      ['DST_GAP', 'DST_GAP'], ['DEADLINE', 'DEADLINE']], f.reason, 'reason'),
    h('input', {type: 'text', id: 'job', placeholder: 'Job name (exact)', value: f.job,
      onchange: (e) => { setParams({job: e.target.value.trim()}); refresh(); }}),
    h('span', {class: 'spacer'}),
    h('span', {class: 'muted small', id: 'live'}, 'live'));
}

async function refresh() {
  const f = current();
  const query = new URLSearchParams({limit: 200});
  for (const [k, v] of Object.entries(f)) if (v) query.set(k, v);
  const data = await getJson('/api/runs?' + query);
  $('#live').textContent = 'live · ' + data.delivered + ' ledger records received';
  replace($('#table'),
    h('table', {id: 'runs'}, runHead(true),
      h('tbody', {}, data.records.length === 0
        ? h('tr', {}, h('td', {colspan: 9, class: 'empty'}, 'No ledger records match yet.'))
        : data.records.map((r) => runRow(r, true)))),
    h('div', {class: 'small muted'}, 'Newest first. A stretch of consecutive skips for the same reason is one row with its count.'));
}

replace($('#page'), h('h1', {}, 'Runs'), toolbar(), h('div', {class: 'panel', id: 'table'}, h('div', {class: 'empty'}, 'Loading…')));
poll(refresh);
