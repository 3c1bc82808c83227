import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { WorldReport } from './report-model.js';

/** What the page says about where its numbers come from; also shown in the README. */
export const REPORT_ASSUMPTIONS = [
  'Rule charts: x is the as_of of the data each evaluation evaluated (the snapshot, or newer market data). Shaded bands are risk episodes (from the evaluation that fired to the one that cleared); markers are verdicts that emitted or ended a signal.',
  'Recommended exposure: 1 = untouched. Only recommendations the gateway would have received (published, enforce mode) are applied; shadow, proposed (approval) and muted signals are not. exit sets exposure to 0; reduce multiplies the current exposure by (1 - reduction_ratio), so successive reduces compound; hold restores 1 (the episode is over, the strategy sizes itself again).',
  "Portfolio: the period returns are the points of each snapshot's per-strategy realized_returns not already in the previous snapshot's window (rolling window detected by overlap; otherwise the newest point). Each period is weighted by the previous snapshot's weights; the overlay scales each strategy's weight by the exposure in force before that snapshot was evaluated (no look-ahead). Capital freed by a cut earns nothing; no costs, no slippage, no re-entry beyond hold. Equity is compounded from 1; drawdown is equity over its running peak, minus 1.",
  'Late, duplicate and portfolio-level-only snapshots add no period; snapshots whose returns come by reference are listed as skipped.',
];

function inlineAsset(file: string): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
}

