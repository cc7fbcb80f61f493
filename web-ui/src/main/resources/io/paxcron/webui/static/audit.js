import {h, $, getJson, chrome, poll, replace} from './app.js';

chrome('audit.html');

// Who changed what, when and from where: the audit records this replica has applied, newest first
// (admin only; docs/security.md).
poll(async () => {
  const data = await getJson('/api/audit?limit=200');
  const rows = data.records.map((r) => h('tr', {},
    h('td', {class: 'mono'}, r.at), h('td', {}, r.actor), h('td', {class: 'mono'}, r.source),
    h('td', {}, r.action), h('td', {}, r.target), h('td', {}, r.result), h('td', {class: 'mono'}, String(r.slot))));
  replace($('#page'),
    h('h1', {}, 'Audit'),
    h('div', {class: 'panel'},
      h('p', {class: 'small muted'}, 'Every change with who asked, from where and the leader\'s time, recorded in the same log entry '
        + 'as the change. The newest ' + data.max + ' are kept; ' + data.kept + ' are held now.'),
      h('table', {id: 'audit'},
        h('thead', {}, h('tr', {}, ['At', 'Actor', 'From', 'Action', 'Target', 'Result', 'Slot'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows))));
});
