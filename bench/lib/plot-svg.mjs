// A small SVG line chart, written by the bench itself (no network, no plotting package).

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const escapeXml = (text) => String(text).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
const decades = (min, max) => {
  const ticks = [];
  for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p += 1) ticks.push(10 ** p);
  return ticks;
};

/**
 * One panel, log-log: each series a polyline with dots; `dashed` series (references) drawn thin.
 * @param {{ title: string, xLabel: string, yLabel: string, series: Array<{ name: string, points: Array<[number, number]>, dashed?: boolean }>, x: number, y: number, width: number, height: number }} panel
 */
function panelSvg({ title, xLabel, yLabel, series, x, y, width, height }) {
  const all = series.flatMap((s) => s.points);
  const xs = decades(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])));
  const ys = decades(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])));
  const [left, top, plotW, plotH] = [x + 60, y + 30, width - 80, height - 150];
  const px = (v) => left + ((Math.log10(v) - Math.log10(xs[0])) / (Math.log10(xs.at(-1)) - Math.log10(xs[0]))) * plotW;
  const py = (v) => top + plotH - ((Math.log10(v) - Math.log10(ys[0])) / (Math.log10(ys.at(-1)) - Math.log10(ys[0]) || 1)) * plotH;
  const out = [`<text x="${x + width / 2}" y="${y + 18}" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`];
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of xs) out.push(`<line x1="${px(t)}" y1="${top}" x2="${px(t)}" y2="${top + plotH}" stroke="#eee"/><text x="${px(t)}" y="${top + plotH + 16}" text-anchor="middle">${t}</text>`);
  for (const t of ys) out.push(`<line x1="${left}" y1="${py(t)}" x2="${left + plotW}" y2="${py(t)}" stroke="#eee"/><text x="${left - 6}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  out.push(`<text x="${x + 14}" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 ${x + 14} ${top + plotH / 2})">${escapeXml(yLabel)}</text>`);
  series.forEach((s, index) => {
    const colour = s.dashed ? '#888' : COLOURS[index % COLOURS.length];
    const points = s.points.map(([vx, vy]) => `${px(vx).toFixed(1)},${py(vy).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="${s.dashed ? 1 : 2}"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/>`);
    if (!s.dashed) for (const [vx, vy] of s.points) out.push(`<circle cx="${px(vx).toFixed(1)}" cy="${py(vy).toFixed(1)}" r="3" fill="${colour}"/>`);
    const ly = top + plotH + 52 + 14 * index;
    const lx = left;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/><text x="${lx + 24}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  return out.join('\n');
}

/**
 * Panels side by side in one SVG document.
 * @param {{ caption: string, panels: Array<Omit<Parameters<typeof panelSvg>[0], 'x' | 'y' | 'width' | 'height'>> }} chart
 */
export function chartSvg({ caption, panels }) {
  const [width, height] = [420, 400];
  const body = panels.map((panel, index) => panelSvg({ ...panel, x: index * width, y: 0, width, height }));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * panels.length}" height="${height + 24}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(caption)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...body,
    `<text x="10" y="${height + 16}" fill="#555">${escapeXml(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** The simulated fleet's growth plot: time and memory against the number of hosts, with a linear reference. */
export function simulatedFleetSvg(summary, caption) {
  const rows = summary.rows;
  const linear = (pick) => rows.map((row) => [row.hosts, (pick(rows[0]) * row.hosts) / rows[0].hosts]);
  return chartSvg({
    caption,
    panels: [
      {
        title: 'Time against fleet size',
        xLabel: 'hosts',
        yLabel: 'seconds (median)',
        series: [
          { name: 'plan --all, wall', points: rows.map((row) => [row.hosts, row.plan.wallS.median]) },
          { name: 'plan --all, controller CPU', points: rows.map((row) => [row.hosts, row.plan.controllerCpuS.median]) },
          { name: 'backup --all, wall', points: rows.map((row) => [row.hosts, row.backup.wallS.median]) },
          { name: 'backup --all, controller CPU', points: rows.map((row) => [row.hosts, row.backup.controllerCpuS.median]) },
          { name: 'linear from 10 hosts (controller CPU, plan)', points: linear((row) => row.plan.controllerCpuS.median), dashed: true },
        ],
      },
      {
        title: 'Memory against fleet size',
        xLabel: 'hosts',
        yLabel: 'MiB (median)',
        series: [
          { name: 'peak RSS, controller process', points: rows.map((row) => [row.hosts, row.peakRssMib.median]) },
          { name: 'peak RSS, simulated agents process', points: rows.map((row) => [row.hosts, row.agentsPeakRssMib.median]) },
          { name: 'controller heap, peak (plan)', points: rows.map((row) => [row.hosts, row.plan.controllerPeakHeapMib.median]) },
          { name: 'controller heap, peak (backup)', points: rows.map((row) => [row.hosts, row.backup.controllerPeakHeapMib.median]) },
        ],
      },
    ],
  });
}