// Safe inside <script>: no `</script>` or `<!--` can close or confuse the element.
const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The page's own script: draws every chart from the embedded data with uPlot. */
const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var charts = [];
  window.__report = { charts: charts };
  var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  var width = function () { return Math.min(1100, document.body.clientWidth - 40); };
  function bands(episodes, times) {
    return { hooks: { drawClear: [function (u) {
      var ctx = u.ctx; ctx.save(); ctx.fillStyle = 'rgba(214, 39, 40, 0.12)';
      episodes.forEach(function (e) {
        var x0 = u.valToPos(times[e.start], 'x', true);
        var x1 = u.valToPos(e.end === null ? times[times.length - 1] : times[e.end], 'x', true);
        ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
      });
      ctx.restore();
    }] } };
  }
  function add(parent, id, title, opts, rows, markers) {
    var box = document.createElement('div'); box.className = 'chart'; box.id = id;
    var h = document.createElement('h4'); h.textContent = title; box.appendChild(h);
    parent.appendChild(box);
    opts.width = width(); opts.height = opts.height || 220;
    var u = new uPlot(opts, rows, box);
    charts.push({ id: id, title: title, series: opts.series.length - 1, markers: markers || 0, points: rows[0].length });
    return u;
  }
  var fmtPct = function (u, v) { return v == null ? '-' : (v * 100).toFixed(2) + '%'; };
  data.worlds.forEach(function (w, wi) {
    var sec = document.createElement('section'); sec.className = 'world';
    var h = document.createElement('h2'); h.textContent = 'World ' + w.world_id; sec.appendChild(h);
    document.getElementById('worlds').appendChild(sec);
    var rh = document.createElement('h3'); rh.textContent = 'Rules: measure against limit and clear level'; sec.appendChild(rh);
    w.rules.forEach(function (r, ri) {
      var marks = new Array(w.times.length).fill(null);
      r.marks.forEach(function (m) { marks[m.i] = r.measure[m.i]; });
      var labels = {}; r.marks.forEach(function (m) { labels[m.i] = m.verdict + (m.action ? ' (' + m.action + ')' : ''); });
      var o = bands(r.episodes, w.times);
      o.series = [{},
        { label: 'measure', stroke: '#1f77b4', width: 2, value: fmtPct },
        { label: 'limit', stroke: '#d62728', dash: [6, 4], value: fmtPct },
        { label: 'clear', stroke: '#2ca02c', dash: [2, 4], value: fmtPct },
        { label: 'signal', stroke: '#000', width: 0, paths: function () { return null; },
          points: { show: true, size: 9, fill: '#ff7f0e', stroke: '#000' },
          value: function (u, v, si, i) { return v == null ? '-' : labels[i] || ''; } }];
      o.axes = [{}, { values: function (u, vs) { return vs.map(function (v) { return (v * 100).toFixed(1) + '%'; }); } }];
      add(sec, 'w' + wi + '-rule-' + ri, r.rule_id + ' (' + r.kind + ', ' + r.mode + ', scope ' + r.scope_key + ')', o,
        [w.times, r.measure, r.limit, r.clear, marks], r.marks.length);
    });
    var strategies = Object.keys(w.exposure).sort();
    if (strategies.length > 0) {
      var eh = document.createElement('h3'); eh.textContent = 'Recommended exposure per strategy'; sec.appendChild(eh);
      add(sec, 'w' + wi + '-exposure', 'exposure (1 = untouched, 0 = exited)', {
        scales: { y: { range: [0, 1.05] } },
        series: [{}].concat(strategies.map(function (s, i) {
          return { label: s, stroke: palette[i % palette.length], width: 2, paths: uPlot.paths.stepped({ align: 1 }), value: fmtPct };
        })),
      }, [w.times].concat(strategies.map(function (s) { return w.exposure[s]; })));
    }
    var p = w.portfolio;
    var ph = document.createElement('h3'); ph.textContent = 'Effect on the realized portfolio'; sec.appendChild(ph);
    if (p.times.length > 1) {
      var last = p.times.length - 1;
      var summary = document.createElement('p'); summary.className = 'numbers';
      var maxDd = function (a) { return Math.min.apply(null, a); };
      summary.textContent = 'return without the overlay ' + ((p.without[last] - 1) * 100).toFixed(2) + '%, with ' +
        ((p.with[last] - 1) * 100).toFixed(2) + '%; max drawdown without ' + (maxDd(p.drawdown_without) * 100).toFixed(2) +
        '%, with ' + (maxDd(p.drawdown_with) * 100).toFixed(2) + '% (' + p.times.length + ' periods)';
      sec.appendChild(summary);
      add(sec, 'w' + wi + '-equity', 'equity (compounded from 1)', {
        series: [{}, { label: 'without overlay', stroke: '#7f7f7f', width: 2 }, { label: 'with overlay', stroke: '#1f77b4', width: 2 }],
      }, [p.times, p.without, p.with]);
      add(sec, 'w' + wi + '-drawdown', 'drawdown', {
        series: [{}, { label: 'without overlay', stroke: '#7f7f7f', width: 2, value: fmtPct, fill: 'rgba(127,127,127,0.15)' },
          { label: 'with overlay', stroke: '#1f77b4', width: 2, value: fmtPct }],
        axes: [{}, { values: function (u, vs) { return vs.map(function (v) { return (v * 100).toFixed(1) + '%'; }); } }],
      }, [p.times, p.drawdown_without, p.drawdown_with]);
    } else {
      var none = document.createElement('p'); none.textContent = 'Not enough per-strategy realized returns to draw the portfolio.'; sec.appendChild(none);
    }
    if (p.skipped.length > 0) {
      var sk = document.createElement('details'); var s = document.createElement('summary');
      s.textContent = p.skipped.length + ' snapshot(s) not used for the portfolio'; sk.appendChild(s);
      var ul = document.createElement('ul');
      p.skipped.forEach(function (t) { var li = document.createElement('li'); li.textContent = t; ul.appendChild(li); });
      sk.appendChild(ul); sec.appendChild(sk);
    }
  });
  document.body.setAttribute('data-rendered', String(charts.length));
})();
`;

/** The report as one self-contained HTML page: uPlot, its CSS, the data and the script inlined. */
export function renderReport(args: { title: string; subtitle: string; worlds: WorldReport[] }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(args.title)}</title>
<style>${inlineAsset('uPlot.min.css')}</style>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 20px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { border-top: 1px solid #ccc; padding-top: 12px; }
h3 { font-size: 15px; margin: 18px 0 4px; } h4 { font-size: 13px; margin: 10px 0 2px; font-weight: 600; }
.sub { color: #555; margin: 0 0 10px; } .numbers { font-weight: 600; }
.assumptions { font-size: 12.5px; color: #444; background: #f6f6f6; padding: 8px 12px 8px 28px; }
</style>
</head>
<body>
<h1>${escapeHtml(args.title)}</h1>
<p class="sub">${escapeHtml(args.subtitle)}</p>
<ul class="assumptions">${REPORT_ASSUMPTIONS.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul>
<div id="worlds"></div>
<script id="report-data" type="application/json">${scriptJson({ worlds: args.worlds })}</script>
<script>${inlineAsset('uPlot.iife.min.js')}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
