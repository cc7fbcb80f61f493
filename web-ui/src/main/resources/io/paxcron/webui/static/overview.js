import {h, $, getJson, chrome, poll, badge, when, ago, replace} from './app.js';

chrome('overview.html');

const OUTCOMES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'LOST'];

function replicasTable(data) {
  return h('table', {id: 'replicas'},
    h('thead', {}, h('tr', {},
      h('th', {}, 'Replica'), h('th', {}, 'Address'), h('th', {}, 'Member'), h('th', {}, 'Role'), h('th', {class: 'num'}, 'Ballot'),
      h('th', {class: 'num'}, 'Chosen slot'), h('th', {class: 'num'}, 'Applied slot'), h('th', {class: 'num'}, 'Lag'),
      h('th', {}, 'Lease'), h('th', {}, 'Last contact'))),
    h('tbody', {}, data.replicas.map((r) => h('tr', {'data-replica': r.id, 'data-role': r.up ? r.role : 'DOWN', 'data-membership': r.membership},
      h('td', {}, 'replica ' + r.id, r.self ? h('span', {class: 'muted small'}, ' (this one)') : null),
      h('td', {class: 'mono'}, r.address),
      h('td', {title: r.membership === 'learner' ? 'receives the log, counts toward no quorum'
        : r.membership === 'removed' ? 'no longer in the configuration' : 'votes'}, badge(r.membership, 'm-' + r.membership)),
      h('td', {}, r.up ? badge(r.role) : badge('unreachable', 'down')),
      h('td', {class: 'num'}, r.up ? r.ballot : '—'),
      h('td', {class: 'num'}, r.up ? r.chosenSlot : '—'),
      h('td', {class: 'num'}, r.up ? r.appliedSlot : '—'),
      h('td', {class: 'num', title: 'slots chosen but not applied there'
        + (r.leaderLag !== null && r.leaderLag !== undefined ? '; the leader last heard it ' + r.leaderLag + ' slots behind' : '')},
        r.up ? r.lag : (r.leaderLag !== null && r.leaderLag !== undefined ? r.leaderLag : '—')),
      h('td', {}, r.up ? (r.lease ? 'held' : '—') : h('span', {class: 'small muted'}, r.error)),
      h('td', {}, ago(r.lastContact))))));
}

function membershipLine(data) {
  return data.membershipChange
    ? h('div', {class: 'health warn', id: 'membership-change'}, 'Membership change in progress: ' + data.membershipChange + '.')
    : h('div', {class: 'small muted', id: 'membership-change'},
      'No membership change in progress. Change members with paxcron members add|remove|replace.');
}

function agentsTable(data) {
  if (data.agents.length === 0) {
    return h('div', {class: 'empty'}, 'The leader reports no connected worker agents.');
  }
  return h('table', {id: 'agents'},
    h('thead', {}, h('tr', {},
      h('th', {}, 'Agent'), h('th', {}, 'Labels'), h('th', {class: 'num'}, 'Running / capacity'),
      h('th', {}, 'Health'), h('th', {}, 'Circuit breaker'), h('th', {}, 'Last heartbeat'))),
    h('tbody', {}, data.agents.map((a) => h('tr', {},
      h('td', {}, a.name, h('div', {class: 'small muted mono'}, a.peer)),
      h('td', {class: 'mono small'}, Object.entries(a.labels).map(([k, v]) => k + '=' + v).join(', ') || '—'),
      h('td', {class: 'num'}, a.running + ' / ' + a.capacity),
      h('td', {}, badge(a.state)),
      h('td', {}, a.circuitOpen ? badge('open until ' + new Date(a.circuitOpenUntil).toLocaleTimeString([], {hourCycle: 'h23'}), 'open') : 'closed'),
      h('td', {}, ago(a.lastHeartbeat))))));
}

function counts(label, byOutcome, span) {
  return h('div', {},
    h('h2', {}, label),
    h('div', {class: 'counts'}, OUTCOMES.map((o) =>
      h('a', {class: 'count', href: 'runs.html?outcome=' + o, title: 'Runs with outcome ' + o + ' ' + span},
        h('div', {class: 'n'}, byOutcome[o] || 0), h('div', {class: 'l'}, o)))));
}

poll(async () => {
  const data = await getJson('/api/overview');
  $('#replica').textContent = 'served by replica ' + data.self;
  replace($('#page'),
    h('h1', {}, 'Overview'),
    h('div', {class: 'health ' + data.level, id: 'health'}, data.health),
    h('div', {class: 'panel'}, h('h2', {}, 'Replicas'), membershipLine(data), replicasTable(data)),
    h('div', {class: 'panel'}, h('h2', {}, 'Agents'), agentsTable(data)),
    h('div', {class: 'panel grid2'},
      counts('Runs in the last hour', data.counts.hour, 'in the last hour'),
      counts('Runs in the last day', data.counts.day, 'in the last day')),
    h('div', {class: 'small muted'}, 'As of ', when(data.at),
      '. Counts cover the newest ' + data.counts.windowRecords + ' ledger records this replica keeps.'));
});
