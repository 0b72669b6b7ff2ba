// tests/web/test_page.js - the page (build-web/site) in Debian's Chromium,
// headless, through playwright-core: what a student sees and clicks, checked
// against the library's values. Run by tests/web/run.sh:
//   node test_page.js SITE NATIVE_FIRST_STEP CHROMIUM SCREENSHOTS
// Serves SITE on a local port; any request elsewhere fails the test. Prints
// "ok"/"FAIL" per check, the timings and sizes, and "N passed, N failed".
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

const [siteArg, nativeFirstStep, browserPath, shots] = process.argv.slice(2);
const site = path.resolve(siteArg);
let passed = 0, failed = 0;
function check(what, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
function serve() {
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/$/, '/index.html');
    const file = path.join(site, path.normalize(name));
    if (!file.startsWith(path.resolve(site)) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const close = (a, b) => Math.abs(a - b) <= 1e-5 * Math.abs(b) + 1e-6;

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath: browserPath, headless: true });
  try {
    await checkPage(browser, origin);
  } finally {
    await browser.close();
    server.close();
  }
}

async function checkPage(browser, origin) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const offsite = [], pageErrors = [];
  await page.route('**/*', route =>
    route.request().url().startsWith(origin) ? route.continue() : (offsite.push(route.request().url()), route.abort()));
  page.on('pageerror', e => pageErrors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') pageErrors.push(m.text()); });

  await page.goto(`${origin}/`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  const text = sel => page.textContent(sel);

  // 1. The worked example: out = 27, four backward steps, 4.5, 0.55.
  check('the worked example shows out = 27', (await text('#out-value')) === '[27]', await text('#out-value'));
  const expected = [
    ['out', 'MeanBackward0', '[1]', [['z', '[0.25, 0.25, 0.25, 0.25]']]],
    ['z', 'MulBackward0', '[0.25, 0.25, 0.25, 0.25]', [['y * y', '[0.75, 0.75, 0.75, 0.75]']]],
    ['y * y', 'MulBackward0', '[0.75, 0.75, 0.75, 0.75]',
      [['y', '[2.25, 2.25, 2.25, 2.25]'], ['y', '[2.25, 2.25, 2.25, 2.25]']]],
    ['y', 'AddBackward0', '[4.5, 4.5, 4.5, 4.5]', [['x', '[4.5, 4.5, 4.5, 4.5]']]],
  ];
  for (const [k, [makes, op, gradIn, to]] of expected.entries()) {
    await page.click('#step');
    const panel = await text('#step-panel');
    const want = [`step ${k + 1} of 4: ${op} (makes ${makes})`, `  gradient in:  ${gradIn}`,
      ...to.map(([n, g]) => `  to ${n}: ${g}`)];
    check(`step ${k + 1} shows ${op}, gradient in ${gradIn} and what each input receives`,
      want.every(line => panel.split('\n').includes(line)), panel.replace(/\n/g, ' | '));
    const nodeGrad = await text(`#graph g[data-name="${makes}"] .grad`);
    check(`step ${k + 1} fills in the gradient of ${makes} on the graph`, nodeGrad === `grad ${gradIn}`, nodeGrad);
    if (k === 2) await page.locator('#stepper').screenshot({ path: path.join(shots, 'stepper.png') });
  }
  check('after the last step x.grad is 4.5 everywhere',
    (await text('#graph g[data-name="x"] .grad')) === 'grad [4.5, 4.5, 4.5, 4.5]' &&
    (await text('#step-panel')).includes('x.grad = [4.5, 4.5, 4.5, 4.5]'));
  await page.click('#sgd');
  const sgd = await text('#sgd-panel');
  check('SGD step (lr 0.1) gives 0.55', sgd.includes('[0.55, 0.55, 0.55, 0.55]'), sgd);
  await page.click('#forward');
  await page.click('#run');
  check('"Run to the end" shows x.grad = 4.5', (await text('#step-panel')).includes('x.grad = [4.5, 4.5, 4.5, 4.5]'));

  // 2. An expression with a shape error: the library's message.
  await page.fill('#expr', 'x = ones(2, 3)\nw = ones(2, 3)\nout = sum(x @ w)');
  await page.click('#expr-run');
  const message = await text('#expr-error');
  check('a shape error shows the library\'s message',
    message === 'matmul: shapes (2, 3) and (2, 3) cannot be multiplied', message);
  await page.fill('#expr', 'mean(3 * (x + 2)^2');
  await page.click('#expr-run');
  check('a program error names its column', (await text('#expr-error')) === 'column 11: unknown name \'x\'',
    await text('#expr-error'));

  // 5. Gradient check of an expression.
  await page.click('text=sum(silu(w @ x))');
  await page.click('#gradcheck');
  const errors = await page.$$eval('#gradcheck-table tr td:last-child', tds => tds.map(td => Number(td.textContent)));
  check('the gradient check lists 9 elements, each within 1e-6', errors.length === 9 && errors.every(e => e < 1e-6),
    errors.join(' '));
  await page.locator('#expression').screenshot({ path: path.join(shots, 'expression.png') });

  // 3. Optimizer playground: move the lr slider; the first step is the native library's.
  for (const [optimizer, lrLog] of [['0', -3], ['4', -1.5], ['3', -2]]) {
    await page.selectOption('#optimizer', optimizer);
    await page.$eval('#slider-lr', (el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }, lrLog);
    const h = await page.evaluate(() => hyperParameters());
    const start = await page.evaluate(() => playground.start);
    const native = JSON.parse(execFileSync(nativeFirstStep,
      ['2', optimizer, h.lr, h.p1, h.p2, h.eps, h.wd, start[0], start[1], '1'].map(String)).toString());
    const shown = await page.$$eval('#trajectory tr[data-step="1"] td', tds => tds.map(td => Number(td.textContent)));
    const want = [1, ...native.library[1], ...native.documents[1]];
    check(`optimizer ${optimizer}, lr ${h.lr.toPrecision(3)}: the first step shown is the native library's`,
      shown.length === 7 && shown.every((v, i) => close(v, want[i])), `${shown.join(' ')} vs ${want.join(' ')}`);
  }
  await page.locator('#playground').screenshot({ path: path.join(shots, 'playground.png') });

  // 4. Activation explorer: GELU with the documents' formulas overlaid.
  await page.check('#documents-gelu');
  const note = await text('#activation-note');
  check('the explorer shows GELU\'s derivative at 1 (1.08332) and the documents\' wrong one',
    note.includes('f\' = 1.08332') && /GELU derivative .* gives 0\.48/.test(note), note.replace(/\n/g, ' | '));
  await page.locator('#explorer').screenshot({ path: path.join(shots, 'explorer.png') });
  await page.screenshot({ path: path.join(shots, 'page.png'), fullPage: true });

  // Timings in the page: the worked example built and stepped (forward,
  // backward traced, SGD step, JSON) and one step of each optimizer on
  // Rosenbrock's surface. The browser's clock has a coarse grain, so each
  // figure is the mean over 200 calls; the slowest single call is printed too.
  const times = await page.evaluate(() => {
    const program = 'x = ones(2, 2)\ny = x + 2\nz = y * y * 3\nout = mean(z)';
    const h = { lr: 0.01, p1: 0.9, p2: 0.999, eps: 1e-8, wd: 0.01 };
    const time = fn => {
      let slowest = 0;
      const start = performance.now();
      for (let i = 0; i < 200; i++) { const t = performance.now(); fn(); slowest = Math.max(slowest, performance.now() - t); }
      return { mean: (performance.now() - start) / 200, slowest };
    };
    return { worked: time(() => window.tapegrad.run(program, 0.1)),
      steps: [0, 1, 2, 3, 4, 5].map(k => time(() => window.tapegrad.optimize(2, k, h, -1.5, 2, 1))) };
  });
  const step = times.steps.reduce((a, b) => (b.mean > a.mean ? b : a));
  console.log(`timing: the worked example built and stepped ${times.worked.mean.toFixed(3)} ms ` +
    `(slowest call ${times.worked.slowest.toFixed(1)} ms); one optimizer step ${step.mean.toFixed(3)} ms ` +
    `(the slowest optimizer; its slowest call ${step.slowest.toFixed(1)} ms)`);
  check('the worked example builds and steps in under 16 ms', times.worked.mean < 16);
  check('one step of each optimizer takes under 16 ms', step.mean < 16);

  const bytes = ['tapegrad.wasm', 'tapegrad.js', 'page.js'].map(f => fs.statSync(path.join(site, f)).size);
  const total = bytes.reduce((a, b) => a + b, 0);
  console.log(`size: tapegrad.wasm ${bytes[0]} B, tapegrad.js ${bytes[1]} B, page.js ${bytes[2]} B, total ${(total / 1048576).toFixed(2)} MiB`);
  check('the .wasm and JavaScript weigh under 2 MB', total < 2 * 1024 * 1024);
  check('nothing was fetched from elsewhere', offsite.length === 0, offsite.join(' '));
  check('no error in the page\'s console', pageErrors.length === 0, pageErrors.join(' | '));
  console.log(`screenshots: ${shots}`);
}

main().catch(e => { check('the page test ran to its end', false, String(e.stack || e)); })
  .finally(() => { console.log(`${passed} passed, ${failed} failed`); process.exitCode = failed ? 1 : 0; });
