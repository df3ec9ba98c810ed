// NEWS2 for the screen: the risk as a coloured badge with words (colour is
// never the only signal) and the trend as a small SVG line.
import {h} from './dom.js';

const kRisk = {
  NEWS2_LOW: {label: 'low', css: 'risk-low'},
  NEWS2_LOW_MEDIUM: {label: 'low–medium', css: 'risk-lowmedium', note: ' (one parameter scored 3)'},
  NEWS2_MEDIUM: {label: 'medium', css: 'risk-medium'},
  NEWS2_HIGH: {label: 'high', css: 'risk-high'},
};

export function riskLabel(risk) {
  return (kRisk[risk] || {label: 'not evaluated'}).label;
}

export function riskBadge(point) {
  if (!point) return h('span', {class: 'badge risk-none'}, 'no vital signs yet');
  const risk = kRisk[point.risk];
  if (!risk || point.score === undefined) {
    return h('span', {class: 'badge risk-none'}, 'NEWS2 not evaluated (a value was missing)');
  }
  return h('span', {class: `badge ${risk.css}`, dataset: {risk: point.risk}},
    `NEWS2 ${point.score} · ${risk.label} risk${risk.note || ''}`);
}

const kSvg = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const element = document.createElementNS(kSvg, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  return element;
}

// The scores oldest first as a line; evaluated points only. The text
// alternative lists the scores.
export function sparkline(points) {
  const scored = (points || []).filter((p) => p.score !== undefined);
  const width = 120;
  const height = 32;
  const pad = 4;
  const top = Math.max(7, ...scored.map((p) => p.score));
  const x = (i) => (scored.length < 2 ? width / 2 : pad + (i * (width - 2 * pad)) / (scored.length - 1));
  const y = (score) => height - pad - (score * (height - 2 * pad)) / top;
  const label = scored.length
    ? `NEWS2 trend, oldest first: ${scored.map((p) => p.score).join(', ')}`
    : 'NEWS2 trend: no scores yet';
  const chart = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label,
    class: 'sparkline'});
  const title = svg('title', {});
  title.textContent = label;
  chart.append(title);
  // The medium-risk threshold (5) as a faint line.
  chart.append(svg('line', {x1: 0, x2: width, y1: y(5), y2: y(5), class: 'threshold'}));
  if (scored.length > 1) {
    chart.append(svg('polyline', {points: scored.map((p, i) => `${x(i)},${y(p.score)}`).join(' '), class: 'trend'}));
  }
  scored.forEach((p, i) => {
    chart.append(svg('circle', {cx: x(i), cy: y(p.score), r: 2.5, class: (kRisk[p.risk] || {css: 'risk-none'}).css}));
  });
  return chart;
}
