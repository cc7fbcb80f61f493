import {h, $, getJson, postAction, chrome, poll, badge, outcomeBadge, when, duration, params, show, replace} from './app.js';
import {runRow, runHead} from './ledger.js';

chrome('jobs.html');

const name = params().get('name') || '';
let shownOutput = null;

function spec(job) {
  const items = [
    ['Schedule as written', h('span', {class: 'mono'}, job.schedule)],
    ['Resolved', h('span', {class: 'mono', id: 'resolved'}, job.resolved)],
    ['? chosen', Object.entries(job.chosen).map(([k, v]) => k + ' = ' + v).join(', ') || '—'],
    ['In words', job.description || '—'],
    ['Zone', job.zone],
    ['Next', job.next.length === 0 ? '—' : h('div', {class: 'next'}, job.next.map((iso) => h('div', {title: iso}, new Date(iso).toLocaleString([], {hourCycle: 'h23'}))))],
    ['Command', h('span', {class: 'mono'}, job.command + (job.commandKind === 'shell' ? '  (sh -c)' : ''))],
    ['Concurrency', job.concurrency],
    ['Misfire', job.misfire],
    ['Semantics', job.semantics],
    ['Timeout', job.timeoutSeconds + ' s'],
    ['Attempts', job.maxAttempts],
    ['Agent selector', Object.entries(job.agentSelector).map(([k, v]) => k + '=' + v).join(', ') || 'any agent'],
    ['Environment', Object.keys(job.env).join(', ') || '—'],
    ['Working directory', job.workingDirectory || 'agent default'],
    ['Run as', job.runAs || 'agent user'],
    ['Source', job.source || 'API'],
    ['Version', job.version + ' (created at ' + job.createdVersion + ')'],
    ['Ledger records kept', job.ledgerRecords + ' of ' + job.historyRetention],
  ];
  return h('dl', {class: 'spec'}, items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** Durations of the newest runs that ran, oldest on the left, as inline SVG bars. */
function durationChart(runs) {
  const ran = runs.filter((r) => r.durationMillis !== null).slice(0, 60).reverse();
  if (ran.length === 0) return h('div', {class: 'empty'}, 'No run has started yet, so there is no duration to chart.');
  const width = 640;
  const height = 220;
  const left = 48;
  const bottom = 20;
  const max = Math.max(...ran.map((r) => r.durationMillis), 1);
  const step = Math.min(24, (width - left - 8) / ran.length);
  const y = (v) => height - bottom - (v / max) * (height - bottom - 10);
  return h('svg', {class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Run durations'},
    [0, 0.5, 1].map((f) => h('g', {},
      h('line', {class: 'grid', x1: left, x2: width - 4, y1: y(max * f), y2: y(max * f)}),
      h('text', {x: left - 6, y: y(max * f) + 4, 'text-anchor': 'end'}, duration(Math.round(max * f))))),
    ran.map((r, i) => h('rect', {class: 'bar ' + r.outcome, x: left + i * step + 1, y: y(r.durationMillis),
      width: Math.max(1, step - 2), height: Math.max(1, height - bottom - y(r.durationMillis))},
      h('title', {}, r.instant + ': ' + duration(r.durationMillis) + ' ' + r.outcome))),
    h('line', {class: 'axis', x1: left, x2: width - 4, y1: height - bottom, y2: height - bottom}),
    h('text', {x: left, y: height - 4}, 'older'), h('text', {x: left + ran.length * step, y: height - 4, 'text-anchor': 'end'}, 'newer'));
}

function durationStats(runs) {
  const values = runs.filter((r) => r.durationMillis !== null).map((r) => r.durationMillis).sort((a, b) => a - b);
  if (values.length === 0) return null;
  const at = (q) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  return h('div', {class: 'chart-stats'},
    h('span', {}, 'runs ', h('b', {}, values.length)), h('span', {}, 'median ', h('b', {}, duration(at(0.5)))),
    h('span', {}, 'p90 ', h('b', {}, duration(at(0.9)))), h('span', {}, 'longest ', h('b', {}, duration(values[values.length - 1]))));
}

async function showOutput(record) {
  shownOutput = record.runId;
  const box = $('#output');
  replace(box, h('h2', {}, 'Output of ' + record.runId),
    h('div', {class: 'small muted'}, 'Tail from the ledger (the agent\'s finish report):'),
    h('pre', {class: 'output', id: 'output-tail'}, record.outputTail || '(empty)'),
    h('div', {class: 'small muted', id: 'output-full-status'}, 'Asking the agent for the full output…'));
  try {
    const full = await getJson('/api/output?run=' + encodeURIComponent(record.runId));
    if (shownOutput !== record.runId) return;
    replace($('#output-full-status'), 'Full output from agent ' + full.agent + ' (' + full.size + ' bytes'
      + (full.truncated ? ', truncated by the agent' : '') + '):');
    box.append(h('pre', {class: 'output', id: 'output-full'}, full.data || '(empty)'));
  } catch (error) {
    if (shownOutput !== record.runId) return;
    replace($('#output-full-status'), 'Full output unavailable: ' + error.message);
  }
}

async function act(verb) {
  const result = await postAction(verb, [name]);
  const first = (result.body.results || [])[0];
  if (result.ok && first && first.ok) {
    show('info', verb === 'trigger' ? 'Triggered ' + first.runId + '.' : (verb === 'pause' ? 'Paused.' : 'Resumed.'));
  } else {
    show('error', (first && first.error) || result.body.error);
  }
  await refresh();
}

function withOutputColumn(head) {
  head.firstChild.append(h('th', {}, ''));
  return head;
}

async function refresh() {
  const data = await getJson('/api/job?name=' + encodeURIComponent(name) + '&size=100');
  const job = data.job;
  document.title = job.name + ' · Paxcron';
  replace($('#head'),
    h('h1', {}, job.name, ' ', job.paused ? badge('paused') : badge('active')),
    h('div', {class: 'toolbar'},
      h('button', {id: 'trigger', class: 'primary', onclick: () => act('trigger')}, 'Trigger now'),
      job.paused ? h('button', {id: 'resume', onclick: () => act('resume')}, 'Resume')
        : h('button', {id: 'pause', onclick: () => act('pause')}, 'Pause'),
      h('span', {class: 'spacer'}),
      h('a', {href: 'runs.html?job=' + encodeURIComponent(job.name)}, 'All of this job\'s runs on the Runs page')));
  replace($('#spec'), h('h2', {}, 'Definition'), spec(job));
  replace($('#chart'), h('h2', {}, 'Durations of recent runs'), durationChart(data.runs), durationStats(data.runs));
  const open = data.open.length === 0 ? null : h('div', {class: 'panel'}, h('h2', {}, 'Open runs'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Run'), h('th', {}, 'Status'), h('th', {}, 'Attempt'), h('th', {}, 'Agent'))),
      h('tbody', {}, data.open.map((o) => h('tr', {}, h('td', {class: 'mono small'}, o.runId), h('td', {}, badge(o.status, 'open')),
        h('td', {}, o.attempt), h('td', {class: 'mono small'}, o.agent || '—'))))));
  replace($('#ledger'), open || [],
    h('div', {class: 'panel'}, h('h2', {}, 'Ledger (newest first)'),
      h('table', {id: 'ledger-table'}, withOutputColumn(runHead(false)),
        h('tbody', {}, data.runs.length === 0 ? h('tr', {}, h('td', {colspan: 8, class: 'empty'}, 'Nothing recorded yet.'))
          : data.runs.map((r) => {
            const tr = runRow(r, false);
            if (r.outcome !== 'SKIPPED') {
              tr.append(h('td', {}, h('button', {class: 'small', onclick: () => showOutput(r)}, 'Output')));
            } else {
              tr.append(h('td', {}));
            }
            return tr;
          })))));
}

replace($('#page'), h('div', {id: 'head'}),
  h('div', {class: 'grid2'}, h('div', {class: 'panel', id: 'spec'}), h('div', {class: 'panel', id: 'chart'})),
  h('div', {class: 'panel', id: 'output'}, h('div', {class: 'small muted'}, 'Choose a run\'s Output to see what it printed.')),
  h('div', {id: 'ledger'}));
if (!name) {
  show('error', 'No job named: open a job from the Jobs page.');
} else {
  poll(refresh);
}
