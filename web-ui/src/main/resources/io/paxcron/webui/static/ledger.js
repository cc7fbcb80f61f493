// Ledger rows shared by the Runs page and a job's page.
import {h, outcomeBadge, when, duration} from './app.js';

export function runRow(r, showJob) {
  return h('tr', {'data-sequence': r.sequence, 'data-outcome': r.outcome, 'data-reason': r.reason},
    showJob ? h('td', {}, h('a', {href: 'job.html?name=' + encodeURIComponent(r.job)}, r.job)) : null,
    h('td', {}, when(r.instant), r.count > 1 ? h('div', {class: 'small muted'}, 'to ', when(r.lastInstant)) : null),
    h('td', {}, outcomeBadge(r), r.count > 1 ? h('span', {class: 'small muted'}, ' × ' + r.count) : null,
      r.manual ? h('span', {class: 'small muted'}, ' manual') : null),
    h('td', {class: 'small'}, [r.failureReason, r.agentTestimony ? 'agent says ' + r.agentTestimony : ''].filter(Boolean).join('; ') || '—'),
    h('td', {class: 'num'}, r.attempts || '—'),
    h('td', {class: 'small mono'}, r.agent || '—'),
    h('td', {class: 'num'}, duration(r.durationMillis)),
    h('td', {class: 'num'}, r.latenessMillis === null ? '—' : duration(r.latenessMillis)),
    h('td', {class: 'num small muted'}, r.slot));
}

export function runHead(showJob) {
  return h('thead', {}, h('tr', {},
    showJob ? h('th', {}, 'Job') : null, h('th', {}, 'Scheduled'), h('th', {}, 'Outcome'), h('th', {}, 'Why'),
    h('th', {class: 'num'}, 'Attempts'), h('th', {}, 'Agent'), h('th', {class: 'num'}, 'Duration'),
    h('th', {class: 'num'}, 'Late by'), h('th', {class: 'num'}, 'Slot')));
}
