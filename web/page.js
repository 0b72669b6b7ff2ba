// web/page.js - draws what tapegrad computes. Every value and gradient comes
// from the library through the functions of web/tg_web.c, which return JSON;
// this file only lays out, formats and draws.
'use strict';

let module_;
const call = (name, types, args) =>
  JSON.parse(module_.UTF8ToString(module_.ccall(name, 'number', types, args)));
const numbers = n => Array(n).fill('number');

// The library's functions, also for the browser test and the console.
const tapegrad = {
  run: (program, lr) => call('tg_web_run', ['string', 'number'], [program, lr]),
  gradcheck: program => call('tg_web_gradcheck', ['string'], [program]),
  optimize: (surface, optimizer, h, x0, y0, steps) => call('tg_web_optimize', numbers(10),
    [surface, optimizer, h.lr, h.p1, h.p2, h.eps, h.wd, x0, y0, steps]),
  surface: (surface, box, n) => call('tg_web_surface', numbers(6), [surface, ...box, n]),
  activations: () => call('tg_web_activations', [], []),
  activation: (index, param) => call('tg_web_activation', numbers(2), [index, param]),
};
window.tapegrad = tapegrad;

const $ = id => document.getElementById(id);
const fmt = v => String(+Number(v).toPrecision(6));
const fmtValues = (values, shape) =>
  values.length > 6 ? `(${shape.join(', ')}) tensor` : `[${values.map(fmt).join(', ')}]`;
