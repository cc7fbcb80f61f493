import {h, $, getJson, chrome, poll, replace} from './app.js';

chrome('density.html');

function polyline(values, cls, x, y) {
  return h('polyline', {class: cls, points: values.map((v, i) => x(i).toFixed(1) + ',' + y(v).toFixed(1)).join(' ')});
}

function chart(data) {
  const width = 1200;
  const height = 320;
  const left = 48;
  const bottom = 28;
  const max = Math.max(data.peakNaive, data.peakResolved, 1);
  const x = (i) => left + (i / 1439) * (width - left - 36);
  const y = (v) => height - bottom - (v / max) * (height - bottom - 12);
  const start = new Date(data.start);
  const ticks = [];
  for (let hour = 0; hour <= 24; hour += 3) {
    const at = new Date(start.getTime() + hour * 3600000);
    ticks.push(h('g', {},
      h('line', {class: 'grid', x1: x(Math.min(1439, hour * 60)), x2: x(Math.min(1439, hour * 60)), y1: 8, y2: height - bottom}),
      h('text', {x: x(Math.min(1439, hour * 60)), y: height - 8, 'text-anchor': 'middle'},
        at.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', hourCycle: 'h23'}))));
  }
  const levels = [0, 0.25, 0.5, 0.75, 1].map((f) => h('g', {},
    h('line', {class: 'grid', x1: left, x2: width - 36, y1: y(max * f), y2: y(max * f)}),
    h('text', {x: left - 6, y: y(max * f) + 4, 'text-anchor': 'end'}, Math.round(max * f))));
  return h('svg', {class: 'chart', id: 'density-chart', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': 'Launches per minute over the next 24 hours'},
  levels, ticks,
  polyline(data.naive, 'naive', x, y),
  polyline(data.resolved, 'resolved', x, y),
  h('line', {class: 'axis', x1: left, x2: width - 36, y1: height - bottom, y2: height - bottom}));
}

function stat(n, label, id) {
  return h('div', {class: 'count', id}, h('div', {class: 'n'}, n), h('div', {class: 'l'}, label));
}

poll(async () => {
  const data = await getJson('/api/density');
  const mean = data.totalLaunches / 1440;
  replace($('#page'),
    h('h1', {}, 'Launch density'),
    h('div', {class: 'panel'},
      h('h2', {}, 'Launches per minute, next 24 hours'),
      h('div', {class: 'counts'},
        stat(data.jobs - data.paused, 'active jobs'), stat(data.questionMarkJobs, 'active jobs with ?', 'qm-jobs'),
        stat(data.peakResolved, 'peak per minute, ? resolved', 'peak-resolved'),
        stat(data.peakNaive, 'peak per minute if every ? were 0', 'peak-naive'),
        stat(mean.toFixed(2), 'mean per minute')),
      chart(data),
      h('div', {class: 'legend'},
        h('span', {}, h('span', {class: 'swatch s-resolved'}), 'as the cluster resolved each ?'),
        h('span', {}, h('span', {class: 'swatch s-naive'}), 'if every ? were 0 (the lowest value of its field)')),
      h('p', {class: 'small muted'}, 'A ? in a schedule means any value will do; the cluster picks the one that flattens this curve, '
        + 'records it in the log and keeps it across failovers. The dashed line is the load the same jobs would put on the '
        + 'agents if each ? had been written as 0.'
        + (data.paused ? ' ' + data.paused + ' paused job(s) launch nothing and are left out.' : '')
        + (data.unmodelled ? ' ' + data.unmodelled + ' job(s) could not be modelled.' : ''))));
});