const svgNode = (tag, attrs, text) => {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

// ---- 1. Step through backward ------------------------------------------------

const stepper = { result: null, done: 0 };

function forward() {
  const result = tapegrad.run($('program').value, Number($('lr').value));
  $('program-error').textContent = result.ok ? '' : result.error;
  $('sgd-panel').textContent = '';
  stepper.result = result.ok ? result : null;
  stepper.done = 0;
  if (result.ok) {
    const out = result.tensors.find(t => t.name === result.output);
    $('out-value').textContent = fmtValues(out.values, out.shape);
  } else {
    $('out-value').textContent = '';
  }
  drawStepper();
}

// The gradient a tensor shows after the first `done` steps: what arrived
// at the step that made it, an input's .grad once every step that feeds it
// has run, else the contributions received so far.
function gradientShown(tensor, steps, done) {
  const made = steps.findIndex(s => s.makes === tensor.name);
  if (made >= 0) return made < done ? steps[made].grad_in : '';
  const senders = steps.map((s, i) => ({ s, i })).filter(({ s }) => s.to.some(t => t.name === tensor.name));
  if (senders.length === 0) return '';
  if (tensor.input && senders.every(({ i }) => i < done)) return fmtValues(tensor.grad, tensor.shape);
  return senders.filter(({ i }) => i < done)
    .flatMap(({ s }) => s.to.filter(t => t.name === tensor.name).map(t => t.grad)).join(' + ');
}

function drawStepper() {
  const svg = $('graph');
  svg.replaceChildren();
  const panel = $('step-panel');
  const r = stepper.result;
  if (!r) { panel.textContent = ''; return; }
  const steps = r.steps;
  // Columns by depth along the data flow: inputs first, the output last.
  const inGraph = r.tensors.filter(t => t.input || steps.some(s => s.makes === t.name));
  const depth = {};
  inGraph.filter(t => t.input).forEach(t => { depth[t.name] = 0; });
  for (const s of [...steps].reverse())
    depth[s.makes] = 1 + Math.max(0, ...s.to.map(t => depth[t.name] ?? 0));
  const columns = [];
  for (const t of inGraph) (columns[depth[t.name] ?? 0] ||= []).push(t);
  const W = 230, H = 70, gapX = 50, gapY = 24, pos = {};
  columns.forEach((col, c) => col.forEach((t, i) => {
    pos[t.name] = { x: 10 + c * (W + gapX), y: 10 + i * (H + gapY) };
  }));
  const width = 20 + columns.length * (W + gapX);
  const height = 20 + Math.max(...columns.map(c => c.length)) * (H + gapY);
  svg.setAttribute('viewBox', `0 0 ${width} ${Math.max(height, 120)}`);
  svg.style.height = `${Math.min(Math.max(height, 120), 520)}px`;
  const current = stepper.done > 0 ? steps[stepper.done - 1] : null;
  // Edges, input to op's output; a repeated pair (y * y) bends apart.
  const seen = {};
  for (const s of steps) for (const t of s.to) {
    const a = pos[t.name], b = pos[s.makes];
    if (!a || !b) continue;
    const key = `${t.name}->${s.makes}`;
    const bend = (seen[key] = (seen[key] ?? -1) + 1) * 22;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    svg.append(svgNode('path', {
      d: `M${x1},${y1} C${x1 + gapX / 2},${y1 - bend} ${x2 - gapX / 2},${y2 - bend} ${x2},${y2}`,
    }));
  }
  for (const t of inGraph) {
    const p = pos[t.name];
    const classes = ['node'];
    if (t.input) classes.push('input');
    if (current && current.makes === t.name) classes.push('current');
    if (current && current.to.some(x => x.name === t.name)) classes.push('target');
    const g = svgNode('g', { class: classes.join(' '), 'data-name': t.name,
      transform: `translate(${p.x},${p.y})` });
    g.append(svgNode('rect', { width: W, height: H }));
    g.append(svgNode('text', { x: 8, y: 16, 'font-weight': 'bold' }, t.name));
    g.append(svgNode('text', { x: 8, y: 31, class: 'op' }, t.input ? 'input' : t.op));
    g.append(svgNode('text', { x: 8, y: 46, class: 'value' }, `= ${fmtValues(t.values, t.shape)}`));
    const grad = gradientShown(t, steps, stepper.done);
    g.append(svgNode('text', { x: 8, y: 62, class: 'grad' }, grad ? `grad ${grad}` : ''));
    svg.append(g);
  }
  if (!current) {
    panel.textContent = `${steps.length} backward steps. Press Step.`;
    return;
  }
  const lines = [`step ${stepper.done} of ${steps.length}: ${current.op} (makes ${current.makes})`,
    `  gradient in:  ${current.grad_in}`, `  local:        ${current.local}`,
    ...current.to.map(t => `  to ${t.name}: ${t.grad}`)];
  if (stepper.done === steps.length)
    for (const t of r.tensors.filter(x => x.input && x.grad))
      lines.push(`${t.name}.grad = ${fmtValues(t.grad, t.shape)}`);
  panel.textContent = lines.join('\n');
}

function sgdStep() {
  if (!stepper.result) return;
  stepper.done = stepper.result.steps.length;
  drawStepper();
  $('sgd-panel').textContent = stepper.result.sgd.map(s =>
    `${s.name} after one SGD step, ${s.name} -= ${$('lr').value} * ${s.name}.grad: ` +
    (s.values ? `[${s.values.map(fmt).join(', ')}]` : 'no gradient')).join('\n');
}

// ---- 2. Your own expression, and 5. its gradient check ------------------------

function evaluate() {
  const result = tapegrad.run($('expr').value, 0.1);
  $('expr-error').textContent = result.ok ? '' : result.error;
  if (!result.ok) { $('expr-result').textContent = ''; return; }
  $('expr-result').textContent = result.tensors.map(t =>
    `${t.name} = ${fmtValues(t.values, t.shape)}` +
    (t.input ? `\n    d ${result.output} / d ${t.name} = ${t.grad ? fmtValues(t.grad, t.shape) : 'none'}` : ''))
    .join('\n');
}

function gradcheck() {
  const result = tapegrad.gradcheck($('expr').value);
  $('gradcheck-error').textContent = result.ok ? '' : result.error;
  const table = $('gradcheck-table');
  table.replaceChildren();
  if (!result.ok) return;
  const row = (cells, tag) => {
    const tr = document.createElement('tr');
    for (const c of cells) { const td = document.createElement(tag); td.textContent = c; tr.append(td); }
    table.append(tr);
  };
  row(['input', 'element', 'autograd', 'finite differences', 'relative error'], 'th');
  for (const r of result.rows)
    row([r.input, r.index, fmt(r.autograd), fmt(r.numeric), Number(r.relative_error).toExponential(1)], 'td');
}

// ---- 3. Optimizer playground ----------------------------------------------------

const SURFACES = [
  { box: [-4, 2, -4, 2], start: [1, 1] },
  { box: [-3, 3, -3, 3], start: [-2.5, 1.5] },
  { box: [-2, 2, -1, 3], start: [-1.5, 2] },
];
// Each optimizer's hyper-parameters: [key, label, min, max, default, log scale].
const LR = ['lr', 'lr', -4, 0, Math.log10(0.05), true];
const EPS = ['eps', 'eps', -10, -1, -8, true];
const HYPER = [
  [LR],
  [LR, ['p1', 'momentum', 0, 0.99, 0.9]],
  [LR, EPS],
  [LR, ['p1', 'alpha', 0, 0.999, 0.99], EPS],
  [LR, ['p1', 'beta1', 0, 0.999, 0.9], ['p2', 'beta2', 0.9, 0.9999, 0.999], EPS],
  [LR, ['p1', 'beta1', 0, 0.999, 0.9], ['p2', 'beta2', 0.9, 0.9999, 0.999], EPS,
    ['wd', 'weight_decay', 0, 0.5, 0.01]],
];
const FORMULAS = [
  ['x ← x − lr·g', 'x ← x − lr·g'],
  ['v ← μ·v + g ;  x ← x − lr·v', 'v ← γ·v + lr·g ;  x ← x − v   (the same path while lr is constant)'],
  ['s ← s + g² ;  x ← x − lr·g / (√s + eps)', 's ← s + g² ;  x ← x − lr / √(s + eps) · g   (eps inside the root)'],
  ['s ← α·s + (1 − α)·g² ;  x ← x − lr·g / (√s + eps)', 's ← γ·s + (1 − γ)·g² ;  x ← x − lr / √(s + eps) · g   (eps inside the root)'],
  ['m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²\nm̂ = m / (1 − β1^t) ;  v̂ = v / (1 − β2^t)\nx ← x − lr·m̂ / (√v̂ + eps)',
    'the same m and v ;  x ← x − lr / √(v + eps) · m̂\n(v not bias-corrected, eps inside the root: the first step is\n√(1 / (1 − β2)) times too long, 31.6 with β2 = 0.999)'],
  ['x ← x − lr·λ·x, then Adam\'s step', 'x_t = x_{t−1} − g′_t − lr·λ·x_{t−1}, g′ the documents\' Adam step'],
];
const playground = { start: null, surface: null, image: null };

function hyperParameters() {
  const h = { lr: 0.05, p1: 0.9, p2: 0.999, eps: 1e-8, wd: 0 };
  for (const input of $('sliders').querySelectorAll('input')) {
    const v = Number(input.value);
    h[input.dataset.key] = input.dataset.log ? 10 ** v : v;
  }
  return h;
}

function buildSliders() {
  const box = $('sliders');
  box.replaceChildren();
  const opt = Number($('optimizer').value);
  for (const [key, label, min, max, value, log] of [...HYPER[opt], ['steps', 'steps', 1, 300, 100]]) {
    const row = document.createElement('label');
    const input = document.createElement('input');
    // step before value, which the browser rounds to the step
    Object.assign(input, { type: 'range', min, max, step: key === 'steps' ? 1 : (max - min) / 200, value });
    input.id = `slider-${key}`;
    input.dataset.key = key;
    if (log) input.dataset.log = '1';
    const shown = document.createElement('span');
    const show = () => { shown.textContent = log ? (10 ** Number(input.value)).toPrecision(3) : input.value; };
    input.addEventListener('input', () => { show(); optimize(); });
    show();
    row.append(label, input, shown);
    box.append(row);
  }
  const [torch, documents] = FORMULAS[opt];
  $('formulas').textContent = `torch.optim (tapegrad):\n${torch}\n\nthe source documents:\n${documents}`;
}

function drawSurface() {
  const s = Number($('surface').value);
  const n = 120;
  const grid = tapegrad.surface(s, SURFACES[s].box, n);
  const canvas = $('surface-canvas');
  const ctx = canvas.getContext('2d');
  const small = ctx.createImageData(n, n);
  const logs = grid.values.map(v => Math.log1p(Number(v)));
  const lo = Math.min(...logs), hi = Math.max(...logs);
  logs.forEach((v, i) => {
    const u = (v - lo) / (hi - lo || 1);
    small.data.set([40 + 215 * u, 90 + 120 * (1 - Math.abs(u - 0.5) * 2), 200 * (1 - u), 255], 4 * i);
  });
  const tmp = document.createElement('canvas');
  tmp.width = tmp.height = n;
  tmp.getContext('2d').putImageData(small, 0, 0);
  playground.image = tmp;
  playground.surface = s;
}

function toCanvas(box, x, y, size) {
  const [xmin, xmax, ymin, ymax] = box;
  return [(x - xmin) / (xmax - xmin) * size, (ymax - y) / (ymax - ymin) * size];
}

function optimize() {
  const s = Number($('surface').value);
  if (playground.surface !== s) { drawSurface(); playground.start = SURFACES[s].start; }
  const opt = Number($('optimizer').value);
  const steps = Number($('slider-steps').value);
  const [x0, y0] = playground.start;
  const result = tapegrad.optimize(s, opt, hyperParameters(), x0, y0, steps);
  const canvas = $('surface-canvas'), ctx = canvas.getContext('2d'), size = canvas.width;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(playground.image, 0, 0, size, size);
  const table = $('trajectory');
  table.replaceChildren();
  if (!result.ok) { table.textContent = result.error; return; }
  const path = (points, color, dash) => {
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.setLineDash(dash);
    ctx.beginPath();
    points.forEach(([x, y], i) => {
      const [px, py] = toCanvas(SURFACES[s].box, Number(x), Number(y), size);
      i ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    });
    ctx.stroke();
  };
  path(result.documents, '#fff', [6, 4]);
  path(result.library, '#000', []);
  ctx.setLineDash([]);
  const head = document.createElement('tr');
  head.innerHTML = '<th>step</th><th>a</th><th>b</th><th>loss</th><th>documents: a</th><th>b</th><th>loss</th>';
  table.append(head);
  result.library.forEach((p, t) => {
    const d = result.documents[t] || ['', '', ''];
    const tr = document.createElement('tr');
    tr.dataset.step = t;
    for (const v of [t, ...p, ...d]) {
      const td = document.createElement('td');
      td.textContent = v === '' || Number.isInteger(v) && v === t ? v : fmt(v);
      tr.append(td);
    }
    table.append(tr);
  });
}

// ---- 4. Activation explorer ----------------------------------------------------------

let activations = [];

function activationChanged() {
  const a = activations[Number($('activation').value)];
  const param = $('param');
  $('param-label').style.visibility = a.param ? 'visible' : 'hidden';
  $('param-name').textContent = a.param;
  Object.assign(param, { min: a.min, max: a.max, step: (a.max - a.min) / 100, value: a.default });
  $('documents-gelu').disabled = a.name !== 'gelu';
  drawActivation();
}

function drawActivation() {
  const index = Number($('activation').value);
  const a = activations[index];
  const param = a.param ? Number($('param').value) : 0;
  $('param-value').textContent = a.param ? fmt(param) : '';
  const r = tapegrad.activation(index, param);
  const svg = $('activation-plot');
  svg.replaceChildren();
  if (!r.ok) { $('activation-note').textContent = r.error; return; }
  const curves = [[r.f, '#1f5fbf', 'f(x)', ''], [r.df, '#e07b00', 'f\'(x) by autograd', '']];
  const overlay = $('documents-gelu').checked && r.documents_df;
  if (overlay)
    curves.push([r.documents_df, '#c00', 'the documents\' GELU derivative (wrong)', '5,4'],
      [r.documents_f, '#7a3ea8', 'the documents\' coarse GELU', '2,3']);
  const W = 640, H = 360, pad = 30;
  const all = curves.flatMap(c => c[0].map(Number)).filter(Number.isFinite);
  const ylo = Math.max(-3, Math.min(-0.5, ...all)), yhi = Math.min(6, Math.max(1, ...all));
  const X = x => pad + (x + 5) / 10 * (W - 2 * pad), Y = y => H - pad - (y - ylo) / (yhi - ylo) * (H - 2 * pad);
  svg.append(svgNode('path', { d: `M${X(-5)},${Y(0)} H${X(5)} M${X(0)},${Y(ylo)} V${Y(yhi)}`, stroke: '#aaa', fill: 'none' }));
  for (const v of [Math.ceil(ylo), Math.floor(yhi)]) svg.append(svgNode('text', { x: X(0) + 4, y: Y(v) + 4 }, v));
  svg.append(svgNode('text', { x: X(-5), y: Y(0) - 4 }, '-5'), svgNode('text', { x: X(5) - 10, y: Y(0) - 4 }, '5'));
  curves.forEach(([ys, color, label, dash], k) => {
    const d = ys.map((y, i) => `${i ? 'L' : 'M'}${X(Number(r.x[i])).toFixed(1)},${Y(Math.max(ylo, Math.min(yhi, Number(y)))).toFixed(1)}`).join('');
    svg.append(svgNode('path', { d, stroke: color, fill: 'none', 'stroke-width': 2, 'stroke-dasharray': dash }));
    svg.append(svgNode('text', { x: pad + 10, y: 16 + 14 * k, fill: color }, label));
  });
  const at1 = r.x.findIndex(x => Math.abs(Number(x) - 1) < 1e-9);
  $('activation-note').textContent = `${a.name}${a.param ? `(${a.param} = ${fmt(param)})` : ''}: at x = 1, f = ${fmt(r.f[at1])}, f' = ${fmt(r.df[at1])}` +
    (overlay ? `\nthe documents' GELU derivative 0.5 [tanh(u) + x (1 − GELU(x)²)] gives ${fmt(r.documents_df[at1])} there (docs/ERRATA.md, item 4);` +
      `\ntheir coarse GELU 0.5 x (1 + tanh(0.797885 x)) gives ${fmt(r.documents_f[at1])} (item 5).` : '');
}

// ---- Start ------------------------------------------------------------------------------

createTapegrad().then(m => {
  module_ = m;
  $('status').textContent = 'The library is loaded.';
  $('forward').onclick = forward;
  $('step').onclick = () => {
    if (!stepper.result) forward();
    if (stepper.result && stepper.done < stepper.result.steps.length) stepper.done++;
    drawStepper();
  };
  $('run').onclick = () => {
    if (!stepper.result) forward();
    if (stepper.result) stepper.done = stepper.result.steps.length;
    drawStepper();
  };
  $('sgd').onclick = sgdStep;
  $('lr').onchange = forward;
  $('expr-run').onclick = evaluate;
  $('expr-step').onclick = () => { $('program').value = $('expr').value; forward(); $('stepper').scrollIntoView(); };
  for (const b of document.querySelectorAll('[data-example]'))
    b.onclick = () => { $('expr').value = b.dataset.example; evaluate(); };
  $('gradcheck').onclick = gradcheck;
  $('optimizer').onchange = () => { buildSliders(); optimize(); };
  $('surface').onchange = optimize;
  $('surface-canvas').onclick = e => {
    const rect = e.target.getBoundingClientRect();
    const [xmin, xmax, ymin, ymax] = SURFACES[playground.surface].box;
    playground.start = [xmin + (e.clientX - rect.left) / rect.width * (xmax - xmin),
      ymax - (e.clientY - rect.top) / rect.height * (ymax - ymin)];
    optimize();
  };
  activations = tapegrad.activations().activations;
  $('activation').replaceChildren(...activations.map((a, i) => new Option(a.name, i)));
  $('activation').value = String(activations.findIndex(a => a.name === 'gelu'));
  $('activation').onchange = activationChanged;
  $('param').oninput = drawActivation;
  $('documents-gelu').onchange = drawActivation;
  forward();
  evaluate();
  buildSliders();
  optimize();
  activationChanged();
  document.body.dataset.ready = '1';
}).catch(e => { $('status').textContent = `The library did not load: ${e}`; });
